import { SAMPLE_RATE } from '../../shared/audio-format.js';

/**
 * The energy envelope of a clip in 10 ms windows, and what the benchmark reads from it:
 * where the speech ends (the reference point of the latency) and how loud the speech is
 * (the reference of the SNR). Both ignore the silence around the word, which varies
 * from recording to recording.
 */
export const ENVELOPE_WINDOW = SAMPLE_RATE / 100;

/** Below the loudest window by more than this, a window is not speech. */
const SPEECH_BELOW_PEAK_DB = 30;
/** … and it must stand this far above the clip's noise floor. */
const SPEECH_ABOVE_FLOOR_DB = 6;

export interface SpeechSpan {
  /** First and last sample of speech (end exclusive). */
  startSample: number;
  endSample: number;
  /** RMS over the speech windows only, in int16 units. */
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
 * The span of speech: windows within 30 dB of the peak and 6 dB above the floor (the
 * 10th percentile). The end is the last such window, which for "Alexa" is the fading
 * final vowel — what a listener would call the end of the word.
 */
export function findSpeech(samples: Int16Array): SpeechSpan {
  const env = envelopeDb(samples);
  if (env.length === 0)
    return { startSample: 0, endSample: samples.length, speechRms: rms(samples) };
  const sorted = Array.from(env).sort((a, b) => a - b);
  const floor = sorted[Math.floor(sorted.length * 0.1)]!;
  const peak = sorted[sorted.length - 1]!;
  const cut = Math.max(peak - SPEECH_BELOW_PEAK_DB, floor + SPEECH_ABOVE_FLOOR_DB);
  let first = -1;
  let last = -1;
  let energy = 0;
  let count = 0;
  for (let w = 0; w < env.length; w++) {
    if (env[w]! < cut) continue;
    if (first < 0) first = w;
    last = w;
    energy += 10 ** (env[w]! / 10);
    count += 1;
  }
  if (first < 0) return { startSample: 0, endSample: samples.length, speechRms: rms(samples) };
  return {
    startSample: first * ENVELOPE_WINDOW,
    endSample: (last + 1) * ENVELOPE_WINDOW,
    speechRms: Math.sqrt(energy / count) * 32768,
  };
}

export function rms(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, samples.length));
}
