import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NullSink } from '../../src/audio/sinks/null-sink.js';
import { WavSource } from '../../src/audio/sources/wav-source.js';
import { loadConfig } from '../../src/config/load.js';
import { Runtime } from '../../src/device/wiring.js';
import { RealClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../helpers/paths.js';

// The daemon collects its start-up garbage once, when every part has started (the
// unit runs node with --expose-gc): the real runtime with the real models, a second of
// silence as the microphone (no sound card here) and simulated GPIO (no pins here).
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const holder = globalThis as { gc?: () => void };
const saved = holder.gc;
afterEach(() => {
  if (saved) holder.gc = saved;
  else delete holder.gc;
});

function runtime(source = silence()): Runtime {
  const config = loadConfig({
    overrides: ['gpio.backend=simulated', `privacy.ledger=${join(tmp.dir, 'ledger.jsonl')}`],
  });
  return new Runtime({
    config,
    log: silentLogger(),
    clock: new RealClock(),
    sink: new NullSink(),
    source,
  });
}

function silence(): WavSource {
  return new WavSource({ samples: new Int16Array(16000), pace: 'realtime' });
}

describe('start-up garbage collection', () => {
  it('collects once, after every part has started, and never while starting', async () => {
    // The microphone opens when the device, the last part, starts.
    const mic = silence();
    let micOpen = false;
    mic.on('status', (s) => (micOpen ||= s.running));
    const rt = runtime(mic);
    const calls: boolean[] = [];
    holder.gc = () => calls.push(micOpen);
    await rt.start();
    try {
      expect(calls).toEqual([true]);
      await new Promise((r) => setTimeout(r, 200));
      expect(calls).toEqual([true]);
    } finally {
      await rt.stop();
    }
  });

  it('starts as before where node does not expose gc', async () => {
    delete holder.gc;
    const rt = runtime();
    await expect(rt.start()).resolves.toBeUndefined();
    await rt.stop();
  });
});
