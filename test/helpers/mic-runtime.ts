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

/** What a test around the paced microphone started, stopped in reverse order. */
export interface MicRig {
  runtime?: Runtime | undefined;
  mic?: { stop(): void } | undefined;
  probe?: { close(): Promise<void> } | undefined;
  broker?: { stop(): Promise<void> } | undefined;
}

/**
 * Stops the runtime, the microphone, the probe and the broker, and puts back the
 * ALSA_CONFIG_PATH the test replaced (`saved`: its value before, or undefined).
 */
export async function stopMicRig(rig: MicRig, saved: string | undefined): Promise<void> {
  await rig.runtime?.stop();
  rig.mic?.stop();
  await rig.probe?.close();
  await rig.broker?.stop();
  if (saved === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = saved;
}
