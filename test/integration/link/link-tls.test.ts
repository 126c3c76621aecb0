import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { WebSocketServer } from 'ws';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from '../../../src/cloud/index.js';
import { CloudLink, type LinkSettings } from '../../../src/link/index.js';
import { EarshotError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';
import {
  cloudOptions,
  linkSettings,
  record,
  waitForEvent,
  waitForStatus,
} from '../../helpers/tls-link.js';

/**
 * P6, TLS only: every way a connection must be refused is refused, and the status
 * cause says why in words an owner can act on.
 */
let certs: TestCerts;
let mtls: CloudServer;

beforeAll(async () => {
  certs = makeCerts('kitchen');
  mtls = await startCloudServer(cloudOptions(certs));
});

afterAll(async () => {
  await mtls?.close();
  certs?.cleanup();
});

function link(patch: Partial<LinkSettings>, deviceId = certs.deviceId): CloudLink {
  return new CloudLink({
    cloud: linkSettings(certs, patch),
    hello: { deviceId, firmware: 'test', dontSaveRecordings: true },
    logger: silentLogger(),
  });
}

/** Starts a link and returns the cause of its first `down` status. */
async function firstFailure(l: CloudLink): Promise<string> {
  const down = waitForStatus(l, 'down');
  l.start();
  try {
    return (await down).cause ?? '';
  } finally {
    await l.stop();
  }
}

describe('link TLS', () => {
  it('accepts mutual TLS with a device certificate signed by the pinned CA', async () => {
    const l = link({ url: mtls.url });
    const hello = waitForEvent<{ certificateCn?: string; hello: { deviceId: string } }>(
      mtls.events,
      'hello',
    );
    const up = waitForStatus(l, 'up');
    l.start();
    await up;
    const seen = await hello;
    expect(seen.certificateCn).toBe('kitchen');
    expect(seen.hello.deviceId).toBe('kitchen');
    expect(l.isUp).toBe(true);
    await l.stop();
  });

  it('is refused without a client certificate, and says so', async () => {
    const rejected = waitForEvent<{ status: number; reason: string }>(mtls.events, 'rejected');
    const cause = await firstFailure(link({ url: mtls.url, cert: undefined, key: undefined }));
    expect(cause).toMatch(/403/);
    expect(cause).toMatch(/client certificate required/);
    expect(cause).toMatch(/no client certificate presented/);
    expect((await rejected).status).toBe(403);
  });

  it('is refused with a client certificate from another CA', async () => {
    const cause = await firstFailure(
      link({ url: mtls.url, cert: certs.otherDeviceCert, key: certs.otherDeviceKey }),
    );
    expect(cause).toMatch(/client certificate rejected/);
    expect(cause).toMatch(/not signed by a trusted CA/);
  });

  it('refuses a cloud whose certificate the pinned CA did not sign', async () => {
    const cause = await firstFailure(link({ url: mtls.url, ca: certs.otherCa }));
    expect(cause).toMatch(/^certificate verify failed/);
    expect(cause).toMatch(/pinned CA \(cloud\.ca\)/);
  });

  it('refuses a development cloud when only the system CAs are trusted', async () => {
    const cause = await firstFailure(link({ url: mtls.url, ca: undefined }));
    expect(cause).toMatch(/^certificate verify failed/);
    expect(cause).toMatch(/no system CA signed it/);
  });

  it('refuses a certificate for another host name', async () => {
    // The server certificate names localhost and 127.0.0.1; 127.0.0.2 is loopback too.
    const other = await startCloudServer(cloudOptions(certs, { host: '127.0.0.2' }));
    try {
      const cause = await firstFailure(link({ url: other.url }));
      expect(cause).toMatch(/certificate verify failed: hostname mismatch/);
      expect(cause).toMatch(/127\.0\.0\.2/);
    } finally {
      await other.close();
    }
  });

  it('connects by the name localhost too (subjectAltName DNS)', async () => {
    const l = link({ url: `wss://localhost:${mtls.port}` });
    const up = waitForStatus(l, 'up');
    l.start();
    await up;
    await l.stop();
  });

  it('refuses plain ws:// with a clear error unless insecure is set', () => {
    let thrown: unknown;
    try {
      link({ url: 'ws://127.0.0.1:9' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(EarshotError);
    expect((thrown as EarshotError).code).toBe('E_LINK_INSECURE');
    expect((thrown as EarshotError).message).toMatch(/unencrypted/);
    expect((thrown as EarshotError).hint).toMatch(/insecure: true/);
  });

  it('with insecure: true, warns on every single connect over ws://', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const l = new CloudLink({
      cloud: linkSettings(certs, { url: 'ws://127.0.0.1:9', insecure: true }),
      hello: { deviceId: 'kitchen', firmware: 'test', dontSaveRecordings: true },
      logger: pino({ level: 'warn' }, sink),
    });
    const statuses = record<{ status: string; cause?: string }>(l, 'status');
    l.start();
    await waitForEvent(l, 'status', () => statuses.filter((s) => s.status === 'down').length >= 3);
    await l.stop();
    const connects = statuses.filter((s) => s.status === 'connecting').length;
    const warnings = lines.filter((line) => line.includes('INSECURE'));
    expect(connects).toBeGreaterThanOrEqual(3);
    expect(warnings.length).toBe(connects);
    expect(statuses.find((s) => s.status === 'down')?.cause).toMatch(/ECONNREFUSED/);
  });

  it('refuses a device whose certificate names another device', async () => {
    const cause = await firstFailure(link({ url: mtls.url }, 'living-room'));
    expect(cause).toMatch(/cloud refused the hello: E_UNAUTHORIZED/);
    expect(cause).toMatch(/certificate is for "kitchen"/);
  });
});

describe('link TLS against a cloud that enforces mutual TLS in the handshake', () => {
  // Many servers let the TLS handshake itself fail instead of answering HTTP 403;
  // the device must still say what is wrong.
  let url = '';
  let close = async (): Promise<void> => undefined;
  beforeAll(async () => {
    const server = createServer({
      cert: readFileSync(certs.serverCert),
      key: readFileSync(certs.serverKey),
      ca: readFileSync(certs.ca),
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('tlsClientError', () => undefined);
    const wss = new WebSocketServer({ server, handleProtocols: () => 'earshot.v1' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    };
  });
  afterAll(() => close());

  it('names the missing client certificate', async () => {
    const cause = await firstFailure(link({ url, cert: undefined, key: undefined }));
    expect(cause).toMatch(/client certificate required/);
  });

  it('suspects the client certificate when the cloud drops the connection', async () => {
    const cause = await firstFailure(
      link({ url, cert: certs.otherDeviceCert, key: certs.otherDeviceKey }),
    );
    expect(cause).toMatch(/may not trust our client certificate|client certificate rejected/);
  });
});

describe('link token authentication', () => {
  let tokenCloud: CloudServer;
  beforeAll(async () => {
    tokenCloud = await startCloudServer(cloudOptions(certs, { ca: undefined, token: 's3cret' }));
  });
  afterAll(async () => {
    await tokenCloud?.close();
  });

  it('connects with the right bearer token', async () => {
    const l = link({ url: tokenCloud.url, cert: undefined, key: undefined, token: 's3cret' });
    const up = waitForStatus(l, 'up');
    l.start();
    await up;
    await l.stop();
  });

  it('is refused with a wrong token', async () => {
    const cause = await firstFailure(
      link({ url: tokenCloud.url, cert: undefined, key: undefined, token: 'guess' }),
    );
    expect(cause).toMatch(/HTTP 401 unauthorized \(token rejected\)/);
  });

  it('is refused without a token', async () => {
    const cause = await firstFailure(
      link({ url: tokenCloud.url, cert: undefined, key: undefined }),
    );
    expect(cause).toMatch(/HTTP 401 unauthorized \(a token is required \(cloud\.token\)\)/);
    expect(cause).toMatch(/bearer token required/);
  });
});
