import { readFile, stat } from 'node:fs/promises';
import { GENESIS, ledgerEntry, lineHash, type LedgerEntry } from './entry.js';
import { headFile, rotatedName, splitLines } from './files.js';

export interface VerifyProblem {
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** `edited`, `removed`, `reordered`, `inserted`, `malformed`, `torn`, `head` … */
  kind: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: LedgerEntry[];
  files: string[];
  /** The first break of the chain (verification stops trusting what follows). */
  problem?: VerifyProblem;
  /** Torn lines from power cuts: reported, not a break of the chain. */
  warnings: VerifyProblem[];
  /** Line hashes by sequence number (for the anchor check). */
  hashes?: Map<number, string>;
}

/** The files of a ledger, oldest first: ledger.N.jsonl … ledger.1.jsonl, ledger.jsonl. */
export async function ledgerFiles(file: string): Promise<string[]> {
  const files = [file];
  for (let n = 1; ; n++) {
    const f = rotatedName(file, n);
    try {
      await stat(f);
    } catch {
      break;
    }
    files.unshift(f);
  }
  return files;
}

/**
 * Walks the whole chain, across rotated files, and reports the first line where it
 * breaks: an edited line (its hash no longer matches the next line's `prev`), a removed
 * or inserted line (sequence numbers jump or repeat), reordered lines, a line that is
 * not a valid entry, or a missing last entry (the `.head` file names a later one).
 */
export async function verifyLedger(file: string): Promise<VerifyResult> {
  const files = await ledgerFiles(file);
  const hashes = new Map<number, string>();
  const entries: LedgerEntry[] = [];
  const warnings: VerifyProblem[] = [];
  let prev = GENESIS;
  let seq = 0;
  let lastEntryHash = GENESIS;
  const fail = (f: string, line: number, kind: string, message: string): VerifyResult => ({
    ok: false,
    entries,
    files,
    problem: { file: f, line, kind, message },
    warnings,
  });

  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      if (f === file && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Nothing here at all is an error (a wrong path); a head without its ledger
        // means the ledger was removed.
        const head = await readHead(file);
        if (head) {
          return fail(
            f,
            0,
            'removed',
            `the ledger file is gone, but its head says ${head.seq} entries were written`,
          );
        }
        if (files.length > 1) return fail(f, 0, 'removed', 'the newest ledger file is gone');
        return fail(f, 0, 'missing', `no ledger at ${f}`);
      }
      return fail(f, 0, 'unreadable', `cannot read: ${(err as Error).message}`);
    }
    const { lines, torn } = splitLines(text);
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      const lineNo = i + 1;
      const isLastTorn = torn && i === lines.length - 1;
      let parsed: LedgerEntry | undefined;
      try {
        const r = ledgerEntry.safeParse(JSON.parse(raw));
        if (r.success) parsed = r.data;
      } catch {
        parsed = undefined;
      }
      if (!parsed) {
        const next = nextEntry(lines, i);
        // A cut-off write, followed (if at all) by an entry that says it came after one.
        if (isLastTorn || (next?.afterTorn && next.prev === lineHash(raw))) {
          warnings.push({
            file: f,
            line: lineNo,
            kind: 'torn',
            message: 'torn entry (a write was cut short, e.g. by a power cut)',
          });
          prev = lineHash(raw);
          continue;
        }
        return fail(f, lineNo, 'malformed', 'not a valid ledger entry (edited or corrupted)');
      }
      if (parsed.prev !== prev) {
        // An entry that should come next but stands later in the file: out of order.
        const later = lines.slice(i + 1).some((l) => seqOf(l) === seq + 1);
        const kind =
          parsed.seq === seq + 1 ? 'edited' : parsed.seq <= seq || later ? 'reordered' : 'removed';
        const hint =
          kind === 'edited'
            ? 'the line before it was changed'
            : kind === 'removed'
              ? `entries ${seq + 1}..${parsed.seq - 1} are missing`
              : 'entries are out of order';
        return fail(f, lineNo, kind, `chain broken at entry ${parsed.seq}: ${hint}`);
      }
      if (parsed.seq !== seq + 1) {
        return fail(
          f,
          lineNo,
          parsed.seq <= seq ? 'inserted' : 'removed',
          `entry ${parsed.seq} follows entry ${seq}`,
        );
      }
      entries.push(parsed);
      prev = lineHash(raw);
      hashes.set(parsed.seq, prev);
      lastEntryHash = prev;
      seq = parsed.seq;
    }
  }

  const head = await readHead(file);
  if (head && (head.seq !== seq || head.hash !== lastEntryHash)) {
    const last = files[files.length - 1]!;
    return fail(
      last,
      0,
      'removed',
      `the ledger ends at entry ${seq}, but entry ${head.seq} was written (entries at the end were removed)`,
    );
  }
  return { ok: true, entries, files, warnings, hashes };
}

function seqOf(line: string): number | undefined {
  try {
    const v = JSON.parse(line) as { seq?: unknown };
    return typeof v.seq === 'number' ? v.seq : undefined;
  } catch {
    return undefined;
  }
}

function nextEntry(lines: string[], i: number): LedgerEntry | undefined {
  const raw = lines[i + 1];
  if (raw === undefined) return undefined;
  try {
    const r = ledgerEntry.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

async function readHead(file: string): Promise<{ seq: number; hash: string } | undefined> {
  try {
    const v = JSON.parse(await readFile(headFile(file), 'utf8')) as {
      seq?: unknown;
      hash?: unknown;
    };
    if (typeof v.seq === 'number' && typeof v.hash === 'string')
      return { seq: v.seq, hash: v.hash };
  } catch {
    // No head file (an old or copied ledger): the chain alone is checked.
  }
  return undefined;
}
