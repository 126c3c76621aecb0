import type { Ledger } from '../privacy/ledger.js';
import type { UploadRecorder } from './ports.js';

/** Adapts the ledger to the device's recorder port. */
export function ledgerRecorder(ledger: Ledger): UploadRecorder {
  return {
    record: async (u) => {
      await ledger.append({
        type: 'utterance',
        id: u.id,
        start: u.start,
        end: u.end,
        trigger:
          u.trigger.kind === 'wake'
            ? {
                kind: 'wake',
                keyword: u.trigger.keyword,
                score: Math.round(u.trigger.score * 1000) / 1000,
              }
            : { kind: u.trigger.kind },
        preRollMs: u.preRollMs,
        durationMs: u.durationMs,
        bytes: u.bytes,
        sha256: u.sha256,
        dontSaveRecordings: u.dontSaveRecordings,
        outcome: u.outcome,
        reason: u.reason,
        ...(u.destination ? { destination: { ...u.destination } } : {}),
      });
    },
    recordAck: async (a) => {
      await ledger.append({
        type: 'ack',
        id: a.id,
        stored: a.stored,
        ...(a.bytes !== undefined ? { bytes: a.bytes } : {}),
        ...(a.sha256 !== undefined ? { sha256: a.sha256 } : {}),
        ...(a.aborted ? { aborted: true } : {}),
        ...(a.receipt ? { receipt: a.receipt } : {}),
      });
    },
    recordFailure: async (id, code, message) => {
      await ledger.append({ type: 'failure', id, code, message: message.slice(0, 500) });
    },
  };
}
