import { connect as mqttConnect, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/sections/mqtt.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { connectionOptions, defaultClientId, describeBroker } from './connection.js';
import { discoveryTopics, type DeviceInfo } from './discovery.js';
import { defaultBaseTopic, mqttTopics } from './topics.js';

export interface RemoveOptions {
  /** Also clear the retained state topics (`<base>/state`, `<base>/availability` …). */
  clearState?: boolean;
  /** Give up after this long in total. */
  timeoutMs?: number;
}

/**
 * One-shot removal for the CLI (`--remove`): connect, publish an empty retained message
 * on every discovery topic of this device (Home Assistant then deletes the entities) and,
 * when asked, on its retained state topics, wait for the broker's acknowledgements,
 * disconnect. Unlike the bridge this is a foreground tool, so it does throw: an
 * EarshotError `E_MQTT_OFF` (no url) or `E_MQTT_REMOVE` (broker unreachable, timeout).
 *
 * Returns the topics cleared.
 */
export async function removeFromBroker(
  config: MqttConfig,
  device: DeviceInfo,
  log: Logger,
  options: RemoveOptions = {},
): Promise<string[]> {
  const url = config.url;
  if (url === undefined) {
    throw new EarshotError('E_MQTT_OFF', 'mqtt.url is not set', {
      hint: 'set mqtt.url to the broker that holds the discovery configs',
    });
  }
  const topics = mqttTopics(config.baseTopic ?? defaultBaseTopic(device.id));
  const clear = discoveryTopics(config.discoveryPrefix, device.id, topics);
  if (options.clearState) {
    const { error: _notRetained, ...retained } = topics.state;
    clear.push(...Object.values(retained));
  }
  const timeoutMs = options.timeoutMs ?? config.connectTimeoutMs + 5000;
  const clientOptions = await connectionOptions(config, device.id, topics.state.availability);
  // Its own client id: reusing the daemon's would disconnect a running speaker. No will:
  // this tool going away says nothing about the speaker.
  clientOptions.clientId = `${config.clientId ?? defaultClientId(device.id)}-remove`;
  delete clientOptions.will;

  const client = mqttConnect(url, clientOptions);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await connected(client);
        await Promise.all(
          clear.map((topic) => client.publishAsync(topic, '', { qos: 1, retain: true })),
        );
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    client.end(true);
    throw new EarshotError(
      'E_MQTT_REMOVE',
      `could not clear discovery on ${describeBroker(url)}: ${errorMessage(err)}`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
  // Everything is acknowledged, so a clean disconnect cannot wait on anything.
  await client.endAsync().catch(() => undefined);
  log.info({ broker: describeBroker(url), topics: clear.length }, 'MQTT discovery removed');
  return clear;
}

/** Resolves on CONNACK, rejects on the first error or close before it. */
function connected(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    // Stays attached: mqtt.js emits `error` later too, and an unheard one would throw.
    client.on('error', (err) => {
      lastError = err;
    });
    client.once('connect', () => resolve());
    client.once('close', () => reject(lastError ?? new Error('connection closed')));
  });
}
