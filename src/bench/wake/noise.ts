/**
 * Deterministic noise for the benchmark: the same seed gives the same figures on every
 * run and every machine, so two runs differ only by the detector.
 */

/** mulberry32: a tiny, well-mixed 32-bit PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Pink (1/f) noise, Paul Kellet's economy filter over white noise: within ±0.5 dB of
 * 1/f from 9 Hz up, which covers the speech band. Pink rather than white because room
 * noise (fans, traffic, HVAC) puts most of its energy low, where it masks vowels.
 */
export class PinkNoise {
  private b0 = 0;
  private b1 = 0;
  private b2 = 0;
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** Fills `out` with pink noise of RMS `rms` (exactly, over this block). */
  fill(out: Float32Array, rms: number): Float32Array {
    let sum = 0;
    for (let i = 0; i < out.length; i++) {
      const white = this.random() * 2 - 1;
      this.b0 = 0.99765 * this.b0 + white * 0.099046;
      this.b1 = 0.963 * this.b1 + white * 0.2965164;
      this.b2 = 0.57 * this.b2 + white * 1.0526913;
      const v = this.b0 + this.b1 + this.b2 + white * 0.1848;
      out[i] = v;
      sum += v * v;
    }
    const actual = Math.sqrt(sum / Math.max(1, out.length));
    const gain = actual > 0 ? rms / actual : 0;
    for (let i = 0; i < out.length; i++) out[i]! *= gain;
    return out;
  }
}

/** Adds `noise` to `signal` into a new int16 array, clipping at full scale. */
export function mix(signal: Int16Array, noise: Float32Array): Int16Array {
  const out = new Int16Array(signal.length);
  for (let i = 0; i < signal.length; i++) {
    const v = Math.round(signal[i]! + (noise[i] ?? 0));
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** The noise RMS that puts a signal of RMS `signalRms` at `snrDb` dB SNR. */
export function noiseRmsForSnr(signalRms: number, snrDb: number): number {
  return signalRms / 10 ** (snrDb / 20);
}
