/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
 * and Jitter"): the delay is uniform in [0, min(cap, base * 2^attempt)]. Full jitter
 * spreads a fleet of speakers that lost the same cloud, so they do not reconnect in
 * lock step. Never a fixed interval.
 */
export interface BackoffOptions {
  /** First ceiling, in ms. */
  initialMs: number;
  /** Largest ceiling, in ms. */
  maxMs: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    if (options.initialMs <= 0 || options.maxMs < options.initialMs) {
      throw new RangeError('backoff: need 0 < initialMs <= maxMs');
    }
    this.random = options.random ?? Math.random;
  }

  /** The ceiling for the current attempt (without jitter). */
  ceiling(): number {
    const exp = this.options.initialMs * 2 ** Math.min(this.attempt, 30);
    return Math.min(this.options.maxMs, exp);
  }

  /** The delay before the next attempt; advances the attempt counter. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    this.attempt += 1;
    return delay;
  }

  /** Called after a success: the next failure starts from the smallest delay again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
