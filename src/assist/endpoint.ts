import { readFileSync } from 'node:fs';
import { EarshotError, errorCode, errorMessage } from '../shared/errors.js';

/**
 * Where Home Assistant is, and the TLS material that checks it (P6, TLS only): the
 * WebSocket URL, the HTTPS origin the spoken answers are fetched from (the same host,
 * the same certificate checks), and the pinned CA / client certificate files.
 */
export interface AssistEndpoint {
  ws: URL;
  /** `https://host:port` (or `http://` with insecure): the base of relative TTS URLs. */
  origin: string;
  secure: boolean;
}

export function assistEndpoint(url: string, insecure: boolean): AssistEndpoint {
  let ws: URL;
  try {
    ws = new URL(url);
  } catch {
    throw new EarshotError('E_LINK_CONFIG', `cloud.url "${url}" is not a URL`, {
      hint: 'wss://homeassistant.local:8123/api/websocket',
    });
  }
  if (ws.protocol === 'ws:' && !insecure) {
    throw new EarshotError(
      'E_LINK_INSECURE',
      `cloud.url ${ws.origin} is plain ws://: audio and token would travel unencrypted (refused)`,
      { hint: 'use wss://, or set cloud.insecure: true for local development only' },
    );
  }
  if (ws.protocol !== 'wss:' && ws.protocol !== 'ws:') {
    throw new EarshotError(
      'E_LINK_CONFIG',
      `cloud.url must start with wss:// (got ${ws.protocol}//)`,
    );
  }
  const secure = ws.protocol === 'wss:';
  const origin = `${secure ? 'https' : 'http'}://${ws.host}`;
  return { ws, origin, secure };
}

export interface TlsFiles {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Read on every connect and fetch, so renewed files are picked up without a restart. */
export function readTls(files: TlsFiles): TlsMaterial {
  const out: TlsMaterial = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    const path = files[k];
    if (!path) continue;
    try {
      out[k] = readFileSync(path);
    } catch (err) {
      throw new EarshotError(
        'E_LINK_TLS_FILE',
        `cannot read cloud.${k} ${path}: ${errorMessage(err)}`,
      );
    }
  }
  return out;
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** One line an owner can act on, for a failed connect or fetch. */
export function describeNetError(err: unknown, pinnedCa: boolean): string {
  const code = errorCode(err);
  const message = errorMessage(err);
  if (UNTRUSTED.has(code)) {
    return `certificate verify failed: Home Assistant's certificate is not trusted (${code}): ${
      pinnedCa ? 'the pinned CA (cloud.ca) did not sign it' : 'pin its CA with cloud.ca'
    }`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `certificate verify failed: ${message}`;
  if (code === 'CERT_HAS_EXPIRED') return `certificate verify failed: expired (${code})`;
  if (code === 'ECONNREFUSED') return `ECONNREFUSED: nothing listens there (${message})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${code}: cannot resolve the host`;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return 'message too big: Home Assistant sent a frame above cloud.maxPayloadBytes';
  }
  return code !== 'E_UNKNOWN' ? `${code}: ${message}` : message;
}
