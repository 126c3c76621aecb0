import { FRAME_MS, type Frame } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { Detection, WakeDetector } from '../detector.js';
import { KeywordClassifier } from './classifier.js';
import { FeatureStream } from './features.js';
import { KeywordGate } from './gate.js';
import { defaultKeywordName, resolveKeywordModel } from './models.js';
import { QuietGate } from './quiet-gate.js';
import { SpeechCheck } from './vad.js';
import { openBundledVerifier } from './verifier.js';

/**
 * After the last loud frame the models run on this long (1.6 s): a keyword fires at the
 * end of the word, whose last syllable is often its quietest ("Alex-a"). At 10 dB SNR,
 * 0.8 s left the gate shut at the end of the word for 5 of 238 speakers, 1.6 s for 1.
 */
const QUIET_HANGOVER_FRAMES = 20;

export interface OpenWakeWordKeyword {
  /** Name reported on detection; defaults to the model's file name without version. */
  name?: string;
  /** Bundled model name (`alexa_v0.1`) or path to an `.onnx` file. */
  model: string;
  threshold: number;
  patience: number;
  /**
   * The second stage (see WakeVerifier): asked when the gate fires and the speech check
   * agrees; a detection needs its probability at or above `threshold`. Without `model`,
   * the verifier bundled for this keyword's bundled model is loaded at start (a keyword
   * that has none runs without one).
   */
  verifier?: { model?: WindowVerifier | undefined; threshold: number } | undefined;
}

/** What the detector needs of a verifier: a score over the newest embeddings. */
export interface WindowVerifier {
  readonly windowLength: number;
  score(window: Float32Array): number;
}

/** Per-frame scores for observers. */
export interface FrameScores {
  /** The score of every keyword, in keyword order. */
  keyword: Float32Array;
  /** The voice-activity probability, NaN where it was not computed on this frame. */
  vad: number;
  /** Each keyword's verifier probability, NaN where it was not asked on this frame. */
  verifier: Float32Array;
  /**
   * The embedding history (oldest first) when the models ran on this frame, else
   * undefined: a view, valid only during the call (the training script copies windows).
   */
  window: Float32Array | undefined;
}

/** How often the verifiers ran and their time (for the benchmark's cost figure). */
export interface VerifierStats {
  calls: number;
  ms: number;
}

export interface OpenWakeWordOptions {
  keywords: readonly OpenWakeWordKeyword[];
  refractoryMs: number;
  warmupMs: number;
  /** Veto detections without speech 0.3–0.6 s before them (Silero VAD); 0 turns it off. */
  vadThreshold: number;
  /**
   * Skip the models while nothing stands this many dB above the room's noise floor
   * (see QuietGate); 0 runs them on every frame.
   */
  quietGateDb?: number;
  /** Folder that relative model paths are resolved against (default: working directory). */
  baseDir?: string;
  /**
   * Called after every frame with the raw scores, before any gate. For the benchmark's
   * threshold sweep; the object is reused between calls.
   */
  onScores?: (frameIndex: number, scores: FrameScores) => void;
  /**
   * Also compute the voice-activity probability on every frame where some keyword
   * scores at least this much, not only where one fires: complete traces for the sweep.
   */
  probeVadFrom?: number;
}

interface Slot {
  name: string;
  classifier: KeywordClassifier;
  gate: KeywordGate;
  verifier: { model: WindowVerifier; threshold: number } | undefined;
}

/**
 * The openWakeWord engine: one shared feature front end (mel + embedding) and one small
 * classifier per keyword, each behind its own gate (threshold, patience, refractory
 * period, warm-up), then an optional voice-activity veto. Runs fully offline.
 */
export class OpenWakeWordDetector implements WakeDetector {
  readonly engine = 'openwakeword';
  private names: readonly string[];
  private configured: readonly OpenWakeWordKeyword[];
  private features: FeatureStream | undefined;
  private vad: SpeechCheck | undefined;
  private slots: Slot[] = [];
  private scores: FrameScores;
  private lastIndex: number | undefined;
  private readonly quiet: QuietGate | undefined;
  /** The frame being scored, if any: a keyword switch waits for it, never the reverse. */
  private inFlight: Promise<Detection[]> | undefined;
  readonly verifierStats: VerifierStats = { calls: 0, ms: 0 };

  constructor(private readonly options: OpenWakeWordOptions) {
    this.names = keywordNames(options.keywords);
    this.configured = options.keywords;
    this.scores = frameScores(options.keywords.length);
    const openDb = options.quietGateDb ?? 0;
    if (openDb > 0) this.quiet = new QuietGate({ openDb, hangoverFrames: QUIET_HANGOVER_FRAMES });
  }

