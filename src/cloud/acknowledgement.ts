import type { KeyObject } from 'node:crypto';
import type { CloudMessage } from '../link/protocol/index.js';
import { signReceipt } from '../shared/receipt.js';

/** What the cloud states about one utterance it received. */
export interface AckFacts {
  id: string;
  stored: boolean;
  bytes: number;
  sha256: string;
  aborted: boolean;
}

/**
 * The `utterance.ack` for an utterance; with a receipt key, signed (src/shared/receipt.ts)
 * over the device id, the facts and the time, so the device's ledger can keep a promise
 * about the recording that nobody without this key can forge.
 */
export function acknowledgement(a: AckFacts, deviceId: string, key?: KeyObject): CloudMessage {
  const time = new Date().toISOString();
  const receipt = key ? { time, signature: signReceipt({ deviceId, ...a, time }, key) } : undefined;
  return {
    type: 'utterance.ack',
    id: a.id,
    stored: a.stored,
    bytes: a.bytes,
    sha256: a.sha256,
    ...(a.aborted ? { aborted: true } : {}),
    ...(receipt ? { receipt } : {}),
  };
}
