import { connect as mqttConnect, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/sections/mqtt.js';
import { Backoff } from '../shared/backoff.js';
import type { ErrorCode } from '../shared/error-codes.js';
import { guardPacketSize } from './packet-guard.js';
import { RealClock, type Clock, type TimerHandle } from '../shared/clock.js';
import type { DeviceSnapshot } from '../shared/device-status.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { CommandGate, rejectedCommand } from './command-gate.js';
import { discard, publishQuietly, QOS, withinDeadline } from './client-calls.js';
import {
  brokerInsecurity,
  connectionOptions,
  describeBroker,
  OFFLINE,
  ONLINE,
} from './connection.js';
import { discoveryPublications, type DeviceInfo, type DiscoveryMode } from './discovery.js';
import { Outbox } from './outbox.js';
import { renderState } from './state-payloads.js';
import { defaultBaseTopic, haStatusTopic, mqttTopics, type MqttTopics } from './topics.js';
import type {
  ConnectFn,
  MqttBridgeEvents,
  MqttBridgeOptions,
  MqttStatus,
  RejectedCommand,
} from './types.js';

/**
 * MQTT for the speaker: state out, commands in, Home Assistant discovery, availability.
 *
 * MQTT is optional and must never hold up the audio loop, so nothing here throws into the
 * caller or waits for the broker: `start()` returns at once and connects in the
 * background, `update()` only records the state (published now if connected, else on
 * reconnect), and every failure becomes a log line and a `status` event.
 */
export class MqttBridge extends TypedEmitter<MqttBridgeEvents> {
  readonly name = 'mqtt';
  readonly topics: MqttTopics;
  private readonly outbox = new Outbox();
  private readonly backoff: Backoff;
  private readonly connectFn: ConnectFn;
  private readonly stableMs: number;
  private readonly stopTimeoutMs: number;
  private readonly haStatus: string;
  private client: MqttClient | undefined;
  private running = false;
  /** Bumped by start() and stop(), so an attempt begun before a restart goes quietly away. */
  private generation = 0;
  private lastFailure: string | undefined;
  private retryTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private connectedAt: number | undefined;
  /** After `removeDiscovery()` the configs stay cleared, even across reconnects. */
  private discoveryMode: DiscoveryMode;
  private current: MqttStatus = { status: 'disabled' };
  private readonly gate: CommandGate;

  constructor(
    private readonly config: MqttConfig,
    private readonly device: DeviceInfo,
    private readonly log: Logger,
    options: MqttBridgeOptions = {},
  ) {
    super();
    this.topics = mqttTopics(config.baseTopic ?? defaultBaseTopic(device.id));
    this.haStatus = haStatusTopic(config.discoveryPrefix);
    this.discoveryMode = config.discovery ? 'publish' : 'off';
    this.backoff = new Backoff({
      initialMs: config.backoff.initialMs,
      maxMs: config.backoff.maxMs,
      ...(options.random ? { random: options.random } : {}),
    });
    this.connectFn = options.connect ?? mqttConnect;
    this.stableMs = options.stableMs ?? 10_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 2000;
    this.clock = options.clock ?? new RealClock();
    this.gate = new CommandGate({
      topics: this.topics.command,
      policy: options.policy ?? {
        allowUnmute: false,
        allowListen: false,
        allowSaveRecordings: false,
      },
      maxPer10s: config.maxCommandsPer10s,
      now: () => this.clock.now(),
    });
  }

  /**
   * What makes this broker connection weak, if anything: no TLS (anyone on the network
   * reads the state and may send commands), no credentials (anyone may). Logged at start
   * and listed in the device's problems.
   */
  get insecurity(): { code: ErrorCode; message: string } | undefined {
    return brokerInsecurity(this.config);
  }

  get status(): MqttStatus {
    return { ...this.current };
  }

  /** Topics whose latest value the broker has not been handed yet (bounded). */
  get pendingCount(): number {
    return this.outbox.pendingCount;
  }

  /** Starts connecting in the background. Resolves at once; never throws. */
  async start(): Promise<void> {
    if (this.running) return;
    const url = this.config.url;
    if (url === undefined) {
      this.log.info('MQTT is off (no mqtt.url)');
      this.setStatus({ status: 'disabled' });
      return;
    }
    this.running = true;
    this.generation += 1;
    this.lastFailure = undefined;
    this.log.info({ broker: describeBroker(url), base: this.topics.base }, 'MQTT starting');
    const weak = this.insecurity;
    if (weak) this.log.warn({ code: weak.code }, weak.message);
    void this.attempt(url, this.generation);
  }

  /** Publishes `offline`, disconnects cleanly (so the broker drops the will), stops retrying. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation += 1;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    this.connectedAt = undefined;
    if (client?.connected) {
      try {
        await this.bounded(
          client.publishAsync(this.topics.state.availability, OFFLINE, { qos: QOS, retain: true }),
        );
        await this.bounded(client.endAsync());
      } catch (err) {
        this.log.debug({ err: errorMessage(err) }, 'MQTT clean disconnect failed');
      }
    }
    if (client) discard(client);
    this.setStatus({ status: 'disabled', cause: 'stopped' });
    this.log.info('MQTT stopped');
  }

  /** Records the device's state; what changed is published now, or on reconnect. */
  update(snapshot: DeviceSnapshot): void {
    if (this.config.url === undefined) return;
    try {
      for (const message of renderState(snapshot, this.topics.state)) this.outbox.put(message);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'MQTT could not render the device state');
      return;
    }
    this.flush();
  }

  /**
   * Clears this device's Home Assistant discovery configs (empty retained payloads), so
   * HA removes the entities. Stays in effect for the life of the bridge: the HA birth
   * message no longer republishes them, and a reconnect clears them again. Resolves once
   * the broker has them, or at once when disconnected (they go out on connect).
   */
  async removeDiscovery(): Promise<void> {
    this.discoveryMode = 'remove';
    const client = this.client;
    if (!client?.connected) return;
    try {
      await this.bounded(Promise.all(this.publishDiscovery(client)));
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'MQTT discovery removal not confirmed');
    }
  }

  /** Resolves true once up (connected and subscribed), false after `timeoutMs` or when off. */
  waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.current.status === 'up') return Promise.resolve(true);
    if (this.config.url === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onStatus = (s: MqttStatus): void => {
        if (s.status !== 'up') return;
        this.clock.clearTimeout(timer);
        this.off('status', onStatus);
        resolve(true);
      };
      const timer = this.clock.setTimeout(() => {
        this.off('status', onStatus);
        resolve(false);
      }, timeoutMs);
      this.on('status', onStatus);
    });
  }

  private async attempt(url: string, generation: number): Promise<void> {
    this.retryTimer = undefined;
    if (generation !== this.generation) return;
    this.setStatus({ status: 'connecting', attempt: this.backoff.attempts });
    let client: MqttClient;
    try {
      const options = await connectionOptions(
        this.config,
        this.device.id,
        this.topics.state.availability,
      );
      if (generation !== this.generation) return;
      client = this.connectFn(url, options);
    } catch (err) {
      this.retryLater(url, generation, errorMessage(err), false);
      return;
    }
    this.client = client;
    let lastError: string | undefined;
    // A packet larger than allowed is refused when its header arrives (never buffered).
    const stream = (client as { stream?: import('node:stream').Duplex }).stream;
    if (stream) {
      guardPacketSize(stream, this.config.maxPacketBytes, (announced) => {
        lastError = `E_MQTT_TOO_LARGE: the broker sent a ${announced}-byte packet (max ${this.config.maxPacketBytes})`;
        this.log.warn(
          { code: 'E_MQTT_TOO_LARGE', bytes: announced },
          'MQTT packet too large: connection dropped',
        );
        stream.destroy();
      });
    }
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload, packet) =>
      this.onMessage(client, topic, payload, packet.retain),
    );
    client.on('error', (err) => {
      lastError = err.message;
      this.log.debug({ err: lastError }, 'MQTT client error');
    });
    client.on('close', () => {
      if (client !== this.client) return; // an old client, or stop() already took it
      this.client = undefined;
      discard(client);
      const wasUp = this.connectedAt !== undefined;
      if (wasUp && this.clock.now() - (this.connectedAt ?? 0) >= this.stableMs) {
        this.backoff.reset();
      }
      this.connectedAt = undefined;
      this.retryLater(url, generation, lastError ?? 'connection closed', wasUp);
    });
  }

  private retryLater(url: string, generation: number, cause: string, wasUp: boolean): void {
    if (generation !== this.generation) return;
    const previous = this.lastFailure;
    this.lastFailure = cause;
    const delay = this.backoff.next();
    this.setStatus({ status: 'down', cause, attempt: this.backoff.attempts, retryInMs: delay });
    // Loud once per outage (or when the reason changes), quiet for the retries after it.
    const level = wasUp || this.backoff.attempts === 1 || previous !== cause ? 'warn' : 'debug';
    this.log[level](
      { broker: describeBroker(url), cause, attempt: this.backoff.attempts, retryInMs: delay },
      wasUp ? 'MQTT connection lost' : 'MQTT broker unreachable',
    );
    this.retryTimer = this.clock.setTimeout(() => void this.attempt(url, generation), delay);
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    this.connectedAt = this.clock.now();
    this.lastFailure = undefined;
    const filters = [...this.topics.commandFilters];
    if (this.discoveryMode === 'publish') filters.push(this.haStatus);
    // "up" waits for the SUBACK: from then on a command sent to the speaker is heard.
    client.subscribe(filters, { qos: QOS }, (err, granted) => {
      if (client !== this.client || !client.connected) return;
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length > 0) {
        const reason = err ? errorMessage(err) : `refused: ${refused.join(', ')}`;
        this.log.warn({ reason }, 'MQTT subscribe failed; commands will not arrive (broker ACL?)');
      }
      this.setStatus({ status: 'up' });
      this.log.info({ base: this.topics.base }, 'MQTT connected');
    });
    void this.publish(client, this.topics.state.availability, ONLINE, true);
    this.publishDiscovery(client);
    // The broker may have lost every retained value (restart without persistence).
    this.outbox.markAllPending();
    this.flush();
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer, retained: boolean): void {
    if (client !== this.client) return;
    if (topic === this.haStatus) {
      // HA came (back) online and forgot everything: tell it again. A retained birth
      // arrives on every subscribe, right after we published anyway, so skip that one.
      const text = payload.toString('utf8').trim();
      if (text === ONLINE && !retained && this.discoveryMode === 'publish') {
        this.log.info('Home Assistant is online; republishing discovery');
        this.publishDiscovery(client);
      }
      return;
    }
    const verdict = this.gate.check(topic, payload, retained);
    switch (verdict.kind) {
      case 'drop':
        // A flood of commands costs one line, then nothing.
        if (verdict.warn) {
          this.log.warn(
            { code: 'E_PEER_FLOOD', max: this.config.maxCommandsPer10s },
            'MQTT commands over the limit are dropped',
          );
        }
        return;
      case 'reject':
        return this.reject(client, verdict.rejected);
      case 'accept':
        this.log.info({ topic, command: verdict.command }, 'MQTT command');
        this.emitSafely('command', verdict.command);
    }
  }

  /**
   * The device refused a command that parsed (an announcement the cloud cannot speak,
   * or one that comes while the speaker is busy): answered on the error topic with its
   * registry code, like a payload that did not parse.
   */
  reportRefused(topic: string, text: string, code: ErrorCode, reason: string): void {
    const rejected = rejectedCommand(topic, Buffer.from(text), reason, code);
    this.log.warn({ topic, code, reason }, 'MQTT command refused by the device');
    if (this.client?.connected) {
      void this.publish(this.client, this.topics.state.error, JSON.stringify(rejected), false);
    }
    this.emitSafely('rejected', rejected);
  }

  private reject(client: MqttClient, rejected: RejectedCommand): void {
    const { code, topic, payload, reason } = rejected;
    // Without `time`: pino writes its own `time` field on every line.
    this.log.warn({ code, topic, payload, reason }, 'MQTT command rejected');
    void this.publish(client, this.topics.state.error, JSON.stringify(rejected), false);
    this.emitSafely('rejected', rejected);
  }

  /** Publishes the discovery configs, or their removal; returns the publish promises. */
  private publishDiscovery(client: MqttClient): Promise<void>[] {
    const prefix = this.config.discoveryPrefix;
    return discoveryPublications(this.discoveryMode, prefix, this.device, this.topics).map((m) =>
      this.publish(client, m.topic, m.payload, true),
    );
  }

  private flush(): void {
    const client = this.client;
    if (!client?.connected) return;
    for (const m of this.outbox.drain()) void this.publish(client, m.topic, m.payload, m.retain);
  }

  private publish(
    client: MqttClient,
    topic: string,
    payload: string,
    retain: boolean,
  ): Promise<void> {
    return publishQuietly(client, this.log, topic, payload, retain);
  }

  private setStatus(status: MqttStatus): void {
    this.current = status;
    this.emitSafely('status', { ...status });
  }

  /** A listener that throws must not take the MQTT client (or the daemon) down with it. */
  private emitSafely<K extends keyof MqttBridgeEvents & string>(
    event: K,
    ...args: MqttBridgeEvents[K]
  ): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      this.log.error({ event, err: errorMessage(err) }, 'MQTT event listener threw');
    }
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    return withinDeadline(this.clock, this.stopTimeoutMs, promise);
  }
}
