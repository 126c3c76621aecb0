import type { Frame } from '../../shared/audio-format.js';

/** Where a source puts its frames: the loop's bounded FrameQueue. */
export interface FrameSink {
  /** Never waits; a full queue drops its oldest frame and counts it. */
  push(frame: Frame): boolean;
  /** Resolves when there is room; only sources that may wait (files) use it. */
  whenWritable(): Promise<void>;
}

export interface SourceStatus {
  running: boolean;
  /** Why the source is not running, e.g. `arecord exited with code 1`. */
  cause?: string;
}

export type FrameSourceEvents = {
  status: [SourceStatus];
  /** The source has no more audio (end of a file). */
  end: [];
};

/** A microphone or a recording, delivering fixed frames into a sink. */
export interface FrameSource {
  readonly kind: string;
  start(sink: FrameSink): Promise<void>;
  stop(): Promise<void>;
  on<K extends keyof FrameSourceEvents>(
    event: K,
    listener: (...args: FrameSourceEvents[K]) => void,
  ): unknown;
  /** Releases the source for good (a recording stops playing). */
  dispose?(): Promise<void>;
  /** The capture process id while one runs (privacy tests check it is gone when muted). */
  readonly pid?: number | undefined;
}
