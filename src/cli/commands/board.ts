import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadBoardProfile, type LoadedBoardProfile } from '../../config/board-profile.js';
import {
  applyConfigTxt,
  asoundConf,
  configTxtBlock,
  removeConfigTxtBlock,
} from '../../config/board-setup.js';
import { EarshotError } from '../../shared/errors.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

interface BoardFlags extends ConfigOptions {
  board?: string;
}

/** The profile named by --board, else the one the config names. */
function profileOf(flags: BoardFlags): LoadedBoardProfile {
  return loadBoardProfile(flags.board ?? configFromOptions(flags).board);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new EarshotError(
      'E_BOARD_SETUP',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}

const withBoard = (cmd: Command): Command =>
  addConfigOptions(cmd.option('--board <name>', 'a board profile (default: the config’s board)'));

/**
 * `earshot board …`: what a board profile needs from the system, for people and for
 * the image builder and installer (which write what these print).
 */
export function registerBoard(program: Command): void {
  const board = program
    .command('board')
    .description("a board's system set-up: config.txt lines and the default sound card");

  withBoard(
    board.command('show').description('the config.txt lines, sound card and notes of a board'),
  ).action((flags: BoardFlags) => {
    const p = profileOf(flags);
    const out = [`board ${p.name}: ${p.description ?? ''}`.trimEnd()];
    const lines = p.setup?.configTxt ?? [];
    out.push(
      lines.length ? `config.txt:\n${lines.map((l) => `  ${l}`).join('\n')}` : 'config.txt: —',
    );
    out.push(`sound card: ${p.setup?.card ?? '(ALSA default)'}`);
    if (p.setup?.overlayFile) {
      out.push(`overlay not shipped with Raspberry Pi OS: ${p.setup.overlayFile}`);
      if (p.setup.note) out.push(`  ${p.setup.note}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  });

  withBoard(
    board
      .command('config-txt')
      .description("print FILE (a config.txt) with the board's block in place, or removed")
      .argument('<file>', 'the current config.txt')
      .option('--remove', 'print it without any earshot block'),
  ).action((file: string, flags: BoardFlags & { remove?: boolean }) => {
    const text = readText(file);
    process.stdout.write(
      flags.remove ? removeConfigTxtBlock(text) : applyConfigTxt(text, profileOf(flags)),
    );
  });

  withBoard(
    board
      .command('block')
      .description("print only the board's config.txt block (nothing when it needs none)"),
  ).action((flags: BoardFlags) => {
    const block = configTxtBlock(profileOf(flags));
    if (block.length) process.stdout.write(`${block.join('\n')}\n`);
  });

  withBoard(
    board
      .command('asound')
      .description(
        "print the /etc/asound.conf that makes the board's card the default (exit 3: none)",
      ),
  ).action((flags: BoardFlags) => {
    const text = asoundConf(profileOf(flags));
    if (text) process.stdout.write(text);
    else process.exitCode = 3;
  });
}
