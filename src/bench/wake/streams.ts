import { FRAME_SAMPLES } from '../../shared/audio-format.js';
import { findSpeech } from './envelope.js';
import { mix, noiseRmsForSnr, PinkNoise } from './noise.js';

/**
 * How the benchmark turns recordings into microphone-like audio. Every stream carries a
 * faint pink noise floor (about -61 dBFS, a quiet room through a MEMS microphone) from
 * its first to its last sample, under the recordings too: real microphones never deliver
 * digital silence, and a jump between noise and the exact zeros that some recordings
 * start with makes the models score where no speaker would.
 */
export const FLOOR_RMS = 30;
/** Noise before each positive: longer than the warm-up, so the detector is listening. */
export const LEAD_FRAMES = 30;
/** Noise after each positive: room for a detection that fires after the word. */
export const TAIL_FRAMES = 15;
/** Noise between two negatives: the pause between two utterances. */
export const GAP_FRAMES = 12;

/** Seeds: one noise per file and role, independent of the order files are read in. */
const FLOOR_SEED = 1_000;
const NOISE_SEED = 50_000;

export interface Segment {
  file: string;
  /** Whole frames of audio. */
  samples: Int16Array;
  /** Where the recording starts and ends inside `samples`. */
  clipStart: number;
  clipEnd: number;
  /** End of the spoken word inside `samples` (energy envelope). */
  speechEnd: number;
}

export interface SegmentOptions {
  /** Index of the file in its set, for the noise seeds. */
  index: number;
  /** Noise before and after the recording, in frames. */
  leadFrames: number;
  tailFrames: number;
  /** Pink noise at this SNR over the whole segment; undefined for clean. */
  noiseDb?: number | undefined;
  /** Distinguishes the seeds of the positive and the negative set. */
  set: 'positive' | 'negative';
}

/**
 * Pads a recording with noise to whole frames and mixes the noise in. With `noiseDb`,
 * the added noise is set against the loudness of the spoken word (not of the whole
 * file with its silences), so a quiet speaker is as buried as a loud one.
 */
export function buildSegment(file: string, clip: Int16Array, o: SegmentOptions): Segment {
  const lead = o.leadFrames * FRAME_SAMPLES;
  const minimum = lead + clip.length + o.tailFrames * FRAME_SAMPLES;
  const total = Math.ceil(minimum / FRAME_SAMPLES) * FRAME_SAMPLES;
  const speech = findSpeech(clip);
  const seed = (o.set === 'positive' ? 0 : 500_000) + o.index;

  const padded = new Int16Array(total);
  padded.set(clip, lead);
  const noise = new PinkNoise(FLOOR_SEED + seed).fill(new Float32Array(total), FLOOR_RMS);
  if (o.noiseDb !== undefined) {
    const level = noiseRmsForSnr(speech.speechRms, o.noiseDb);
    const extra = new PinkNoise(NOISE_SEED + seed).fill(new Float32Array(total), level);
    for (let i = 0; i < total; i++) noise[i]! += extra[i]!;
  }
  return {
    file,
    samples: mix(padded, noise),
    clipStart: lead,
    clipEnd: lead + clip.length,
    speechEnd: lead + speech.endSample,
  };
}

/** The frames of a segment, as views (no copies). */
export function* framesOf(samples: Int16Array): Generator<Int16Array> {
  for (let at = 0; at + FRAME_SAMPLES <= samples.length; at += FRAME_SAMPLES) {
    yield samples.subarray(at, at + FRAME_SAMPLES);
  }
}
