import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameQueue } from '../../src/audio/frame-queue.js';
import { WavSource } from '../../src/audio/sources/wav-source.js';
import { FRAME_SAMPLES, type Frame } from '../../src/shared/audio-format.js';

function ramp(frames: number, extra = 0): Int16Array {
  const s = new Int16Array(frames * FRAME_SAMPLES + extra);
  for (let i = 0; i < s.length; i++) s[i] = i % 32000;
  return s;
}

function collector(): {
  sink: { push(f: Frame): boolean; whenWritable(): Promise<void> };
  got: Frame[];
} {
  const got: Frame[] = [];
  return { got, sink: { push: (f) => (got.push(f), true), whenWritable: () => Promise.resolve() } };
}

describe('WavSource', () => {
  afterEach(() => vi.useRealTimers());

  it('delivers every frame in order as fast as the consumer takes them, padding the tail', async () => {
    const src = new WavSource({ samples: ramp(5, 100), pace: 'fast' });
    const q = new FrameQueue(2);
    const ended = new Promise<void>((r) => src.on('end', () => r()));
    await src.start(q);
    const got: Frame[] = [];
    for (let f = await q.next(); f; f = got.length < 6 ? await q.next() : null) got.push(f);
    await ended;
    expect(got.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(q.dropped).toBe(0);
    expect(got[5]!.samples[99]).toBe((5 * FRAME_SAMPLES + 99) % 32000);
    expect(got[5]!.samples[100]).toBe(0);
  });

  it('schedules frame i at start + (i+1) × 80 ms, without drift from late timers', () => {
    vi.useFakeTimers();
    const times: number[] = [];
    const src = new WavSource({ samples: ramp(50), pace: 'realtime', now: () => Date.now() });
    const t0 = Date.now();
    const { sink } = collector();
    void src.start({ ...sink, push: (f) => (times.push(Date.now() - t0), sink.push(f)) });
    vi.advanceTimersByTime(79);
    expect(times).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(times).toEqual([80]);
    vi.advanceTimersByTime(80 * 49);
    expect(times).toHaveLength(50);
    times.forEach((t, i) => expect(t).toBe((i + 1) * 80));
  });

  it('catches up after a stalled event loop instead of drifting', () => {
    vi.useFakeTimers();
    let now = 0;
    const pushed: number[] = [];
    const timers: Array<() => void> = [];
    const src = new WavSource({
      samples: ramp(10),
      pace: 'realtime',
      now: () => now,
      setTimer: (fn) => timers.push(fn),
    });
    const { sink } = collector();
    void src.start({ ...sink, push: (f) => (pushed.push(f.index), true) });
    // The first timer fires 400 ms late: five frames are due at once.
    now = 400;
    timers.shift()!();
    expect(pushed).toEqual([0, 1, 2, 3, 4]);
    now = 480;
    timers.shift()!();
    expect(pushed).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps the recording going while capture is closed, hearing none of it', async () => {
    const unheard: number[] = [];
    const got: number[] = [];
    const src = new WavSource({
      samples: ramp(6),
      pace: 'fast',
      onUnheard: (i) => unheard.push(i),
    });
    const sink = {
      push: (f: Frame): boolean => {
        got.push(f.index);
        if (f.index === 1) void src.stop();
        return true;
      },
      whenWritable: () => Promise.resolve(),
    };
    const ended = new Promise<void>((r) => src.on('end', () => r()));
    await src.start(sink);
    await ended;
    expect(got).toEqual([0, 1]);
    expect(unheard).toEqual([2, 3, 4, 5]);
  });
});
