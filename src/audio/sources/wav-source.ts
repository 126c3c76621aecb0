import { FRAME_MS, FRAME_SAMPLES, type Frame } from '../../shared/audio-format.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import type { FrameSink, FrameSource, FrameSourceEvents } from './source.js';

export interface WavSourceOptions {
  /** 16 kHz mono samples (see readCaptureWav). */
  samples: Int16Array;
  /** `fast`: as fast as the consumer takes frames, losing none; `realtime`: one frame per 80 ms. */
  pace: 'fast' | 'realtime';
  /**
   * Called for each frame of the recording that passes while capture is closed (muted):
   * the recording is the world around the microphone and goes on; the closed microphone
   * simply hears none of it. `simulate` uses this to keep its clock moving.
   */
  onUnheard?: (frameIndex: number) => void;
  /** Timer functions for real-time pacing; injectable so the schedule can be tested. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * A recording as the microphone: the same frames the capture loop would see. The
 * last partial frame is padded with zeros. In real time it schedules each frame at
 * start + (index + 1) × 80 ms (when its 80 ms have been "recorded"), never "80 ms after
 * the previous one", so timer lateness does not accumulate into drift.
 */
export class WavSource extends TypedEmitter<FrameSourceEvents> implements FrameSource {
  readonly kind = 'wav';
  readonly pid = undefined;
  private sink: FrameSink | undefined;
  private playing = false;
  private halted = false;
  private timer: unknown;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: WavSourceOptions) {
    super();
    this.now = options.now ?? (() => performance.now());
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  get frameCount(): number {
    return Math.ceil(this.options.samples.length / FRAME_SAMPLES);
  }

  frameAt(index: number): Frame {
    const all = this.options.samples;
    const from = index * FRAME_SAMPLES;
    const samples = new Int16Array(FRAME_SAMPLES);
    samples.set(all.subarray(from, Math.min(from + FRAME_SAMPLES, all.length)));
    return { index, samples };
  }

  /** Opens the "microphone"; the recording starts playing on the first open. */
  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    this.emit('status', { running: true });
    if (this.playing || this.halted) return;
    this.playing = true;
    if (this.options.pace === 'fast') void this.runFast();
    else this.runPaced();
  }

  /** Closes the "microphone": frames from now on are not heard. */
  async stop(): Promise<void> {
    if (!this.sink) return;
    this.sink = undefined;
    this.emit('status', { running: false, cause: 'stopped' });
  }

  /** Stops the recording itself. */
  async dispose(): Promise<void> {
    this.halted = true;
    this.sink = undefined;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }

  private deliver(frame: Frame): void {
    if (this.sink) this.sink.push(frame);
    else this.options.onUnheard?.(frame.index);
  }

  private async runFast(): Promise<void> {
    for (let i = 0; i < this.frameCount && !this.halted; i++) {
      if (this.sink) await this.sink.whenWritable();
      if (this.halted) return;
      this.deliver(this.frameAt(i));
    }
    this.finish();
  }

  private runPaced(): void {
    const t0 = this.now();
    let i = 0;
    const tick = (): void => {
      this.timer = undefined;
      if (this.halted) return;
      while (i < this.frameCount && this.now() - t0 >= (i + 1) * FRAME_MS) {
        this.deliver(this.frameAt(i));
        i += 1;
      }
      if (i >= this.frameCount) {
        this.finish();
        return;
      }
      this.timer = this.setTimer(tick, Math.max(0, t0 + (i + 1) * FRAME_MS - this.now()));
    };
    this.timer = this.setTimer(tick, FRAME_MS);
  }

  private finish(): void {
    if (this.halted) return;
    this.halted = true;
    this.sink = undefined;
    this.emit('end');
    this.emit('status', { running: false, cause: 'end of recording' });
  }
}
