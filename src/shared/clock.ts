/**
 * Time for every part that waits: LED patterns, VAD timeouts, reply deadlines. The
 * daemon uses the wall clock; `earshot simulate` without `--realtime` uses a virtual
 * clock that advances with the audio (80 ms per frame), so its event times are the
 * WAV's own time line and a run is deterministic however fast it goes.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds on this clock's time line. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;
  private readonly origin: number;

  constructor(origin = performance.now()) {
    this.origin = origin;
  }

  now(): number {
    return performance.now() - this.origin;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(
      () => {
        this.timers.delete(id);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.set(id, t);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearTimeout(t);
    this.timers.delete(handle.id);
  }
}

/** A clock that only moves when told to; timers fire in time order during `advanceTo`. */
export class ManualClock implements Clock {
  private current = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** Moves time forward to `ms`, firing due timers in order (timers may add timers). */
  advanceTo(ms: number): void {
    for (;;) {
      let dueId: number | undefined;
      let dueAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= ms && (t.at < dueAt || (t.at === dueAt && id < (dueId ?? Infinity)))) {
          dueAt = t.at;
          dueId = id;
        }
      }
      if (dueId === undefined) break;
      const timer = this.timers.get(dueId)!;
      this.timers.delete(dueId);
      this.current = Math.max(this.current, timer.at);
      timer.fn();
    }
    this.current = Math.max(this.current, ms);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  get pending(): number {
    return this.timers.size;
  }
}
