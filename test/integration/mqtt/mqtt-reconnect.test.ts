import { connect, type IClientOptions } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';
import { discoveryMessages } from '../../../src/mqtt/discovery.js';
import {
  MqttBridge,
  mqttTopics,
  type MqttBridgeOptions,
  type MqttStatus,
} from '../../../src/mqtt/index.js';
import type { DeviceCommand, DeviceSnapshot } from '../../../src/shared/device-status.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { eventually, Mosquitto, Probe, retainedMessages } from '../../helpers/mosquitto.js';

const cleanup: Array<() => Promise<void>> = [];
let seq = 0;

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const INITIAL_MS = 50;
const MAX_MS = 400;

function snapshot(over: Partial<DeviceSnapshot> = {}): DeviceSnapshot {
  return {
    state: 'idle',
    muted: false,
    volume: 80,
    link: { status: 'up' },
    counters: { wakes: 0, uploads: 0, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 },
    dontSaveRecordings: true,
    problems: [],
    ...over,
  };
}

/** A broker that is known (its port) but not running. */
async function absentBroker(): Promise<Mosquitto> {
  const broker = await Mosquitto.start();
  await broker.stop();
  cleanup.push(() => broker.dispose());
  return broker;
}

function makeBridge(url: string, options: MqttBridgeOptions = {}) {
  const id = `reconnect-${++seq}`;
  const clientOptions: IClientOptions[] = [];
  const published: Array<{ topic: string; payload: string }> = [];
  const bridge = new MqttBridge(
    mqttSection.parse({ url, backoff: { initialMs: INITIAL_MS, maxMs: MAX_MS } }),
    { id, name: 'Test speaker', firmwareVersion: '0.1.0' },
    silentLogger(),
    {
      random: () => 0.999,
      ...options,
      // The real mqtt.js client, watched: which options it got, what it put on the wire.
      connect: (u, o) => {
        clientOptions.push(o);
        const client = connect(u, o);
        client.on('packetsend', (p) => {
          if (p.cmd === 'publish') published.push({ topic: p.topic, payload: String(p.payload) });
        });
        return client;
      },
    },
  );
  const statuses: MqttStatus[] = [];
  bridge.on('status', (s) => statuses.push(s));
  cleanup.push(() => bridge.stop());
  return { bridge, id, base: `earshot/${id}`, statuses, clientOptions, published };
}

const downs = (statuses: MqttStatus[]) => statuses.filter((s) => s.status === 'down');

