import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The hash a chain starts from: there is no line before the first. */
export const GENESIS = '0'.repeat(64);
export const LEDGER_VERSION = 1;

const trigger = z.object({
  kind: z.enum(['wake', 'button', 'followup']),
  keyword: z.string().optional(),
  score: z.number().optional(),
});

const common = {
  v: z.literal(LEDGER_VERSION),
  /** Position in the whole chain, across rotated files: 1, 2, 3 … */
  seq: z.number().int().positive(),
  /** Wall time the entry was written, ISO 8601. */
  time: z.string(),
  /** SHA-256 (hex) of the previous line's exact bytes. */
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  /** Set on the first entry after a torn line (a power cut during a write). */
  afterTorn: z.boolean().optional(),
};

/** One utterance: what was sent, when, why, and how it ended. */
export const utteranceEntry = z.object({
  ...common,
  type: z.literal('utterance'),
  id: z.string(),
  start: z.string(),
  end: z.string(),
  trigger,
  preRollMs: z.number().int().min(0),
  durationMs: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** SHA-256 of exactly the audio bytes sent (empty when nothing was completed). */
  sha256: z.string(),
  dontSaveRecordings: z.boolean(),
  outcome: z.enum(['sent', 'aborted', 'failed']),
  reason: z.string(),
  /**
   * Where it went: the protocol and host, and whether the retention choice above was
   * sent with it. Home Assistant's API has no field for it (P7 cannot be sent there):
   * `retentionSent: false` says so in the record itself. Absent in older entries.
   */
  destination: z
    .object({
      protocol: z.enum(['earshot', 'home-assistant']),
      host: z.string(),
      retentionSent: z.boolean(),
    })
    .optional(),
});

/** The cloud's acknowledgement of an utterance, recorded when it arrives. */
export const ackEntry = z.object({
  ...common,
  type: z.literal('ack'),
  id: z.string(),
  stored: z.boolean(),
  /** What the cloud said it received (equal to what was sent, or the ack was refused). */
  bytes: z.number().int().min(0).optional(),
  sha256: z.string().optional(),
  aborted: z.boolean().optional(),
  /** The cloud's signature of these facts: what it promised, checkable by `ledger verify`. */
  receipt: z.object({ deviceId: z.string(), time: z.string(), signature: z.string() }).optional(),
});

/**
 * A request that was sent and then failed at the cloud (no answer: the cloud's own
 * code, e.g. Home Assistant's `stt-no-text-recognized`), recorded when it is known.
 */
export const failureEntry = z.object({
  ...common,
  type: z.literal('failure'),
  id: z.string(),
  code: z.string(),
  message: z.string(),
});

export const ledgerEntry = z.discriminatedUnion('type', [utteranceEntry, ackEntry, failureEntry]);
export type LedgerEntry = z.infer<typeof ledgerEntry>;
export type UtteranceEntry = z.infer<typeof utteranceEntry>;
export type AckEntry = z.infer<typeof ackEntry>;
export type FailureEntry = z.infer<typeof failureEntry>;

type Chained = 'v' | 'seq' | 'time' | 'prev' | 'afterTorn';
/** What a caller hands to the ledger; the chain fields are filled in by the writer. */
export type NewEntry =
  Omit<UtteranceEntry, Chained> | Omit<AckEntry, Chained> | Omit<FailureEntry, Chained>;

export function lineHash(line: string | Buffer): string {
  return createHash('sha256').update(line).digest('hex');
}
