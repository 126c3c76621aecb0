/**
 * The one audio format of the capture loop: 16 kHz, signed 16-bit little-endian, mono,
 * in fixed frames of 80 ms (1280 samples), the natural chunk of the openWakeWord models.
 * Every part that handles microphone audio uses these constants; nothing re-frames it
 * except an engine that needs another size internally (Porcupine: 512 samples).
 */
export const SAMPLE_RATE = 16_000;
export const CHANNELS = 1;
export const BITS_PER_SAMPLE = 16;
export const BYTES_PER_SAMPLE = 2;
export const FRAME_SAMPLES = 1280;
export const FRAME_BYTES = FRAME_SAMPLES * BYTES_PER_SAMPLE;
export const FRAME_MS = (FRAME_SAMPLES / SAMPLE_RATE) * 1000;
export const FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE;

/** One fixed-size frame of microphone audio. */
export interface Frame {
  /** Position of this frame on the source's own time line (0, 1, 2 …). */
  readonly index: number;
  /** Exactly FRAME_SAMPLES samples. */
  readonly samples: Int16Array;
}

/** Start time of a frame, in seconds of the source's time line. */
export function frameStartSeconds(index: number): number {
  return index * FRAME_SECONDS;
}

export function framesForMs(ms: number): number {
  return Math.ceil(ms / FRAME_MS);
}

/** The bytes of a frame as s16le, sharing the frame's memory. */
export function frameBytes(frame: Frame): Buffer {
  const s = frame.samples;
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength);
}

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

export const CAPTURE_FORMAT: PcmFormat = {
  sampleRate: SAMPLE_RATE,
  channels: CHANNELS,
  bitsPerSample: BITS_PER_SAMPLE,
};
