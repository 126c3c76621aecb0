import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';
import { MqttBridge } from '../../../src/mqtt/index.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { eventually, Mosquitto, retainedMessages } from '../../helpers/mosquitto.js';

// The module mqtt.js writes its packets with (one copy in node_modules): its table of
// pre-built message-id Buffers is filled on the first packet unless a client asks not to.
const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as {
  cache: Record<number, Buffer>;
};

let broker: Mosquitto;

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterAll(async () => {
  await broker?.dispose();
});

describe('MQTT packet writing', () => {
  it('publishes with QoS 1 without building the 65,536-entry message-id table', async () => {
    expect(Object.keys(numbers.cache)).toHaveLength(0);
    const config = mqttSection.parse({ url: broker.url });
    const bridge = new MqttBridge(
      config,
      { id: 'number-cache', name: 'Test speaker', firmwareVersion: '0.1.0' },
      silentLogger(),
    );
    try {
      await bridge.start();
      expect(await bridge.waitUntilUp(10_000)).toBe(true);
      // The retained "online" and the discovery configs are QoS 1 publishes: each one
      // carries a message id, which is where the table would be used.
      await eventually(async () => {
        const r = await retainedMessages(broker.url, 'earshot/number-cache/availability');
        return r.get('earshot/number-cache/availability') === 'online' ? true : undefined;
      }, 'a retained "online"');
    } finally {
      await bridge.stop();
    }
    expect(Object.keys(numbers.cache)).toHaveLength(0);
  });
});
