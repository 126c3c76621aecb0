import type { LedgerEntry } from './entry.js';
import type { VerifyProblem, VerifyResult } from './verify.js';

export interface LedgerExport {
  ledger: string;
  exportedAt: string;
  verified: boolean;
  problem?: VerifyProblem;
  warnings: VerifyProblem[];
  entries: LedgerEntry[];
}

/**
 * The whole ledger as one document, with its verification: what `earshot ledger export`
 * prints and the owner's page downloads (one function, so the two cannot differ).
 */
export function exportDocument(file: string, result: VerifyResult, now = new Date()): LedgerExport {
  return {
    ledger: file,
    exportedAt: now.toISOString(),
    verified: result.ok,
    ...(result.problem ? { problem: result.problem } : {}),
    warnings: result.warnings,
    entries: result.entries,
  };
}
