import { FRAME_MS, FRAME_SAMPLES, type Frame } from '../shared/audio-format.js';
import { SILERO_CHUNK, SileroStream } from '../models/silero-stream.js';
import { EarshotError } from '../shared/errors.js';
import { frameDbfs, type VadDecision } from './energy-vad.js';
import { NoiseFloor } from './noise-floor.js';

export interface SileroVadOptions extends FrameSpeechOptions {
  trailingSilenceMs: number;
  minSpeechMs?: number;
}

export interface FrameSpeechOptions {
  /** A frame with a probability at or above this is speech… */
  speechThreshold?: number;
  /**
   * …and while in speech, one at or below this is not (hysteresis in between keeps the
   * current decision). The device sets both to 0.5 (`utterance.speechEndThreshold`).
   */
  silenceThreshold?: number;
  /**
   * A frame this many dB louder than the utterance's noise floor is speech too, while
   * the model gives it at least `noiseGateProbability`: Silero misses quiet words in
   * noise, the level does not. Undefined: the model alone decides.
   */
  noiseMarginDb?: number;
  noiseGateProbability?: number;
}

/** Below this, a loud frame is not speech (a door, a pan): the model is sure. */
const NOISE_GATE_PROBABILITY = 0.1;
/**
 * The level of the utterance's speech: the level a tenth of its frames reach. In a
 * request most frames are speech or the pauses between it, so this is a loud syllable,
 * not a single click (the loudest frame would be).
 */
const SPEECH_LEVEL_FRACTION = 0.9;

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
 * The speech decision of each frame from the model's probability and the frame's level
 * (pure: the device and `npm run bench:vad` replay the same decisions). The level
 * counts against this utterance's noise floor (src/audio/noise-floor.ts), so it means
 * the same in a quiet room and at 10 dB SNR.
 */
export class FrameSpeech {
  private readonly floor = new NoiseFloor();
  private inSpeech = false;

  constructor(private readonly options: FrameSpeechOptions = {}) {}

  decide(p: number, levelDb: number): boolean {
    this.floor.add(levelDb);
    this.inSpeech = speechDecision(p, this.inSpeech, this.options);
    const margin = this.options.noiseMarginDb;
    if (this.inSpeech || margin === undefined) return this.inSpeech;
    const gate = this.options.noiseGateProbability ?? NOISE_GATE_PROBABILITY;
    return p >= gate && levelDb > this.floor.db! + margin;
  }

  /**
   * How far the utterance's speech stands above its noise floor so far, dB (an estimate
   * of the SNR; in `npm run bench:vad`'s requests a median of 39 in a quiet room, 22 at
   * 20 dB and 13 at 10 dB of pink noise, at the end of the last word). Undefined before any frame.
   */
  get snrDb(): number | undefined {
    const speech = this.floor.quantile(SPEECH_LEVEL_FRACTION);
    const floor = this.floor.db;
    return speech === undefined || floor === undefined ? undefined : speech - floor;
  }

  reset(): void {
    this.floor.reset();
    this.inSpeech = false;
  }
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
  private ended = false;
  private readonly frames: FrameSpeech;

  constructor(
    private readonly options: SileroVadOptions,
    private readonly modelPath?: string,
  ) {
    this.frames = new FrameSpeech(options);
  }

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
    this.frames.reset();
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
   * Whether a frame is speech (`FrameSpeech`). Advances the model's state: use either
   * this (one decision per frame, the end decided by src/audio/endpointer.ts) or
   * `process`, not both.
   */
  async isSpeech(frame: Frame): Promise<boolean> {
    const p = await this.probability(frame.samples);
    return this.frames.decide(p, frameDbfs(frame.samples));
  }

  /** The utterance's estimated SNR so far (`FrameSpeech.snrDb`), for the endpointer. */
  snrDb(): number | undefined {
    return this.frames.snrDb;
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

/** The detector's options from the `utterance` config section (device and bench alike). */
export function sileroOptions(u: {
  trailingSilenceMs: number;
  speechEndThreshold: number;
  noiseMarginDb: number;
}): SileroVadOptions {
  return {
    trailingSilenceMs: u.trailingSilenceMs,
    speechThreshold: Math.max(0.5, u.speechEndThreshold),
    silenceThreshold: u.speechEndThreshold,
    noiseMarginDb: u.noiseMarginDb,
  };
}
