import type { Frame } from '../shared/audio-format.js';

/** One wake-word detection. */
export interface Detection {
  /** The configured keyword name, e.g. `alexa`. */
  keyword: string;
  /** The engine's score for the firing frame (0..1). */
  score: number;
  /** Index of the frame on which the detector fired. */
  frameIndex: number;
}

/**
 * A wake-word engine: frames in, detections out. Frames are fed strictly in order, one
 * at a time (the caller awaits each `process` before the next), always FRAME_SAMPLES long.
 * An engine that needs another chunk size adapts inside itself.
 */
export interface WakeDetector {
  /** The engine's name for logs and doctor (`openwakeword`, `porcupine`). */
  readonly engine: string;
  /** The keyword names this detector can report. */
  readonly keywords: readonly string[];
  /** Load models / create sessions. Throws an EarshotError with a clear message. */
  start(): Promise<void>;
  /** Score one frame; returns the detections that fired on it (usually none). */
  process(frame: Frame): Promise<Detection[]>;
  /**
   * Forget the audio context (after a mute, a gap in capture, or a detection), so stale
   * audio can not fire later. A warm-up follows, during which nothing fires.
   */
  reset(): void;
  /**
   * Listen for the keyword (or set of keywords) of this name from now on, without a
   * restart; resolves once it listens. Only engines that can switch at run time have it.
   */
  selectKeyword?(name: string): Promise<void>;
  /** Release sessions and native memory. */
  stop(): Promise<void>;
}
