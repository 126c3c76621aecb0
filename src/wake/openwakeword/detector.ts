import { FRAME_MS, type Frame } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { Detection, WakeDetector } from '../detector.js';
import { KeywordClassifier } from './classifier.js';
import { FeatureStream } from './features.js';
import { KeywordGate } from './gate.js';
import { defaultKeywordName, resolveKeywordModel } from './models.js';
import { SpeechCheck } from './vad.js';

export interface OpenWakeWordKeyword {
  /** Name reported on detection; defaults to the model's file name without version. */
  name?: string;
  /** Bundled model name (`alexa_v0.1`) or path to an `.onnx` file. */
  model: string;
  threshold: number;
  patience: number;
}

/** Per-frame scores for observers. */
export interface FrameScores {
  /** The score of every keyword, in keyword order. */
  keyword: Float32Array;
  /** The voice-activity probability, NaN where it was not computed on this frame. */
  vad: number;
}

export interface OpenWakeWordOptions {
  keywords: readonly OpenWakeWordKeyword[];
  refractoryMs: number;
  warmupMs: number;
  /** Veto detections without speech 0.3–0.6 s before them (Silero VAD); 0 turns it off. */
  vadThreshold: number;
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
}

/**
 * The openWakeWord engine: one shared feature front end (mel + embedding) and one small
 * classifier per keyword, each behind its own gate (threshold, patience, refractory
 * period, warm-up), then an optional voice-activity veto. Runs fully offline.
 */
export class OpenWakeWordDetector implements WakeDetector {
  readonly engine = 'openwakeword';
  readonly keywords: readonly string[];
  private features: FeatureStream | undefined;
  private vad: SpeechCheck | undefined;
  private slots: Slot[] = [];
  private readonly scores: FrameScores;
  private lastIndex: number | undefined;

  constructor(private readonly options: OpenWakeWordOptions) {
    if (options.keywords.length === 0) {
      throw new EarshotError('E_WAKE_CONFIG', 'openWakeWord needs at least one keyword');
    }
    this.keywords = options.keywords.map((k) => k.name ?? defaultKeywordName(k.model));
    const dup = this.keywords.find((k, i) => this.keywords.indexOf(k) !== i);
    if (dup) throw new EarshotError('E_WAKE_CONFIG', `keyword name "${dup}" is used twice`);
    this.scores = { keyword: new Float32Array(options.keywords.length), vad: NaN };
  }

  async start(): Promise<void> {
    if (this.features) return;
    const o = this.options;
    // Resolve every path first: a typo in the third keyword fails before any load.
    const paths = o.keywords.map((k) => resolveKeywordModel(k.model, o.baseDir));
    const classifiers: KeywordClassifier[] = [];
    try {
      for (const [i, path] of paths.entries()) {
        classifiers.push(await KeywordClassifier.open(path, this.keywords[i]!));
      }
      const longest = Math.max(...classifiers.map((c) => c.windowLength));
      this.features = await FeatureStream.open(longest);
      if (o.vadThreshold > 0 || o.probeVadFrom !== undefined) this.vad = await SpeechCheck.open();
    } catch (err) {
      await Promise.all(classifiers.map((c) => c.close()));
      await this.features?.close();
      this.features = undefined;
      throw err;
    }
    const frames = (ms: number) => Math.ceil(ms / FRAME_MS);
    this.slots = classifiers.map((classifier, i) => {
      const k = o.keywords[i]!;
      classifier.bind(this.features!);
      const gate = new KeywordGate({
        threshold: k.threshold,
        patience: k.patience,
        refractoryFrames: frames(o.refractoryMs),
        warmupFrames: frames(o.warmupMs),
      });
      return { name: this.keywords[i]!, classifier, gate };
    });
    this.lastIndex = undefined;
  }

  async process(frame: Frame): Promise<Detection[]> {
    const features = this.features;
    if (!features) throw new EarshotError('E_WAKE_STATE', 'wake detector used before start()');
    // A jump in the frame index means audio was lost (or the source restarted): the
    // feature windows would splice two unrelated moments together, so start over.
    if (this.lastIndex !== undefined && frame.index !== this.lastIndex + 1) this.reset();
    this.lastIndex = frame.index;

    await features.push(frame.samples);
    this.vad?.remember(frame.samples);
    this.scores.vad = NaN;
    const detections: Detection[] = [];
    let probe = false;
    for (const [i, slot] of this.slots.entries()) {
      const score = await slot.classifier.score();
      this.scores.keyword[i] = score;
      if (score >= (this.options.probeVadFrom ?? Infinity)) probe = true;
      if (slot.gate.update(frame.index, score) && (await this.speechBefore())) {
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

  /** The voice-activity veto: true when it is off or when there was speech. */
  private async speechBefore(): Promise<boolean> {
    const threshold = this.options.vadThreshold;
    if (threshold <= 0 || !this.vad) return true;
    // Several keywords may fire on one frame: the check runs once per frame.
    if (Number.isNaN(this.scores.vad)) this.scores.vad = await this.vad.recentSpeech();
    return this.scores.vad >= threshold;
  }
}
