import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, writeSync } from 'node:fs';
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

/**
 * A sound card that plays at real time: an ALSA file PCM whose output file is a FIFO the
 * test drains at `bytesPerSecond` (16 kHz s16le mono: 32 000). The real `aplay` writes
 * into it and blocks when the pipe is full, exactly as on a card that plays no faster
 * than real time, so its stdin fills and the daemon's backpressure is the real one.
 * While `stalled`, nothing is drained (a card that stopped consuming).
 */
export class PacedFifoSpeaker {
  readonly fifo: string;
  /** Bytes the "card" has played. */
  played = 0;
  stalled = false;
  private readonly fd: number;
  private readonly timer: NodeJS.Timeout;
  private readonly buf = Buffer.alloc(65_536);

  constructor(dir: string, bytesPerSecond = 32_000) {
    this.fifo = join(dir, 'speaker.fifo');
    execFileSync('mkfifo', [this.fifo]);
    // Read-write, non-blocking: aplay's open never waits for a reader, reads never block.
    this.fd = openSync(this.fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const perTick = Math.round(bytesPerSecond / 8);
    this.timer = setInterval(() => {
      if (!this.stalled) this.drain(perTick);
    }, 125);
  }

  close(): void {
    clearInterval(this.timer);
    closeSync(this.fd);
  }

  private drain(n: number): void {
    try {
      this.played += readSync(this.fd, this.buf, 0, Math.min(n, this.buf.length), null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}
