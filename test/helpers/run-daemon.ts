import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { alsaFileConfig } from './alsa.js';
import { cliPath, repoRoot } from './paths.js';
import { cleanEnv } from './run-cli.js';

/**
 * A microphone the test speaks into at real time: a FIFO that an ALSA file PCM uses as
 * its infile, so the daemon's real `arecord` blocks on it like on a sound card and gets
 * 4000 bytes (125 ms of 16 kHz s16le mono) every 125 ms. Queued recordings play first,
 * then `filler` loops (background noise), so frames keep flowing. The test keeps the
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

export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** `earshot run` as a child process; its stderr parsed as one JSON log object per line. */
export class Daemon {
  readonly logs: LogLine[] = [];
  /** stderr lines that were not JSON (there should be none). */
  readonly nonJson: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [cliPath, 'run', ...args], {
      cwd: repoRoot,
      env: cleanEnv(env),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.nonJson.push(line);
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** The daemon's log, for failure messages. */
  get logText(): string {
    return [...this.logs.map((l) => JSON.stringify(l)), ...this.nonJson].join('\n');
  }

  /** Waits for a log line (already written or still to come) that matches. */
  async waitForLog(
    match: (l: LogLine) => boolean,
    what: string,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<LogLine> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const found = this.logs.slice(options.from ?? 0).find(match);
      if (found) return found;
      if (!this.running) throw new Error(`daemon exited before logging ${what}:\n${this.logText}`);
      if (Date.now() > deadline) throw new Error(`no log line ${what}:\n${this.logText}`);
      await sleep(25);
    }
  }

  /** Sends SIGKILL if it is still running (test clean-up). */
  async dispose(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** The live (not zombie) child processes of `pid` named `comm`, from /proc. */
export function childrenOf(pid: number, comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid …; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (name === comm && Number(ppid) === pid && state !== 'Z') out.push(Number(entry));
  }
  return out;
}

/** True when the process no longer runs (gone, or a zombie waiting to be reaped). */
export function processGone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true;
  try {
    return /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value, or throws after `timeoutMs`. */
export async function until<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
