import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { lineHash } from './entry.js';

/** `ledger.jsonl` → `ledger.1.jsonl`, `ledger.2.jsonl` … (1 is the most recent). */
export function rotatedName(file: string, n: number): string {
  const dir = dirname(file);
  const base = basename(file);
  const dot = base.lastIndexOf('.');
  return dot > 0
    ? join(dir, `${base.slice(0, dot)}.${n}${base.slice(dot)}`)
    : join(dir, `${base}.${n}`);
}

/** A small side file with the last sequence number and hash: a removed last entry shows. */
export function headFile(file: string): string {
  return `${file}.head`;
}

export interface TailInfo {
  size: number;
  lineCount: number;
  /** Hash of the last line (complete or torn): where the chain continues. */
  lastHash?: string;
  lastSeq?: number;
  /** The file does not end with a newline: the last write was cut short. */
  torn: boolean;
  tornBytes?: number;
}

/** Splits a ledger file into its lines; a last line without a newline is torn. */
export function splitLines(text: string): { lines: string[]; torn: boolean } {
  if (text.length === 0) return { lines: [], torn: false };
  const lines = text.split('\n');
  const torn = !text.endsWith('\n');
  if (!torn) lines.pop();
  return { lines, torn };
}

/**
 * Reads where a ledger file's chain ends. Done once when the ledger opens (the file is
 * bounded by rotation), never on the audio path.
 */
export async function scanTail(file: string): Promise<TailInfo> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { size: 0, lineCount: 0, torn: false };
  }
  const { lines, torn } = splitLines(text);
  const info: TailInfo = { size: Buffer.byteLength(text), lineCount: lines.length, torn };
  const last = lines[lines.length - 1];
  if (last !== undefined) info.lastHash = lineHash(last);
  if (torn && last !== undefined) info.tornBytes = Buffer.byteLength(last);
  for (let i = lines.length - 1; i >= 0; i--) {
    const seq = seqOf(lines[i]!);
    if (seq !== undefined) {
      info.lastSeq = seq;
      break;
    }
  }
  return info;
}

function seqOf(line: string): number | undefined {
  try {
    const v = JSON.parse(line) as { seq?: unknown };
    return typeof v.seq === 'number' ? v.seq : undefined;
  } catch {
    return undefined;
  }
}
