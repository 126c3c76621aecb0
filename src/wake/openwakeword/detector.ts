import { FRAME_MS, type Frame } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { Detection, WakeDetector } from '../detector.js';
import { KeywordClassifier } from './classifier.js';
import { FeatureStream } from './features.js';
import { KeywordGate } from './gate.js';
import { defaultKeywordName, resolveKeywordModel } from './models.js';

export interface OpenWakeWordKeyword {
  /** Name reported on detection; defaults to the model's file name without version. */
  name?: string;
  /** Bundled model name (`alexa_v0.1`) or path to an `.onnx` file. */
  model: string;
  threshold: number;
  patience: number;
  /** Confirm candidates on the half-hop shifted phase (see gate.ts). */
  confirm: boolean;
}

/** Per-frame scores for observers: one slot per keyword, in keyword order. */
export interface FrameScores {
  /** The primary score of every keyword. */
  primary: Float32Array;
  /** The shifted-phase score, NaN where it was not computed on this frame. */
  shifted: Float32Array;
}

export interface OpenWakeWordOptions {
  keywords: readonly OpenWakeWordKeyword[];
  refractoryMs: number;
  warmupMs: number;
  /** Folder that relative model paths are resolved against (default: working directory). */
  baseDir?: string;
  /**
   * Called after every frame with the raw scores, before any gate. For the benchmark's
   * threshold sweep; the arrays are reused between calls.
   */
  onScores?: (frameIndex: number, scores: FrameScores) => void;
  /**
   * Score the shifted phase on every frame, not only when a gate asks for it. Costs one
   * more embedding per frame; only for recording complete score traces.
   */
  scoreShiftedAlways?: boolean;
}

interface Slot {
  name: string;
  classifier: KeywordClassifier;
  gate: KeywordGate;
}

/**
 * The openWakeWord engine: one shared feature front end (mel + embedding) and one small
 * classifier per keyword, each behind its own gate (threshold, patience, confirmation,
 * refractory period, warm-up). Runs fully offline.
 */
export class OpenWakeWordDetector implements WakeDetector {
  readonly engine = 'openwakeword';
  readonly keywords: readonly string[];
  private features: FeatureStream | undefined;
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
    const n = options.keywords.length;
    this.scores = { primary: new Float32Array(n), shifted: new Float32Array(n) };
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
    } catch (err) {
      await Promise.all(classifiers.map((c) => c.close()));
      throw err;
    }
    const frames = (ms: number) => Math.ceil(ms / FRAME_MS);
    this.slots = classifiers.map((classifier, i) => {
      const k = o.keywords[i]!;
      classifier.bind(this.features!);
      const gate = new KeywordGate({
        threshold: k.threshold,
        patience: k.patience,
        confirm: k.confirm,
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
    const always = this.options.scoreShiftedAlways === true;
    if (always) await features.updateShifted();
    let shiftedReady = always;
    const detections: Detection[] = [];
    for (const [i, slot] of this.slots.entries()) {
      const score = await slot.classifier.score();
      this.scores.primary[i] = score;
      this.scores.shifted[i] = always ? await slot.classifier.scoreShifted() : NaN;
      const verdict = slot.gate.update(frame.index, score);
      if (verdict === 'fire') {
        detections.push({ keyword: slot.name, score, frameIndex: frame.index });
      } else if (verdict === 'confirm') {
        if (!shiftedReady) {
          await features.updateShifted();
          shiftedReady = true;
        }
        const shifted = always ? this.scores.shifted[i]! : await slot.classifier.scoreShifted();
        this.scores.shifted[i] = shifted;
        if (slot.gate.confirm(frame.index, shifted)) {
          detections.push({ keyword: slot.name, score, frameIndex: frame.index });
        }
      }
    }
    this.options.onScores?.(frame.index, this.scores);
    return detections;
  }

  reset(): void {
    this.features?.reset();
    for (const slot of this.slots) slot.gate.reset();
    this.lastIndex = undefined;
  }

  async stop(): Promise<void> {
    const features = this.features;
    this.features = undefined;
    await Promise.all(this.slots.map((s) => s.classifier.close()));
    this.slots = [];
    await features?.close();
  }
}
