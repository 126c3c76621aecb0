import type { Command } from 'commander';
import { MicSource } from '../../audio/sources/mic-source.js';
import { Runtime } from '../../device/runtime.js';
import { RealClock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import { createRootLogger, partLogger } from '../../shared/logger.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

/** How long shutdown may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5000;

export function registerRun(program: Command): void {
  addConfigOptions(
    program
      .command('run')
      .description('run the speaker: microphone, wake word, LEDs and buttons, cloud link, MQTT'),
  ).action(async (flags: ConfigOptions) => {
    const config = configFromOptions(flags);
    const log = createRootLogger({ level: config.log.level, format: config.log.format });
    const clock = new RealClock();
    const source = (device: string): MicSource =>
      new MicSource({
        device,
        restart: config.audio.capture.restart,
        clock,
        log: partLogger(log, 'audio'),
      });
    const runtime = new Runtime({ config, log, clock, source });
    await runtime.start();
    log.info({ device: config.device.id, state: runtime.device.state }, 'earshot is running');
    await untilSignal();
    log.info('stopping');
    const deadline = setTimeout(() => {
      log.error('shutdown took too long; exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    try {
      await runtime.stop();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'shutdown failed');
    }
  });
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
