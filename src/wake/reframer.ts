/**
 * Cuts a stream of frames of one size into chunks of another, carrying the remainder from
 * frame to frame: 1280-sample capture frames into Porcupine's 512-sample chunks, where
 * two frames make five chunks. The chunk buffer is reused, so a consumer must use each
 * chunk before asking for the next.
 */
export class Reframer {
  private readonly chunk: Int16Array;
  private filled = 0;

  constructor(readonly chunkSize: number) {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
      throw new RangeError('chunk size must be a positive integer');
    }
    this.chunk = new Int16Array(chunkSize);
  }

  /** Samples carried over, waiting for the rest of their chunk. */
  get pending(): number {
    return this.filled;
  }

  /**
   * Adds `samples` and calls `onChunk` for every chunk completed by them, in order. The
   * chunk passed is only valid during the call.
   */
  push(samples: Int16Array, onChunk: (chunk: Int16Array) => void): void {
    let at = 0;
    while (at < samples.length) {
      const take = Math.min(this.chunkSize - this.filled, samples.length - at);
      this.chunk.set(samples.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.chunkSize) {
        this.filled = 0;
        onChunk(this.chunk);
      }
    }
  }

  /** Drops the carried samples (after a gap in the audio). */
  clear(): void {
    this.filled = 0;
  }
}
