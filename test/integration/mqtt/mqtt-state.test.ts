import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';
import { MqttBridge } from '../../../src/mqtt/index.js';
import type { DeviceSnapshot } from '../../../src/shared/device-status.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { Mosquitto, Probe, retainedMessages } from '../../helpers/mosquitto.js';

let broker: Mosquitto;
const cleanup: Array<() => Promise<void>> = [];
let seq = 0;

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

afterAll(async () => {
  await broker?.dispose();
});

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

async function setup() {
  const id = `state-${++seq}`;
  const base = `earshot/${id}`;
  const bridge = new MqttBridge(
    mqttSection.parse({ url: broker.url, discovery: false }),
    { id, name: 'Test speaker', firmwareVersion: '0.1.0' },
    silentLogger(),
  );
  const probe = await Probe.connect(broker.url);
  await probe.subscribe(`${base}/#`);
  cleanup.push(
    () => bridge.stop(),
    () => probe.close(),
  );
  return { bridge, probe, base };
}

describe('MQTT state publication', () => {
  it('leaves the latest retained values for a late subscriber after a sequence of snapshots', async () => {
    const { bridge, probe, base } = await setup();
    await bridge.start();
    await bridge.waitUntilUp(10_000);
    const wake = { time: '2025-03-01T08:00:00.000Z', keyword: 'alexa', score: 0.87 };
    const counters = { wakes: 1, uploads: 0, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 };
    const sequence: DeviceSnapshot[] = [
      snapshot(),
      snapshot({ state: 'listening', lastWake: wake, counters }),
      snapshot({ state: 'thinking', lastWake: wake, counters: { ...counters, uploads: 1 } }),
      snapshot({ state: 'speaking', lastWake: wake, counters: { ...counters, uploads: 1 } }),
      snapshot({
        state: 'muted',
        muted: true,
        volume: 35,
        link: { status: 'down', cause: 'heartbeat timeout' },
        lastWake: wake,
        counters: { ...counters, uploads: 1, falseWakes: 1 },
        dontSaveRecordings: false,
        problems: [
          { part: 'gpio', code: 'E_GPIO_SIMULATED', message: 'running on simulated pins' },
        ],
      }),
    ];
    for (const s of sequence) bridge.update(s);
    await probe.waitFor(
      (m) => m.topic === `${base}/problems` && m.payload.includes('gpio'),
      'the last snapshot',
    );

    const retained = await retainedMessages(broker.url, `${base}/#`);
    expect(Object.fromEntries(retained)).toEqual({
      [`${base}/availability`]: 'online',
      [`${base}/state`]: 'muted',
      [`${base}/listening`]: 'OFF',
      [`${base}/mute`]: 'ON',
      [`${base}/volume`]: '35',
      [`${base}/dont_save_recordings`]: 'OFF',
      [`${base}/link`]: '{"status":"down","cause":"heartbeat timeout"}',
      [`${base}/wake/last`]: '{"time":"2025-03-01T08:00:00.000Z","keyword":"alexa","score":0.87}',
      [`${base}/counters`]:
        '{"wakes":1,"uploads":1,"uploadFailures":0,"falseWakes":1,"droppedFrames":0}',
      [`${base}/problems`]:
        '{"count":1,"problems":[{"part":"gpio","code":"E_GPIO_SIMULATED","message":"running on simulated pins"}]}',
    });

    // The live subscriber saw every state in order, and the listening flag followed it.
    expect(probe.on(`${base}/state`).map((m) => m.payload)).toEqual([
      'idle',
      'listening',
      'thinking',
      'speaking',
      'muted',
    ]);
    expect(probe.on(`${base}/listening`).map((m) => m.payload)).toEqual(['OFF', 'ON', 'OFF']);
  });

  it('publishes only what changed', async () => {
    const { bridge, probe, base } = await setup();
    await bridge.start();
    await bridge.waitUntilUp(10_000);
    bridge.update(snapshot());
    await probe.waitFor((m) => m.topic === `${base}/problems`, 'the first snapshot');
    const before = probe.messages.length;

    bridge.update(snapshot()); // identical: nothing to say
    bridge.update(snapshot({ volume: 81 }));
    bridge.update(snapshot({ volume: 81 }));
    bridge.update(snapshot({ volume: 82 }));
    await probe.waitFor((m) => m.topic === `${base}/volume` && m.payload === '82', 'volume 82');
    await probe.settle();

    const after = probe.messages.slice(before).filter((m) => m.topic.startsWith(base));
    expect(after.map((m) => `${m.topic.slice(base.length + 1)}=${m.payload}`)).toEqual([
      'volume=81',
      'volume=82',
    ]);
  });

  it('publishes state recorded before the connection once it is up', async () => {
    const { bridge, probe, base } = await setup();
    bridge.update(snapshot({ volume: 12 }));
    bridge.update(snapshot({ volume: 13, state: 'offline' }));
    expect(bridge.pendingCount).toBe(8);
    await bridge.start();
    await probe.waitFor((m) => m.topic === `${base}/state`, 'the state');
    await probe.settle();
    expect(probe.on(`${base}/volume`).map((m) => m.payload)).toEqual(['13']);
    expect(probe.on(`${base}/state`).map((m) => m.payload)).toEqual(['offline']);
    expect(bridge.pendingCount).toBe(0);
  });
});
