import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from '../../src/cloud/index.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { fixture, tempDir } from '../helpers/paths.js';
import {
  cleanEnv,
  requiredFailed,
  runDoctor,
  soundCard,
  writeConfig,
  type DoctorRun,
} from '../helpers/run-cli.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

// doctor's network checks against real servers: the reference cloud over mutual TLS
// with certificates from scripts/make-certs.sh, and a real mosquitto. With the cloud
// reachable every required check can pass here, so these runs also pin the exit code:
// non-zero exactly when a required check fails.
const DEVICE = 'doctor-cloud';
const tmp = tempDir('earshot-doctor-cloud-');
let certs: TestCerts;
let cloud: CloudServer;
let card = '';
const hellos: string[] = [];

beforeAll(async () => {
  certs = makeCerts(DEVICE);
  cloud = await startCloudServer({
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.ca,
    voice: 'tone',
  });
  cloud.events.on('hello', (s) => hellos.push(s.hello.deviceId));
  const raw = join(tmp.dir, 'noise.raw');
  execFileSync('sox', [fixture('noise.wav'), '-t', 'raw', raw]);
  card = soundCard(tmp.dir, 'noise', { infile: raw });
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  certs?.cleanup();
  tmp.cleanup();
});

let n = 0;
function doctor(
  cloudPatch: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  flags: string[] = [],
): Promise<DoctorRun> {
  const config = writeConfig(tmp.dir, `config-${++n}.yaml`, {
    device: { id: DEVICE, stateDir: join(tmp.dir, 'state') },
    gpio: { backend: 'simulated' },
    cloud: {
      url: cloud.url,
      ca: certs.ca,
      cert: certs.deviceCert,
      key: certs.deviceKey,
      ...cloudPatch,
    },
    ...extra,
  });
  return runDoctor(['--config', config, ...flags], { env: cleanEnv({ ALSA_CONFIG_PATH: card }) });
}

/**
 * The exit code follows the required checks. Every required check passes or warns
 * here except perhaps the clock: a machine whose clock is not NTP-synchronised fails
 * that one for real, and then doctor must say so with exit 1.
 */
function expectExitFollowsRequired(run: DoctorRun): void {
  const failedRequired = run.checks.filter((c) => c.required && c.status === 'fail');
  expect(
    failedRequired.filter((c) => c.name !== 'clock'),
    run.stdout,
  ).toEqual([]);
  expect(run.ok).toBe(!requiredFailed(run.checks));
  expect(run.code).toBe(failedRequired.length > 0 ? 1 : 0);
}

describe('earshot doctor: cloud', { timeout: 90_000 }, () => {
  it('passes with the right CA and device certificate (a real TLS handshake and hello)', async () => {
    const before = hellos.length;
    const run = await doctor({});
    const c = run.check('cloud');
    expect(c.status, c.detail).toBe('pass');
    expect(c.detail).toBe(`${cloud.url}: TLS handshake and hello ok`);
    expect(hellos.slice(before)).toEqual([DEVICE]);
    expectExitFollowsRequired(run);
  });

  it('fails with a CA that did not sign the cloud, saying it is the certificate', async () => {
    const run = await doctor({ ca: certs.otherCa });
    const c = run.check('cloud');
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/certificate/);
    expect(c.detail).toMatch(/cloud\.ca/);
    expect(c.hint).toMatch(/cloud\.ca/);
    expect(run.ok).toBe(false);
    expect(run.code).toBe(1);
  });

  it('fails when the cloud refuses the device certificate', async () => {
    const run = await doctor({ cert: certs.otherDeviceCert, key: certs.otherDeviceKey });
    const c = run.check('cloud');
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/client certificate/);
    expect(run.code).toBe(1);
  });

  it('fails within --timeout when the cloud accepts TCP and never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const t0 = Date.now();
      // The link alone would wait 60 s for the handshake; doctor's --timeout is 2 s.
      const url = `wss://127.0.0.1:${port}`;
      const run = await doctor({ url, connectTimeoutMs: 60_000 }, {}, ['--timeout', '2']);
      const c = run.check('cloud');
      expect(c.status).toBe('fail');
      expect(c.detail).toBe(`${url}: no answer`);
      expect(run.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(45_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe('earshot doctor: MQTT', { timeout: 90_000 }, () => {
  let broker: Mosquitto | undefined;
  afterAll(async () => {
    await broker?.dispose();
  });

  it('connects to a real broker, and a broker that is gone is a failure that is not required', async () => {
    broker = await Mosquitto.start();
    const up = await doctor({}, { mqtt: { url: broker.url } });
    // The test broker is anonymous, without TLS: connected, and said to be weak.
    expect(up.check('mqtt')).toMatchObject({
      status: 'warn',
      required: false,
      detail: expect.stringMatching(/: connected, but with no TLS .* and no credentials/),
      hint: expect.stringMatching(/mqtts:\/\//),
    });
    expectExitFollowsRequired(up);

    await broker.stop();
    const down = await doctor({}, { mqtt: { url: broker.url } });
    const m = down.check('mqtt');
    expect(m.status).toBe('fail');
    expect(m.required).toBe(false);
    expect(m.detail).toMatch(/ECONNREFUSED/);
    expect(m.hint).toMatch(/mqtt\.url/);
    // Optional: the verdict and the exit code do not change.
    expectExitFollowsRequired(down);
  });
});
