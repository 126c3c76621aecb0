/**
 * MQTT part: state and telemetry out, commands in, Home Assistant discovery and
 * availability. Imports only `shared/` and `config/`; the device wires it in.
 * Topic layout and payloads: README.md next to this file.
 */
export { MqttBridge } from './bridge.js';
export type {
  ConnectFn,
  MqttBridgeEvents,
  MqttBridgeOptions,
  MqttStatus,
  RejectedCommand,
} from './types.js';
export { parseCommand, type CommandResult } from './commands.js';
export { describeBroker, OFFLINE, ONLINE } from './connection.js';
export {
  discoveryMessages,
  discoveryTopics,
  type DeviceInfo,
  type DiscoveryMessage,
  type HaComponent,
} from './discovery.js';
export { readPublishedHead } from './ledger-anchor.js';
export { removeFromBroker, type RemoveOptions } from './remove.js';
export { renderState, type OutMessage } from './state-payloads.js';
export { defaultBaseTopic, haStatusTopic, mqttTopics, type MqttTopics } from './topics.js';
