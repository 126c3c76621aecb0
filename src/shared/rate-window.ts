/**
 * A budget of events per window of time: `take()` counts one and says whether it is
 * still within the budget. Used wherever a peer could make us do work (answer, log,
 * read) as often as it likes: the cloud's messages, MQTT commands, error answers.
 */
export class RateWindow {
  private start = -Infinity;
  private count = 0;
  private over = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts one event; false once more than `max` came in the current window. */
  take(): boolean {
    const t = this.now();
    if (t - this.start >= this.windowMs) {
      this.start = t;
      this.count = 0;
    }
    this.count += 1;
    if (this.count <= this.max) return true;
    this.over += 1;
    return false;
  }

  /** Events refused so far (for reports). */
  get refused(): number {
    return this.over;
  }
}
