import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioLoop } from '../../src/audio/audio-loop.js';
import { MicSource } from '../../src/audio/sources/mic-source.js';
import type { Frame } from '../../src/shared/audio-format.js';
import { RealClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { alsaFileConfig } from '../helpers/alsa.js';
import { fixture, tempDir } from '../helpers/paths.js';

const tmp = tempDir();
const savedAlsa = process.env.ALSA_CONFIG_PATH;
beforeAll(() => {
  const raw = join(tmp.dir, 'fixture.raw');
  execFileSync('sox', [fixture('alexa-twice.wav'), '-t', 'raw', raw]);
  process.env.ALSA_CONFIG_PATH = alsaFileConfig(tmp.dir, { infile: raw });
});
afterAll(() => {
  if (savedAlsa === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = savedAlsa;
  tmp.cleanup();
});

describe('audio loop with a slow consumer', () => {
  it('never stalls the source: frames are dropped (oldest first), counted and reported', async () => {
    // The real arecord delivers a file PCM far faster than real time, so a consumer
    // that takes 30 ms a frame falls behind at once.
    const handled: Frame[] = [];
    const reported: number[] = [];
    const source = new MicSource({
      device: 'default',
      restart: { initialMs: 50, maxMs: 100 },
      clock: new RealClock(),
      log: silentLogger(),
    });
    const loop = new AudioLoop({
      source,
      queueFrames: 4,
      log: silentLogger(),
      handler: async (f) => {
        handled.push(f);
        await new Promise((r) => setTimeout(r, 30));
      },
    });
    loop.on('dropped', (n) => reported.push(n));
    loop.start();
    await loop.openCapture();
    // While the handler is blocked, the event loop keeps running: timers still fire.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 600));
    clearInterval(ticker);
    await loop.stop();

    expect(loop.droppedFrames).toBeGreaterThan(100);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported[reported.length - 1]).toBeLessThanOrEqual(loop.droppedFrames);
    expect(ticks).toBeGreaterThan(20);
    // Drop-oldest: the consumer always gets recent audio, so indexes jump forward.
    const gaps = handled.slice(1).map((f, i) => f.index - handled[i]!.index);
    expect(gaps.length).toBeGreaterThan(5);
    expect(gaps.every((g) => g > 0)).toBe(true);
    expect(Math.max(...gaps)).toBeGreaterThan(4);
  });
});
