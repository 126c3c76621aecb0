import type { Clock, TimerHandle } from './clock.js';
import { RateWindow } from './rate-window.js';

/**
 * Rate-limited warnings about what a peer sent. A hostile cloud may send a refused
 * message 200 times a second, within its message budget; one log line each would fill
 * an SD card's journal. Each kind of line (its `key`) gets `max` lines per window;
 * the rest are counted, and one line per kind says how many were not logged when the
 * window ends. Kinds are a small closed set (message kind × error code), so the map
 * of windows is bounded by the code, not by the peer.
 */
export interface LogBudgetOptions {
  max: number;
  windowMs: number;
  clock: Clock;
  /** Writes the summary of the lines left out of one window. */
  summary: (key: string, unlogged: number) => void;
}

export class LogBudget {
  private readonly windows = new Map<string, RateWindow>();
  private readonly unlogged = new Map<string, number>();
  private flushTimer: TimerHandle | undefined;

  constructor(private readonly options: LogBudgetOptions) {}

  /** True when a line of this kind may be written now; otherwise it is counted. */
  take(key: string): boolean {
    const { max, windowMs, clock } = this.options;
    let window = this.windows.get(key);
    if (!window) {
      window = new RateWindow(max, windowMs, () => clock.now());
      this.windows.set(key, window);
    }
    if (window.take()) return true;
    this.unlogged.set(key, (this.unlogged.get(key) ?? 0) + 1);
    this.flushTimer ??= clock.setTimeout(() => this.flush(), windowMs);
    return false;
  }

  /** Writes the pending summaries (also at stop, so no count is lost). */
  flush(): void {
    this.options.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const [key, n] of this.unlogged) this.options.summary(key, n);
    this.unlogged.clear();
  }
}
