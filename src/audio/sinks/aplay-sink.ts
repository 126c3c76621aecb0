import { spawn, type ChildProcess } from 'node:child_process';
import type { PcmFormat } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { AudioSink } from './sink.js';

/** How long aplay may take to exit after its input closed and SIGTERM, before SIGKILL. */
const KILL_GRACE_MS = 500;

/**
 * Plays through `aplay` (alsa-utils): a process per sound, raw PCM on its stdin. No
 * native module, so it works everywhere ALSA does and is the fallback for `speaker`.
 *
 * Stopping a sound closes aplay's stdin and sends SIGTERM: alsa-utils' aplay only aborts
 * the PCM on SIGTERM and would go on waiting for input on an open pipe. A process still
 * there after a short grace is killed: no aplay outlives a stop, a mute or shutdown.
 */
export class AplaySink implements AudioSink {
  readonly kind = 'aplay';
  private proc: ChildProcess | undefined;
  private closed: Promise<number | null> | undefined;
  private stderr = '';
  /** Processes stopped but not yet exited. */
  private readonly dying = new Set<Promise<void>>();

  constructor(private readonly device: string) {}

  get buffered(): number {
    return this.proc?.stdin?.writableLength ?? 0;
  }

  async open(format: PcmFormat): Promise<void> {
    this.abort();
    const args = ['-q', '-D', this.device, '-t', 'raw', '-f', `S${format.bitsPerSample}_LE`];
    args.push('-r', String(format.sampleRate), '-c', String(format.channels), '-');
    const proc = spawn('aplay', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.proc = proc;
    this.stderr = '';
    proc.stderr?.on('data', (c: Buffer) => {
      if (this.stderr.length < 2000) this.stderr += c.toString();
    });
    // A broken pipe after aplay failed is reported by end(), not thrown here.
    proc.stdin?.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      proc.once('error', () => resolve(-1));
      proc.once('close', (code) => resolve(code));
    });
  }

  write(chunk: Buffer): void {
    const stdin = this.proc?.stdin;
    if (stdin && !stdin.destroyed) stdin.write(chunk);
  }

  drained(): Promise<void> {
    const stdin = this.proc?.stdin;
    if (!stdin || stdin.destroyed || stdin.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
    });
  }

  async end(): Promise<void> {
    const proc = this.proc;
    const closed = this.closed;
    if (!proc || !closed) return;
    proc.stdin?.end();
    const code = await closed;
    if (this.proc === proc) this.proc = undefined;
    if (code !== 0) {
      throw new EarshotError(
        'E_PLAYBACK',
        `aplay failed (exit ${code}): ${this.stderr.trim().split('\n').pop() ?? ''}`,
        { hint: 'check audio.playback.device (aplay -L lists devices)' },
      );
    }
  }

  abort(): void {
    const proc = this.proc;
    const closed = this.closed;
    this.proc = undefined;
    this.closed = undefined;
    if (!proc || !closed || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.stdin?.destroy();
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), KILL_GRACE_MS);
    killer.unref();
    const gone = closed.then(() => {
      clearTimeout(killer);
      this.dying.delete(gone);
    });
    this.dying.add(gone);
  }

  async close(): Promise<void> {
    this.abort();
    await Promise.all(this.dying);
  }
}
