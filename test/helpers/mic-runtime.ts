import { MicSource } from '../../src/audio/sources/mic-source.js';
import { NullSink } from '../../src/audio/sinks/null-sink.js';
import { loadConfig } from '../../src/config/load.js';
import { Runtime } from '../../src/device/wiring.js';
import { RealClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

/**
 * The daemon's runtime with the real microphone path: arecord (through whatever
 * ALSA_CONFIG_PATH says) restarted with the configured backoff, real time, no sound
 * card for replies, simulated GPIO (no pins here).
 */
export function micRuntime(overrides: string[]): Runtime {
  const config = loadConfig({ overrides: ['gpio.backend=simulated', ...overrides] });
  const clock = new RealClock();
  return new Runtime({
    config,
    log: silentLogger(),
    clock,
    sink: new NullSink(),
    source: (device) =>
      new MicSource({ device, restart: config.audio.capture.restart, clock, log: silentLogger() }),
  });
}
