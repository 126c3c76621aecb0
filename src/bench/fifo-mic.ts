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
 * A microphone spoken into at real time: a FIFO that an ALSA file PCM uses as
 * its infile, so the daemon's real `arecord` blocks on it like on a sound card and gets
 * 4000 bytes (125 ms of 16 kHz s16le mono) every 125 ms. Queued recordings play first,
 * then `filler` loops (background noise, or silence), so frames keep flowing. It keeps the
 * FIFO open read-write: arecord never sees end-of-file (past which a file PCM repeats
 * stale data), and a restarted arecord finds the same stream. While nobody reads, writes
 * that do not fit in the pipe are dropped, as a real microphone's sound is.
 */
export class FifoMic {
  static readonly CHUNK = 4000;
  static readonly CHUNK_MS = 125;
  readonly fifo: string;
  /** Point ALSA_CONFIG_PATH here. */
  readonly alsaConfig: string;
  private readonly fd: number;
  private readonly queue: Buffer[] = [];
  private fillerOffset = 0;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private sent = 0;
  private paused = false;
  /** Bytes written into the pipe and bytes dropped because it was full. */
  written = 0;
  dropped = 0;

  constructor(
    dir: string,
    private readonly filler: Buffer,
  ) {
    this.fifo = join(dir, 'mic.fifo');
    execFileSync('mkfifo', [this.fifo]);
    this.fd = openSync(this.fifo, constants.O_RDWR | constants.O_NONBLOCK);
    this.alsaConfig = alsaFileConfig(dir, { infile: this.fifo });
  }

  /** Starts the real-time feed (filler until something is played). */
  start(): void {
    this.t0 = Date.now();
    this.sent = 0;
    this.timer = setInterval(() => this.tick(), 25);
  }

  /** Queues a recording (raw s16le 16 kHz mono) to be spoken next. */
  play(raw: Buffer): void {
    this.queue.push(raw);
  }

  /** True once every queued recording has gone into the pipe. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Silence on the wire: nothing at all is written (a stalled sound card). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.t0 = Date.now();
    this.sent = 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    closeSync(this.fd);
  }

  private tick(): void {
    if (this.paused) return;
    const due = Math.floor((Date.now() - this.t0) / FifoMic.CHUNK_MS) + 1;
    for (; this.sent < due; this.sent++) this.write(this.nextChunk());
  }

  private nextChunk(): Buffer {
    const out = Buffer.alloc(FifoMic.CHUNK);
    let filled = 0;
    while (filled < out.length) {
      const head = this.queue[0];
      if (head) {
        const n = head.copy(out, filled);
        filled += n;
        if (n === head.length) this.queue.shift();
        else this.queue[0] = head.subarray(n);
      } else {
        const n = this.filler.copy(out, filled, this.fillerOffset);
        filled += n;
        this.fillerOffset = (this.fillerOffset + n) % this.filler.length;
      }
    }
    return out;
  }

  private write(chunk: Buffer): void {
    try {
      // Less than PIPE_BUF (4096): all or nothing.
      this.written += writeSync(this.fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      this.dropped += chunk.length;
    }
  }
}
