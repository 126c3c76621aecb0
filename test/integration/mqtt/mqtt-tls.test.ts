import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';
import { MqttBridge, type MqttStatus } from '../../../src/mqtt/index.js';
import { silentLogger } from '../../../src/shared/logger.js';
import {
  eventually,
  makeTestPki,
  Mosquitto,
  retainedMessages,
  type TestPki,
} from '../../helpers/mosquitto.js';

let dir: string;
let pki: TestPki;
let broker: Mosquitto;
const bridges: MqttBridge[] = [];
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'earshot-mqtt-tls-'));
  pki = await makeTestPki(dir);
  broker = await Mosquitto.start({
    tls: {
      caFile: pki.caFile,
      certFile: pki.serverCertFile,
      keyFile: pki.serverKeyFile,
      requireCertificate: true,
    },
  });
});

afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
});

afterAll(async () => {
  await broker?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function makeBridge(tls: { ca?: string; cert?: string; key?: string }) {
  const id = `tls-${++seq}`;
  const bridge = new MqttBridge(
    mqttSection.parse({ url: broker.url, backoff: { initialMs: 50, maxMs: 200 }, ...tls }),
    { id, name: 'TLS speaker', firmwareVersion: '0.1.0' },
    silentLogger(),
  );
  const statuses: MqttStatus[] = [];
  bridge.on('status', (s) => statuses.push(s));
  bridges.push(bridge);
  return { bridge, id, statuses };
}

/** Two failed attempts in a row, and never up in between. */
async function failsTwice(statuses: MqttStatus[]): Promise<MqttStatus> {
  const failures = await eventually(() => {
    const d = statuses.filter((s) => s.status === 'down');
    return d.length >= 2 ? d : undefined;
  }, 'two failed attempts');
  expect(statuses.some((s) => s.status === 'up')).toBe(false);
  return failures[0]!;
}

describe('MQTT over TLS (mqtts://)', () => {
  it('connects with the pinned CA and a client certificate', async () => {
    const { bridge, id } = makeBridge({
      ca: pki.caFile,
      cert: pki.clientCertFile,
      key: pki.clientKeyFile,
    });
    await bridge.start();
    expect(await bridge.waitUntilUp(10_000)).toBe(true);
    const topic = `earshot/${id}/availability`;
    const seen = await eventually(async () => {
      const r = await retainedMessages(broker.url, topic, {
        ca: readFileSync(pki.caFile),
        cert: readFileSync(pki.clientCertFile),
        key: readFileSync(pki.clientKeyFile),
      });
      return r.get(topic);
    }, 'a retained "online" over TLS');
    expect(seen).toBe('online');
  });

  it('refuses a broker certificate it cannot verify', async () => {
    // No `ca`: the system CAs do not know the test CA.
    const { bridge, statuses } = makeBridge({ cert: pki.clientCertFile, key: pki.clientKeyFile });
    await bridge.start();
    const failure = await failsTwice(statuses);
    expect(failure.cause).toMatch(/certificate/i);
  });

  it('does not get in without a client certificate when the broker asks for one', async () => {
    const { bridge, statuses } = makeBridge({ ca: pki.caFile });
    await bridge.start();
    const failure = await failsTwice(statuses);
    expect(failure.cause).toEqual(expect.any(String));
  });

  it('names an unreadable certificate file, and keeps trying', async () => {
    const { bridge, statuses } = makeBridge({
      ca: join(dir, 'missing-ca.pem'),
      cert: pki.clientCertFile,
      key: pki.clientKeyFile,
    });
    await expect(bridge.start()).resolves.toBeUndefined();
    const failure = await failsTwice(statuses);
    expect(failure.cause).toMatch(/cannot read mqtt\.ca file .*missing-ca\.pem: ENOENT/);
  });
});
