import { FRAME_SAMPLES } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import { featureModelPath } from './models.js';
import { BoundModel, openSession, Tensor, type Session } from './session.js';

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
 * All buffers are allocated once; `push` only shifts and fills them, and the model
 * inputs are tensors over those buffers, so nothing is copied into onnxruntime.
 */
export const MEL_CONTEXT_SAMPLES = 480;
export const MEL_INPUT_SAMPLES = FRAME_SAMPLES + MEL_CONTEXT_SAMPLES;
export const MEL_BINS = 32;
export const MEL_FRAMES_PER_CHUNK = 8;
export const EMBEDDING_WINDOW = 76;
export const EMBEDDING_DIM = 96;

export class FeatureStream {
  private readonly melInput = new Float32Array(MEL_INPUT_SAMPLES);
  private readonly melWindow = new Float32Array(EMBEDDING_WINDOW * MEL_BINS);
  private history: Float32Array;
  private readonly mel: BoundModel;
  private readonly embedding: BoundModel;
  /** Where the two models write their outputs. */
  private readonly melOut: Float32Array;
  private readonly embeddingOut: Float32Array;
  /**
   * Frames heard while the models were skipped (`defer`), newest last: enough of them to
   * rebuild every buffer exactly as if no frame had been skipped.
   */
  private deferred: Int16Array;
  private deferredCount = 0;
  /** Snapshots of the buffers after steady near-silence, restored by `reset`. */
  private rest: { mel: Float32Array; history: Float32Array } | undefined;

