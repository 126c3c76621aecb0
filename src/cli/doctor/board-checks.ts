import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BoardProfile } from '../../config/board-profile.js';
import { missingConfigTxtLines } from '../../config/board-setup.js';
import { result, type CheckResult } from './check.js';

const NAME = 'board';
const REINSTALL = 'sudo /opt/earshot/scripts/install.sh writes them (then reboot)';

/** The Pi's config.txt under `root`, if there is one. */
function findConfigTxt(root: string): string | undefined {
  return ['boot/firmware/config.txt', 'boot/config.txt']
    .map((p) => join(root, p))
    .find((p) => existsSync(p));
}

/**
 * Whether a device-tree node with this `compatible` exists: the firmware applied the
 * overlay that adds the codec. Bounded walk: the Pi's tree has a few hundred nodes.
 */
export function deviceTreeHas(dir: string, compatible: string, budget = { nodes: 5000 }): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  if (--budget.nodes < 0) return false;
  for (const e of entries) {
    if (e.name === 'compatible' && e.isFile()) {
      try {
        const values = readFileSync(join(dir, e.name), 'latin1').split('\0');
        if (values.includes(compatible)) return true;
      } catch {
        // unreadable: go on
      }
    } else if (e.isDirectory() && !e.isSymbolicLink()) {
      if (deviceTreeHas(join(dir, e.name), compatible, budget)) return true;
    }
  }
  return false;
}

/** ALSA card ids from /proc/asound/cards (` 1 [seeed2micvoicec]: …`). */
export function alsaCards(text: string): string[] {
  return [...text.matchAll(/^\s*\d+\s+\[([^\]\s]+)\s*\]/gm)].map((m) => m[1]!);
}

/**
 * The board's system set-up, in the order things go wrong: config.txt has the lines,
 * an overlay Raspberry Pi OS does not ship is in place, the firmware applied it (the
 * codec is in the device tree), and the driver made the sound card. `root` is `/`
 * except when checking a card image mounted elsewhere.
 */
export async function checkBoard(profile: BoardProfile, root = '/'): Promise<CheckResult> {
  const setup = profile.setup;
  if (!setup || (!setup.card && setup.configTxt.length === 0)) {
    return result(NAME, false, 'skip', `${profile.name}: no overlay or sound card to check`);
  }
  const txt = findConfigTxt(root);
  if (setup.configTxt.length > 0) {
    if (!txt) {
      return result(
        NAME,
        false,
        'warn',
        `${profile.name}: no config.txt under ${join(root, 'boot')}: not a Raspberry Pi?`,
        `add these lines to config.txt: ${setup.configTxt.join(', ')}`,
      );
    }
    const missing = missingConfigTxtLines(readFileSync(txt, 'utf8'), profile);
    if (missing.length > 0) {
      return result(NAME, true, 'fail', `${txt} lacks ${missing.join(', ')}`, REINSTALL);
    }
  }
  if (setup.overlayFile) {
    const overlay = join(root, 'boot/firmware/overlays', setup.overlayFile);
    if (!existsSync(overlay)) {
      return result(
        NAME,
        true,
        'fail',
        `${overlay} is missing: Raspberry Pi OS does not ship it`,
        setup.note ?? 'install the overlay file',
      );
    }
  }
  if (setup.codec) {
    const tree = join(root, 'proc/device-tree');
    if (!existsSync(tree)) {
      return result(NAME, false, 'warn', `cannot see the device tree (${tree})`);
    }
    if (!deviceTreeHas(tree, setup.codec)) {
      return result(
        NAME,
        true,
        'fail',
        `the overlay is not active: no ${setup.codec} codec in the device tree`,
        'reboot after installing; if it persists, check the dtoverlay line in config.txt and `dmesg | grep -i -e overlay -e i2c`',
      );
    }
  }
  if (setup.card) {
    let cards: string[] = [];
    try {
      cards = alsaCards(readFileSync(join(root, 'proc/asound/cards'), 'utf8'));
    } catch {
      // no ALSA at all: reported below as no card
    }
    if (!cards.includes(setup.card)) {
      return result(
        NAME,
        true,
        'fail',
        `no sound card ${setup.card} (cards: ${cards.join(', ') || 'none'})`,
        `the overlay is active but the codec's driver did not make the card: \`dmesg | grep -i ${setup.codec?.split(',')[1] ?? 'snd'}\`; the board profile must match the HAT's revision`,
      );
    }
  }
  return result(
    NAME,
    true,
    'pass',
    `${profile.name}: ${setup.codec ? `overlay active (${setup.codec}), ` : ''}${setup.card ? `card ${setup.card} present` : 'config.txt lines present'}`,
  );
}
