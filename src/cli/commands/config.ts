import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig, maskSecrets } from '../../config/load.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('check or print the configuration');

  config
    .command('check')
    .description(
      'validate a config file; on a bad key, name every one and exit 78 (EX_CONFIG, as `earshot run` does)',
    )
    .argument('<file>', 'YAML or JSON config file')
    .action((file: string) => {
      loadConfig({ file, env: process.env });
      process.stdout.write(`${file}: ok\n`);
    });

  addConfigOptions(
    config
      .command('print')
      .description('print the effective configuration (defaults, file, env, flags), secrets masked')
      .option('--json', 'print JSON instead of YAML'),
  ).action((opts: ConfigOptions & { json?: boolean }) => {
    const effective = maskSecrets(configFromOptions(opts));
    process.stdout.write(
      opts.json ? `${JSON.stringify(effective, null, 2)}\n` : stringify(effective),
    );
  });
}
