import { readFile } from 'node:fs/promises';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config/sections/mqtt.js';
import type { ErrorCode } from '../shared/error-codes.js';
import { EarshotError, errorCode } from '../shared/errors.js';

/** Payloads of `<base>/availability`. */
export const ONLINE = 'online';
export const OFFLINE = 'offline';

export function defaultClientId(deviceId: string): string {
  return `earshot-${deviceId}`;
}

/** The broker URL without user info, path or query: safe for logs and status causes. */
export function describeBroker(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * mqtt.js options for one connection attempt. Read fresh for every attempt, so a renewed
 * certificate file is picked up by the next reconnect without a restart. Throws an
 * EarshotError (`E_MQTT_TLS_FILE`) naming the file that cannot be read.
 */
export async function connectionOptions(
  config: MqttConfig,
  deviceId: string,
  availabilityTopic: string,
): Promise<IClientOptions> {
  const options: IClientOptions = {
    clientId: config.clientId ?? defaultClientId(deviceId),
    // 3.1.1 is what every broker on a home network speaks (and all we need).
    protocolVersion: 4,
    // Clean start: the broker keeps nothing for us between connections (no backlog of
    // commands for a speaker that is off); we subscribe and republish on every connect.
    clean: true,
    keepalive: config.keepaliveSeconds,
    connectTimeout: config.connectTimeoutMs,
    // mqtt.js would retry at a fixed interval; the bridge drives reconnects with
    // exponential backoff and full jitter instead.
    reconnectPeriod: 0,
    // mqtt.js would queue publishes made while offline, without bound. The bridge only
    // publishes while connected and keeps its own bounded outbox (latest value per topic)
    // for the rest; this closes the QoS 0 queue too, should anything publish at QoS 0.
    queueQoSZero: false,
    resubscribe: false,
    // mqtt-packet would otherwise fill a table of 65,536 two-byte Buffers (one per
    // message id) on the first packet written and keep it for the life of the process:
    // about 7 MiB of JS heap (`npm run bench:daemon`). A speaker writes a few packets a
    // minute, so the id is encoded when it is written. The setting is process-wide in
    // mqtt-packet; every client here is built with these options.
    writeCache: false,
    will: {
      topic: availabilityTopic,
      payload: Buffer.from(OFFLINE),
      qos: 1,
      retain: true,
    },
  };
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (config.ca !== undefined) options.ca = await readPem(config.ca, 'mqtt.ca');
  if (config.cert !== undefined) options.cert = await readPem(config.cert, 'mqtt.cert');
  if (config.key !== undefined) options.key = await readPem(config.key, 'mqtt.key');
  if (config.url?.startsWith('mqtts:')) options.rejectUnauthorized = true;
  return options;
}

async function readPem(path: string, key: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new EarshotError(
      'E_MQTT_TLS_FILE',
      `cannot read ${key} file ${path}: ${errorCode(err)}`,
      {
        cause: err,
        hint: `check that ${path} exists and is readable by the earshot user`,
      },
    );
  }
}

/**
 * What makes a broker connection weak, in words, or nothing: no TLS (anyone on the
 * network reads the state and may send commands), no credentials (anyone may).
 */
export function brokerWeakness(config: MqttConfig): string | undefined {
  const weak: string[] = [];
  if (!config.url?.startsWith('mqtts:')) weak.push('no TLS (mqtt://)');
  if (config.username === undefined && config.cert === undefined) {
    weak.push('no credentials (mqtt.username or a client certificate)');
  }
  return weak.length > 0 ? weak.join(' and ') : undefined;
}

/**
 * The weakness of a configured broker connection as a problem for the device's list
 * (MQTT, doctor, systemd STATUS), or nothing when MQTT is off or the connection is sound.
 */
export function brokerInsecurity(
  config: MqttConfig,
): { code: ErrorCode; message: string } | undefined {
  if (config.url === undefined) return undefined;
  const weak = brokerWeakness(config);
  if (!weak) return undefined;
  return {
    code: 'E_MQTT_INSECURE',
    message: `the broker connection has ${weak}: others on the network can read the speaker's state and send it commands`,
  };
}
