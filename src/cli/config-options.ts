import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type LoadOptions } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** Where the daemon looks for its config when no `--config` is given. */
export const DEFAULT_CONFIG_FILE = '/etc/earshot/config.yaml';

export interface ConfigOptions {
  config?: string;
  set?: string[];
}

/** `--config FILE` and repeatable `--set key=value`, shared by every command that runs parts. */
export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', `config file (default ${DEFAULT_CONFIG_FILE} if present)`)
    .option(
      '--set <key=value>',
      'override one key, e.g. --set audio.preRollMs=300 (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    );
}

/**
 * The config file to read: the one given, else the default when it exists, else none
 * (defaults, environment and `--set` only). Start-up and every reload decide the same way.
 */
export function configFile(opts: ConfigOptions): string | undefined {
  return opts.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
}

export function configFromOptions(opts: ConfigOptions, patch?: LoadOptions['patch']): Config {
  return loadConfig({ file: configFile(opts), env: process.env, overrides: opts.set ?? [], patch });
}
