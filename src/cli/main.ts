#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { EarshotError } from '../shared/errors.js';
import { commandsFor } from './commands/index.js';
import { checkRequiredOptionsLast } from './required-options.js';
import { VERSION } from '../shared/version.js';

/**
 * `earshot <command>`: each command lives in its own module under `commands/` and
 * registers itself on the program. Errors with a stable code end the process with a
 * clear one-line message (and a hint) instead of a stack trace.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('earshot')
    .description('Open device runtime for smart speakers')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  try {
    for (const register of await commandsFor(argv.slice(2))) register(program);
    checkRequiredOptionsLast(program);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has already printed help / version / the usage error.
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`earshot: ${err.message}\n`);
    return 78; // EX_CONFIG: systemd shows it as a configuration problem
  }
  if (err instanceof EarshotError) {
    process.stderr.write(`earshot: ${err.message} [${err.code}]\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    return 1;
  }
  process.stderr.write(`earshot: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 70;
}

function isEntryPoint(): boolean {
  // `npx earshot` runs this file through a symlink in node_modules/.bin.
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  let done = false;
  // `earshot ledger show --json | head`: the reader went away; that is the end, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  // A command whose work can never finish (a promise nothing will settle) would let
  // Node exit quietly with status 0; say so and fail instead.
  process.on('beforeExit', () => {
    if (done) return;
    done = true;
    process.stderr.write('earshot: internal error: the command stopped before it finished\n');
    process.exitCode = 70;
  });
  main(process.argv).then(
    (code) => {
      done = true;
      process.exitCode = code;
    },
    (err: unknown) => {
      done = true;
      process.stderr.write(`earshot: ${String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
