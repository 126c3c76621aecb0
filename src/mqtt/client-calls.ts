import type { MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/**
 * Calls on an mqtt.js client, shaped for a bridge that must never throw into the device
 * or wait on the broker without a bound.
 */

/** Every message goes at QoS 1: the broker confirms it, and a lost one is sent again. */
export const QOS = 1;

/** Publishes; resolves when the broker acknowledged, never rejects (failures are logged). */
export function publishQuietly(
  client: MqttClient,
  log: Logger,
  topic: string,
  payload: string,
  retain: boolean,
): Promise<void> {
  return new Promise((resolve) => {
    client.publish(topic, payload, { qos: QOS, retain }, (err) => {
      // A lost publish is repaired on reconnect: the outbox republishes everything.
      if (err) log.debug({ topic, err: errorMessage(err) }, 'MQTT publish failed');
      resolve();
    });
  });
}

/** `promise`, or a rejection after `ms` on `clock`: a stopping bridge waits so long, no longer. */
export function withinDeadline<T>(clock: Clock, ms: number, promise: Promise<T>): Promise<T> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clock.clearTimeout(timer));
}

/** Drops a client for good: no more events reach the bridge, its socket is destroyed. */
export function discard(client: MqttClient): void {
  client.removeAllListeners();
  client.on('error', () => undefined);
  client.end(true);
}
