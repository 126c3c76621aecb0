import type { Clock, TimerHandle } from '../shared/clock.js';

/**
 * Detects a half-open connection. TCP alone can take many minutes to notice a cloud
 * that vanished (a NAT that forgot us, a server that hung): the socket stays "open"
 * and uploads disappear into the kernel buffer. So every `intervalMs` we send a
 * WebSocket ping and expect any pong within `timeoutMs`; a missing pong ends the
 * connection (the caller terminates it and reconnects).
 *
 * The ping travels in the same queue as audio: a cloud that stopped reading is
 * detected the same way as one that vanished.
 */
export interface HeartbeatOptions {
  clock: Clock;
  intervalMs: number;
  timeoutMs: number;
  /** Sends one ping; returns false when it could not be sent. */
  ping: () => boolean;
  /** Called once when a pong is overdue. */
  onTimeout: (cause: string) => void;
}

export class Heartbeat {
  private intervalTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly options: HeartbeatOptions) {
    if (options.intervalMs <= 0 || options.timeoutMs <= 0) {
      throw new RangeError('heartbeat: intervalMs and timeoutMs must be > 0');
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
    this.options.clock.clearTimeout(this.intervalTimer);
    this.options.clock.clearTimeout(this.deadlineTimer);
    this.intervalTimer = undefined;
    this.deadlineTimer = undefined;
  }

  /** A pong arrived: the connection is alive. */
  pong(): void {
    if (!this.running || !this.deadlineTimer) return;
    this.options.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.scheduleNext();
  }

  /** True while a ping waits for its pong. */
  get awaitingPong(): boolean {
    return this.deadlineTimer !== undefined;
  }

  private scheduleNext(): void {
    const { clock, intervalMs } = this.options;
    this.intervalTimer = clock.setTimeout(() => {
      this.intervalTimer = undefined;
      this.beat();
    }, intervalMs);
  }

  private beat(): void {
    if (!this.running) return;
    const { clock, timeoutMs } = this.options;
    // Start the deadline before sending: a ping that cannot even be queued counts as lost.
    this.deadlineTimer = clock.setTimeout(() => {
      this.deadlineTimer = undefined;
      if (!this.running) return;
      this.running = false;
      this.options.onTimeout(`heartbeat timeout: no pong within ${timeoutMs} ms`);
    }, timeoutMs);
    this.options.ping();
  }
}
