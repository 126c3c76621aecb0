import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import recorder from 'node-record-lpcm16';
import { SAMPLE_RATE } from '../../shared/audio-format.js';
import { Backoff } from '../../shared/backoff.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { Framer } from '../framer.js';
import type { FrameSink, FrameSource, FrameSourceEvents } from './source.js';

export interface MicSourceOptions {
  /** ALSA capture device for arecord. */
  device: string;
  restart: { initialMs: number; maxMs: number };
  /** A capture that ran this long counts as healthy: the restart backoff starts over. */
  healthyAfterMs?: number;
  clock: Clock;
  log: Logger;
  random?: () => number;
}

interface Recording {
  process: ChildProcess;
  stream(): Readable;
  stop(): void;
}

/**
 * The microphone: `arecord` through node-record-lpcm16, raw s16le 16 kHz mono. If
 * the process dies it is logged, reported (status) and restarted with exponential
 * backoff and jitter. `stop()` kills arecord; arecord then exits non-zero and the
 * library reports an error — that is our own stop, not a failure, and is ignored.
 */
export class MicSource extends TypedEmitter<FrameSourceEvents> implements FrameSource {
  readonly kind = 'arecord';
  private recording: Recording | undefined;
  private sink: FrameSink | undefined;
  private readonly framer = new Framer();
  private readonly backoff: Backoff;
  private restartTimer: TimerHandle | undefined;
  private healthyTimer: TimerHandle | undefined;
  private wanted = false;
  private restarts = 0;

  constructor(private readonly options: MicSourceOptions) {
    super();
    this.backoff = new Backoff({ ...options.restart, random: options.random });
  }

  get pid(): number | undefined {
    return this.recording?.process.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    this.wanted = true;
    this.backoff.reset();
    this.spawn();
  }

  async stop(): Promise<void> {
    this.wanted = false;
    this.options.clock.clearTimeout(this.restartTimer);
    this.options.clock.clearTimeout(this.healthyTimer);
    this.restartTimer = undefined;
    const rec = this.recording;
    this.recording = undefined;
    if (!rec) return;
    const proc = rec.process;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
      rec.stop();
      // arecord exits within milliseconds of SIGTERM; SIGKILL if it does not.
      const killer = setTimeout(() => proc.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
    }
    this.emit('status', { running: false, cause: 'stopped' });
  }

  private spawn(): void {
    if (!this.wanted) return;
    const { log } = this.options;
    let rec: Recording;
    try {
      rec = recorder.record({
        recorder: 'arecord',
        device: this.options.device,
        sampleRate: SAMPLE_RATE,
        channels: 1,
        audioType: 'raw',
      }) as unknown as Recording;
    } catch (err) {
      this.onExit(`cannot start arecord: ${(err as Error).message}`);
      return;
    }
    this.recording = rec;
    this.framer.reset();
    const stream = rec.stream();
    let stderr = '';
    rec.process.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 2000) stderr += chunk.toString();
    });
    stream.on('data', (chunk: Buffer) => {
      const sink = this.sink;
      if (!sink || this.recording !== rec) return;
      this.framer.write(chunk, (frame) => sink.push(frame));
    });
    // The library turns every non-zero exit into a stream error; the exit itself is
    // handled on 'close' below, where we know whether we asked for it.
    stream.on('error', () => undefined);
    rec.process.on('error', (err) => log.warn({ err: err.message }, 'arecord failed to start'));
    rec.process.once('close', (code, signal) => {
      if (this.recording !== rec) return; // our own stop
      this.recording = undefined;
      // ALSA says what is wrong on one line and arecord what failed on the next.
      const why = stderr.trim().split('\n').slice(-2).join(' / ');
      this.onExit(
        `arecord exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`.slice(0, 300),
      );
    });
    log.info({ device: this.options.device, pid: rec.process.pid }, 'capture started');
    this.emit('status', { running: true });
    this.options.clock.clearTimeout(this.healthyTimer);
    this.healthyTimer = this.options.clock.setTimeout(
      () => this.backoff.reset(),
      this.options.healthyAfterMs ?? 10_000,
    );
  }

  private onExit(cause: string): void {
    this.options.clock.clearTimeout(this.healthyTimer);
    if (!this.wanted) return;
    const delay = this.backoff.next();
    this.restarts += 1;
    this.options.log.error({ cause, restartInMs: delay }, 'capture stopped unexpectedly');
    this.emit('status', { running: false, cause });
    this.restartTimer = this.options.clock.setTimeout(() => {
      this.restartTimer = undefined;
      this.spawn();
    }, delay);
  }
}
