import { describe, expect, it } from 'vitest';
import { WavSource } from '../../src/audio/sources/wav-source.js';
import { FRAME_MS, FRAME_SAMPLES } from '../../src/shared/audio-format.js';

describe('WavSource at real time (real timers)', () => {
  it('is never ahead of real time and at most 10 % behind', async () => {
    const frames = 25; // 2 s of audio
    const src = new WavSource({
      samples: new Int16Array(frames * FRAME_SAMPLES),
      pace: 'realtime',
    });
    const t0 = performance.now();
    const arrivals: number[] = [];
    const ended = new Promise<void>((r) => src.on('end', () => r()));
    await src.start({
      push: () => (arrivals.push(performance.now() - t0), true),
      whenWritable: () => Promise.resolve(),
    });
    await ended;
    expect(arrivals).toHaveLength(frames);
    arrivals.forEach((t, i) => expect(t).toBeGreaterThanOrEqual((i + 1) * FRAME_MS - 1));
    // The machine is shared and noisy: the bound is on the whole run, not each frame.
    const total = arrivals[arrivals.length - 1]!;
    expect(total).toBeLessThanOrEqual(frames * FRAME_MS * 1.1);
  });
});
