import type { PcmFormat } from '../../shared/audio-format.js';

/**
 * Where reply audio and earcons are played: one open() … write()* … end() per sound.
 * `write` never blocks the caller; what the device has not taken yet is `buffered`, and
 * the Player keeps that bounded (it pauses the cloud, then refuses the reply).
 */
export interface AudioSink {
  readonly kind: string;
  open(format: PcmFormat): Promise<void>;
  write(chunk: Buffer): void;
  /** Bytes written that the device has not taken yet (0 when the sink cannot tell). */
  readonly buffered: number;
  /** Resolves once `buffered` has gone down (or the sound is over). */
  drained(): Promise<void>;
  /** Resolves when the sound has been handed to the device / file completely. */
  end(): Promise<void>;
  /** Stops at once (barge-in, mute); pending audio is discarded. */
  abort(): void;
  /** Stops and resolves once nothing of the sink is left running (its process has exited). */
  close(): Promise<void>;
}
