import { join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { SAMPLE_RATE } from '../shared/audio-format.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import { openModel, packageModelDir } from './prebuilt.js';
import { modelSessions } from './sessions.js';

/** The Silero VAD model that ships with the openWakeWord model files. */
export function sileroModelPath(): string {
  return join(packageModelDir(), 'silero_vad.onnx');
}

/** Silero runs on 40 ms chunks at 16 kHz. */
export const SILERO_CHUNK = 640;
const STATE_SHAPE = [2, 1, 64];
const STATE = 2 * 1 * 64;

/**
 * One stream through Silero VAD: its own input, recurrent state and output buffers,
 * bound to the session once so a step allocates nothing, on the one session that every
 * stream of the process shares (src/models/sessions.ts). The wake word's speech
 * check and the end-of-speech detector each hold a stream; this is the only place the
 * model is opened, so both get the same session options.
 */
export class SileroStream {
  /** The next 40 ms chunk, scaled to [-1, 1]: fill it, then `step()`. */
  readonly input = new Float32Array(SILERO_CHUNK);
  private readonly h = new Float32Array(STATE);
  private readonly c = new Float32Array(STATE);
  private readonly hn = new Float32Array(STATE);
  private readonly cn = new Float32Array(STATE);
  private readonly prob = new Float32Array(1);
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly fetches: Record<string, ort.Tensor>;
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly key: string,
  ) {
    this.feeds = {
      input: new ort.Tensor('float32', this.input, [1, SILERO_CHUNK]),
      sr: new ort.Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []),
      h: new ort.Tensor('float32', this.h, STATE_SHAPE),
      c: new ort.Tensor('float32', this.c, STATE_SHAPE),
    };
    this.fetches = {
      output: new ort.Tensor('float32', this.prob, [1, 1]),
      hn: new ort.Tensor('float32', this.hn, STATE_SHAPE),
      cn: new ort.Tensor('float32', this.cn, STATE_SHAPE),
    };
  }

  static async open(path = sileroModelPath()): Promise<SileroStream> {
    const key = resolve(path);
    try {
      const session = await modelSessions.acquire(key, async () => {
        // One thread and no memory arena, like the wake-word models: the model is tiny
        // and runs next to the audio loop on a small board.
        const opened = await openModel(key, {
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          enableCpuMemArena: false,
          enableMemPattern: false,
          logSeverityLevel: 3,
        });
        return opened.session;
      });
      return new SileroStream(session, key);
    } catch (err) {
      throw new EarshotError(
        'E_VAD_MODEL',
        `cannot load the Silero VAD model ${key}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  /** Runs the model on `input`; returns the speech probability of that chunk. */
  async step(): Promise<number> {
    await this.session.run(this.feeds, this.fetches);
    // The recurrent state goes back in through the input buffers for the next chunk.
    this.h.set(this.hn);
    this.c.set(this.cn);
    return this.prob[0] ?? 0;
  }

  /** Starts the recurrent state afresh. */
  resetState(): void {
    this.h.fill(0);
    this.c.fill(0);
  }

  async close(): Promise<void> {
    if (this.closed) return; // a second close must not release another stream's session
    this.closed = true;
    await modelSessions.release(this.key);
  }
}
