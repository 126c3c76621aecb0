import { constants } from 'node:fs';
import {
  access,
  chmod,
  mkdir,
  open,
  rename,
  stat,
  statfs,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { dirname } from 'node:path';
import { RealClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { GENESIS, LEDGER_VERSION, lineHash, type LedgerEntry, type NewEntry } from './entry.js';
import { headFile, rotatedName, scanTail } from './files.js';

export interface LedgerOptions {
  file: string;
  /** Rotate when the file passes this size; the chain continues in the next file. */
  maxBytes: number;
  log: Logger;
  /** Bound on entries waiting to be written; past it appends fail (no unbounded queue). */
  maxPending?: number;
  /** Times the recovery checks (default: real time). */
  clock?: Clock;
  /** While failed, how often the ledger checks whether it can be written again. */
  probeMs?: number;
}

export type LedgerEvents = {
  /** The ledger could not be written: uploads must stop (no upload without a record). */
  failed: [EarshotError];
  recovered: [];
  /** An entry is on disk: the new head of the chain (published as an anchor). */
  appended: [{ seq: number; hash: string }];
};

/**
 * The local, append-only record of every upload (privacy invariant P4). One JSON line
 * per entry; each carries the SHA-256 of the previous line, so an edited, removed,
 * reordered or inserted line breaks the chain (`earshot ledger verify`). Every append is
 * fsync'ed before it resolves. A torn last line (power cut mid-write) is reported when
 * the ledger opens, kept as it is, and the next entry starts on a clean line.
 */
export class Ledger extends TypedEmitter<LedgerEvents> {
  readonly name = 'ledger';
  private handle: FileHandle | undefined;
  private prev = GENESIS;
  private seq = 0;
  private size = 0;
  private pendingTorn = false;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private broken: EarshotError | undefined;
  private headWrite: Promise<void> = Promise.resolve();
  private readonly clock: Clock;
  private probeTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly options: LedgerOptions) {
    super();
    this.clock = options.clock ?? new RealClock();
  }

  /**
   * Opens the ledger as a part of the device. A ledger that cannot be opened does not
   * stop the device (MQTT, LEDs, the mute still work): it is reported as failed, uploads
   * stay stopped, and it recovers on its own once it can be written.
   */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.open();
    } catch (err) {
      this.fail(
        new EarshotError(
          'E_LEDGER_WRITE',
          `cannot open the ledger ${this.options.file}: ${errorMessage(err)}`,
          { cause: err, hint: 'free disk space or fix the state directory' },
        ),
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    await this.close();
  }

  get file(): string {
    return this.options.file;
  }

  get healthy(): boolean {
    return this.broken === undefined;
  }

  get lastSeq(): number {
    return this.seq;
  }

  async open(): Promise<void> {
    const { file, log } = this.options;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await mkdir(dirname(file), { recursive: true });
    const tail = await scanTail(file);
    this.prev = tail.lastHash ?? (await this.previousFileHash()) ?? GENESIS;
    this.seq = tail.lastSeq ?? (await this.previousFileSeq()) ?? 0;
    this.size = tail.size;
    if (tail.torn) {
      this.pendingTorn = true;
      log.error(
        { file, line: tail.lineCount, bytes: tail.tornBytes },
        'ledger: the last line is torn (the device lost power while writing it); kept as it is, the next entry starts a new line',
      );
    }
    this.handle = await open(
      file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
      0o600,
    );
  }

  /** Appends an entry (fsync'ed). Rejects, and emits `failed`, when it cannot be written. */
  append(entry: NewEntry): Promise<LedgerEntry> {
    if (this.pending >= (this.options.maxPending ?? 64)) {
      return Promise.reject(
        this.fail(
          new EarshotError('E_LEDGER_BUSY', 'ledger: too many entries waiting to be written'),
        ),
      );
    }
    this.pending += 1;
    const result = this.queue.then(() => this.write(entry));
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.pending -= 1;
    });
  }

  /** After a failure: can the ledger be written again (space free, directory writable)? */
  async probe(minFreeBytes = 64 * 1024): Promise<boolean> {
    try {
      const fs = await statfs(dirname(this.options.file));
      await access(dirname(this.options.file), constants.W_OK);
      return fs.bavail * fs.bsize >= minFreeBytes;
    } catch {
      return false;
    }
  }

  /**
   * While failed, checks now and then whether the ledger can be written again; when
   * it can, reopens it and says so (the one place the ledger recovers, besides a
   * successful append).
   */
  private scheduleProbe(): void {
    if (this.stopped || this.probeTimer || !this.broken) return;
    this.probeTimer = this.clock.setTimeout(() => {
      this.probeTimer = undefined;
      void this.recheck();
    }, this.options.probeMs ?? 30_000);
  }

  private async recheck(): Promise<void> {
    if (!this.broken || this.stopped) return;
    try {
      if (!(await this.probe())) throw new Error('not writable yet');
      await this.open();
    } catch {
      this.scheduleProbe();
      return;
    }
    if (!this.stopped) this.recovered();
  }

  private recovered(): void {
    if (!this.broken) return;
    this.broken = undefined;
    this.clock.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.options.log.info('ledger writable again: uploads resume');
    this.emit('recovered');
  }

  async close(): Promise<void> {
    await this.queue;
    await this.headWrite;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async write(entry: NewEntry): Promise<LedgerEntry> {
    if (!this.handle) throw new EarshotError('E_LEDGER_CLOSED', 'ledger is not open');
    const full = {
      v: LEDGER_VERSION,
      seq: this.seq + 1,
      time: new Date().toISOString(),
      prev: this.prev,
      ...(this.pendingTorn ? { afterTorn: true } : {}),
      ...entry,
    } as LedgerEntry;
    const line = JSON.stringify(full);
    // After a torn line the new entry starts on a line of its own.
    const text = `${this.pendingTorn ? '\n' : ''}${line}\n`;
    try {
      await this.headWrite;
      await this.handle.write(text);
      await this.handle.datasync();
    } catch (err) {
      throw this.fail(
        new EarshotError(
          'E_LEDGER_WRITE',
          `ledger cannot be written (${this.options.file}): ${errorMessage(err)}`,
          {
            cause: err,
            hint: 'free disk space or fix the state directory; uploads stay stopped until then',
          },
        ),
      );
    }
    this.pendingTorn = false;
    this.prev = lineHash(line);
    // The head file only helps `verify` spot a removed last entry; the entry itself is
    // already on disk, so the caller (an utterance waiting to be committed) does not
    // wait for it. The next append does.
    const head = { seq: full.seq, hash: this.prev };
    this.headWrite = writeHead(headFile(this.options.file), head).catch((err: unknown) => {
      this.options.log.warn({ err: errorMessage(err) }, 'ledger head file not written');
    });
    this.emit('appended', head);
    this.seq = full.seq;
    this.size += Buffer.byteLength(text);
    this.recovered();
    if (this.size >= this.options.maxBytes) await this.rotate();
    return full;
  }

  private fail(err: EarshotError): EarshotError {
    const first = !this.broken;
    this.broken = err;
    if (first) {
      this.options.log.error({ code: err.code, err: err.message }, 'ledger failed: uploads stop');
      this.emit('failed', err);
    }
    this.scheduleProbe();
    return err;
  }

  /** ledger.jsonl → ledger.1.jsonl (older ones shift up); the chain goes on in a new file. */
  private async rotate(): Promise<void> {
    const { file, log } = this.options;
    await this.handle?.close();
    let n = 1;
    while (await exists(rotatedName(file, n))) n += 1;
    for (let i = n; i > 1; i--) await rename(rotatedName(file, i - 1), rotatedName(file, i));
    await rename(file, rotatedName(file, 1));
    this.handle = await open(
      file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
      0o600,
    );
    this.size = 0;
    log.info({ file, rotated: rotatedName(file, 1) }, 'ledger rotated');
  }

  private async previousFileHash(): Promise<string | undefined> {
    return (await scanTail(rotatedName(this.options.file, 1))).lastHash;
  }

  private async previousFileSeq(): Promise<number | undefined> {
    return (await scanTail(rotatedName(this.options.file, 1))).lastSeq;
  }
}

/** The head, written whole (temporary file, then rename), readable by its owner only. */
async function writeHead(file: string, head: { seq: number; hash: string }): Promise<void> {
  const partial = `${file}.partial`;
  await writeFile(partial, `${JSON.stringify(head)}\n`, { mode: 0o600 });
  await chmod(partial, 0o600);
  await rename(partial, file);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
