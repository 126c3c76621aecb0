import type { Command } from 'commander';
import { removeFromBroker } from '../../mqtt/index.js';
import { createRootLogger } from '../../shared/logger.js';
import { VERSION } from '../../shared/version.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

interface RemoveFlags extends ConfigOptions {
  state?: boolean;
}

export function registerMqtt(program: Command): void {
  const mqtt = program.command('mqtt').description('MQTT and Home Assistant');
  addConfigOptions(
    mqtt
      .command('remove')
      .description(
        'remove this speaker from Home Assistant: clear its discovery topics on the broker',
      )
      .option('--state', 'also clear its retained state topics'),
  ).action(async (flags: RemoveFlags) => {
    const config = configFromOptions(flags);
    const log = createRootLogger({ level: 'warn', format: config.log.format });
    const cleared = await removeFromBroker(
      config.mqtt,
      { id: config.device.id, name: config.device.name, firmwareVersion: VERSION },
      log,
      { clearState: Boolean(flags.state) },
    );
    process.stdout.write(`cleared ${cleared.length} retained topic(s) on ${config.mqtt.url}\n`);
    for (const t of cleared) process.stdout.write(`  ${t}\n`);
  });
}
