import { errorCode, errorMessage } from '../shared/errors.js';

/**
 * Turns a failed connect into one line an owner can act on. The raw OpenSSL and ws
 * messages name the symptom ("self-signed certificate in certificate chain", "socket
 * hang up"); the cause string also names the likely fix. Status events, logs, MQTT
 * and `earshot doctor` all show this line.
 */
export interface FailureContext {
  /** A CA file is pinned (cloud.ca) rather than the system CAs. */
  pinnedCa: boolean;
  /** A client certificate is configured (cloud.cert). */
  clientCert: boolean;
  /** A bearer token is configured (cloud.token). */
  token: boolean;
}

const SERVER_CERT_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

const CLIENT_CERT_REJECTED = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
]);

const CLIENT_CERT_MISSING = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
]);

/** Describes an error from the WebSocket client ('error' event). */
export function describeConnectError(err: unknown, ctx: FailureContext): string {
  const code = errorCode(err);
  const message = errorMessage(err);
  if (SERVER_CERT_UNTRUSTED.has(code)) {
    const who = ctx.pinnedCa
      ? 'the pinned CA (cloud.ca) did not sign it'
      : 'no system CA signed it; pin its CA with cloud.ca';
    return `certificate verify failed: the cloud's certificate is not trusted (${code}): ${who}`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `certificate verify failed: hostname mismatch: ${message}`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `certificate verify failed: the cloud's certificate is not valid now (${code})`;
  }
  if (CLIENT_CERT_MISSING.has(code)) {
    return ctx.clientCert
      ? `client certificate refused by the cloud during the TLS handshake (${code})`
      : `client certificate required: the cloud asks for one; set cloud.cert and cloud.key (${code})`;
  }
  if (CLIENT_CERT_REJECTED.has(code)) {
    return `client certificate rejected: the cloud does not trust the CA that signed it (${code})`;
  }
  if (code === 'ECONNREFUSED') return `ECONNREFUSED: nothing listens there (${message})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${code}: cannot resolve the host`;
  if (code === 'ECONNRESET') {
    // A server that verifies the client certificate after a TLS 1.3 handshake just
    // drops the connection: the most common reason for a reset during connect.
    const hint = ctx.clientCert
      ? 'the cloud may not trust our client certificate'
      : 'the cloud may require a client certificate (cloud.cert, cloud.key)';
    return `ECONNRESET: connection reset during connect (${hint})`;
  }
  if (code === 'ETIMEDOUT' || /handshake has timed out/i.test(message)) {
    return 'connect timeout';
  }
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return 'message too big: the cloud sent a frame above maxPayloadBytes (closed with 1009)';
  }
  if (/Server sent no subprotocol|invalid subprotocol/i.test(message)) {
    return 'the server does not speak earshot.v1 (no subprotocol agreed)';
  }
  const status = /Unexpected server response: (\d+)/.exec(message);
  if (status) return describeHttpRefusal(Number(status[1]), undefined, ctx);
  return code !== 'E_UNKNOWN' ? `${code}: ${message}` : message;
}

/**
 * Describes an HTTP answer instead of the WebSocket upgrade. The reference cloud
 * explains itself in an `X-Earshot-Error` header; other clouds only give a status.
 */
export function describeHttpRefusal(
  status: number,
  detail: string | undefined,
  ctx: FailureContext,
): string {
  const why = detail ? `: ${detail}` : '';
  if (status === 401) {
    const hint = ctx.token ? 'token rejected' : 'a token is required (cloud.token)';
    return `HTTP 401 unauthorized (${hint})${why}`;
  }
  if (status === 403) {
    const hint = ctx.clientCert
      ? 'client certificate rejected'
      : 'client certificate required (cloud.cert, cloud.key)';
    return `HTTP 403 forbidden (${hint})${why}`;
  }
  return `HTTP ${status} instead of a WebSocket upgrade${why}`;
}

/** Describes a close frame or a plain socket close. */
export function describeClose(code: number, reason: string): string {
  const why = reason ? `: ${reason}` : '';
  if (code === 1009) return `message too big (1009)${why}`;
  if (code === 1006) return 'connection lost (no close frame)';
  return `closed by the cloud (${code})${why}`;
}
