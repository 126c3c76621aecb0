import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';
import {
  discoveryTopics,
  MqttBridge,
  mqttTopics,
  removeFromBroker,
  type DeviceInfo,
} from '../../../src/mqtt/index.js';
import type { DeviceCommand, DeviceSnapshot } from '../../../src/shared/device-status.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { eventually, Mosquitto, Probe, retainedMessages } from '../../helpers/mosquitto.js';

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

const SNAPSHOT = {
  state: 'idle',
  muted: false,
  volume: 50,
  link: { status: 'up' },
  counters: { wakes: 0, uploads: 0, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 },
  dontSaveRecordings: true,
  problems: [],
} as const satisfies DeviceSnapshot;

const TOPIC =
  /^homeassistant\/(binary_sensor|button|notify|number|select|sensor|switch)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/config$/;
const REQUIRED = [
  'switch/mute',
  'sensor/state',
  'number/volume',
  'binary_sensor/listening',
  'button/talk',
  'switch/dont_save_recordings',
  'sensor/last_wake_score',
];

function makeBridge(over: Record<string, unknown> = {}) {
  const device: DeviceInfo = {
    id: `disco-${++seq}`,
    name: 'Hall speaker',
    firmwareVersion: '1.2.3',
    wakeWords: ['alexa', 'hey_jarvis'],
  };
  const bridge = new MqttBridge(
    mqttSection.parse({ url: broker.url, ...over }),
    device,
    silentLogger(),
  );
  cleanup.push(() => bridge.stop());
  const filter = `homeassistant/+/${device.id}/+/config`;
  return { bridge, device, filter };
}

/** How many configs a device publishes. */
const ENTITIES = discoveryTopics('homeassistant', 'x', mqttTopics('earshot/x')).length;

function configsSeen(probe: Probe): number {
  return probe.messages.filter((m) => m.topic.endsWith('/config')).length;
}

async function startAndSettle(bridge: MqttBridge, probe: Probe, filter: string) {
  await probe.subscribe(filter);
  await bridge.start();
  await eventually(() => (configsSeen(probe) >= ENTITIES ? true : undefined), 'discovery');
  await bridge.waitUntilUp(10_000);
}