describe('MQTT without a broker, and reconnecting', () => {
  it('starts without a broker, keeps only the latest value per topic, delivers it later', async () => {
    const broker = await absentBroker();
    const { bridge, base, statuses, published } = makeBridge(broker.url);
    await expect(bridge.start()).resolves.toBeUndefined();
    const down = await eventually(() => downs(statuses)[0], 'a failed attempt');
    expect(down.cause).toMatch(/ECONNREFUSED/);

    for (let i = 0; i <= 1000; i++) {
      bridge.update(
        snapshot({
          volume: i % 101,
          counters: { wakes: i, uploads: 0, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 },
        }),
      );
    }
    // Bounded: one entry per state topic, not one per update.
    expect(bridge.pendingCount).toBe(8);

    await broker.restart();
    expect(await bridge.waitUntilUp(15_000)).toBe(true);
    const retained = await eventually(async () => {
      const r = await retainedMessages(broker.url, `${base}/#`);
      return r.has(`${base}/counters`) ? r : undefined;
    }, 'the retained state');
    expect(retained.get(`${base}/volume`)).toBe(String(1000 % 101));
    expect(JSON.parse(retained.get(`${base}/counters`)!).wakes).toBe(1000);
    // The broker got the latest value once, not the history.
    expect(published.filter((p) => p.topic === `${base}/volume`)).toHaveLength(1);
    expect(published.filter((p) => p.topic === `${base}/counters`)).toHaveLength(1);
  });

  it('backs off exponentially with full jitter, and never lets mqtt.js retry on its own', async () => {
    const broker = await absentBroker();
    const { bridge, statuses, clientOptions } = makeBridge(broker.url);
    await bridge.start();
    const failures = await eventually(() => {
      const d = downs(statuses);
      return d.length >= 6 ? d.slice(0, 6) : undefined;
    }, 'six failed attempts');
    // random() = 0.999: each delay sits just under its ceiling, min(max, initial * 2^n).
    const ceilings = [0, 1, 2, 3, 4, 5].map((n) => Math.min(MAX_MS, INITIAL_MS * 2 ** n));
    expect(failures.map((s) => s.retryInMs)).toEqual(ceilings.map((c) => Math.floor(0.999 * c)));
    expect(failures.map((s) => s.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(clientOptions.length).toBeGreaterThanOrEqual(6);
    for (const o of clientOptions) {
      expect(o.reconnectPeriod).toBe(0);
      expect(o.will).toMatchObject({ retain: true, payload: Buffer.from('offline') });
    }
  });

  it('draws every delay at random below the ceiling', async () => {
    const broker = await absentBroker();
    const draws = [0.5, 0.1, 0.9, 0.25];
    let i = 0;
    const { bridge, statuses } = makeBridge(broker.url, {
      random: () => draws[i++ % draws.length]!,
    });
    await bridge.start();
    const failures = await eventually(() => {
      const d = downs(statuses);
      return d.length >= 4 ? d.slice(0, 4) : undefined;
    }, 'four failed attempts');
    expect(failures.map((s) => s.retryInMs)).toEqual([
      Math.floor(0.5 * 50),
      Math.floor(0.1 * 100),
      Math.floor(0.9 * 200),
      Math.floor(0.25 * 400),
    ]);
  });

  it('reconnects after a broker restart and restores what the broker forgot', async () => {
    const broker = await Mosquitto.start();
    cleanup.push(() => broker.dispose());
    const { bridge, id, base, statuses } = makeBridge(broker.url);
    const commands: DeviceCommand[] = [];
    bridge.on('command', (c) => commands.push(c));
    bridge.update(snapshot({ volume: 33, muted: true, state: 'muted' }));
    await bridge.start();
    expect(await bridge.waitUntilUp(10_000)).toBe(true);
    // The configs this device publishes (no wake-word choices: no select).
    const entities = discoveryMessages(
      'homeassistant',
      { id, name: 'Test speaker', firmwareVersion: '0.1.0' },
      mqttTopics(base),
    ).length;
    const discovery = `homeassistant/+/${id}/+/config`;
    await eventually(async () => {
      const r = await retainedMessages(broker.url, discovery);
      return r.size === entities ? true : undefined;
    }, 'discovery before the restart');

    await broker.restart(); // no persistence: every retained message is gone
    await eventually(() => downs(statuses)[0], 'the bridge to notice');
    await eventually(() => (statuses.at(-1)?.status === 'up' ? true : undefined), 'up again');

    const state = await eventually(async () => {
      const r = await retainedMessages(broker.url, `${base}/#`);
      return r.size >= 9 ? r : undefined;
    }, 'the state to be restored');
    expect(state.get(`${base}/availability`)).toBe('online');
    expect(state.get(`${base}/volume`)).toBe('33');
    expect(state.get(`${base}/mute`)).toBe('ON');
    expect((await retainedMessages(broker.url, discovery)).size).toBe(entities);

    // And it listens again: subscriptions are renewed on the new connection.
    const probe = await Probe.connect(broker.url);
    cleanup.push(() => probe.close());
    await probe.publish(`${base}/volume/set`, '41');
    await eventually(() => commands[0], 'a command after the restart');
    expect(commands).toEqual([{ type: 'volume', volume: 41 }]);
  });

  it('starts the backoff from the bottom only after a connection that lasted', async () => {
    for (const [stableMs, expectReset] of [
      [0, true],
      [3_600_000, false],
    ] as const) {
      const broker = await absentBroker();
      const { bridge, statuses } = makeBridge(broker.url, { stableMs });
      await bridge.start();
      await eventually(() => (downs(statuses).length >= 3 ? true : undefined), 'failures');
      await broker.restart();
      expect(await bridge.waitUntilUp(15_000)).toBe(true);
      const before = downs(statuses).length;
      await broker.stop();
      const lost = await eventually(() => downs(statuses)[before], 'the lost connection');
      if (expectReset) {
        expect(lost.attempt).toBe(1);
        expect(lost.retryInMs).toBeLessThan(INITIAL_MS);
      } else {
        expect(lost.attempt).toBe(before + 1);
      }
      await bridge.stop();
    }
  });

  it('stops retrying on stop()', async () => {
    // Retries run on the bridge's clock: a manual one fires them when the test says,
    // so "no retry after stop" is checked without sleeping.
    const clock = new ManualClock();
    const broker = await absentBroker();
    const { bridge, statuses, clientOptions } = makeBridge(broker.url, { clock });
    await bridge.start();
    await eventually(() => (downs(statuses).length >= 1 ? true : undefined), 'a failure');
    clock.advanceBy(MAX_MS);
    await eventually(() => (downs(statuses).length >= 2 ? true : undefined), 'two failures');
    await bridge.stop();
    const attempts = clientOptions.length;
    expect(attempts).toBe(2);
    clock.advanceBy(10 * MAX_MS);
    expect(clientOptions.length).toBe(attempts);
    expect(bridge.status).toEqual({ status: 'disabled', cause: 'stopped' });
  });
});
