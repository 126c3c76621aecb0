import { FRAME_BYTES, FRAME_SAMPLES, type Frame } from '../shared/audio-format.js';

/**
 * Cuts a byte stream of s16le PCM (arbitrary chunk sizes, as a pipe delivers them)
 * into fixed frames. It keeps at most one partial frame, so its memory is bounded.
 */
export class Framer {
  private readonly pending = Buffer.alloc(FRAME_BYTES);
  private pendingBytes = 0;
  private nextIndex: number;

  constructor(firstIndex = 0) {
    this.nextIndex = firstIndex;
  }

  /** Feeds bytes; calls `emit` for every complete frame. */
  write(chunk: Buffer, emit: (frame: Frame) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(FRAME_BYTES - this.pendingBytes, chunk.length - offset);
      chunk.copy(this.pending, this.pendingBytes, offset, offset + take);
      this.pendingBytes += take;
      offset += take;
      if (this.pendingBytes === FRAME_BYTES) {
        // Each frame owns its samples: frames outlive this call (ring buffer, uploads).
        const samples = new Int16Array(FRAME_SAMPLES);
        for (let i = 0; i < FRAME_SAMPLES; i++) samples[i] = this.pending.readInt16LE(i * 2);
        emit({ index: this.nextIndex++, samples });
        this.pendingBytes = 0;
      }
    }
  }

  /** Drops a partial frame (after a capture restart the stream is discontinuous). */
  reset(): void {
    this.pendingBytes = 0;
  }

  get index(): number {
    return this.nextIndex;
  }

  /** Continue numbering from here (a restarted capture keeps the time line monotonic). */
  set index(value: number) {
    this.nextIndex = value;
  }
}