describe('Home Assistant discovery on a broker', () => {
  it('leaves one valid retained config per entity, with unique ids', async () => {
    const { bridge, device, filter } = makeBridge();
    await bridge.start();
    const configs = await eventually(async () => {
      const r = await retainedMessages(broker.url, filter);
      return r.size === ENTITIES ? r : undefined;
    }, 'retained discovery configs');
    await bridge.stop();
    const final = await retainedMessages(broker.url, filter);
    expect(final.size).toBe(configs.size);

    const uniqueIds = new Set<string>();
    const found: string[] = [];
    for (const [topic, payload] of final) {
      const m = TOPIC.exec(topic);
      expect(m, topic).not.toBeNull();
      expect(m![2]).toBe(device.id);
      const config = JSON.parse(payload) as Record<string, unknown>;
      found.push(`${m![1]}/${m![3]}`);
      expect(typeof config.unique_id).toBe('string');
      uniqueIds.add(String(config.unique_id));
      expect(config.default_entity_id).toMatch(new RegExp(`^${m![1]}\\.[a-z0-9_]+$`));
      expect(config.availability_topic).toBe(`earshot/${device.id}/availability`);
      expect(config.device).toMatchObject({
        identifiers: [expect.any(String)],
        name: 'Hall speaker',
        model: expect.any(String),
        manufacturer: expect.any(String),
        sw_version: '1.2.3',
      });
      // Buttons and notify only take commands; everything else shows a state.
      if (m![1] !== 'button' && m![1] !== 'notify') {
        expect(String(config.state_topic)).toMatch(`earshot/${device.id}/`);
      }
      if (['switch', 'number', 'button', 'notify'].includes(m![1]!)) {
        expect(String(config.command_topic)).toMatch(`earshot/${device.id}/`);
      }
    }
    expect(uniqueIds.size).toBe(final.size);
    expect(found).toEqual(expect.arrayContaining(REQUIRED));
  });

  it('republishes discovery when Home Assistant announces itself online', async () => {
    const { bridge, device, filter } = makeBridge();
    const probe = await Probe.connect(broker.url);
    cleanup.push(() => probe.close());
    await startAndSettle(bridge, probe, filter);
    await probe.settle();
    const first = configsSeen(probe);
    expect(first).toBe(ENTITIES);
    const commands: DeviceCommand[] = [];
    bridge.on('command', (c) => commands.push(c));
    await probe.subscribe(`earshot/${device.id}/error`);

    // HA's last will ("offline") is no reason to republish; a bad command marks the spot:
    // its error answer goes out after anything the bridge did about "offline".
    await probe.publish('homeassistant/status', 'offline');
    await probe.publish(`earshot/${device.id}/volume/set`, 'marker');
    await probe.waitFor((m) => m.topic.endsWith('/error'), 'the marker answer');
    expect(configsSeen(probe)).toBe(first);

    await probe.publish('homeassistant/status', 'online');
    await eventually(
      () => (configsSeen(probe) >= 2 * first ? true : undefined),
      'a second round of discovery',
    );
    const again = probe.messages.filter((m) => m.topic.endsWith('/config')).slice(first);
    expect(new Set(again.map((m) => m.topic)).size).toBe(first);
    expect(again.length).toBeGreaterThan(0);
    expect(again.every((m) => JSON.parse(m.payload).unique_id)).toBe(true);
    expect(commands).toEqual([]);
  });

  it('removeDiscovery() clears every config, and HA coming online does not bring them back', async () => {
    const { bridge, device, filter } = makeBridge();
    const probe = await Probe.connect(broker.url);
    cleanup.push(() => probe.close());
    await startAndSettle(bridge, probe, filter);
    const topics = [...new Set(probe.messages.map((m) => m.topic))];
    expect(topics).toHaveLength(ENTITIES);

    await bridge.removeDiscovery();
    await probe.settle();
    expect((await retainedMessages(broker.url, filter)).size).toBe(0);
    for (const t of topics) expect(probe.on(t).at(-1)?.payload, t).toBe('');

    await probe.subscribe(`earshot/${device.id}/error`);
    await probe.publish('homeassistant/status', 'online');
    await probe.publish(`earshot/${device.id}/volume/set`, 'marker');
    await probe.waitFor((m) => m.topic.endsWith('/error'), 'the marker answer');
    expect((await retainedMessages(broker.url, filter)).size).toBe(0);
  });

  it('publishes no discovery when it is turned off', async () => {
    const { bridge, device, filter } = makeBridge({ discovery: false });
    bridge.update(SNAPSHOT);
    await bridge.start();
    // The recorded state goes out after anything else published on connect (discovery
    // included, were it on), and the broker handles one connection's packets in order.
    await eventually(async () => {
      const r = await retainedMessages(broker.url, `earshot/${device.id}/problems`);
      return r.size > 0 ? true : undefined;
    }, 'the state');
    expect((await retainedMessages(broker.url, filter)).size).toBe(0);
  });

  it('removeFromBroker() clears discovery and retained state for the CLI', async () => {
    const { bridge, device, filter } = makeBridge();
    const config = mqttSection.parse({ url: broker.url });
    await bridge.start();
    await bridge.waitUntilUp(10_000);
    bridge.update(SNAPSHOT);
    const base = `earshot/${device.id}/#`;
    await eventually(
      async () => ((await retainedMessages(broker.url, base)).size >= 9 ? true : undefined),
      'state',
    );
    await bridge.stop();

    const cleared = await removeFromBroker(config, device, silentLogger(), { clearState: true });
    expect(cleared.length).toBeGreaterThan(REQUIRED.length);
    expect((await retainedMessages(broker.url, filter)).size).toBe(0);
    expect((await retainedMessages(broker.url, base)).size).toBe(0);
  });

  it('removeFromBroker() fails clearly without a URL or a broker', async () => {
    const device = { id: 'nobody', name: 'x', firmwareVersion: '0' };
    await expect(
      removeFromBroker(mqttSection.parse({}), device, silentLogger()),
    ).rejects.toMatchObject({
      code: 'E_MQTT_OFF',
    });
    const closed = await Mosquitto.start();
    const url = closed.url;
    await closed.dispose();
    await expect(
      removeFromBroker(mqttSection.parse({ url }), device, silentLogger(), { timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: 'E_MQTT_REMOVE', message: /ECONNREFUSED/ });
  });
});
