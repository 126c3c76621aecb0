import { describe, expect, it } from 'vitest';
import { Reframer } from '../../src/wake/reframer.js';

/** A ramp of sample values, so every sample says where it came from. */
function ramp(from: number, length: number): Int16Array {
  return Int16Array.from({ length }, (_, i) => from + i);
}

describe('Reframer', () => {
  it('cuts 1280-sample frames into 512-sample chunks, carrying the remainder', () => {
    const r = new Reframer(512);
    const chunks: Int16Array[] = [];
    const counts: number[] = [];
    for (let f = 0; f < 4; f++) {
      let n = 0;
      r.push(ramp(f * 1280, 1280), (c) => {
        chunks.push(c.slice());
        n += 1;
      });
      counts.push(n);
    }
    // 2 frames = 2560 samples = 5 chunks: 2 + 3, then again.
    expect(counts).toEqual([2, 3, 2, 3]);
    expect(r.pending).toBe(0);
    // The chunks are the stream in order, without loss or repetition.
    chunks.forEach((c, i) => expect(Array.from(c)).toEqual(Array.from(ramp(i * 512, 512))));
  });

  it('drops the carried samples on clear', () => {
    const r = new Reframer(512);
    r.push(ramp(0, 1280), () => undefined);
    expect(r.pending).toBe(256);
    r.clear();
    const seen: number[] = [];
    r.push(ramp(10_000, 512), (c) => seen.push(c[0]!));
    expect(seen).toEqual([10_000]);
  });

  it('refuses a chunk size that is not a positive integer', () => {
    expect(() => new Reframer(0)).toThrow(RangeError);
    expect(() => new Reframer(2.5)).toThrow(RangeError);
  });
});
