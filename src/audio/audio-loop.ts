import type { Frame } from '../shared/audio-format.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { FrameQueue } from './frame-queue.js';
import type { FrameSource, SourceStatus } from './sources/source.js';

export type FrameHandler = (frame: Frame) => Promise<void> | void;

export type AudioLoopEvents = {
  /**
   * The capture stopped (with the cause when it was not asked to), or delivers audio
   * again: `running` is reported on the first frame after a start, not when the process
   * starts, so a microphone that starts and dies at once is one failure, not a flapping
   * recovery.
   */
  capture: [SourceStatus & { requested: boolean }];
  /** Frames were dropped because the consumer fell behind (running total). */
  dropped: [number];
  /** The source ended (a recording) and every frame has been handled. */
  end: [];
};

export interface AudioLoopOptions {
  source: FrameSource;
  handler: FrameHandler;
  queueFrames: number;
  log: Logger;
}

/**
 * The real-time audio loop: a source pushes fixed frames into a bounded queue; one
 * consumer takes them in order and runs the handler (wake detector, uploader). The
 * source never waits for the consumer (a full queue drops the oldest frame and the
 * drop is counted and reported), and the consumer never waits for the network.
 */
export class AudioLoop extends TypedEmitter<AudioLoopEvents> {
  readonly name = 'audio';
  private readonly queue: FrameQueue;
  private consuming: Promise<void> | undefined;
  private capturing = false;
  private sourceEnded = false;
  private sourceUp = false;
  private frames = 0;
  private lastDropped = 0;
  /** A start was reported and its first frame has not come yet. */
  private starting = false;
  /** Our own stops not yet finished: the source saying it stopped is what was asked for. */
  private stopsUnderWay = 0;

  constructor(private readonly options: AudioLoopOptions) {
    super();
    this.queue = new FrameQueue(options.queueFrames);
    options.source.on('status', (status) => {
      if (this.sourceEnded) return; // the end of a recording is not a capture failure
      this.sourceUp = status.running;
      if (status.running) {
        this.starting = true;
        return;
      }
      this.starting = false;
      this.emit('capture', { ...status, requested: !this.capturing || this.stopsUnderWay > 0 });
    });
    options.source.on('end', () => {
      this.sourceEnded = true;
      this.queue.close();
    });
  }

  get source(): FrameSource {
    return this.options.source;
  }

  get framesHandled(): number {
    return this.frames;
  }

  get droppedFrames(): number {
    return this.queue.dropped;
  }

  get isCapturing(): boolean {
    return this.capturing;
  }

  /** False while the capture process is down and waiting to be restarted. */
  get sourceRunning(): boolean {
    return this.sourceUp;
  }

  /** Starts the consumer; capture is opened separately (it stays closed while muted). */
  async start(): Promise<void> {
    this.consuming ??= this.consume();
  }

  async openCapture(): Promise<void> {
    if (this.capturing || this.sourceEnded) return;
    this.capturing = true;
    await this.options.source.start(this.queue);
  }

  /** Stops the source and discards frames not yet handled: nothing captured before a mute is used after it. */
  async closeCapture(): Promise<void> {
    if (!this.capturing) return;
    this.capturing = false;
    this.queue.clear();
    // Until the source has stopped, its "stopped" is the one asked for, even when an
    // unmute has already opened the capture again.
    this.stopsUnderWay += 1;
    try {
      await this.options.source.stop();
    } finally {
      this.stopsUnderWay -= 1;
    }
  }

  async stop(): Promise<void> {
    await this.closeCapture();
    await this.options.source.dispose?.();
    this.queue.close();
    await this.consuming;
  }

  /** Resolves when a recording source has ended and all its frames were handled. */
  async finished(): Promise<void> {
    await this.consuming;
  }

  private async consume(): Promise<void> {
    for (;;) {
      const frame = await this.queue.next();
      if (!frame) break;
      if (this.starting) {
        this.starting = false;
        this.emit('capture', { running: true, requested: true });
      }
      try {
        await this.options.handler(frame);
      } catch (err) {
        // A failing frame must not stop the loop; the handler's part reports it.
        this.options.log.error({ err: (err as Error).message }, 'frame handler failed');
      }
      this.frames += 1;
      if (this.queue.dropped !== this.lastDropped) {
        this.lastDropped = this.queue.dropped;
        this.options.log.warn(
          { dropped: this.lastDropped },
          'audio frames dropped: consumer too slow',
        );
        this.emit('dropped', this.lastDropped);
      }
    }
    this.emit('end');
  }
}
