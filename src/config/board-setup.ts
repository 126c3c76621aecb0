import type { BoardProfile } from './board-profile.js';

/**
 * What a board needs from the system, as files: lines for the Raspberry Pi's
 * `config.txt` (overlays, dtparams, pulls) in one marked block, and an ALSA
 * configuration that makes the board's card the default for capture and playback.
 * The image builder and the installer write both; the installer's `--uninstall`
 * removes them. Pure functions of text, so a re-run is a no-op.
 */

export const BLOCK_BEGIN = '# earshot board setup: begin';
export const BLOCK_END = '# earshot board setup: end';

/** The marked block for `config.txt`, or none when the board needs no lines. */
export function configTxtBlock(profile: BoardProfile): string[] {
  const lines = profile.setup?.configTxt ?? [];
  if (lines.length === 0) return [];
  return [
    `${BLOCK_BEGIN} (board ${profile.name}; written by earshot's installer, removed by install.sh --uninstall)`,
    // The block may follow a conditional section ([pi4], [cm5] …): make it apply to all.
    '[all]',
    ...lines,
    BLOCK_END,
  ];
}

/** `text` without any earshot block (and without the blank line left before it). */
export function removeConfigTxtBlock(text: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(BLOCK_BEGIN)) {
      inside = true;
      if (out.length > 0 && out[out.length - 1] === '') out.pop();
      continue;
    }
    if (inside) {
      if (line.startsWith(BLOCK_END)) inside = false;
      continue;
    }
    out.push(line);
  }
  let result = out.join('\n');
  if (text.endsWith('\n') && !result.endsWith('\n')) result += '\n';
  return result;
}

/** `text` with this board's block at the end, replacing an earlier one. */
export function applyConfigTxt(text: string, profile: BoardProfile): string {
  const base = removeConfigTxtBlock(text);
  const block = configTxtBlock(profile);
  if (block.length === 0) return base;
  const sep = base === '' || base.endsWith('\n') ? '' : '\n';
  return `${base}${sep}\n${block.join('\n')}\n`;
}

/** The lines of the board's block that `text` does not have (as active lines). */
export function missingConfigTxtLines(text: string, profile: BoardProfile): string[] {
  const have = new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
  return (profile.setup?.configTxt ?? []).filter((l) => !have.has(l));
}

/** `/etc/asound.conf` making the board's card the default, or undefined without a card. */
export function asoundConf(profile: BoardProfile): string | undefined {
  const card = profile.setup?.card;
  if (!card) return undefined;
  const pcm = `plughw:CARD=${card},DEV=0`;
  return [
    `# Written by earshot's installer for the board ${profile.name}: the card ${card}`,
    '# is the default for capture and playback. install.sh --uninstall removes this file.',
    'pcm.!default {',
    '  type asym',
    `  capture.pcm "${pcm}"`,
    `  playback.pcm "${pcm}"`,
    '}',
    'ctl.!default {',
    '  type hw',
    `  card ${card}`,
    '}',
    '',
  ].join('\n');
}

/** Whether a file is one this module wrote (so uninstall removes nothing else). */
export function isOurAsoundConf(text: string): boolean {
  return text.startsWith("# Written by earshot's installer");
}
