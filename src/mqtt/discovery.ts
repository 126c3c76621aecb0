import { DEVICE_STATES, type LinkStatusName } from '../shared/device-status.js';
import { OFF, ON } from './state-payloads.js';
import type { MqttTopics } from './topics.js';

/**
 * Home Assistant MQTT discovery: one retained config per entity at
 * `<prefix>/<component>/<node_id>/<object_id>/config`, with node_id = the device id and
 * object_id = the entity key. All entities share one `device` block, so HA groups them
 * under one device, and one availability topic, so they all go unavailable together when
 * the speaker's last will fires.
 *
 * Entity ids are suggested with `default_entity_id` (`switch.kitchen_mute`). The older
 * `object_id` option is deprecated since HA 2025.10 and is not sent: HA versions that
 * predate `default_entity_id` drop unknown keys and derive the id from the names instead.
 */

/** Who this speaker is, for the device registry. */
export interface DeviceInfo {
  /** `device.id` from the config: lower-case letters, digits, `-`, `_`. */
  id: string;
  /** Friendly name shown in Home Assistant. */
  name: string;
  /** earshot's version, shown as the device's software version. */
  firmwareVersion: string;
  /** Hardware model, e.g. the board profile; default `earshot`. */
  model?: string;
  /**
   * The wake words the owner may choose from (Home Assistant's `Wake word` select);
   * without them (an engine that cannot switch) there is no such entity.
   */
  wakeWords?: readonly string[];
}

export type HaComponent =
  'binary_sensor' | 'button' | 'notify' | 'number' | 'select' | 'sensor' | 'switch';

export interface DiscoveryMessage {
  topic: string;
  component: HaComponent;
  key: string;
  config: Record<string, unknown>;
}

interface EntitySpec {
  component: HaComponent;
  key: string;
  name: string;
  fields: Record<string, unknown>;
}

// A record, so the compiler insists on every link status being listed.
const LINK_STATUSES: Record<LinkStatusName, true> = {
  disabled: true,
  connecting: true,
  up: true,
  down: true,
};

function entities(topics: MqttTopics, wakeWords: readonly string[] | undefined): EntitySpec[] {
  const s = topics.state;
  const c = topics.command;
  const switchFields = { payload_on: ON, payload_off: OFF, state_on: ON, state_off: OFF };
  const counter = (key: string, name: string, field: string): EntitySpec => ({
    component: 'sensor',
    key,
    name,
    fields: {
      state_topic: s.counters,
      value_template: `{{ value_json.${field} }}`,
      state_class: 'total_increasing',
      entity_category: 'diagnostic',
      icon: 'mdi:counter',
    },
  });
  const wakeWord: EntitySpec[] = wakeWords?.length
    ? [
        {
          component: 'select',
          key: 'wake_word',
          name: 'Wake word',
          fields: {
            state_topic: s.wakeWord,
            command_topic: c.wakeWord,
            options: [...wakeWords],
            entity_category: 'config',
            icon: 'mdi:account-voice',
          },
        },
      ]
    : [];
  return [
    ...wakeWord,
    {
      component: 'switch',
      key: 'mute',
      name: 'Mute',
      fields: {
        state_topic: s.mute,
        command_topic: c.mute,
        ...switchFields,
        icon: 'mdi:microphone-off',
      },
    },
    {
      component: 'sensor',
      key: 'state',
      name: 'State',
      fields: {
        state_topic: s.state,
        device_class: 'enum',
        options: [...DEVICE_STATES],
        icon: 'mdi:state-machine',
      },
    },
    {
      component: 'number',
      key: 'volume',
      name: 'Volume',
      fields: {
        state_topic: s.volume,
        command_topic: c.volume,
        min: 0,
        max: 100,
        step: 1,
        mode: 'slider',
        unit_of_measurement: '%',
        icon: 'mdi:volume-high',
      },
    },
    {
      component: 'binary_sensor',
      key: 'listening',
      name: 'Listening',
      fields: {
        state_topic: s.listening,
        payload_on: ON,
        payload_off: OFF,
        icon: 'mdi:ear-hearing',
      },
    },
    {
      component: 'button',
      key: 'talk',
      name: 'Talk',
      fields: { command_topic: c.listen, payload_press: 'PRESS', icon: 'mdi:microphone-message' },
    },
    {
      component: 'button',
      key: 'stop',
      name: 'Stop',
      fields: { command_topic: c.stop, payload_press: 'PRESS', icon: 'mdi:stop-circle-outline' },
    },
    {
      component: 'button',
      key: 'false_wake',
      name: 'That was a false wake',
      fields: {
        command_topic: c.falseWake,
        payload_press: 'PRESS',
        icon: 'mdi:thumb-down-outline',
      },
    },
    {
      component: 'switch',
      key: 'dont_save_recordings',
      name: "Don't save recordings",
      fields: {
        state_topic: s.dontSaveRecordings,
        command_topic: c.dontSaveRecordings,
        ...switchFields,
        entity_category: 'config',
        icon: 'mdi:shield-lock-outline',
      },
    },
    {
      component: 'sensor',
      key: 'last_wake_score',
      name: 'Last wake score',
      fields: {
        state_topic: s.lastWake,
        value_template: '{{ value_json.score }}',
        json_attributes_topic: s.lastWake,
        state_class: 'measurement',
        suggested_display_precision: 2,
        icon: 'mdi:chart-bell-curve',
      },
    },
    {
      component: 'sensor',
      key: 'last_wake',
      name: 'Last wake',
      fields: {
        state_topic: s.lastWake,
        value_template: '{{ value_json.time }}',
        json_attributes_topic: s.lastWake,
        device_class: 'timestamp',
      },
    },
    {
      component: 'sensor',
      key: 'link',
      name: 'Cloud link',
      fields: {
        state_topic: s.link,
        value_template: '{{ value_json.status }}',
        json_attributes_topic: s.link,
        device_class: 'enum',
        options: Object.keys(LINK_STATUSES),
        entity_category: 'diagnostic',
        icon: 'mdi:cloud-outline',
      },
    },
    counter('wakes', 'Wakes', 'wakes'),
    counter('uploads', 'Uploads', 'uploads'),
    counter('upload_failures', 'Upload failures', 'uploadFailures'),
    counter('false_wakes', 'False wakes', 'falseWakes'),
    counter('dropped_frames', 'Dropped frames', 'droppedFrames'),
    {
      component: 'notify',
      key: 'announce',
      name: 'Announce',
      fields: { command_topic: c.announce, icon: 'mdi:bullhorn-outline' },
    },
    {
      component: 'sensor',
      key: 'destination',
      name: 'Cloud destination',
      fields: {
        state_topic: s.destination,
        value_template: '{{ value_json.protocol }}',
        json_attributes_topic: s.destination,
        entity_category: 'diagnostic',
        icon: 'mdi:cloud-lock-outline',
      },
    },
    {
      component: 'sensor',
      key: 'ledger_head',
      name: 'Ledger head',
      fields: {
        state_topic: s.ledgerHead,
        entity_category: 'diagnostic',
        icon: 'mdi:link-lock',
      },
    },
    {
      component: 'sensor',
      key: 'problems',
      name: 'Problems',
      fields: {
        state_topic: s.problems,
        value_template: '{{ value_json.count }}',
        json_attributes_topic: s.problems,
        entity_category: 'diagnostic',
        icon: 'mdi:alert-circle-outline',
      },
    },
  ];
}

