import { SAMPLE_RATE } from '../../shared/audio-format.js';

/**
 * The energy envelope of a clip in 10 ms windows, and what the benchmark reads from it:
 * where the spoken word ends (the reference point of the latency) and how loud it is
 * (the reference of the SNR). Both ignore the silence around the word, which varies from
 * recording to recording.
 */
export const ENVELOPE_WINDOW = SAMPLE_RATE / 100;

/** Below the loudest window by more than this, a window is not part of the word. */
const WORD_BELOW_PEAK_DB = 25;
/** … and it must stand this far above the clip's noise floor (its 10th percentile). */
const WORD_ABOVE_FLOOR_DB = 6;
/**
 * Quieter stretches up to this long inside the word are bridged (the stop in "Ale-x-a");
 * anything after a longer pause is another sound, such as the click of a recorder
 * being stopped, and not part of the word.
 */
const MAX_GAP_WINDOWS = 20;

export interface SpeechSpan {
  /** First sample of the word and the sample after its end. */
  startSample: number;
  endSample: number;
  /** RMS over the word's windows only, in int16 units. */
  speechRms: number;
}

/** Energy per 10 ms window, in dB relative to int16 full scale. */
export function envelopeDb(samples: Int16Array): Float64Array {
  const n = Math.floor(samples.length / ENVELOPE_WINDOW);
  const out = new Float64Array(n);
  for (let w = 0; w < n; w++) {
    let sum = 0;
    for (let i = w * ENVELOPE_WINDOW; i < (w + 1) * ENVELOPE_WINDOW; i++) sum += samples[i]! ** 2;
    out[w] = 10 * Math.log10(sum / ENVELOPE_WINDOW / 32768 ** 2 + 1e-12);
  }
  return out;
}

/**
 * The span of the spoken word: from the loudest window outwards, over windows within
 * 25 dB of it and 6 dB above the floor, bridging short dips.
 */
export function findSpeech(samples: Int16Array): SpeechSpan {
  const env = envelopeDb(samples);
  if (env.length === 0) {
    return { startSample: 0, endSample: samples.length, speechRms: rms(samples) };
  }
  const sorted = Array.from(env).sort((a, b) => a - b);
  const floor = sorted[Math.floor(sorted.length * 0.1)]!;
  let peakAt = 0;
  for (let w = 1; w < env.length; w++) if (env[w]! > env[peakAt]!) peakAt = w;
  const cut = Math.max(env[peakAt]! - WORD_BELOW_PEAK_DB, floor + WORD_ABOVE_FLOOR_DB);
  const first = extend(env, peakAt, cut, -1);
  const last = extend(env, peakAt, cut, 1);
  let energy = 0;
  let count = 0;
  for (let w = first; w <= last; w++) {
    if (env[w]! < cut) continue;
    energy += 10 ** (env[w]! / 10);
    count += 1;
  }
  return {
    startSample: first * ENVELOPE_WINDOW,
    endSample: (last + 1) * ENVELOPE_WINDOW,
    speechRms: Math.sqrt(energy / Math.max(1, count)) * 32768,
  };
}

export function rms(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** The last window above `cut` reached from `from` in direction `step` over short gaps. */
function extend(env: Float64Array, from: number, cut: number, step: 1 | -1): number {
  let edge = from;
  let gap = 0;
  for (let w = from + step; w >= 0 && w < env.length; w += step) {
    if (env[w]! >= cut) {
      edge = w;
      gap = 0;
    } else if (++gap > MAX_GAP_WINDOWS) {
      break;
    }
  }
  return edge;
}
