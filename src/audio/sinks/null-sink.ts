import type { PcmFormat } from '../../shared/audio-format.js';
import type { AudioSink } from './sink.js';

/** Discards audio but counts it: for headless runs and tests. */
export class NullSink implements AudioSink {
  readonly kind = 'null';
  bytes = 0;
  sounds = 0;

  async open(_format: PcmFormat): Promise<void> {
    this.sounds += 1;
  }

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
  }

  readonly buffered = 0;

  async drained(): Promise<void> {}

  async end(): Promise<void> {}

  abort(): void {}

  async close(): Promise<void> {}
}
