import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { alsaFileConfig } from './alsa.js';

/**
 * A microphone that talks at real time: an ALSA file PCM whose `infile` is a FIFO fed
 * with a recording in arecord's own period size (4000 bytes every 125 ms), looped. The
 * real `arecord` then delivers audio paced like a sound card would.
 */
export class PacedFifoMic {
  readonly config: string;
  private timer: NodeJS.Timeout | undefined;
  private fd: number | undefined;
  private offset = 0;
  private readonly pcm: Buffer;

  constructor(dir: string, wav: string) {
    const fifo = join(dir, 'mic.fifo');
    const raw = join(dir, 'mic.raw');
    execFileSync('mkfifo', [fifo]);
    execFileSync('sox', [wav, '-t', 'raw', raw]);
    this.pcm = readFileSync(raw);
    this.config = alsaFileConfig(dir, { infile: fifo });
    this.fifo = fifo;
  }

  private readonly fifo: string;

  /** Starts feeding; opening the FIFO for writing waits for arecord to open it (O_RDWR avoids that). */
  start(): void {
    this.fd = openSync(this.fifo, 'r+');
    this.timer = setInterval(() => this.feed(), 125);
  }

  private feed(): void {
    if (this.fd === undefined) return;
    const chunk = Buffer.alloc(4000);
    for (let i = 0; i < chunk.length; i++) {
      chunk[i] = this.pcm[this.offset]!;
      this.offset = (this.offset + 1) % this.pcm.length;
    }
    try {
      writeSync(this.fd, chunk);
    } catch {
      // arecord is not reading (muted): the FIFO is full; the sound goes unheard.
    }
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
