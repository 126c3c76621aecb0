import type { Frame } from '../shared/audio-format.js';

/**
 * A fixed-capacity ring of the most recent frames: the pre-roll. It never grows;
 * pushing into a full ring overwrites the oldest frame. The capacity is set once from
 * the configured pre-roll, which the config schema caps at 2 s (privacy invariant P3),
 * so no code path can hand out more than that.
 */
export class FrameRing {
  private readonly slots: (Frame | undefined)[];
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`ring capacity must be a whole number >= 0, got ${capacity}`);
    }
    this.slots = new Array<Frame | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(frame: Frame): void {
    if (this.capacity === 0) return;
    if (this.size < this.capacity) {
      this.slots[(this.start + this.size) % this.capacity] = frame;
      this.size += 1;
    } else {
      this.slots[this.start] = frame;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The buffered frames, oldest first (at most `capacity`). */
  frames(): Frame[] {
    const out: Frame[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.slots[(this.start + i) % this.capacity]!);
    return out;
  }

  /** Empties the ring, e.g. on mute, so audio from before a mute is never sent. */
  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.size = 0;
  }
}
