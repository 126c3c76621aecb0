import type { Frame } from '../shared/audio-format.js';

/**
 * The bounded hand-off between a frame source and the loop's consumer. A live source
 * (the microphone) must never wait: when the consumer falls behind, the oldest waiting
 * frame is dropped and counted. A file source that runs as fast as possible may instead
 * wait for room (`whenWritable`), so no frame of a fixture is ever lost.
 */
export class FrameQueue {
  private readonly items: Frame[] = [];
  private waiter: ((frame: Frame | null) => void) | undefined;
  private roomWaiters: Array<() => void> = [];
  private closed = false;
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be >= 1, got ${capacity}`);
    }
  }

  get length(): number {
    return this.items.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  /** Adds a frame; returns false when the queue was full and the oldest frame was dropped. */
  push(frame: Frame): boolean {
    if (this.closed) return false;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(frame);
      return true;
    }
    let kept = true;
    if (this.items.length >= this.capacity) {
      this.items.shift();
      this.droppedCount += 1;
      kept = false;
    }
    this.items.push(frame);
    return kept;
  }

  /** Resolves when there is room for another frame (for lossless file sources). */
  whenWritable(): Promise<void> {
    if (!this.full || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** The next frame, or null once the queue is closed and empty. */
  next(): Promise<Frame | null> {
    const frame = this.items.shift();
    if (frame) {
      this.releaseRoom();
      return Promise.resolve(frame);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Drops everything waiting (e.g. on mute) without counting it as an overflow. */
  clear(): void {
    this.items.length = 0;
    this.releaseRoom();
  }

  close(): void {
    this.closed = true;
    if (this.waiter && this.items.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w(null);
    }
    this.releaseRoom();
  }

  private releaseRoom(): void {
    if (this.roomWaiters.length === 0 || (this.full && !this.closed)) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }
}