  /** The names of the keywords listened for now. */
  get keywords(): readonly string[] {
    return this.names;
  }

  async start(): Promise<void> {
    if (this.features) return;
    const o = this.options;
    const classifiers = await openClassifiers(this.configured, this.names, o.baseDir);
    let verifiers;
    try {
      verifiers = await openVerifiers(this.configured);
      this.features = await FeatureStream.open(longestWindow(classifiers, verifiers));
      if (o.vadThreshold > 0 || o.probeVadFrom !== undefined) this.vad = await SpeechCheck.open();
    } catch (err) {
      await Promise.all(classifiers.map((c) => c.close()));
      await this.features?.close();
      this.features = undefined;
      throw err;
    }
    this.slots = this.makeSlots(classifiers, verifiers, this.features);
    this.lastIndex = undefined;
  }

  /**
   * Listens for other keywords from now on, without a restart. The new models load while
   * the current ones keep scoring frames; then, between two frames, the classifiers are
   * swapped and the old ones released. The shared front end and its history stay, so the
   * new keywords score on warm features after their own gate's warm-up. Throws (and
   * keeps the current keywords) when a model cannot be loaded.
   */
  async setKeywords(keywords: readonly OpenWakeWordKeyword[]): Promise<void> {
    const names = keywordNames(keywords);
    if (!this.features) {
      this.configured = keywords;
      this.names = names;
      this.scores = frameScores(keywords.length);
      return;
    }
    const classifiers = await openClassifiers(keywords, names, this.options.baseDir);
    let verifiers;
    try {
      verifiers = await openVerifiers(keywords);
    } catch (err) {
      await Promise.all(classifiers.map((c) => c.close()));
      throw err;
    }
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    const features = this.features;
    if (!features) {
      // Stopped while the models loaded.
      await Promise.all(classifiers.map((c) => c.close()));
      throw new EarshotError('E_WAKE_STATE', 'wake detector stopped during a keyword switch');
    }
    // From here to the swap nothing awaits: no frame can run in between.
    features.ensureHistory(longestWindow(classifiers, verifiers));
    const old = this.slots;
    this.configured = keywords;
    this.names = names;
    this.scores = frameScores(keywords.length);
    this.slots = this.makeSlots(classifiers, verifiers, features);
    await Promise.all(old.map((s) => s.classifier.close()));
  }

