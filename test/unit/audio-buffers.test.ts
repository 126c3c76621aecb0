import { describe, expect, it } from 'vitest';
import { FrameQueue } from '../../src/audio/frame-queue.js';
import { Framer } from '../../src/audio/framer.js';
import { FrameRing } from '../../src/audio/ring-buffer.js';
import { FRAME_BYTES, FRAME_SAMPLES, framesForMs } from '../../src/shared/audio-format.js';
import { constFrame } from '../helpers/frames.js';

describe('FrameRing (pre-roll)', () => {
  it('keeps only the newest `capacity` frames, oldest first', () => {
    const ring = new FrameRing(3);
    for (let i = 0; i < 10; i++) ring.push(constFrame(i));
    expect(ring.length).toBe(3);
    expect(ring.frames().map((f) => f.index)).toEqual([7, 8, 9]);
  });

  it('never grows past its capacity', () => {
    const ring = new FrameRing(framesForMs(500) + 1);
    for (let i = 0; i < 1000; i++) ring.push(constFrame(i));
    expect(ring.length).toBe(8);
    expect(ring.frames()).toHaveLength(8);
  });

  it('holds fewer frames before it has filled', () => {
    const ring = new FrameRing(5);
    ring.push(constFrame(0));
    ring.push(constFrame(1));
    expect(ring.frames().map((f) => f.index)).toEqual([0, 1]);
  });

  it('forgets everything on clear (mute)', () => {
    const ring = new FrameRing(4);
    for (let i = 0; i < 6; i++) ring.push(constFrame(i));
    ring.clear();
    expect(ring.frames()).toEqual([]);
    ring.push(constFrame(42));
    expect(ring.frames().map((f) => f.index)).toEqual([42]);
  });

  it('with capacity 0 keeps nothing (pre-roll off)', () => {
    const ring = new FrameRing(0);
    ring.push(constFrame(1));
    expect(ring.frames()).toEqual([]);
  });

  it('rejects a negative or fractional capacity', () => {
    expect(() => new FrameRing(-1)).toThrow(RangeError);
    expect(() => new FrameRing(1.5)).toThrow(RangeError);
  });
});

describe('FrameQueue', () => {
  it('drops the oldest frame when full and counts the drop', async () => {
    const q = new FrameQueue(2);
    expect(q.push(constFrame(0))).toBe(true);
    expect(q.push(constFrame(1))).toBe(true);
    expect(q.push(constFrame(2))).toBe(false);
    expect(q.dropped).toBe(1);
    expect((await q.next())?.index).toBe(1);
    expect((await q.next())?.index).toBe(2);
  });

  it('hands a frame straight to a waiting consumer', async () => {
    const q = new FrameQueue(1);
    const next = q.next();
    q.push(constFrame(5));
    expect((await next)?.index).toBe(5);
    expect(q.length).toBe(0);
  });

  it('lets a lossless source wait for room', async () => {
    const q = new FrameQueue(1);
    q.push(constFrame(0));
    let resolved = false;
    const room = q.whenWritable().then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false);
    await q.next();
    await room;
    expect(resolved).toBe(true);
  });

  it('ends with null once closed and drained', async () => {
    const q = new FrameQueue(4);
    q.push(constFrame(0));
    q.close();
    expect((await q.next())?.index).toBe(0);
    expect(await q.next()).toBeNull();
    expect(q.push(constFrame(1))).toBe(false);
  });

  it('clear() empties without counting drops', () => {
    const q = new FrameQueue(4);
    q.push(constFrame(0));
    q.push(constFrame(1));
    q.clear();
    expect(q.length).toBe(0);
    expect(q.dropped).toBe(0);
  });
});

describe('Framer', () => {
  it('cuts arbitrary chunks into exact frames with running indexes', () => {
    const bytes = Buffer.alloc(FRAME_BYTES * 3 + 100);
    for (let i = 0; i < bytes.length / 2; i++) bytes.writeInt16LE(i % 1000, i * 2);
    const framer = new Framer();
    const frames: { index: number; first: number; last: number }[] = [];
    for (let off = 0; off < bytes.length; off += 777) {
      framer.write(bytes.subarray(off, off + 777), (f) =>
        frames.push({ index: f.index, first: f.samples[0]!, last: f.samples[FRAME_SAMPLES - 1]! }),
      );
    }
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(frames[1]).toEqual({ index: 1, first: 1280 % 1000, last: (2 * 1280 - 1) % 1000 });
  });

  it('drops a partial frame on reset (discontinuous capture)', () => {
    const framer = new Framer(10);
    const got: number[] = [];
    framer.write(Buffer.alloc(FRAME_BYTES - 2, 1), () => got.push(-1));
    framer.reset();
    framer.write(Buffer.alloc(FRAME_BYTES, 0), (f) => got.push(f.samples[0]!, f.index));
    expect(got).toEqual([0, 10]);
  });
});
