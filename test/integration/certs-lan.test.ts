import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCertificates } from '../../src/cli/doctor/cert-checks.js';
import { startCloudServer, type CloudServer } from '../../src/cloud/index.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/shared/logger.js';
import { runDevice } from '../helpers/device-cloud.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { cleanEnv, runCli, runDoctor, writeConfig } from '../helpers/run-cli.js';

// Certificates for a real deployment, made by `earshot certs` (scripts/make-certs.sh):
// a server certificate for a LAN name and address. The reference cloud listens on
// 127.0.0.2, a loopback address that stands in for the LAN one (this machine reaches
// no other network). A second cloud on 127.0.0.3 with the same certificate is a
// cloud reached by a name the certificate does not have.
const tmp = tempDir('earshot-certs-lan-');
const dir = join(tmp.dir, 'pki');
const file = (name: string) => join(dir, name);
let cloud: CloudServer;
let moved: CloudServer;
const hellos: string[] = [];

beforeAll(async () => {
  const r = await runCli([
    'certs',
    dir,
    '--name',
    'cloud.home.arpa',
    '--ip',
    '127.0.0.2',
    '--device-id',
    'kitchen',
    '--device',
    'hall',
  ]);
  expect(r.code, r.stderr).toBe(0);
  const tls = { cert: file('server.crt'), key: file('server.key'), ca: file('ca.crt') };
  cloud = await startCloudServer({ ...tls, host: '127.0.0.2', logger: silentLogger() });
  moved = await startCloudServer({ ...tls, host: '127.0.0.3', logger: silentLogger() });
  cloud.events.on('hello', (s) => hellos.push(s.hello.deviceId));
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  await moved?.close();
  tmp.cleanup();
});

function deviceConfig(url: string, id = 'kitchen', cert = 'device') {
  return {
    device: { id, stateDir: join(tmp.dir, `state-${id}`) },
    gpio: { backend: 'simulated' },
    cloud: {
      url,
      ca: file('ca.crt'),
      cert: file(`${cert}.crt`),
      key: file(`${cert}.key`),
      backoff: { initialMs: 50, maxMs: 200 },
    },
  };
}

describe('earshot certs for a LAN name and address', { timeout: 90_000 }, () => {
  it('makes a server certificate for exactly those names, and device certificates by id', () => {
    const server = new X509Certificate(readFileSync(file('server.crt')));
    expect(server.subjectAltName).toBe('DNS:cloud.home.arpa, IP Address:127.0.0.2');
    const ca = new X509Certificate(readFileSync(file('ca.crt')));
    expect(server.checkIssued(ca)).toBe(true);
    for (const [f, cn] of [
      ['device.crt', 'kitchen'],
      ['devices/hall.crt', 'hall'],
    ] as const) {
      const cert = new X509Certificate(readFileSync(file(f)));
      expect(cert.subject).toBe(`CN=${cn}`);
      expect(cert.checkIssued(ca)).toBe(true);
    }
  });

  it('the cloud on 127.0.0.2 accepts the device: an utterance goes up and is acknowledged', async () => {
    expect(cloud.url).toMatch(/^wss:\/\/127\.0\.0\.2:\d+/);
    const config = loadConfig({
      overrides: [
        'device.id=kitchen',
        `cloud.url=${cloud.url}`,
        `cloud.ca=${file('ca.crt')}`,
        `cloud.cert=${file('device.crt')}`,
        `cloud.key=${file('device.key')}`,
        `privacy.ledger=${join(tmp.dir, 'ledger.jsonl')}`,
        'gpio.backend=simulated',
      ],
    });
    const run = await runDevice(fixture('alexa-what-time.wav'), config);
    const [upload] = run.of('upload');
    expect(upload).toMatchObject({ outcome: 'sent' });
    expect(upload!.ack).toBeDefined();
    expect(hellos).toContain('kitchen');
  });

  it('a second device with its own certificate is accepted too (doctor: TLS and hello)', async () => {
    const config = writeConfig(
      tmp.dir,
      'hall.yaml',
      deviceConfig(cloud.url, 'hall', 'devices/hall'),
    );
    const run = await runDoctor(['--config', config], { env: cleanEnv() });
    expect(run.check('cloud')).toMatchObject({
      status: 'pass',
      detail: `${cloud.url}: TLS handshake and hello ok`,
    });
    expect(run.check('certificates').status).toBe('pass');
  });

  it('a device pointed at a name the certificate lacks is refused, naming the mismatch', async () => {
    const config = writeConfig(tmp.dir, 'moved.yaml', deviceConfig(moved.url));
    const run = await runDoctor(['--config', config], { env: cleanEnv() });
    const c = run.check('cloud');
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/hostname mismatch/);
    expect(c.detail).toMatch(/IP: 127\.0\.0\.3 is not in the cert's list: 127\.0\.0\.2/);
    expect(run.code).toBe(1);
  });
});

describe('earshot doctor: certificate expiry', { timeout: 90_000 }, () => {
  it('warns 30 days before the device certificate expires', async () => {
    const short = join(tmp.dir, 'short');
    const r = await runCli([
      'certs',
      short,
      '--ip',
      '127.0.0.2',
      '--device-id',
      'kitchen',
      '--days',
      '10',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const config = writeConfig(tmp.dir, 'short.yaml', {
      ...deviceConfig(cloud.url),
      cloud: {
        url: cloud.url,
        ca: join(short, 'ca.crt'),
        cert: join(short, 'device.crt'),
        key: join(short, 'device.key'),
      },
    });
    const run = await runDoctor(['--config', config], { env: cleanEnv() });
    const c = run.check('certificates');
    expect(c.status).toBe('warn');
    expect(c.detail).toMatch(
      /^device certificate .*device\.crt \(CN=kitchen\) expires in (9|10) day\(s\), on \d{4}-\d\d-\d\d$/,
    );
    expect(c.hint).toMatch(/earshot certs/);
    // Eleven days on, it has expired: a failed required check.
    const later = await checkCertificates(
      loadConfig({
        overrides: [
          `cloud.cert=${join(short, 'device.crt')}`,
          `cloud.key=${join(short, 'device.key')}`,
          `cloud.ca=${join(short, 'ca.crt')}`,
        ],
      }),
      new Date(Date.now() + 11 * 86_400_000),
    );
    expect(later).toMatchObject({ status: 'fail', required: true });
    expect(later.detail).toMatch(/^device certificate .* expired on \d{4}-\d\d-\d\d$/);
  });
});