  process(frame: Frame): Promise<Detection[]> {
    const run = this.score(frame).finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private makeSlots(
    classifiers: KeywordClassifier[],
    verifiers: Array<Slot['verifier']>,
    features: FeatureStream,
  ): Slot[] {
    const o = this.options;
    const frames = (ms: number) => Math.ceil(ms / FRAME_MS);
    return classifiers.map((classifier, i) => {
      const k = this.configured[i]!;
      classifier.bind(features);
      const gate = new KeywordGate({
        threshold: k.threshold,
        patience: k.patience,
        refractoryFrames: frames(o.refractoryMs),
        warmupFrames: frames(o.warmupMs),
      });
      return { name: this.names[i]!, classifier, gate, verifier: verifiers[i] };
    });
  }

  private async score(frame: Frame): Promise<Detection[]> {
    const features = this.features;
    if (!features) throw new EarshotError('E_WAKE_STATE', 'wake detector used before start()');
    // A jump in the frame index means audio was lost (or the source restarted): the
    // feature windows would splice two unrelated moments together, so start over.
    if (this.lastIndex !== undefined && frame.index !== this.lastIndex + 1) this.reset();
    this.lastIndex = frame.index;

    this.vad?.remember(frame.samples);
    this.scores.vad = NaN;
    this.scores.verifier.fill(NaN);
    this.scores.window = undefined;
    if (this.quiet && !this.quiet.update(frame.samples)) {
      // Nothing to hear: the models wait, the gates see a score of 0 (their warm-up
      // and refractory periods run on), the frame is kept for the replay.
      features.defer(frame.samples);
      this.scores.keyword.fill(0);
      for (const slot of this.slots) slot.gate.update(frame.index, 0);
      this.options.onScores?.(frame.index, this.scores);
      return [];
    }
    await features.push(frame.samples);
    // A view for observers only (the training script copies windows from it).
    if (this.options.onScores) this.scores.window = features.window(features.historyLength);
    const detections: Detection[] = [];
    let probe = false;
    const probeFrom = this.options.probeVadFrom ?? Infinity;
    for (const [i, slot] of this.slots.entries()) {
      const score = await slot.classifier.score();
      this.scores.keyword[i] = score;
      if (score >= probeFrom) {
        probe = true;
        if (slot.verifier) this.verify(i, slot, features);
      }
      if (
        slot.gate.update(frame.index, score) &&
        (await this.speechBefore()) &&
        this.verified(i, slot, features)
      ) {
        slot.gate.commit(frame.index);
        detections.push({ keyword: slot.name, score, frameIndex: frame.index });
      }
    }
    if (probe && Number.isNaN(this.scores.vad) && this.vad) {
      this.scores.vad = await this.vad.recentSpeech();
    }
    this.options.onScores?.(frame.index, this.scores);
    return detections;
  }

  reset(): void {
    this.features?.reset();
    this.vad?.clear();
    for (const slot of this.slots) slot.gate.reset();
    this.lastIndex = undefined;
  }

  async stop(): Promise<void> {
    const features = this.features;
    this.features = undefined;
    await Promise.all(this.slots.map((s) => s.classifier.close()));
    this.slots = [];
    await features?.close();
    await this.vad?.close();
    this.vad = undefined;
  }

  /** The second stage: true without a verifier or when it accepts the window. */
  private verified(i: number, slot: Slot, features: FeatureStream): boolean {
    if (!slot.verifier) return true;
    const p = Number.isNaN(this.scores.verifier[i]!)
      ? this.verify(i, slot, features)
      : this.scores.verifier[i]!;
    return p >= slot.verifier.threshold;
  }

  private verify(i: number, slot: Slot, features: FeatureStream): number {
    const model = slot.verifier!.model;
    const t = performance.now();
    const p = model.score(features.window(Math.min(model.windowLength, features.historyLength)));
    this.verifierStats.ms += performance.now() - t;
    this.verifierStats.calls += 1;
    this.scores.verifier[i] = p;
    return p;
  }

  /** The voice-activity veto: true when it is off or when there was speech. */
  private async speechBefore(): Promise<boolean> {
    const threshold = this.options.vadThreshold;
    if (threshold <= 0 || !this.vad) return true;
    // Several keywords may fire on one frame: the check runs once per frame.
    if (Number.isNaN(this.scores.vad)) this.scores.vad = await this.vad.recentSpeech();
    return this.scores.vad >= threshold;
  }
}

/** The history the front end keeps: the longest window any classifier or verifier reads. */
function longestWindow(
  classifiers: readonly KeywordClassifier[],
  verifiers: ReadonlyArray<Slot['verifier']>,
): number {
  return Math.max(
    ...classifiers.map((c) => c.windowLength),
    ...verifiers.map((v) => v?.model.windowLength ?? 1),
  );
}

/** Each keyword's verifier: the one given, else its bundled one, else none. */
async function openVerifiers(
  keywords: readonly OpenWakeWordKeyword[],
): Promise<Array<Slot['verifier']>> {
  return Promise.all(
    keywords.map(async (k) => {
      if (!k.verifier) return undefined;
      const model = k.verifier.model ?? (await openBundledVerifier(k.model));
      return model ? { model, threshold: k.verifier.threshold } : undefined;
    }),
  );
}

function frameScores(keywords: number): FrameScores {
  return {
    keyword: new Float32Array(keywords),
    vad: NaN,
    verifier: new Float32Array(keywords).fill(NaN),
    window: undefined,
  };
}

function keywordNames(keywords: readonly OpenWakeWordKeyword[]): string[] {
  if (keywords.length === 0) {
    throw new EarshotError('E_WAKE_CONFIG', 'openWakeWord needs at least one keyword');
  }
  const names = keywords.map((k) => k.name ?? defaultKeywordName(k.model));
  const dup = names.find((k, i) => names.indexOf(k) !== i);
  if (dup) throw new EarshotError('E_WAKE_CONFIG', `keyword name "${dup}" is used twice`);
  return names;
}

/** Opens every keyword's model; on a failure, closes the ones already open. */
async function openClassifiers(
  keywords: readonly OpenWakeWordKeyword[],
  names: readonly string[],
  baseDir: string | undefined,
): Promise<KeywordClassifier[]> {
  // Resolve every path first: a typo in the third keyword fails before any load.
  const paths = keywords.map((k) => resolveKeywordModel(k.model, baseDir));
  const classifiers: KeywordClassifier[] = [];
  try {
    for (const [i, path] of paths.entries()) {
      classifiers.push(await KeywordClassifier.open(path, names[i]!));
    }
  } catch (err) {
    await Promise.all(classifiers.map((c) => c.close()));
    throw err;
  }
  return classifiers;
}
