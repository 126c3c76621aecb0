import { FRAME_MS, type Frame } from '../shared/audio-format.js';

export interface EnergyVadOptions {
  /** Frames with RMS above this (dBFS) count as speech. */
  thresholdDb: number;
  /** Trailing silence that ends speech. */
  trailingSilenceMs: number;
  /** Speech must last this long before silence can end it (avoids ending on a click). */
  minSpeechMs?: number;
}

export type VadDecision = 'waiting' | 'speech' | 'hangover' | 'ended';

/**
 * End-of-speech by frame energy with a hangover: speech ends after `trailingSilenceMs`
 * of consecutive quiet frames following at least `minSpeechMs` of speech. Cheap (one
 * pass over 1280 samples) and deterministic; runs on the audio path.
 */
export class EnergyVad {
  readonly name = 'vad';
  private speechMs = 0;
  private silenceMs = 0;
  private ended = false;

  constructor(private readonly options: EnergyVadOptions) {}

  /** Nothing to load: a threshold on the frame's level. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  reset(): void {
    this.speechMs = 0;
    this.silenceMs = 0;
    this.ended = false;
  }

  get heardSpeech(): boolean {
    return this.speechMs >= (this.options.minSpeechMs ?? 160);
  }

  /** Whether a frame is speech: louder than the threshold. Keeps no state. */
  isSpeech(frame: Frame): boolean {
    return frameDbfs(frame.samples) > this.options.thresholdDb;
  }

  /** The fixed rule: `trailingSilenceMs` after any speech ends it. */
  process(frame: Frame): VadDecision {
    if (this.ended) return 'ended';
    if (this.isSpeech(frame)) {
      this.speechMs += FRAME_MS;
      this.silenceMs = 0;
      return 'speech';
    }
    if (!this.heardSpeech) return 'waiting';
    this.silenceMs += FRAME_MS;
    if (this.silenceMs >= this.options.trailingSilenceMs) {
      this.ended = true;
      return 'ended';
    }
    return 'hangover';
  }
}

/** RMS level of 16-bit samples in dB relative to full scale (-96 for silence). */
export function frameDbfs(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  return rms < 1 ? -96 : 20 * Math.log10(rms / 32768);
}
