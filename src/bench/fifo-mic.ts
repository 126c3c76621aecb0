import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An ALSA configuration that turns files into the default sound device, so the real
 * `arecord` and `aplay` run on a machine without a sound card. Point ALSA_CONFIG_PATH at
 * the returned file; it replaces the system configuration, so it defines everything it
 * uses. Capture reads `infile` (raw s16le) as fast as it can and, past its end, repeats
 * stale data; a FIFO as the infile paces it (`FifoMic`).
 */
export function alsaFileConfig(dir: string, opts: { infile?: string; outfile?: string }): string {
  const file = join(dir, 'asound.conf');
  const lines = [
    'pcm.!default {',
    '  type file',
    '  slave.pcm { type null }',
    `  file "${opts.outfile ?? '/dev/null'}"`,
    ...(opts.infile ? [`  infile "${opts.infile}"`] : []),
    '  format "raw"',
    '}',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * A microphone that speaks a recording at real time, then silence: a FIFO that an ALSA
 * file PCM reads as its infile, so the daemon's real `arecord` blocks on it as on a sound
 * card. 4000 bytes (125 ms of 16 kHz s16le mono) go in when their time has come, counted
 * from `start()`, so timer lateness does not add up. The FIFO is held open read-write: an
 * arecord that has not opened it yet, or has closed it (muted), never makes the writer
 * block, and what does not fit in the pipe is dropped, as a real microphone's sound is.
 */
export class FifoMic {
  static readonly CHUNK = 4000;
  static readonly CHUNK_MS = 125;
  /** Point ALSA_CONFIG_PATH here. */
  readonly alsaConfig: string;
  private readonly fd: number;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private sent = 0;
  /** Bytes dropped because nobody was reading. */
  dropped = 0;

  constructor(
    dir: string,
    private readonly pcm: Buffer,
  ) {
    const fifo = join(dir, 'mic.fifo');
    execFileSync('mkfifo', [fifo]);
    this.fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    this.alsaConfig = alsaFileConfig(dir, { infile: fifo });
  }

  /** Seconds of the recording (the silence after it is not counted). */
  get seconds(): number {
    return this.pcm.length / 32_000;
  }

  start(): void {
    this.t0 = Date.now();
    this.sent = 0;
    this.timer = setInterval(() => this.tick(), 25);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    closeSync(this.fd);
  }

  private tick(): void {
    const due = Math.floor((Date.now() - this.t0) / FifoMic.CHUNK_MS) + 1;
    for (; this.sent < due; this.sent++) {
      const from = this.sent * FifoMic.CHUNK;
      const chunk = Buffer.alloc(FifoMic.CHUNK);
      if (from < this.pcm.length) this.pcm.copy(chunk, 0, from);
      try {
        // Less than PIPE_BUF (4096): all or nothing.
        writeSync(this.fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        this.dropped += chunk.length;
      }
    }
  }
}
