import { spawn, type ChildProcess } from 'node:child_process';
import type { PcmFormat } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { AudioSink } from './sink.js';

/**
 * Plays through `aplay` (alsa-utils): a process per sound, raw PCM on its stdin. No
 * native module, so it works everywhere ALSA does and is the fallback for `speaker`.
 */
export class AplaySink implements AudioSink {
  readonly kind = 'aplay';
  private proc: ChildProcess | undefined;
  private closed: Promise<number | null> | undefined;
  private stderr = '';

  constructor(private readonly device: string) {}

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
    this.proc = undefined;
    if (proc && proc.exitCode === null) proc.kill('SIGTERM');
  }
}
