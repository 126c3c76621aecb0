import { FRAME_SAMPLES } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import { featureModelPath } from './models.js';
import { openSession, outputData, Tensor, type Session } from './session.js';

/**
 * The openWakeWord front end, streaming: audio → mel spectrogram → speech embeddings,
 * shared by every keyword classifier. It follows `AudioFeatures._streaming_features` of
 * the reference implementation (dscripka/openWakeWord, utils.py) for 80 ms chunks:
 *
 * - the mel model runs on the newest 1280 samples plus 480 samples of context (the
 *   window is 400 samples, the hop 160), which yields exactly 8 new mel frames;
 * - its input is the int16 sample values as float32, not scaled to [-1, 1];
 * - its output is mapped x/10 + 2 (the reference's transform towards Google's
 *   speech_embedding front end);
 * - the embedding model sees the newest 76 mel frames and yields one 96-d embedding
 *   per chunk, kept in a short history from which classifiers read their window.
 *
 * On top of the reference it can compute, on demand, the embeddings of the same audio
 * half a hop (4 mel frames, 40 ms) earlier: the "shifted" phase that the confirmation
 * check scores (see gate.ts). Mel frames are kept long enough for that, so the shifted
 * phase costs nothing until it is asked for.
 *
 * All buffers are allocated once; `push` only shifts and fills them.
 */
export const MEL_CONTEXT_SAMPLES = 480;
export const MEL_INPUT_SAMPLES = FRAME_SAMPLES + MEL_CONTEXT_SAMPLES;
export const MEL_BINS = 32;
export const MEL_FRAMES_PER_CHUNK = 8;
export const EMBEDDING_WINDOW = 76;
export const EMBEDDING_DIM = 96;
/** The shifted phase ends this many mel frames before the primary one. */
export const HALF_HOP_MEL_FRAMES = MEL_FRAMES_PER_CHUNK / 2;

const WINDOW_VALUES = EMBEDDING_WINDOW * MEL_BINS;

export class FeatureStream {
  private readonly melInput = new Float32Array(MEL_INPUT_SAMPLES);
  /** Mel frames, oldest first: enough for `historyLength` shifted windows. */
  private readonly mel: Float32Array;
  private readonly primary: Float32Array;
  private readonly shifted: Float32Array;
  private readonly shiftedInput = new Float32Array(WINDOW_VALUES);
  private readonly melTensor: Tensor;
  private readonly embeddingTensor: Tensor;
  private readonly shiftedTensor: Tensor;
  /** Chunks pushed since the last reset. */
  private chunks = 0;
  /** `chunks` value at which the shifted history was last brought up to date. */
  private shiftedAt = -Infinity;
  /** Snapshots of the buffers after steady near-silence, restored by `reset`. */
  private rest: { mel: Float32Array; primary: Float32Array } | undefined;

  private constructor(
    private readonly melSession: Session,
    private readonly embeddingSession: Session,
    /** How many embeddings the longest classifier reads. */
    readonly historyLength: number,
  ) {
    const melFrames =
      EMBEDDING_WINDOW + (historyLength - 1) * MEL_FRAMES_PER_CHUNK + HALF_HOP_MEL_FRAMES;
    this.mel = new Float32Array(melFrames * MEL_BINS);
    this.primary = new Float32Array(historyLength * EMBEDDING_DIM);
    this.shifted = new Float32Array(historyLength * EMBEDDING_DIM);
    this.melTensor = new Tensor('float32', this.melInput, [1, MEL_INPUT_SAMPLES]);
    // The primary window is simply the newest 76 mel frames: a view, never copied.
    const newest = this.mel.subarray(this.mel.length - WINDOW_VALUES);
    const shape = [1, EMBEDDING_WINDOW, MEL_BINS, 1];
    this.embeddingTensor = new Tensor('float32', newest, shape);
    this.shiftedTensor = new Tensor('float32', this.shiftedInput, shape);
  }

  static async open(historyLength: number): Promise<FeatureStream> {
    const mel = await openSession(featureModelPath('melspectrogram'), 'melspectrogram', [
      1,
      MEL_INPUT_SAMPLES,
    ]);
    const embedding = await openSession(featureModelPath('embedding'), 'speech embedding', [
      1,
      EMBEDDING_WINDOW,
      MEL_BINS,
      1,
    ]);
    const stream = new FeatureStream(mel, embedding, historyLength);
    await stream.learnRestState();
    stream.reset();
    return stream;
  }

  /** The newest `count` primary embeddings, oldest first, as a view. */
  window(count: number): Float32Array {
    return this.primary.subarray((this.historyLength - count) * EMBEDDING_DIM);
  }

