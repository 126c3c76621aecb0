import type { PcmFormat } from '../../shared/audio-format.js';

/**
 * Where reply audio and earcons are played: one open() … write()* … end() per sound.
 * `write` never blocks the caller; a sink buffers internally (bounded by the reply).
 */
export interface AudioSink {
  readonly kind: string;
  open(format: PcmFormat): Promise<void>;
  write(chunk: Buffer): void;
  /** Resolves when the sound has been handed to the device / file completely. */
  end(): Promise<void>;
  /** Stops at once (barge-in, mute); pending audio is discarded. */
  abort(): void;
}
