import { readFileSync } from 'node:fs';
import { EarshotError, errorMessage } from '../shared/errors.js';

/**
 * The link's transport rules (P6, TLS only): which URLs are allowed and which TLS
 * material goes into every connect. Read on every connect, not once, so a renewed
 * device certificate is picked up without restarting the daemon.
 */
export interface TlsSettings {
  url: string;
  /** Pinned CA file (PEM); without it the system CAs verify the cloud. */
  ca?: string | undefined;
  /** Client certificate and key files (PEM) for mutual TLS. */
  cert?: string | undefined;
  key?: string | undefined;
  /** Allow plain ws:// (development only). */
  insecure?: boolean | undefined;
}

export interface Endpoint {
  url: URL;
  secure: boolean;
}

/** Validates the cloud URL. Throws E_LINK_CONFIG or E_LINK_INSECURE. */
export function checkEndpoint(url: string, insecure = false): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EarshotError('E_LINK_CONFIG', `cloud.url "${url}" is not a URL`, {
      hint: 'use wss://host:port/path',
    });
  }
  if (parsed.protocol === 'wss:') return { url: parsed, secure: true };
  if (parsed.protocol === 'ws:') {
    if (insecure) return { url: parsed, secure: false };
    throw new EarshotError(
      'E_LINK_INSECURE',
      `cloud.url ${parsed.origin} is plain ws://: audio would travel unencrypted (refused)`,
      { hint: 'use wss://, or set cloud.insecure: true for local development only' },
    );
  }
  throw new EarshotError(
    'E_LINK_CONFIG',
    `cloud.url must start with wss:// (got ${parsed.protocol}//)`,
  );
}

export interface ClientTlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * Reads the pinned CA and the client certificate + key. Throws E_LINK_CONFIG for a
 * certificate without a key (or the reverse), E_LINK_TLS_FILE for a file that cannot
 * be read, naming the config key so the owner knows what to fix.
 */
export function readTlsMaterial(
  settings: Pick<TlsSettings, 'ca' | 'cert' | 'key'>,
  read: (path: string) => Buffer = readFileSync,
): ClientTlsMaterial {
  if (Boolean(settings.cert) !== Boolean(settings.key)) {
    throw new EarshotError(
      'E_LINK_CONFIG',
      'cloud.cert and cloud.key go together: set both for mutual TLS, or neither',
    );
  }
  const material: ClientTlsMaterial = {};
  if (settings.ca) material.ca = readOne('cloud.ca', settings.ca, read);
  if (settings.cert) material.cert = readOne('cloud.cert', settings.cert, read);
  if (settings.key) material.key = readOne('cloud.key', settings.key, read);
  return material;
}

function readOne(key: string, path: string, read: (path: string) => Buffer): Buffer {
  try {
    return read(path);
  } catch (err) {
    throw new EarshotError('E_LINK_TLS_FILE', `cannot read ${key} ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}