  /** Same for the shifted phase; valid after `updateShifted()` in the same frame. */
  shiftedWindow(count: number): Float32Array {
    return this.shifted.subarray((this.historyLength - count) * EMBEDDING_DIM);
  }

  /** Adds one 80 ms chunk and computes its (primary) embedding. */
  async push(samples: Int16Array): Promise<void> {
    if (samples.length !== FRAME_SAMPLES) {
      throw new EarshotError(
        'E_WAKE_FRAME',
        `expected ${FRAME_SAMPLES} samples, got ${samples.length}`,
      );
    }
    const input = this.melInput;
    input.copyWithin(0, FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) input[MEL_CONTEXT_SAMPLES + i] = samples[i]!;

    const feeds = { [this.melSession.inputNames[0]!]: this.melTensor };
    const out = outputData(await this.melSession.run(feeds), this.melSession);
    const fresh = MEL_FRAMES_PER_CHUNK * MEL_BINS;
    if (out.length !== fresh) {
      throw new EarshotError(
        'E_WAKE_MODEL_OUTPUT',
        `mel model returned ${out.length} values, expected ${fresh}`,
      );
    }
    const mel = this.mel;
    mel.copyWithin(0, fresh);
    const base = mel.length - fresh;
    for (let i = 0; i < fresh; i++) mel[base + i] = out[i]! / 10 + 2;

    const emb = await this.embed(this.embeddingTensor);
    this.primary.copyWithin(0, EMBEDDING_DIM);
    this.primary.set(emb, this.primary.length - EMBEDDING_DIM);
    this.chunks += 1;
  }

  /**
   * Brings the shifted-phase history up to the current chunk, computing only the
   * embeddings not yet computed: all of them the first time after a quiet stretch, one
   * per chunk while it stays in use. One window per run, never a batch: a batch changes
   * the input shape, and onnxruntime then re-plans and re-allocates on every switch
   * (measured: 30–100 ms for a batch of 16 against 16 × 1 ms one by one).
   */
  async updateShifted(): Promise<void> {
    const missing = Math.min(this.historyLength, this.chunks - this.shiftedAt);
    if (missing <= 0) return;
    const melFrames = this.mel.length / MEL_BINS;
    this.shifted.copyWithin(0, missing * EMBEDDING_DIM);
    for (let n = 0; n < missing; n++) {
      // The n-th missing embedding belongs to the chunk (missing - 1 - n) before the newest.
      const back = missing - 1 - n;
      const end = melFrames - back * MEL_FRAMES_PER_CHUNK - HALF_HOP_MEL_FRAMES;
      this.shiftedInput.set(this.mel.subarray((end - EMBEDDING_WINDOW) * MEL_BINS, end * MEL_BINS));
      const emb = await this.embed(this.shiftedTensor);
      this.shifted.set(emb, this.shifted.length - (missing - n) * EMBEDDING_DIM);
    }
    this.shiftedAt = this.chunks;
  }

  /**
   * Forgets all audio: the buffers return to the features of near-silence, so the first
   * windows after a reset look like a quiet room rather than like arbitrary numbers. (The
   * reference starts from ones and random-noise embeddings, which makes its scores spike
   * for about a second after a start.)
   */
  reset(): void {
    this.melInput.fill(0);
    if (this.rest) {
      this.mel.set(this.rest.mel);
      this.primary.set(this.rest.primary);
    }
    this.chunks = 0;
    this.shiftedAt = -Infinity;
  }

  async close(): Promise<void> {
    await this.melSession.release();
    await this.embeddingSession.release();
  }

  private async embed(input: Tensor): Promise<Float32Array> {
    const feeds = { [this.embeddingSession.inputNames[0]!]: input };
    const out = outputData(await this.embeddingSession.run(feeds), this.embeddingSession);
    if (out.length !== EMBEDDING_DIM) {
      throw new EarshotError(
        'E_WAKE_MODEL_OUTPUT',
        `embedding model returned ${out.length} values`,
      );
    }
    return out;
  }

  /**
   * Streams a few seconds of very faint, deterministic noise through the front end and
   * keeps the buffers as the rest state for `reset`.
   */
  private async learnRestState(): Promise<void> {
    const chunk = new Int16Array(FRAME_SAMPLES);
    let seed = 12345;
    const chunks =
      Math.ceil(this.mel.length / MEL_BINS / MEL_FRAMES_PER_CHUNK) + this.historyLength;
    for (let c = 0; c < chunks; c++) {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        chunk[i] = ((seed >>> 16) % 7) - 3;
      }
      await this.push(chunk);
    }
    this.rest = { mel: this.mel.slice(), primary: this.primary.slice() };
  }
}
