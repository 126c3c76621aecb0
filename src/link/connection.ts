import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { Backoff } from '../shared/backoff.js';
import { RateWindow } from '../shared/rate-window.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { describeClose, describeConnectError, describeHttpRefusal } from './causes.js';
import { Heartbeat } from './heartbeat.js';
import {
  SUBPROTOCOL,
  encodeMessage,
  parseCloudMessage,
  type CloudMessage,
  type DeviceMessage,
  type HelloMessage,
  type HelloOkMessage,
} from './protocol/index.js';
import { checkEndpoint, readTlsMaterial, type TlsSettings } from './tls.js';
import type { LinkStatusEvent, ProtocolErrorEvent } from './types.js';

/**
 * The connection manager: keeps exactly one WebSocket to the cloud open while
 * started. It connects, sends `hello`, waits for `hello.ok`, runs the heartbeat,
 * and after any failure waits a backoff delay (full jitter, reset once a connection
 * is up again) before the next attempt. It knows nothing about utterances: the
 * CloudLink gets parsed messages and the `lost` event, and sends through `send`,
 * which only writes on the connection the caller names (its epoch), so nothing
 * meant for a previous connection ever goes out on a new one.
 */
export interface ConnectionOptions extends TlsSettings {
  token?: string | undefined;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  /** Limit for TCP + TLS + upgrade, and again for the cloud's hello.ok. */
  connectTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** Largest frame accepted from the cloud; a bigger one closes the socket with 1009. */
  maxPayloadBytes: number;
  /** Audio may queue in the socket up to this; control messages get the same budget. */
  maxBufferedBytes: number;
  /** Text messages and pings the cloud may send per second before it counts as a flood. */
  maxMessagesPerSecond: number;
  /** A connection that lasted this long resets the backoff; a shorter one does not. */
  stableAfterMs: number;
}

export type ConnectionEvents = {
  status: [LinkStatusEvent];
  up: [HelloOkMessage];
  message: [CloudMessage];
  audio: [Buffer];
  invalid: [ProtocolErrorEvent];
  /** A connection that had been up is gone (before the `down` status event). */
  lost: [cause: string];
};

type Phase = 'stopped' | 'waiting' | 'connecting' | 'hello' | 'up';

