import type { KeyObject } from 'node:crypto';
import type { LedgerEntry } from '../privacy/entry.js';
import { receiptHolds } from '../privacy/proofs.js';

export type Outcome = 'sent' | 'aborted' | 'failed';

/** One upload as the page shows it: the utterance joined with its acknowledgement. */
export interface UploadRow {
  seq: number;
  id: string;
  start: string;
  durationMs: number;
  bytes: number;
  trigger: string;
  destination: string;
  outcome: Outcome;
  reason: string;
  /** The cloud's answer: `kept`, `not kept`, `no answer (CODE)`, `none`. */
  acknowledgement: string;
  /** Whether the cloud may keep the recording (the owner's choice, and whether it travelled). */
  retention: 'asked not to keep' | 'may keep' | 'not asked';
  mayStore: boolean;
  receipt: 'verified' | 'signed, not checked' | 'does not verify' | 'none';
}

/** The uploads in a verified ledger, oldest first. */
export function uploadRows(
  entries: readonly LedgerEntry[],
  key: KeyObject | undefined,
): UploadRow[] {
  const acks = new Map<string, Extract<LedgerEntry, { type: 'ack' }>>();
  const failures = new Map<string, string>();
  for (const e of entries) {
    if (e.type === 'ack') acks.set(e.id, e);
    if (e.type === 'failure') failures.set(e.id, e.code);
  }
  const rows: UploadRow[] = [];
  for (const e of entries) {
    if (e.type !== 'utterance') continue;
    const ack = acks.get(e.id);
    const failure = failures.get(e.id);
    const retentionSent = e.destination?.retentionSent ?? true;
    const retention = !retentionSent
      ? 'not asked'
      : e.dontSaveRecordings
        ? 'asked not to keep'
        : 'may keep';
    rows.push({
      seq: e.seq,
      id: e.id,
      start: e.start,
      durationMs: e.durationMs,
      bytes: e.bytes,
      trigger:
        e.trigger.kind === 'wake'
          ? `wake word${e.trigger.keyword ? ` "${e.trigger.keyword}"` : ''}`
          : e.trigger.kind === 'button'
            ? 'button'
            : 'follow-up',
      destination: e.destination ? `${e.destination.host} (${e.destination.protocol})` : '',
      outcome: e.outcome,
      reason: e.reason,
      acknowledgement: failure
        ? `no answer (${failure})`
        : ack
          ? ack.stored
            ? 'kept'
            : 'not kept'
          : 'none',
      retention,
      mayStore: retention !== 'asked not to keep' || ack?.stored === true,
      receipt: !ack?.receipt
        ? 'none'
        : !key
          ? 'signed, not checked'
          : receiptHolds(ack, key)
            ? 'verified'
            : 'does not verify',
    });
  }
  return rows;
}

const CSV_COLUMNS: Array<keyof UploadRow> = [
  'start',
  'durationMs',
  'bytes',
  'trigger',
  'destination',
  'outcome',
  'reason',
  'acknowledgement',
  'retention',
  'receipt',
  'id',
  'seq',
];

/** RFC 4180 CSV; a cell that could start a spreadsheet formula is quoted with a leading '. */
export function uploadsCsv(rows: readonly UploadRow[]): string {
  const cell = (v: unknown): string => {
    let s = String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => cell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export interface RowFilter {
  /** Milliseconds since the epoch: rows from `from` (inclusive) to `to` (exclusive). */
  from: number;
  to: number;
  outcome: Outcome | 'all';
}

export function filterRows(rows: readonly UploadRow[], f: RowFilter): UploadRow[] {
  return rows.filter((r) => {
    const t = Date.parse(r.start);
    return t >= f.from && t < f.to && (f.outcome === 'all' || r.outcome === f.outcome);
  });
}
