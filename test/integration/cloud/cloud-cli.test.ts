import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudLink } from '../../../src/link/index.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { loadReceiptPublicKey, verifyReceipt } from '../../../src/shared/receipt.js';
import { cliPath } from '../../helpers/paths.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';
import { linkSettings, pcm, waitForEvent, waitForStatus } from '../../helpers/tls-link.js';
import { eventually } from '../../helpers/wait.js';

/** `earshot cloud` as a process: the first stdout line, a real request, a clean exit. */
let certs: TestCerts;
const children: ChildProcess[] = [];

beforeAll(() => {
  certs = makeCerts('cli-dev');
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  certs?.cleanup();
});

function cloud(args: string[]): {
  child: ChildProcess;
  firstLine: Promise<string>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, [cliPath, 'cloud', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited ${code} before a line: ${err}`)));
  });
  // A test that expects the process to fail never reads the line.
  firstLine.catch(() => undefined);
  return { child, firstLine, stderr: () => err };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('earshot cloud', () => {
  it('prints "listening on wss://HOST:PORT" first, serves a device, and exits cleanly', async () => {
    const { child, firstLine } = cloud([
      '--port',
      '0',
      '--cert',
      certs.serverCert,
      '--key',
      certs.serverKey,
      '--ca',
      certs.ca,
      '--log-level',
      'warn',
    ]);
    const line = await firstLine;
    const m = /^listening on wss:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const port = Number(m![1]);
    expect(port).toBeGreaterThan(0);

    const link = new CloudLink({
      cloud: linkSettings(certs, { url: `wss://127.0.0.1:${port}` }),
      hello: { deviceId: 'cli-dev', firmware: 'test', dontSaveRecordings: true },
      logger: silentLogger(),
    });
    const up = waitForStatus(link, 'up');
    link.start();
    await up;
    const start = waitForEvent<{ text?: string; format: { encoding: string } }>(link, 'replyStart');
    const end = waitForEvent(link, 'replyEnd');
    const handle = link.openUtterance({ trigger: { kind: 'button' }, preRollMs: 0 });
    handle.write(pcm(32_000 * 1.5));
    handle.end('speechEnd');
    const reply = await start;
    expect(reply.text).toBe('I heard 1.5 seconds');
    expect(reply.format.encoding).toBe('pcm_s16le');
    await end;
    await link.stop();

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('exits 1 with a clear message when the certificate file is missing', async () => {
    const { child, stderr } = cloud([
      '--port',
      '0',
      '--cert',
      join(certs.dir, 'nope.crt'),
      '--key',
      certs.serverKey,
      '--open',
    ]);
    expect(await exited(child)).toBe(1);
    expect(stderr()).toMatch(/cannot read --cert .*nope\.crt.*\[E_CLOUD_TLS_FILE\]/);
    expect(stderr()).toMatch(/make-certs\.sh/);
  });

  it('refuses to accept any device at all unless told --open', async () => {
    const args = ['--port', '0', '--cert', certs.serverCert, '--key', certs.serverKey];
    const refused = cloud(args);
    expect(await exited(refused.child)).toBe(1);
    expect(refused.stderr()).toMatch(
      /would accept any device: give --ca .* or --token \[E_USAGE\]/,
    );
    expect(refused.stderr()).toMatch(/--open/);

    const open = cloud([...args, '--open', '--log-level', 'warn']);
    expect(await open.firstLine).toMatch(/^listening on wss:/);
    await eventually(
      () => (/OPEN: any device/.test(open.stderr()) ? true : undefined),
      'the warning',
    );
    open.child.kill('SIGTERM');
    expect(await exited(open.child)).toBe(0);
  });

  it('signs every acknowledgement with --receipt-key, and the device verifies it', async () => {
    const priv = join(certs.dir, 'receipt.key');
    const pub = join(certs.dir, 'receipt.pub');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', priv]);
    execFileSync('openssl', ['pkey', '-in', priv, '-pubout', '-out', pub]);
    const { child, firstLine } = cloud([
      '--port',
      '0',
      '--cert',
      certs.serverCert,
      '--key',
      certs.serverKey,
      '--ca',
      certs.ca,
      '--receipt-key',
      priv,
      '--reply',
      'none',
      '--log-level',
      'warn',
    ]);
    const port = Number(/:(\d+)$/.exec(await firstLine)![1]);
    const key = loadReceiptPublicKey(pub);
    // The device pins the public key: an acknowledgement without a valid receipt is refused.
    const link = new CloudLink({
      cloud: linkSettings(certs, { url: `wss://127.0.0.1:${port}` }),
      hello: { deviceId: 'cli-dev', firmware: 'test', dontSaveRecordings: true },
      logger: silentLogger(),
      receiptKey: key,
    });
    const up = waitForStatus(link, 'up');
    link.start();
    await up;
    type Ack = {
      id: string;
      stored: boolean;
      bytes: number;
      sha256?: string;
      receipt?: { time: string; signature: string };
    };
    const acked = waitForEvent<Ack>(link, 'ack');
    const audio = pcm(32_000);
    const handle = link.openUtterance({ trigger: { kind: 'button' }, preRollMs: 0 });
    handle.write(audio);
    handle.end('speechEnd');
    const ack = await acked;
    const sha256 = createHash('sha256').update(audio).digest('hex');
    expect(ack).toMatchObject({ id: handle.id, stored: false, bytes: audio.length, sha256 });
    expect(ack.receipt).toBeDefined();
    const facts = { deviceId: 'cli-dev', id: handle.id, sha256, bytes: audio.length };
    const signed = { ...facts, stored: false, aborted: false, time: ack.receipt!.time };
    expect(verifyReceipt(signed, ack.receipt!.signature, key)).toBe(true);
    // The signature covers the facts: a receipt claiming the cloud kept the audio fails.
    expect(verifyReceipt({ ...signed, stored: true }, ack.receipt!.signature, key)).toBe(false);
    await link.stop();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('exits 1 naming the receipt key when it is not an Ed25519 private key', async () => {
    const { child, stderr } = cloud([
      '--port',
      '0',
      '--cert',
      certs.serverCert,
      '--key',
      certs.serverKey,
      '--ca',
      certs.ca,
      '--receipt-key',
      certs.ca,
    ]);
    expect(await exited(child)).toBe(1);
    expect(stderr()).toMatch(/E_RECEIPT_KEY/);
  });
});
