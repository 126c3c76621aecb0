import { connect as mqttConnect } from 'mqtt';
import type { MqttConfig } from '../config/sections/mqtt.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import { connectionOptions, defaultClientId, describeBroker } from './connection.js';
import { defaultBaseTopic, mqttTopics } from './topics.js';

/**
 * Reads the ledger head this device last published (retained `<base>/ledger/head`) from
 * the broker: `earshot ledger verify --anchor mqtt`. Resolves to the payload, or
 * undefined when the broker holds none.
 */
export async function readPublishedHead(
  config: MqttConfig,
  deviceId: string,
  timeoutMs = config.connectTimeoutMs + 5000,
): Promise<string | undefined> {
  const url = config.url;
  if (url === undefined) {
    throw new EarshotError('E_MQTT_OFF', 'mqtt.url is not set', {
      hint: 'the head is read from the broker the device publishes to',
    });
  }
  const topic = mqttTopics(config.baseTopic ?? defaultBaseTopic(deviceId)).state.ledgerHead;
  const options = await connectionOptions(config, deviceId, topic);
  options.clientId = `${config.clientId ?? defaultClientId(deviceId)}-verify`;
  delete options.will;
  const client = mqttConnect(url, options);
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Connected and subscribed, yet nothing retained: no head was ever published.
        if (client.connected) resolve(undefined);
        else reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      client.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      client.on('message', (t, payload, packet) => {
        if (t !== topic || !packet.retain) return;
        clearTimeout(timer);
        resolve(payload.toString('utf8').slice(0, 200));
      });
      client.on('connect', () => {
        client.subscribe(topic, { qos: 1 }, (err) => {
          if (err) reject(err);
          // A retained message comes right after the SUBACK, or never.
          else setTimeout(() => resolve(undefined), Math.min(2000, timeoutMs)).unref();
        });
      });
    });
  } catch (err) {
    throw new EarshotError(
      'E_MQTT_READ',
      `cannot read the published ledger head from ${describeBroker(url)}: ${errorMessage(err)}`,
    );
  } finally {
    client.end(true);
  }
}
