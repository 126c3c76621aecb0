import { connect, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';
import { MqttBridge, type ConnectFn, type MqttStatus } from '../../../src/mqtt/index.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { eventually, Mosquitto, Probe, retainedMessages } from '../../helpers/mosquitto.js';

let broker: Mosquitto;
const bridges: MqttBridge[] = [];
let seq = 0;

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
});

afterAll(async () => {
  await broker?.dispose();
});

/** A bridge with its own device id (so retained topics never leak between tests). */
function makeBridge(connectFn?: ConnectFn) {
  const id = `avail-${++seq}`;
  const config = mqttSection.parse({ url: broker.url, backoff: { initialMs: 50, maxMs: 400 } });
  const bridge = new MqttBridge(
    config,
    { id, name: 'Test speaker', firmwareVersion: '0.1.0' },
    silentLogger(),
    connectFn ? { connect: connectFn } : {},
  );
  const statuses: MqttStatus[] = [];
  bridge.on('status', (s) => statuses.push(s));
  bridges.push(bridge);
  return { bridge, id, availability: `earshot/${id}/availability`, statuses };
}

describe('MQTT availability', () => {
  it('publishes a retained "online" once connected', async () => {
    const { bridge, availability } = makeBridge();
    expect((await retainedMessages(broker.url, availability)).size).toBe(0);
    await bridge.start();
    expect(await bridge.waitUntilUp(10_000)).toBe(true);
    // "up" means CONNACK; the retained publish follows it, so poll as a late subscriber.
    await eventually(async () => {
      const r = await retainedMessages(broker.url, availability);
      return r.get(availability) === 'online' ? true : undefined;
    }, 'a retained "online"');
  });

  it('leaves "offline" behind through the last will when its socket dies abruptly', async () => {
    const clients: MqttClient[] = [];
    const { bridge, availability, statuses } = makeBridge((url, options) => {
      const client = connect(url, options);
      clients.push(client);
      return client;
    });
    const probe = await Probe.connect(broker.url);
    try {
      await probe.subscribe(availability);
      await bridge.start();
      await probe.waitFor((m) => m.payload === 'online', 'online');
      expect(clients).toHaveLength(1);

      // No DISCONNECT packet, just a dead TCP connection, as when the speaker loses power
      // or the process is killed: only the broker can tell the world now.
      clients[0]!.stream.destroy();

      const offline = await probe.waitFor((m) => m.payload === 'offline', 'the last will');
      // The bridge notices, backs off, reconnects on a new client and says so.
      const offlineAt = probe.messages.indexOf(offline);
      await eventually(
        () => probe.messages.slice(offlineAt + 1).find((m) => m.payload === 'online'),
        'online again after the reconnect',
      );
      expect(clients.length).toBeGreaterThanOrEqual(2);
      expect(statuses.map((s) => s.status)).toEqual(
        expect.arrayContaining(['connecting', 'up', 'down']),
      );
      const down = statuses.find((s) => s.status === 'down');
      expect(down?.retryInMs).toEqual(expect.any(Number));
      expect((await retainedMessages(broker.url, availability)).get(availability)).toBe('online');
    } finally {
      await probe.close();
    }
  });

  it('publishes "offline" itself on stop(), before disconnecting', async () => {
    const { bridge, availability, statuses } = makeBridge();
    const probe = await Probe.connect(broker.url);
    try {
      await probe.subscribe(availability);
      await bridge.start();
      await probe.waitFor((m) => m.payload === 'online', 'online');
      await bridge.stop();
      await probe.waitFor((m) => m.payload === 'offline', 'offline');
      expect(statuses.at(-1)).toEqual({ status: 'disabled', cause: 'stopped' });
      expect((await retainedMessages(broker.url, availability)).get(availability)).toBe('offline');
      await probe.settle();
      // A clean disconnect: the broker discards the will, so "offline" came exactly once.
      expect(probe.on(availability).map((m) => m.payload)).toEqual(['online', 'offline']);
    } finally {
      await probe.close();
    }
  });

  it('does nothing, and says so, without a broker URL', async () => {
    const bridge = new MqttBridge(
      mqttSection.parse({}),
      { id: 'off', name: 'Off', firmwareVersion: '0.1.0' },
      silentLogger(),
    );
    const statuses: MqttStatus[] = [];
    bridge.on('status', (s) => statuses.push(s));
    await bridge.start();
    bridge.update({
      state: 'idle',
      muted: false,
      volume: 10,
      link: { status: 'disabled' },
      counters: { wakes: 0, uploads: 0, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 },
      dontSaveRecordings: true,
      problems: [],
    });
    expect(bridge.pendingCount).toBe(0);
    expect(bridge.status).toEqual({ status: 'disabled' });
    expect(await bridge.waitUntilUp(10)).toBe(false);
    await bridge.stop();
    expect(statuses).toEqual([{ status: 'disabled' }]);
  });
});