export class Connection extends TypedEmitter<ConnectionEvents> {
  private phase: Phase = 'stopped';
  private ws: WebSocket | undefined;
  private currentEpoch = 0;
  private failure: string | undefined;
  private retryTimer: TimerHandle | undefined;
  private helloTimer: TimerHandle | undefined;
  private heartbeat: Heartbeat | undefined;
  private readonly backoff: Backoff;
  private lastCause: string | undefined;
  private stableTimer: TimerHandle | undefined;
  private incoming: RateWindow;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hello: () => HelloMessage,
    private readonly log: Logger,
    private readonly clock: Clock,
    random?: () => number,
  ) {
    super();
    this.backoff = new Backoff({ ...options.backoff, ...(random ? { random } : {}) });
    this.incoming = this.newBudget();
  }

  private newBudget(): RateWindow {
    return new RateWindow(this.options.maxMessagesPerSecond, 1000, () => this.clock.now());
  }

  get isUp(): boolean {
    return this.phase === 'up';
  }

  /** Identifies the current socket; bumps on every new connect attempt. */
  get epoch(): number {
    return this.currentEpoch;
  }

  /** Bytes queued in user space and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  start(): void {
    if (this.phase !== 'stopped') return;
    this.connect();
  }

  /** Closes the connection politely (terminates it after a short grace) and stops retrying. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => ws.terminate(), 1000);
        grace.unref();
        ws.once('close', () => {
          clearTimeout(grace);
          resolve();
        });
        ws.close(1000, 'device stopping');
      });
    }
    this.emit('status', { status: 'down', cause: 'stopped' });
  }

  /** Sends on the connection `epoch` only, and only once it is up. */
  send(epoch: number, data: DeviceMessage | Buffer): boolean {
    if (epoch !== this.currentEpoch || this.phase !== 'up') return false;
    return this.write(data);
  }

  /** Sends protocol housekeeping (error answers, pongs) whenever the socket is open. */
  sendControl(message: DeviceMessage): boolean {
    return this.write(message);
  }

  /**
   * Stops reading the cloud (TCP backpressure: the reply waits for the sound card), or
   * reads it again. The heartbeat rests meanwhile: an unread pong is not a dead link.
   */
  pause(paused: boolean): void {
    const ws = this.ws;
    if (!ws || this.phase !== 'up') return;
    if (paused) {
      ws.pause();
      this.heartbeat?.stop();
    } else {
      ws.resume();
      this.heartbeat?.start();
    }
  }

  /** Drops the current connection (it reconnects after a backoff delay). */
  drop(cause: string): void {
    this.failure ??= cause;
    this.ws?.terminate();
  }

  private write(data: DeviceMessage | Buffer): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    // One budget for everything sent: a cloud that does not read is dropped, never
    // buffered for. (Audio checks the same bound itself and aborts the utterance first.)
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.drop(`E_PEER_NOT_READING: the cloud does not read (${ws.bufferedAmount} bytes waiting)`);
      return false;
    }
    try {
      if (Buffer.isBuffer(data)) ws.send(data, { binary: true });
      else ws.send(encodeMessage(data));
      return true;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'send failed');
      return false;
    }
  }

  private connect(): void {
    this.retryTimer = undefined;
    this.currentEpoch += 1;
    this.failure = undefined;
    this.incoming = this.newBudget();
    this.phase = 'connecting';
    this.emit('status', { status: 'connecting' });
    let ws: WebSocket;
    try {
      const endpoint = checkEndpoint(this.options.url, this.options.insecure);
      if (!endpoint.secure) {
        // P6: plain ws:// is a development escape hatch; say so on every connect.
        this.log.warn(
          { url: endpoint.url.origin },
          'INSECURE: connecting over plain ws:// (cloud.insecure); audio and token travel unencrypted',
        );
      }
      const headers: Record<string, string> = {};
      if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
      ws = new WebSocket(endpoint.url, SUBPROTOCOL, {
        ...readTlsMaterial(this.options),
        rejectUnauthorized: true,
        headers,
        maxPayload: this.options.maxPayloadBytes,
        handshakeTimeout: this.options.connectTimeoutMs,
        // Audio does not compress and deflate costs memory per socket on a Pi Zero.
        perMessageDeflate: false,
        followRedirects: false,
      });
    } catch (err) {
      this.failure = errorMessage(err);
      this.afterClose();
      return;
    }
    this.ws = ws;
    this.attach(ws);
  }

  private attach(ws: WebSocket): void {
    const ctx = {
      pinnedCa: Boolean(this.options.ca),
      clientCert: Boolean(this.options.cert),
      token: Boolean(this.options.token),
    };
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const detail = res.headers['x-earshot-error'];
      this.failure ??= describeHttpRefusal(
        res.statusCode ?? 0,
        typeof detail === 'string' ? detail : undefined,
        ctx,
      );
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      this.failure ??= describeConnectError(err, ctx);
      if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.emit('invalid', { code: 'E_TOO_LARGE', message: this.failure });
      }
    });
    ws.on('open', () => {
      if (ws !== this.ws) return;
      this.phase = 'hello';
      this.helloTimer = this.clock.setTimeout(() => {
        this.drop(`no hello.ok within ${this.options.connectTimeoutMs} ms`);
      }, this.options.connectTimeoutMs);
      this.write(this.hello());
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      if (!isBinary && !this.withinBudget()) return;
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.onBinary(buf);
      else this.onText(buf.toString('utf8'));
    });
    ws.on('pong', () => this.heartbeat?.pong());
    // ws answers pings itself; a flood of them still counts against the budget.
    ws.on('ping', () => {
      if (ws === this.ws) this.withinBudget();
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.failure ??= describeClose(code, reason.toString('utf8'));
      this.afterClose();
    });
  }

  /** Counts a message from the cloud; a cloud over its budget is dropped as a flood. */
  private withinBudget(): boolean {
    if (this.incoming.take()) return true;
    if (this.incoming.refused === 1) {
      this.drop(
        `E_PEER_FLOOD: the cloud sent more than ${this.options.maxMessagesPerSecond} messages in a second`,
      );
    }
    return false;
  }

  private onText(text: string): void {
    const parsed = parseCloudMessage(text);
    if (!parsed.ok) {
      const { code, reason, type, id } = parsed;
      this.emit('invalid', {
        code,
        message: reason,
        ...(type ? { type } : {}),
        ...(id ? { id } : {}),
      });
      if (this.phase === 'hello' && code === 'E_PROTOCOL_VERSION') this.drop(reason);
      return;
    }
    const message = parsed.message;
    if (this.phase === 'hello') {
      if (message.type === 'hello.ok') return this.onHelloOk(message);
      if (message.type === 'error') {
        return this.drop(`cloud refused the hello: ${message.code}: ${message.message}`);
      }
      this.emit('invalid', {
        code: 'E_UNEXPECTED',
        message: `${message.type} before hello.ok`,
        type: message.type,
      });
      return;
    }
    if (message.type === 'hello.ok') {
      this.emit('invalid', { code: 'E_UNEXPECTED', message: 'second hello.ok', type: 'hello.ok' });
      return;
    }
    this.emit('message', message);
  }

  private onBinary(buf: Buffer): void {
    if (this.phase !== 'up') {
      this.emit('invalid', { code: 'E_UNEXPECTED', message: 'binary frame before hello.ok' });
      return;
    }
    this.emit('audio', buf);
  }

  private onHelloOk(message: HelloOkMessage): void {
    this.clock.clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.phase = 'up';
    // The backoff starts from the bottom only once this connection has lasted: a cloud
    // that accepts and drops every connection is retried at a growing interval.
    const stable = (): void => {
      this.stableTimer = undefined;
      this.backoff.reset();
      this.lastCause = undefined;
    };
    if (this.options.stableAfterMs <= 0) stable();
    else this.stableTimer = this.clock.setTimeout(stable, this.options.stableAfterMs);
    const ws = this.ws;
    this.heartbeat = new Heartbeat({
      clock: this.clock,
      intervalMs: this.options.heartbeatMs,
      timeoutMs: this.options.heartbeatTimeoutMs,
      ping: () => {
        try {
          ws?.ping();
          return true;
        } catch {
          return false;
        }
      },
      onTimeout: (cause) => this.drop(cause),
    });
    this.heartbeat.start();
    this.log.info({ session: message.sessionId, server: message.server }, 'cloud link up');
    this.emit('status', { status: 'up' });
    this.emit('up', message);
  }

  private afterClose(): void {
    const wasUp = this.phase === 'up';
    const cause = this.failure ?? 'connection closed';
    this.clearTimers();
    this.ws = undefined;
    if (this.phase === 'stopped') return;
    if (wasUp) this.emit('lost', cause);
    const retryInMs = this.backoff.next();
    this.phase = 'waiting';
    // One warning per distinct cause; a cloud that stays away does not flood the journal.
    const level = cause === this.lastCause ? 'debug' : 'warn';
    this.log[level]({ cause, retryInMs }, 'cloud link down');
    this.lastCause = cause;
    this.emit('status', { status: 'down', cause, retryInMs });
    this.retryTimer = this.clock.setTimeout(() => this.connect(), retryInMs);
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.helloTimer);
    this.clock.clearTimeout(this.stableTimer);
    this.retryTimer = undefined;
    this.helloTimer = undefined;
    this.stableTimer = undefined;
    this.heartbeat?.stop();
    this.heartbeat = undefined;
  }
}
