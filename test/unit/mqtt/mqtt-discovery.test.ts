import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/mqtt/commands.js';
import {
  discoveryMessages,
  discoveryTopics,
  type DeviceInfo,
  type DiscoveryMessage,
} from '../../../src/mqtt/discovery.js';
import { renderState } from '../../../src/mqtt/state-payloads.js';
import { mqttTopics } from '../../../src/mqtt/topics.js';
import type { DeviceSnapshot } from '../../../src/shared/device-status.js';

const device: DeviceInfo = {
  id: 'living-room',
  name: 'Living room',
  firmwareVersion: '0.1.0',
  wakeWords: ['alexa', 'hey_jarvis', 'custom word'],
};
const topics = mqttTopics('earshot/living-room');
const messages = discoveryMessages('homeassistant', device, topics);

const snapshot: DeviceSnapshot = {
  state: 'idle',
  muted: false,
  volume: 60,
  link: { status: 'up' },
  lastWake: { time: '2025-01-01T10:00:00.000Z', keyword: 'alexa', score: 0.91 },
  counters: { wakes: 3, uploads: 2, uploadFailures: 1, falseWakes: 1, droppedFrames: 0 },
  dontSaveRecordings: true,
  problems: [{ part: 'gpio', code: 'E_GPIO_SIMULATED', message: 'no GPIO chip' }],
  ledgerHead: { seq: 7, hash: 'a'.repeat(64) },
  destination: { protocol: 'home-assistant', host: 'ha.lan:8123', retentionSent: false },
  wakeWord: 'alexa',
};

function entity(component: string, key: string): Record<string, unknown> {
  const m = messages.find((x) => x.component === component && x.key === key);
  if (!m) throw new Error(`no ${component} ${key}`);
  return m.config;
}

/** Discovery payloads travel as JSON: check what HA would actually parse. */
function wire(m: DiscoveryMessage): Record<string, unknown> {
  return JSON.parse(JSON.stringify(m.config)) as Record<string, unknown>;
}

