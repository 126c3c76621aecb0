import { FRAME_MS, FRAME_SAMPLES, type Frame } from '../shared/audio-format.js';
import { SILERO_CHUNK, SileroStream } from '../models/silero-stream.js';
import { EarshotError } from '../shared/errors.js';
import type { VadDecision } from './energy-vad.js';

export interface SileroVadOptions {
  trailingSilenceMs: number;
  minSpeechMs?: number;
  /** A 40 ms chunk with a probability above this is speech… */
  speechThreshold?: number;
  /** …and below this is silence (hysteresis in between keeps the current decision). */
  silenceThreshold?: number;
}

/**
 * One frame's decision from its probability: over the speech threshold, or over the
 * silence threshold while already in speech (the hysteresis keeps a word whole).
 */
export function speechDecision(
  p: number,
  wasSpeech: boolean,
  thresholds: Pick<SileroVadOptions, 'speechThreshold' | 'silenceThreshold'> = {},
): boolean {
  return (
    p >= (thresholds.speechThreshold ?? 0.5) ||
    (wasSpeech && p > (thresholds.silenceThreshold ?? 0.35))
  );
}

/**
 * End of speech with Silero VAD, streaming: two 40 ms chunks per frame through the
 * recurrent model, its state carried across frames. Same decisions as EnergyVad
 * (`waiting`, `speech`, `hangover`, `ended`); asynchronous because onnxruntime is.
 */
export class SileroVad {
  readonly name = 'vad';
  private stream: SileroStream | undefined;
  private speechMs = 0;
  private silenceMs = 0;
  private inSpeech = false;
  private ended = false;

  constructor(
    private readonly options: SileroVadOptions,
    private readonly modelPath?: string,
  ) {}

  /** Opens and starts a detector (for tools that run it outside the device). */
  static async open(options: SileroVadOptions, path?: string): Promise<SileroVad> {
    const vad = new SileroVad(options, path);
    await vad.start();
    return vad;
  }

  /**
   * Opens the model, or shares the session the wake word's speech check already holds
   * (one session, separate buffers and state: src/models/silero-stream.ts).
   */
  async start(): Promise<void> {
    this.stream ??= await SileroStream.open(this.modelPath);
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    await stream?.close();
  }

  private get opened(): SileroStream {
    if (!this.stream) throw new EarshotError('E_VAD_MODEL', 'Silero VAD used before start()');
    return this.stream;
  }

  get heardSpeech(): boolean {
    return this.speechMs >= (this.options.minSpeechMs ?? 160);
  }

  reset(): void {
    this.stream?.resetState();
    this.speechMs = 0;
    this.silenceMs = 0;
    this.inSpeech = false;
    this.ended = false;
  }

  /** The speech probability of a frame: the larger of its two 40 ms chunks. */
  async probability(samples: Int16Array): Promise<number> {
    const stream = this.opened;
    const input = stream.input;
    let best = 0;
    for (let off = 0; off < FRAME_SAMPLES; off += SILERO_CHUNK) {
      for (let i = 0; i < SILERO_CHUNK; i++) input[i] = samples[off + i]! / 32768;
      best = Math.max(best, await stream.step());
    }
    return best;
  }

  /**
   * Whether a frame is speech (`speechDecision`). Advances the model's state: use either
   * this (one decision per frame, the end decided by src/audio/endpointer.ts) or
   * `process`, not both.
   */
  async isSpeech(frame: Frame): Promise<boolean> {
    const p = await this.probability(frame.samples);
    this.inSpeech = speechDecision(p, this.inSpeech, this.options);
    return this.inSpeech;
  }

  /** The fixed rule: `trailingSilenceMs` after any speech ends it. */
  async process(frame: Frame): Promise<VadDecision> {
    if (this.ended) return 'ended';
    if (await this.isSpeech(frame)) {
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

  /** Same as stop(), for tools. */
  close(): Promise<void> {
    return this.stop();
  }
}
