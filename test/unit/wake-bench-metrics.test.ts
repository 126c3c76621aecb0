import { describe, expect, it } from 'vitest';
import { findSpeech, rms } from '../../src/bench/wake/envelope.js';
import { mix, noiseRmsForSnr, PinkNoise } from '../../src/bench/wake/noise.js';
import { renderPlot } from '../../src/bench/wake/plot.js';
import { percentile } from '../../src/bench/wake/report.js';
import { buildSegment, FLOOR_RMS } from '../../src/bench/wake/streams.js';

/** A 440 Hz burst of `seconds` at `amplitude`, starting at `at` seconds, in `total` seconds. */
function burst(total: number, at: number, seconds: number, amplitude: number): Int16Array {
  const out = new Int16Array(total * 16_000);
  for (let i = Math.round(at * 16_000); i < Math.round((at + seconds) * 16_000); i++) {
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 16_000));
  }
  return out;
}

describe('end of the word from the energy envelope', () => {
  it('finds a word between silences, and its loudness', () => {
    const span = findSpeech(burst(3, 1, 0.6, 10_000));
    expect(span.startSample / 16_000).toBeCloseTo(1, 1);
    expect(span.endSample / 16_000).toBeCloseTo(1.6, 1);
    expect(span.speechRms).toBeCloseTo(10_000 / Math.SQRT2, -2);
  });

  it('bridges a short dip inside the word but not a click long after it', () => {
    const clip = burst(3, 0.5, 0.3, 10_000);
    clip.set(burst(3, 0.9, 0.3, 10_000).subarray(0.9 * 16_000, 1.2 * 16_000), 0.9 * 16_000);
    // A short click 1 s after the word ends, as when a recorder is stopped.
    clip.set(burst(3, 2.2, 0.03, 5000).subarray(2.2 * 16_000, 2.23 * 16_000), 2.2 * 16_000);
    const span = findSpeech(clip);
    expect(span.endSample / 16_000).toBeCloseTo(1.2, 1);
  });
});

describe('benchmark noise', () => {
  it('is deterministic per seed and has the asked RMS', () => {
    const a = new PinkNoise(3).fill(new Float32Array(16_000), 100);
    const b = new PinkNoise(3).fill(new Float32Array(16_000), 100);
    const c = new PinkNoise(4).fill(new Float32Array(16_000), 100);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(rms(mix(new Int16Array(16_000), a))).toBeCloseTo(100, -1);
  });

  it('is pink: more energy low than high', () => {
    const n = new PinkNoise(1).fill(new Float32Array(64_000), 1000);
    // First differences act as a high-pass: for white noise their RMS is √2 × the RMS.
    let diff = 0;
    for (let i = 1; i < n.length; i++) diff += (n[i]! - n[i - 1]!) ** 2;
    expect(Math.sqrt(diff / n.length)).toBeLessThan(1000);
  });

  it('sets the SNR against the spoken word, and keeps a floor under the recording', () => {
    const word = burst(2, 0.5, 0.5, 8000);
    const clean = buildSegment('w.wav', word, {
      index: 0,
      leadFrames: 10,
      tailFrames: 5,
      set: 'positive',
    });
    expect(clean.samples.length % 1280).toBe(0);
    expect(clean.clipStart).toBe(10 * 1280);
    expect(clean.speechEnd).toBeGreaterThan(clean.clipStart + 0.95 * 16_000);
    // Under the silent part of the recording there is the floor, never digital silence.
    const silent = clean.samples.subarray(clean.clipStart, clean.clipStart + 4000);
    expect(rms(silent)).toBeGreaterThan(FLOOR_RMS * 0.5);
    const noisy = buildSegment('w.wav', word, {
      index: 0,
      leadFrames: 10,
      tailFrames: 5,
      set: 'positive',
      noiseDb: 10,
    });
    const lead = noisy.samples.subarray(0, noisy.clipStart);
    expect(rms(lead)).toBeCloseTo(Math.hypot(noiseRmsForSnr(8000 / Math.SQRT2, 10), FLOOR_RMS), -2);
  });
});

describe('report helpers', () => {
  it('percentile interpolates between ranks', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([5], 0.99)).toBe(5);
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([0, 10], 0.9)).toBe(9);
  });

  it('the plot marks the configured threshold', () => {
    const points = [
      { threshold: 0.05, detectionRate: 0.97, falseAcceptsPerHour: 1.5 },
      { threshold: 0.1, detectionRate: 0.96, falseAcceptsPerHour: 0 },
      { threshold: 0.5, detectionRate: 0.94, falseAcceptsPerHour: 0 },
    ];
    const svg = renderPlot({ points, configured: 0.1, title: 'a < b' });
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('configured 0.1');
    expect(svg).toContain('a &lt; b');
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(renderPlot({ points, configured: 0.3, title: '' })).not.toContain('configured');
  });
});

describe('plot axis', () => {
  it('ends the x axis past the largest false-accept rate, without a repeated tick', () => {
    const svg = renderPlot({
      points: [{ threshold: 0.01, detectionRate: 0.98, falseAcceptsPerHour: 3.025 }],
      configured: 0.01,
      title: '',
    });
    const ticks = [...svg.matchAll(/text-anchor="middle">([\d.]+)</g)].map((m) => m[1]);
    expect(ticks).toEqual(['0', '0.3', '1', '3', '3.1']);
  });
});