describe('Home Assistant discovery configs', () => {
  it('has the entities the speaker promises', () => {
    const have = messages.map((m) => `${m.component}.${m.key}`);
    expect(have).toEqual(
      expect.arrayContaining([
        'switch.mute',
        'sensor.state',
        'number.volume',
        'binary_sensor.listening',
        'button.talk',
        'switch.dont_save_recordings',
        'sensor.last_wake_score',
        'sensor.link',
        'notify.announce',
        'sensor.destination',
        'select.wake_word',
      ]),
    );
  });

  it('uses <prefix>/<component>/<node_id>/<object_id>/config topics, one per entity', () => {
    const pattern =
      /^homeassistant\/(binary_sensor|button|notify|number|select|sensor|switch)\/living-room\/[a-z0-9_]+\/config$/;
    for (const m of messages) {
      expect(m.topic).toMatch(pattern);
      expect(m.topic).toBe(`homeassistant/${m.component}/living-room/${m.key}/config`);
    }
    expect(new Set(messages.map((m) => m.topic)).size).toBe(messages.length);
    expect(discoveryTopics('homeassistant', device.id, topics)).toEqual(
      messages.map((m) => m.topic),
    );
  });

  it('gives every entity the fields HA needs, with unique ids', () => {
    for (const m of messages) {
      const c = wire(m);
      expect(c.name, m.topic).toEqual(expect.any(String));
      expect(c.unique_id, m.topic).toBe(`earshot_living_room_${m.key}`);
      // Entity ids allow lower-case letters, digits and "_" only.
      expect(c.default_entity_id, m.topic).toBe(`${m.component}.living_room_${m.key}`);
      expect(c).not.toHaveProperty('object_id');
      expect(c.availability_topic).toBe('earshot/living-room/availability');
      expect(c.payload_available).toBe('online');
      expect(c.payload_not_available).toBe('offline');
      expect(c.device).toEqual({
        identifiers: ['earshot_living_room'],
        name: 'Living room',
        model: 'earshot',
        manufacturer: 'earshot',
        sw_version: '0.1.0',
      });
      expect(c.origin).toEqual({ name: 'earshot', sw_version: '0.1.0' });
      // Names must not repeat the device name (HA strips it and warns).
      expect(String(c.name).startsWith(device.name)).toBe(false);
    }
    const ids = messages.map((m) => m.config.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    const entityIds = messages.map((m) => m.config.default_entity_id);
    expect(new Set(entityIds).size).toBe(entityIds.length);
  });

  it('has the component-specific fields', () => {
    for (const m of messages) {
      const c = m.config;
      switch (m.component) {
        case 'switch':
          expect(c).toMatchObject({ payload_on: 'ON', payload_off: 'OFF' });
          expect(c.state_topic).toEqual(expect.any(String));
          expect(c.command_topic).toEqual(expect.any(String));
          break;
        case 'number':
          expect(c.command_topic).toEqual(expect.any(String));
          expect(c.state_topic).toEqual(expect.any(String));
          break;
        case 'button':
          expect(c.command_topic).toEqual(expect.any(String));
          expect(c.payload_press).toBe('PRESS');
          expect(c).not.toHaveProperty('state_topic');
          break;
        case 'sensor':
        case 'binary_sensor':
          expect(c.state_topic).toEqual(expect.any(String));
          expect(c).not.toHaveProperty('command_topic');
          break;
      }
    }
    expect(entity('number', 'volume')).toMatchObject({
      min: 0,
      max: 100,
      step: 1,
      unit_of_measurement: '%',
      state_topic: 'earshot/living-room/volume',
      command_topic: 'earshot/living-room/volume/set',
    });
    expect(entity('sensor', 'state')).toMatchObject({ device_class: 'enum' });
    expect(entity('sensor', 'state').options).toContain('listening');
    expect(entity('switch', 'dont_save_recordings')).toMatchObject({ entity_category: 'config' });
    expect(entity('select', 'wake_word')).toMatchObject({
      options: ['alexa', 'hey_jarvis', 'custom word'],
      state_topic: 'earshot/living-room/wake_word',
      command_topic: 'earshot/living-room/wake_word/set',
      entity_category: 'config',
    });
  });

  it('offers no wake-word select for an engine that cannot switch', () => {
    const plain = discoveryMessages('homeassistant', { ...device, wakeWords: [] }, topics);
    expect(plain.some((m) => m.component === 'select')).toBe(false);
    // Removal clears it all the same: an earlier configuration may have offered it.
    expect(discoveryTopics('homeassistant', device.id, topics)).toContain(
      'homeassistant/select/living-room/wake_word/config',
    );
  });

  it('reports the wake word in use as one of the options', () => {
    const rendered = new Map(renderState(snapshot, topics.state).map((m) => [m.topic, m.payload]));
    expect(entity('select', 'wake_word').options).toContain(rendered.get(topics.state.wakeWord));
  });

  it('sends, from every command entity, a payload the bridge accepts', () => {
    const sent: Array<[string, string]> = [];
    for (const m of messages) {
      const c = m.config;
      if (typeof c.command_topic !== 'string') continue;
      if (m.component === 'switch') {
        sent.push(
          [c.command_topic, String(c.payload_on)],
          [c.command_topic, String(c.payload_off)],
        );
      } else if (m.component === 'button') {
        sent.push([c.command_topic, String(c.payload_press)]);
      } else if (m.component === 'number') {
        sent.push([c.command_topic, String(c.min)], [c.command_topic, String(c.max)]);
      } else if (m.component === 'select') {
        // HA's select publishes the chosen option as it is.
        for (const option of c.options as string[]) sent.push([c.command_topic, option]);
      } else if (m.component === 'notify') {
        // HA's notify publishes the message text as it is (mqtt/notify.py).
        sent.push([c.command_topic, 'Dinner is ready']);
      }
    }
    expect(sent.length).toBeGreaterThanOrEqual(9);
    for (const [topic, payload] of sent) {
      const r = parseCommand(topics.command, topic, Buffer.from(payload));
      expect(r.ok, `${topic} ${payload}: ${r.ok ? '' : r.reason}`).toBe(true);
    }
  });

  it('points every state topic at something the bridge publishes, with the templated keys', () => {
    const rendered = new Map(renderState(snapshot, topics.state).map((m) => [m.topic, m.payload]));
    for (const m of messages) {
      const c = m.config;
      for (const field of ['state_topic', 'json_attributes_topic'] as const) {
        if (c[field] === undefined) continue;
        expect(rendered.has(String(c[field])), `${m.key}.${field}`).toBe(true);
      }
      const template = c.value_template;
      if (typeof template !== 'string') continue;
      const key = /^\{\{ value_json\.(\w+) \}\}$/.exec(template)?.[1];
      expect(key, template).toBeDefined();
      const json = JSON.parse(rendered.get(String(c.state_topic)) ?? 'null') as Record<
        string,
        unknown
      >;
      expect(json[key!], `${m.key}: ${template}`).not.toBeUndefined();
    }
  });

  it('offers every state the enum sensors can show', () => {
    const rendered = new Map(renderState(snapshot, topics.state).map((m) => [m.topic, m.payload]));
    expect(entity('sensor', 'state').options).toContain(rendered.get(topics.state.state));
    expect(entity('sensor', 'link').options).toEqual(['disabled', 'connecting', 'up', 'down']);
  });

  it('follows a custom prefix and model', () => {
    const custom = discoveryMessages('ha', { ...device, model: 'respeaker-2mic' }, topics);
    expect(custom.length).toBeGreaterThan(0);
    expect(custom.every((m) => m.topic.startsWith('ha/'))).toBe(true);
    expect(custom[0]?.config.device).toMatchObject({ model: 'respeaker-2mic' });
  });
});
