import type { Command } from 'commander';
import { ERROR_CODES, errorCodeTable, type CodeInfo } from '../../shared/error-codes.js';

/** `earshot errors [CODE] [--markdown]`: what each error code means, and what to do. */
export function registerErrors(program: Command): void {
  program
    .command('errors')
    .description('what each error code (E_…) means, and what to do about it')
    .argument('[code]', 'one code, e.g. E_LEDGER_WRITE')
    .option('--markdown', 'the table the README holds')
    .action((code: string | undefined, flags: { markdown?: boolean }) => {
      if (flags.markdown) {
        process.stdout.write(`${errorCodeTable()}\n`);
        return;
      }
      const entries = Object.entries(ERROR_CODES as Record<string, CodeInfo>).filter(
        ([c]) => code === undefined || c === code.toUpperCase(),
      );
      if (entries.length === 0) {
        process.stderr.write(`earshot: no error code ${code}; \`earshot errors\` lists them\n`);
        process.exitCode = 1;
        return;
      }
      for (const [c, info] of entries) {
        process.stdout.write(`${c} (${info.part}): ${info.meaning}\n`);
        if (info.hint) process.stdout.write(`  hint: ${info.hint}\n`);
      }
    });
}
