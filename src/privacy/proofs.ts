import type { KeyObject } from 'node:crypto';
import { verifyReceipt } from '../shared/receipt.js';
import type { AckEntry, LedgerEntry, UtteranceEntry } from './entry.js';
import type { VerifyProblem, VerifyResult } from './verify.js';

/**
 * What the ledger proves beyond its own hash chain. The chain alone shows that nothing
 * was changed *by mistake*; whoever can write the file can also rewrite the whole
 * chain. Two things from outside the device close that gap:
 *
 * - **receipts**: the cloud's signature of each acknowledgement (what it received and
 *   whether it kept it). Without the cloud's private key nobody can make one, so an
 *   edited acknowledgement, or an edited utterance that a receipt covers, shows;
 * - **anchors**: heads of the chain published outside the device (MQTT, retained; Home
 *   Assistant's history keeps them). A chain rewritten after a head was published no
 *   longer has that head.
 */
export interface Anchor {
  seq: number;
  hash: string;
}

/**
 * Every `<seq>:<sha256>` in a text: the lines `ledger/head` publishes, a Home Assistant
 * history export of the "Ledger head" sensor (CSV), or a file of them one per line.
 */
export function parseAnchors(text: string): Anchor[] {
  const anchors: Anchor[] = [];
  for (const m of text.matchAll(/\b(\d{1,12}):([0-9a-f]{64})\b/g)) {
    anchors.push({ seq: Number(m[1]), hash: m[2]! });
  }
  return anchors;
}

/** The first published head the ledger no longer has, or nothing. */
export function checkAnchors(
  result: VerifyResult,
  anchors: readonly Anchor[],
): VerifyProblem | undefined {
  const file = result.files[result.files.length - 1] ?? '';
  const last = result.entries[result.entries.length - 1]?.seq ?? 0;
  for (const a of [...anchors].sort((x, y) => x.seq - y.seq)) {
    const hash = result.hashes?.get(a.seq);
    if (hash === undefined) {
      if (a.seq > last) {
        return {
          file,
          line: 0,
          kind: 'anchor',
          message: `entry ${a.seq} was published as the head, but the ledger ends at entry ${last}: entries were removed`,
        };
      }
      continue; // rotated away and deleted: nothing left to compare
    }
    if (hash !== a.hash) {
      return {
        file,
        line: 0,
        kind: 'anchor',
        message: `entry ${a.seq} is not the entry published as the head then: the chain was rewritten after it`,
      };
    }
  }
  return undefined;
}

export interface ReceiptReport {
  /** Acknowledgements whose signature was checked and holds. */
  verified: number;
  /** Acknowledgements with a signature that could not be checked (no key given). */
  unchecked: number;
  /** Utterances sent whose acknowledgement carries no receipt (or never came). */
  withoutReceipt: Array<{ seq: number; id: string }>;
}

/**
 * Checks every receipt against the cloud's public key (when given), and that what each
 * receipt covers is what the utterance entry says was sent.
 */
export function checkReceipts(
  entries: readonly LedgerEntry[],
  key: KeyObject | undefined,
  file: string,
): { report: ReceiptReport; problem?: VerifyProblem } {
  const report: ReceiptReport = { verified: 0, unchecked: 0, withoutReceipt: [] };
  const utterances = new Map<string, UtteranceEntry>();
  const signed = new Set<string>();
  for (const e of entries) {
    if (e.type === 'utterance') {
      utterances.set(e.id, e);
      continue;
    }
    if (e.type !== 'ack') continue;
    const problem = checkAck(e, utterances.get(e.id), key, file);
    if (problem) return { report, problem };
    if (!e.receipt) continue;
    signed.add(e.id);
    if (key) report.verified += 1;
    else report.unchecked += 1;
  }
  for (const u of utterances.values()) {
    if (u.outcome === 'sent' && !signed.has(u.id)) {
      report.withoutReceipt.push({ seq: u.seq, id: u.id });
    }
  }
  return { report };
}

function checkAck(
  ack: AckEntry,
  utterance: UtteranceEntry | undefined,
  key: KeyObject | undefined,
  file: string,
): VerifyProblem | undefined {
  const problem = (message: string): VerifyProblem => ({ file, line: 0, kind: 'receipt', message });
  const { receipt } = ack;
  if (!receipt) return undefined;
  if (ack.sha256 === undefined || ack.bytes === undefined) {
    return problem(`entry ${ack.seq}: a receipt without the facts it signs`);
  }
  if (key) {
    if (!receiptHolds(ack, key)) {
      return problem(
        `entry ${ack.seq}: the cloud's signature does not match this acknowledgement (changed after the cloud signed it)`,
      );
    }
  }
  if (
    !ack.aborted &&
    utterance &&
    (utterance.sha256 !== ack.sha256 || utterance.bytes !== ack.bytes)
  ) {
    return problem(
      `entry ${utterance.seq}: says ${utterance.bytes} bytes (${utterance.sha256.slice(0, 12)}) were sent, the cloud's signed receipt (entry ${ack.seq}) says ${ack.bytes} (${ack.sha256.slice(0, 12)})`,
    );
  }
  return undefined;
}

/** Whether an acknowledgement's receipt is the cloud's signature of exactly its facts. */
export function receiptHolds(ack: AckEntry, key: KeyObject): boolean {
  const { receipt } = ack;
  if (!receipt || ack.sha256 === undefined || ack.bytes === undefined) return false;
  const facts = {
    deviceId: receipt.deviceId,
    id: ack.id,
    sha256: ack.sha256,
    bytes: ack.bytes,
    stored: ack.stored,
    aborted: ack.aborted ?? false,
    time: receipt.time,
  };
  return verifyReceipt(facts, receipt.signature, key);
}
