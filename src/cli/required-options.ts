import type { Command } from 'commander';

/**
 * Commander checks required options before it looks for unknown ones, so a misspelt
 * `--wavv x.wav` was reported as "required option '--wav' not specified", which sends
 * the reader after the wrong problem. This moves the check for every required option
 * of every command into a `preAction` hook, which runs after the unknown-option check:
 * the misspelling is named first, and a missing option is still reported as before.
 */
export function checkRequiredOptionsLast(program: Command): void {
  for (const cmd of program.commands) {
    const required = cmd.options.filter((o) => o.mandatory);
    for (const option of required) option.mandatory = false;
    if (required.length > 0) {
      cmd.hook('preAction', (self) => {
        for (const option of required) {
          if (self.getOptionValue(option.attributeName()) === undefined) {
            self.error(`error: required option '${option.flags}' not specified`, {
              code: 'commander.missingMandatoryOptionValue',
            });
          }
        }
      });
    }
    checkRequiredOptionsLast(cmd);
  }
}