/** Entity ids allow `[a-z0-9_]` only; device ids may also hold `-`. */
function slug(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/**
 * The identifier of this speaker's device block. Home Assistant's registry lists the
 * device it made from discovery with `identifiers: [["mqtt", <this>]]`.
 */
export function discoveryIdentifier(deviceId: string): string {
  return `earshot_${slug(deviceId)}`;
}

export function discoveryTopic(
  prefix: string,
  component: HaComponent,
  deviceId: string,
  key: string,
): string {
  return `${prefix}/${component}/${deviceId}/${key}/config`;
}

/** The discovery config of every entity, ready to publish retained as JSON. */
export function discoveryMessages(
  prefix: string,
  device: DeviceInfo,
  topics: MqttTopics,
): DiscoveryMessage[] {
  const id = slug(device.id);
  const deviceBlock = {
    identifiers: [discoveryIdentifier(device.id)],
    name: device.name,
    model: device.model ?? 'earshot',
    manufacturer: 'earshot',
    sw_version: device.firmwareVersion,
  };
  const origin = { name: 'earshot', sw_version: device.firmwareVersion };
  return entities(topics, device.wakeWords).map((e) => ({
    topic: discoveryTopic(prefix, e.component, device.id, e.key),
    component: e.component,
    key: e.key,
    config: {
      name: e.name,
      unique_id: `earshot_${id}_${e.key}`,
      default_entity_id: `${e.component}.${id}_${e.key}`,
      ...e.fields,
      availability_topic: topics.state.availability,
      payload_available: 'online',
      payload_not_available: 'offline',
      qos: 1,
      device: deviceBlock,
      origin,
    },
  }));
}

/**
 * Every discovery topic this device may use: what `removeDiscovery` clears (the wake-word
 * select included, whether or not this engine offers it now).
 */
export function discoveryTopics(prefix: string, deviceId: string, topics: MqttTopics): string[] {
  return entities(topics, ['any']).map((e) => discoveryTopic(prefix, e.component, deviceId, e.key));
}

/**
 * What the bridge publishes, retained, for discovery: `publish` the configs, `remove`
 * empty payloads that make Home Assistant delete the entities, `off` nothing.
 */
export type DiscoveryMode = 'publish' | 'remove' | 'off';

export function discoveryPublications(
  mode: DiscoveryMode,
  prefix: string,
  device: DeviceInfo,
  topics: MqttTopics,
): { topic: string; payload: string }[] {
  if (mode === 'publish') {
    return discoveryMessages(prefix, device, topics).map((m) => ({
      topic: m.topic,
      payload: JSON.stringify(m.config),
    }));
  }
  if (mode === 'remove') {
    return discoveryTopics(prefix, device.id, topics).map((topic) => ({ topic, payload: '' }));
  }
  return [];
}
