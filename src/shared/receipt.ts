import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EarshotError, errorMessage } from './errors.js';

/**
 * Signed receipts: what the cloud promised about one recording, in a form nobody
 * without the cloud's private key can make. The cloud signs each acknowledgement
 * (Ed25519); the device checks it against the cloud's public key pinned in its config
 * and keeps the signature in its ledger, where `earshot ledger verify` checks it again.
 *
 * The signed bytes are a canonical JSON object: fixed key order, no spaces, so every
 * side builds exactly the same bytes from the same facts.
 */
export interface ReceiptFacts {
  /** The device the cloud believes it talks to (from its hello / certificate). */
  deviceId: string;
  /** The utterance. */
  id: string;
  /** SHA-256 (hex) of the audio the cloud received. */
  sha256: string;
  /** Bytes of audio the cloud received. */
  bytes: number;
  /** Whether the cloud kept the audio. */
  stored: boolean;
  /** The device aborted it and the cloud discarded it. */
  aborted: boolean;
  /** When the cloud signed, ISO 8601. */
  time: string;
}

export const RECEIPT_VERSION = 'earshot-receipt/1';

/** The exact bytes that are signed. */
export function receiptPayload(f: ReceiptFacts): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: RECEIPT_VERSION,
      deviceId: f.deviceId,
      id: f.id,
      sha256: f.sha256,
      bytes: f.bytes,
      stored: f.stored,
      aborted: f.aborted,
      time: f.time,
    }),
  );
}

/** Signs a receipt (the cloud's side); the signature is base64. */
export function signReceipt(facts: ReceiptFacts, key: KeyObject): string {
  return sign(null, receiptPayload(facts), key).toString('base64');
}

/** True when `signature` is the cloud's signature of exactly these facts. */
export function verifyReceipt(facts: ReceiptFacts, signature: string, key: KeyObject): boolean {
  try {
    return verify(null, receiptPayload(facts), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The cloud's Ed25519 public key (PEM), as pinned in the device's config. */
export function loadReceiptPublicKey(path: string): KeyObject {
  return loadKey(path, 'public');
}

/** The cloud's Ed25519 private key (PEM), to sign with. */
export function loadReceiptPrivateKey(path: string): KeyObject {
  return loadKey(path, 'private');
}

function loadKey(path: string, kind: 'public' | 'private'): KeyObject {
  let key: KeyObject;
  try {
    const pem = readFileSync(path);
    key = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
  } catch (err) {
    throw new EarshotError(
      'E_RECEIPT_KEY',
      `cannot read the receipt ${kind} key ${path}: ${errorMessage(err)}`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new EarshotError(
      'E_RECEIPT_KEY',
      `${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; receipts are Ed25519`,
    );
  }
  return key;
}
