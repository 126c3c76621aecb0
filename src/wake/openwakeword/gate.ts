/**
 * The decision for one keyword, frame by frame, from its score. Pure and synchronous, so
 * that the benchmark replays recorded scores through the very same rules at other
 * thresholds.
 *
 * - warm-up: for `warmupFrames` frames after a reset nothing counts; the feature windows
 *   still hold the rest state and scores on them mean little;
 * - patience: `patience` consecutive frames with a score at or above `threshold` make
 *   a candidate;
 * - refractory: after a detection, nothing fires for `refractoryFrames` frames (one
 *   "Alexa" keeps the score high for several frames; it must not wake twice).
 *
 * The gate proposes, the engine disposes: `update` says that the rules are met, and
 * only `commit` (called when the engine reports the detection) starts the refractory
 * period, so a later veto (the voice-activity check) leaves no trace.
 */
export interface GateOptions {
  threshold: number;
  patience: number;
  refractoryFrames: number;
  warmupFrames: number;
}

export class KeywordGate {
  private sinceReset = 0;
  private run = 0;
  private lastFire = -Infinity;

  constructor(readonly options: GateOptions) {}

  /** Feeds the score of frame `frameIndex`; true when this frame is a candidate. */
  update(frameIndex: number, score: number): boolean {
    const o = this.options;
    this.sinceReset += 1;
    if (this.sinceReset <= o.warmupFrames) {
      this.run = 0;
      return false;
    }
    this.run = score >= o.threshold ? this.run + 1 : 0;
    if (frameIndex - this.lastFire <= o.refractoryFrames) return false;
    return this.run >= o.patience;
  }

  /** The engine reported a detection on this frame. */
  commit(frameIndex: number): void {
    this.lastFire = frameIndex;
    this.run = 0;
  }

  /** Starts a new warm-up. The refractory period runs on: it is on the source's time line. */
  reset(): void {
    this.sinceReset = 0;
    this.run = 0;
  }
}