  private constructor(
    melSession: Session,
    embeddingSession: Session,
    /** How many embeddings the longest classifier reads. */
    private historyFrames: number,
  ) {
    this.history = new Float32Array(historyFrames * EMBEDDING_DIM);
    this.deferred = new Int16Array(replayFrames(historyFrames) * FRAME_SAMPLES);
    const melInput = new Tensor('float32', this.melInput, [1, MEL_INPUT_SAMPLES]);
    this.mel = new BoundModel(
      melSession,
      { [melSession.inputNames[0]!]: melInput },
      { [melSession.outputNames[0]!]: [1, 1, MEL_FRAMES_PER_CHUNK, MEL_BINS] },
    );
    const window = new Tensor('float32', this.melWindow, [1, EMBEDDING_WINDOW, MEL_BINS, 1]);
    this.embedding = new BoundModel(
      embeddingSession,
      { [embeddingSession.inputNames[0]!]: window },
      { [embeddingSession.outputNames[0]!]: [1, 1, 1, EMBEDDING_DIM] },
    );
    this.melOut = this.mel.output(melSession.outputNames[0]!);
    this.embeddingOut = this.embedding.output(embeddingSession.outputNames[0]!);
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

  /** How many embeddings the history holds (the longest classifier window). */
  get historyLength(): number {
    return this.historyFrames;
  }

  /**
   * Makes room for a classifier that reads `length` embeddings (a keyword chosen at run
   * time may read a longer window). The newest embeddings stay; the older part starts as
   * the rest state's oldest embedding. Views from `window` taken before are stale after
   * it grows: classifiers must bind again.
   */
  ensureHistory(length: number): boolean {
    if (length <= this.historyFrames) return false;
    const grow = (old: Float32Array): Float32Array => {
      const next = new Float32Array(length * EMBEDDING_DIM);
      const pad = (length - this.historyFrames) * EMBEDDING_DIM;
      for (let at = 0; at < pad; at += EMBEDDING_DIM) next.set(old.subarray(0, EMBEDDING_DIM), at);
      next.set(old, pad);
      return next;
    };
    this.history = grow(this.history);
    if (this.rest) this.rest = { mel: this.rest.mel, history: grow(this.rest.history) };
    this.historyFrames = length;
    // Frames deferred before are dropped: the first scores after a switch during silence
    // see slightly older features, never wrong ones.
    this.deferred = new Int16Array(replayFrames(length) * FRAME_SAMPLES);
    this.deferredCount = 0;
    return true;
  }

  /** The newest `count` embeddings, oldest first, as a view on the history. */
  window(count: number): Float32Array {
    return this.history.subarray((this.historyFrames - count) * EMBEDDING_DIM);
  }

  /**
   * Keeps one 80 ms chunk without running the models (nothing to hear in it). The next
   * `push` first runs the models over the kept chunks, so that its features are those
   * of the uninterrupted stream: a word that starts in the quiet loses nothing.
   */
  defer(samples: Int16Array): void {
    checkFrame(samples);
    const capacity = this.deferred.length / FRAME_SAMPLES;
    if (this.deferredCount === capacity) {
      this.deferred.copyWithin(0, FRAME_SAMPLES);
      this.deferredCount -= 1;
    }
    this.deferred.set(samples, this.deferredCount * FRAME_SAMPLES);
    this.deferredCount += 1;
  }

  /** How many chunks wait for the models (at most what a replay needs). */
  get deferredFrames(): number {
    return this.deferredCount;
  }

  /** Adds one 80 ms chunk and computes its embedding (after any deferred ones). */
  async push(samples: Int16Array): Promise<void> {
    checkFrame(samples);
    const waiting = this.deferredCount;
    this.deferredCount = 0;
    for (let f = 0; f < waiting; f++) {
      await this.compute(this.deferred.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
    }
    await this.compute(samples);
  }

  private async compute(samples: Int16Array): Promise<void> {
    const input = this.melInput;
    input.copyWithin(0, FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) input[MEL_CONTEXT_SAMPLES + i] = samples[i]!;

    await this.mel.run();
    const mel = this.melOut;
    const fresh = MEL_FRAMES_PER_CHUNK * MEL_BINS;
    const win = this.melWindow;
    win.copyWithin(0, fresh);
    const base = win.length - fresh;
    for (let i = 0; i < fresh; i++) win[base + i] = mel[i]! / 10 + 2;

    await this.embedding.run();
    this.history.copyWithin(0, EMBEDDING_DIM);
    this.history.set(this.embeddingOut, this.history.length - EMBEDDING_DIM);
  }

  /**
   * Forgets all audio: the buffers return to the features of near-silence, so the first
   * windows after a reset look like a quiet room rather than like arbitrary numbers. (The
   * reference starts from ones and from embeddings of random noise; a port that does the
   * same sees scores spike on plain noise for about 1.5 s after every start.)
   */
  reset(): void {
    this.melInput.fill(0);
    this.deferredCount = 0;
    if (this.rest) {
      this.melWindow.set(this.rest.mel);
      this.history.set(this.rest.history);
    }
  }

  async close(): Promise<void> {
    await this.mel.release();
    await this.embedding.release();
  }

  /**
   * Streams a couple of seconds of very faint, deterministic noise through the front end
   * and keeps the buffers as the rest state for `reset`.
   */
  private async learnRestState(): Promise<void> {
    const chunk = new Int16Array(FRAME_SAMPLES);
    let seed = 12345;
    const chunks = Math.ceil(EMBEDDING_WINDOW / MEL_FRAMES_PER_CHUNK) + this.historyFrames;
    for (let c = 0; c < chunks; c++) {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        chunk[i] = ((seed >>> 16) % 7) - 3;
      }
      await this.push(chunk);
    }
    this.rest = { mel: this.melWindow.slice(), history: this.history.slice() };
  }
}

/**
 * Chunks that rebuild every buffer from scratch: one for the mel context, those whose
 * mel frames fill the embedding window, and one per embedding of the history.
 */
function replayFrames(historyFrames: number): number {
  return 1 + Math.ceil(EMBEDDING_WINDOW / MEL_FRAMES_PER_CHUNK) + historyFrames;
}

function checkFrame(samples: Int16Array): void {
  if (samples.length !== FRAME_SAMPLES) {
    throw new EarshotError(
      'E_WAKE_FRAME',
      `expected ${FRAME_SAMPLES} samples, got ${samples.length}`,
    );
  }
}
