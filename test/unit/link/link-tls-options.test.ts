import { describe, expect, it } from 'vitest';
import {
  describeClose,
  describeConnectError,
  describeHttpRefusal,
} from '../../../src/link/causes.js';
import { loadConfig } from '../../../src/config/load.js';
import { CloudLink, type LinkSettings } from '../../../src/link/index.js';
import { checkEndpoint, readTlsMaterial } from '../../../src/link/tls.js';
import { EarshotError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof EarshotError ? err.code : `not an EarshotError: ${String(err)}`;
  }
  return 'no error';
}

const settings = {
  heartbeatMs: 1000,
  heartbeatTimeoutMs: 1000,
  connectTimeoutMs: 1000,
  backoff: { initialMs: 100, maxMs: 1000 },
  maxBufferedBytes: 65536,
  maxPayloadBytes: 65536,
  maxMessagesPerSecond: 200,
  stableAfterMs: 0,
};
const hello = { deviceId: 'd', firmware: 't', dontSaveRecordings: true };

describe('link endpoint and TLS material', () => {
  it('accepts wss:// and refuses ws:// unless insecure', () => {
    expect(checkEndpoint('wss://cloud.example:8443/v1').secure).toBe(true);
    expect(codeOf(() => checkEndpoint('ws://cloud.example'))).toBe('E_LINK_INSECURE');
    expect(checkEndpoint('ws://localhost:1', true).secure).toBe(false);
    expect(codeOf(() => checkEndpoint('https://cloud.example'))).toBe('E_LINK_CONFIG');
    expect(codeOf(() => checkEndpoint('not a url'))).toBe('E_LINK_CONFIG');
  });

  it('needs cert and key together, and names the file it cannot read', () => {
    expect(codeOf(() => readTlsMaterial({ cert: '/x.crt' }))).toBe('E_LINK_CONFIG');
    expect(codeOf(() => readTlsMaterial({ key: '/x.key' }))).toBe('E_LINK_CONFIG');
    let message = '';
    try {
      readTlsMaterial({ ca: '/nonexistent/ca.crt' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/cannot read cloud\.ca \/nonexistent\/ca\.crt: .*ENOENT/);
    expect(readTlsMaterial({})).toEqual({});
  });

  it('takes config.cloud as it is', () => {
    const config = loadConfig({ overrides: ['cloud.url=wss://127.0.0.1:1'] });
    const cloud: LinkSettings = config.cloud; // compile-time check of the shapes
    const link = new CloudLink({ cloud, hello, logger: silentLogger() });
    expect(link.status).toEqual({ status: 'down', cause: 'not started' });
    expect(link.isUp).toBe(false);
  });

  it('refuses a bad setup when the link is made, not on every retry', () => {
    const make = (cloud: Record<string, unknown>) => () =>
      new CloudLink({ cloud: { ...settings, ...cloud }, hello, logger: silentLogger() });
    expect(codeOf(make({}))).toBe('E_LINK_CONFIG');
    expect(codeOf(make({ url: 'ws://127.0.0.1:1' }))).toBe('E_LINK_INSECURE');
    expect(codeOf(make({ url: 'wss://127.0.0.1:1', ca: '/nonexistent' }))).toBe('E_LINK_TLS_FILE');
    expect(codeOf(make({ url: 'ws://127.0.0.1:1', insecure: true }))).toBe('no error');
  });
});

describe('link failure causes', () => {
  const ctx = { pinnedCa: true, clientCert: false, token: false };
  const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  it('explains certificate problems on the cloud side', () => {
    expect(describeConnectError(err('SELF_SIGNED_CERT_IN_CHAIN'), ctx)).toMatch(
      /^certificate verify failed: .*pinned CA \(cloud\.ca\) did not sign it/,
    );
    expect(
      describeConnectError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), { ...ctx, pinnedCa: false }),
    ).toMatch(/no system CA signed it; pin its CA with cloud\.ca/);
    expect(
      describeConnectError(
        err('ERR_TLS_CERT_ALTNAME_INVALID', 'IP: 10.0.0.9 is not in the cert'),
        ctx,
      ),
    ).toBe('certificate verify failed: hostname mismatch: IP: 10.0.0.9 is not in the cert');
    expect(describeConnectError(err('CERT_HAS_EXPIRED'), ctx)).toMatch(/not valid now/);
  });

  it('explains client certificate problems', () => {
    expect(describeConnectError(err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), ctx)).toMatch(
      /^client certificate required: .*cloud\.cert and cloud\.key/,
    );
    expect(describeConnectError(err('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), ctx)).toMatch(
      /^client certificate rejected/,
    );
    expect(describeConnectError(err('ECONNRESET'), ctx)).toMatch(
      /may require a client certificate/,
    );
    expect(describeConnectError(err('ECONNRESET'), { ...ctx, clientCert: true })).toMatch(
      /may not trust our client certificate/,
    );
  });

  it('explains network and HTTP refusals', () => {
    expect(
      describeConnectError(err('ECONNREFUSED', 'connect ECONNREFUSED 1.2.3.4:5'), ctx),
    ).toMatch(/^ECONNREFUSED/);
    expect(describeConnectError(new Error('Opening handshake has timed out'), ctx)).toBe(
      'connect timeout',
    );
    expect(describeConnectError(new Error('Unexpected server response: 401'), ctx)).toMatch(
      /^HTTP 401 unauthorized \(a token is required/,
    );
    expect(describeConnectError(new Error('Server sent no subprotocol'), ctx)).toMatch(
      /earshot\.v1/,
    );
    expect(
      describeHttpRefusal(401, 'E_UNAUTHORIZED: bearer token rejected', { ...ctx, token: true }),
    ).toBe('HTTP 401 unauthorized (token rejected): E_UNAUTHORIZED: bearer token rejected');
    expect(describeHttpRefusal(403, undefined, ctx)).toMatch(/client certificate required/);
    expect(describeHttpRefusal(502, undefined, ctx)).toBe(
      'HTTP 502 instead of a WebSocket upgrade',
    );
    expect(describeClose(1009, '')).toMatch(/message too big/);
    expect(describeClose(1001, 'restart')).toBe('closed by the cloud (1001): restart');
  });
});
