/** Levels are kept in 1 dB steps from this (digital silence) to 0 dBFS. */
const MIN_DB = -96;
const BINS = -MIN_DB + 1;

/**
 * The noise floor of one utterance: a low percentile of the levels of the frames heard
 * so far (the wake word's frames included). In a request most frames are speech or the
 * pauses between it, so the quietest fifth are the room. A histogram of whole-dB levels,
 * so memory is fixed however long the utterance runs.
 */
export class NoiseFloor {
  private readonly counts = new Uint32Array(BINS);
  private total = 0;

  constructor(
    /** The share of frames at or below the floor (0.2: the quietest fifth). */
    private readonly fraction = 0.2,
  ) {}

  add(levelDb: number): void {
    const bin = Math.max(0, Math.min(BINS - 1, Math.round(levelDb) - MIN_DB));
    this.counts[bin]! += 1;
    this.total += 1;
  }

  /** The floor in dBFS; undefined before any frame. */
  get db(): number | undefined {
    return this.quantile(this.fraction);
  }

  /**
   * Any level of the frames heard so far, in dBFS: the one with `fraction` of them at or
   * below it (0.9: the level of the utterance's speech). Undefined before any frame.
   */
  quantile(fraction: number): number | undefined {
    if (this.total === 0) return undefined;
    // The same rank as a sorted list's element at floor(fraction * (n - 1)).
    const rank = Math.floor(fraction * (this.total - 1));
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      seen += this.counts[bin]!;
      if (seen > rank) return bin + MIN_DB;
    }
    return 0;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }
}
