import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cliPath, repoRoot } from './paths.js';
import { cleanEnv } from './run-cli.js';

// The real-time FIFO microphone is the benchmark's too (`npm run bench:daemon`).
export { FifoMic } from '../../src/bench/fifo-mic.js';

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
