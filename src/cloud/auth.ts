import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SUBPROTOCOL } from '../link/protocol/index.js';

/**
 * Who may open a session. TLS verifies the client certificate against `--ca`, but
 * the server does not let the handshake fail on it: it answers the upgrade with
 * 403 and an `X-Earshot-Error` header instead. A TLS 1.3 client only sees "socket
 * hang up" when the server drops it after the handshake; an HTTP answer lets the
 * device say exactly what is wrong. Nothing of the WebSocket runs before this check.
 */
export interface AuthPolicy {
  /** Client certificates are required (the server was given a CA). */
  requireClientCert: boolean;
  token?: string | undefined;
}

export type AuthResult =
  { ok: true; certificateCn?: string } | { ok: false; status: number; reason: string };

export function authorize(req: IncomingMessage, policy: AuthPolicy): AuthResult {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  if (!offered.includes(SUBPROTOCOL)) {
    return {
      ok: false,
      status: 400,
      reason: `E_PROTOCOL_VERSION: offer the WebSocket subprotocol ${SUBPROTOCOL}`,
    };
  }
  let certificateCn: string | undefined;
  if (policy.requireClientCert) {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate?.();
    const present = peer !== undefined && Object.keys(peer).length > 0;
    if (!present) {
      return { ok: false, status: 403, reason: 'E_CLIENT_CERT: no client certificate presented' };
    }
    if (!socket.authorized) {
      const why = String(socket.authorizationError ?? 'not verified');
      return {
        ok: false,
        status: 403,
        reason: `E_CLIENT_CERT: client certificate not signed by a trusted CA (${why})`,
      };
    }
    const cn = peer.subject?.CN;
    certificateCn = Array.isArray(cn) ? cn[0] : cn;
  }
  if (policy.token !== undefined) {
    const header = String(req.headers.authorization ?? '');
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer x` is `Bearer x`.
    const match = /^bearer +(.+)$/i.exec(header.trim());
    const given = match ? match[1]! : '';
    if (!sameSecret(given, policy.token)) {
      const reason = given ? 'bearer token rejected' : 'bearer token required';
      return { ok: false, status: 401, reason: `E_UNAUTHORIZED: ${reason}` };
    }
  }
  return certificateCn !== undefined ? { ok: true, certificateCn } : { ok: true };
}

/** Constant-time comparison; hashing first makes the lengths equal. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
