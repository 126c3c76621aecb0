import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startCloudServer, type CloudServer } from '../../src/cloud/index.js';
import { CloudLink } from '../../src/link/index.js';
import { SUBPROTOCOL } from '../../src/link/protocol/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import { EvilCloud } from '../helpers/evil-cloud.js';
import { cliPath, fixture, repoRoot, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { sleep } from '../helpers/run-daemon.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';
import { linkSettings } from '../helpers/tls-link.js';

// Finding 9 of the trust-boundary audit, the smaller ones, each against the real part:
// `ledger show --json | head` died with an EPIPE stack trace; a lowercase `bearer` was
// refused; a cloud that kills every session after hello.ok got 111 reconnects in 30 s
// (the backoff reset on every hello.ok); simulate exited 0 with "0 upload(s)" when its
// cloud was never reached. (`earshot cloud` without --ca or --token: cloud-cli.test.ts;
// the microphone's error/offline flap: fault-mic.test.ts.)
const tmp = tempDir('earshot-adv-small-');
let certs: TestCerts;

beforeAll(() => {
  certs = makeCerts('adv-small');
});

afterAll(() => {
  certs?.cleanup();
  tmp.cleanup();
});

/** A valid ledger of `n` utterance entries, hash-chained as the device writes it. */
function bigLedger(n: number): string {
  const file = join(tmp.dir, 'big.jsonl');
  let prev = '0'.repeat(64);
  const lines: string[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const time = new Date(Date.UTC(2026, 10, 1, 0, 0, seq)).toISOString();
    const line = JSON.stringify({
      v: 1,
      seq,
      time,
      prev,
      type: 'utterance',
      id: `u-${seq}`,
      start: time,
      end: time,
      trigger: { kind: 'button' },
      preRollMs: 0,
      durationMs: 1000,
      bytes: 32_000,
      sha256: createHash('sha256').update(String(seq)).digest('hex'),
      dontSaveRecordings: true,
      outcome: 'sent',
      reason: 'speechEnd',
    });
    lines.push(line);
    prev = createHash('sha256').update(line).digest('hex');
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('the smaller findings', { timeout: 60_000 }, () => {
  it('`ledger show --json | head -1` ends quietly', async () => {
    const file = bigLedger(20_000);
    const child = spawn(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" "${cliPath}" ledger show --json --ledger "${file}" | head -1`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(JSON.parse(out)).toMatchObject({ seq: 1, id: 'u-1' });
    expect(err).toBe('');
    expect(code).toBe(0);
  });

  it('the bearer scheme is case-insensitive at the reference cloud', async () => {
    const cloud: CloudServer = await startCloudServer({
      cert: certs.serverCert,
      key: certs.serverKey,
      token: 'sesame',
    });
    try {
      for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
        const ws = new WebSocket(cloud.url, SUBPROTOCOL, {
          ca: readFileSync(certs.ca),
          headers: { Authorization: `${scheme} sesame` },
        });
        const opened = await new Promise<boolean>((resolve) => {
          ws.once('open', () => resolve(true));
          ws.once('unexpected-response', () => resolve(false));
          ws.once('error', () => resolve(false));
        });
        expect(opened, scheme).toBe(true);
        ws.terminate();
      }
    } finally {
      await cloud.close();
    }
  });

  it('a cloud that drops every session after hello.ok is retried at a growing interval', async () => {
    const evil = await EvilCloud.start(certs);
    evil.onSession = (s) => s.ws.terminate();
    const link = new CloudLink({
      cloud: linkSettings(certs, {
        url: evil.url,
        backoff: { initialMs: 100, maxMs: 5000 },
        // The default: a connection must last 30 s before the backoff starts over.
        stableAfterMs: 30_000,
      }),
      hello: { deviceId: certs.deviceId, firmware: 'test', dontSaveRecordings: true },
      logger: silentLogger(),
      // The longest delay the jitter allows, every time: 100, 200, 400 … ms.
      random: () => 0.999,
    });
    link.start();
    await sleep(8000);
    await link.stop();
    const sessions = evil.sessions.length;
    await evil.close();
    process.stdout.write(
      `adversarial backoff figures: ${JSON.stringify({ seconds: 8, sessions })}\n`,
    );
    // Reset on every hello.ok this would be one every ~100 ms (about 80 in 8 s).
    expect(sessions).toBeGreaterThan(2);
    expect(sessions).toBeLessThanOrEqual(8);
  });

  it('simulate exits 4 and says why when the cloud it was given is never reached', async () => {
    const cloud = await startCloudServer({
      cert: certs.serverCert,
      key: certs.serverKey,
      ca: certs.ca,
    });
    try {
      const r = await runCli([
        'simulate',
        '--wav',
        fixture('alexa-what-time.wav'),
        '--cloud',
        cloud.url,
        // The wrong CA: the cloud's certificate cannot be verified.
        '--ca',
        certs.otherCa,
        '--cert',
        certs.deviceCert,
        '--key',
        certs.deviceKey,
        '--set',
        `device.id=${certs.deviceId}`,
        '--set',
        'cloud.connectTimeoutMs=3000',
      ]);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(
        /the cloud at wss:\/\/127\.0\.0\.1:\d+ was never reached: .*certificate/i,
      );
    } finally {
      await cloud.close();
    }
  });
});
