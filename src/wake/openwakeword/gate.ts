/**
 * The decision for one keyword, frame by frame, from its scores. Pure and synchronous, so
 * that the benchmark can replay recorded scores through the very same rules at other
 * thresholds.
 *
 * - warm-up: for `warmupFrames` frames after a reset nothing counts; the feature windows
 *   still hold the rest state and scores on them mean nothing;
 * - patience: `patience` consecutive frames with a score at or above `threshold` make a
 *   candidate;
 * - confirmation (`confirm`): a candidate fires only if the score of the same audio
 *   taken half a hop (40 ms) later agrees — the shifted phase of this frame or of the
 *   next one must also reach the threshold. A spoken keyword scores high over a stretch
 *   of time, whatever the alignment of the 80 ms hops; the rare high score on other
 *   speech depends on where the hop boundaries fall and does not survive the shift;
 * - refractory: after a firing, nothing fires for `refractoryFrames` frames (one
 *   "Alexa" keeps the score high for several frames; it must not wake twice).
 */
export interface GateOptions {
  threshold: number;
  patience: number;
  confirm: boolean;
  refractoryFrames: number;
  warmupFrames: number;
}

/**
 * What the engine must do after `update`: nothing, report a detection, or score the
 * shifted phase of this frame and call `confirm` with it.
 */
export type Verdict = 'none' | 'fire' | 'confirm';

export class KeywordGate {
  private sinceReset = 0;
  private run = 0;
  private lastFire = -Infinity;
  /** A candidate on the previous frame is still waiting for its confirmation. */
  private pending = false;
  private candidate = false;

  constructor(readonly options: GateOptions) {}

  /** Feeds the (primary) score of frame `frameIndex`. */
  update(frameIndex: number, score: number): Verdict {
    const o = this.options;
    this.sinceReset += 1;
    const waiting = this.pending;
    this.pending = false;
    this.candidate = false;
    if (this.sinceReset <= o.warmupFrames) {
      this.run = 0;
      return 'none';
    }
    this.run = score >= o.threshold ? this.run + 1 : 0;
    if (frameIndex - this.lastFire <= o.refractoryFrames) return 'none';
    this.candidate = this.run >= o.patience;
    if (!o.confirm) return this.candidate ? this.fire(frameIndex) : 'none';
    return this.candidate || waiting ? 'confirm' : 'none';
  }

  /** The shifted-phase score of the same frame, after `update` answered Confirm. */
  confirm(frameIndex: number, shiftedScore: number): boolean {
    if (shiftedScore >= this.options.threshold) {
      this.fire(frameIndex);
      return true;
    }
    // Not yet: a candidate on this frame may still be confirmed by the next one.
    this.pending = this.candidate;
    return false;
  }

  /** Starts a new warm-up. The refractory period runs on: it is on the source's time line. */
  reset(): void {
    this.sinceReset = 0;
    this.run = 0;
    this.pending = false;
    this.candidate = false;
  }

  private fire(frameIndex: number): Verdict {
    this.lastFire = frameIndex;
    this.run = 0;
    this.pending = false;
    this.candidate = false;
    return 'fire';
  }
}
