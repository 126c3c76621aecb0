import { z } from 'zod';

export const privacySection = z
  .strictObject({
    /** "Don't save recordings": sent with every request (P7). On by default. */
    dontSaveRecordings: z.boolean().default(true),
    /** The ledger file; default `<stateDir>/ledger.jsonl`. */
    ledger: z.string().min(1).optional(),
    /** Rotate the ledger when it passes this size. */
    ledgerMaxBytes: z
      .number()
      .int()
      .min(4096)
      .default(8 * 1024 * 1024),
  })
  .prefault({});
