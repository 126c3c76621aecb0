import WebSocket from 'ws';
import { Backoff } from '../shared/backoff.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { LinkStatus } from '../shared/device-status.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { assistEndpoint, describeNetError, readTls, type TlsFiles } from './endpoint.js';
import { parseFrame, type HaError, type HaEvent, type HaMessage } from './messages.js';

export interface AssistClientOptions {
  url: string;
  insecure: boolean;
  tls: TlsFiles;
  /** The access token, read on every connect (from `cloud.tokenFile`); never logged. */
  token: () => Promise<string>;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  /** Limit for TCP + TLS + upgrade, and again for `auth_ok`. */
  connectTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number };
  maxPayloadBytes: number;
  clock: Clock;
  log: Logger;
  random?: () => number;
}

/** A command Home Assistant answered with `success: false`, with HA's own code. */
export class HaCommandError extends Error {
  constructor(readonly error: HaError) {
    super(`${error.code}: ${error.message}`);
  }
  get code(): string {
    return this.error.code;
  }
}

export type AssistClientEvents = {
  status: [LinkStatus & { retryInMs?: number }];
  /** Authenticated; `epoch` names this connection. */
  up: [{ epoch: number; haVersion?: string }];
  /** A connection that had been up is gone. */
  lost: [cause: string];
};

/** Commands (and runs whose events are still routed) open at once on one connection. */
const MAX_OPEN = 32;

interface Open {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  onEvent: ((e: HaEvent) => void) | undefined;
  answered: boolean;
}

type Phase = 'stopped' | 'waiting' | 'connecting' | 'auth' | 'up';

/**
 * One authenticated WebSocket to Home Assistant (`/api/websocket`), kept open while
 * started: auth with the access token, strictly increasing command ids, HA's `ping`
 * as the heartbeat (a missing `pong` drops the connection), reconnect after any
 * failure with full-jitter backoff. A refused token waits the longest delay: HA counts
 * failed logins and may ban the address. Commands get their `result`; a subscribed
 * command (a pipeline run) also gets its `event`s, in order, until released.
 */
export class AssistClient extends TypedEmitter<AssistClientEvents> {
  private phase: Phase = 'stopped';
  private ws: WebSocket | undefined;
  private epochN = 0;
  private nextId = 1;
  private readonly open = new Map<number, Open>();
  private readonly backoff: Backoff;
  private failure: string | undefined;
  private authRefused = false;
  private retryTimer: TimerHandle | undefined;
  private authTimer: TimerHandle | undefined;
  private pingTimer: TimerHandle | undefined;
  private pongTimer: TimerHandle | undefined;
  private lastCause: string | undefined;

  constructor(private readonly options: AssistClientOptions) {
    super();
    this.backoff = new Backoff({
      ...options.backoff,
      ...(options.random ? { random: options.random } : {}),
    });
    // Refuse a bad URL at construction, like the config does: not on every retry.
    assistEndpoint(options.url, options.insecure);
  }

  get isUp(): boolean {
    return this.phase === 'up';
  }

  get epoch(): number {
    return this.epochN;
  }

  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  start(): void {
    if (this.phase !== 'stopped') return;
    void this.connect();
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    this.failAll('stopped');
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => ws.terminate(), 1000);
        grace.unref();
        ws.once('close', () => {
          clearTimeout(grace);
          resolve();
        });
        ws.close(1000);
      });
    }
    this.emit('status', { status: 'down', cause: 'stopped' });
  }

  /**
   * Sends a command on the current connection. Resolves with HA's `result`, rejects
   * with HaCommandError (HA's code) or E_LINK_DOWN / E_ASSIST_BUSY. With `onEvent`,
   * the command's events are routed to it until `release(id)`.
   */
  command(
    message: Record<string, unknown>,
    onEvent?: (e: HaEvent) => void,
  ): { id: number; result: Promise<unknown> } {
    const id = this.nextId;
    if (this.phase !== 'up' || !this.ws) {
      return {
        id,
        result: Promise.reject(new EarshotError('E_LINK_DOWN', 'Home Assistant is not connected')),
      };
    }
    if (this.open.size >= MAX_OPEN) {
      return {
        id,
        result: Promise.reject(new EarshotError('E_ASSIST_BUSY', `${MAX_OPEN} commands open`)),
      };
    }
    this.nextId += 1;
    const result = new Promise<unknown>((resolve, reject) => {
      this.open.set(id, { resolve, reject, onEvent, answered: false });
    });
    this.write(JSON.stringify({ ...message, id }));
    return { id, result };
  }

  /** Stops routing a command's events (its run ended or was abandoned). */
  release(id: number): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    if (!o.answered) o.reject(new EarshotError('E_LINK_DOWN', 'abandoned'));
  }

  /** Sends a binary frame (handler byte + audio); false when not connected. */
  sendBinary(data: Buffer): boolean {
    if (this.phase !== 'up') return false;
    return this.write(data);
  }

  /** Drops the connection (it reconnects after a backoff delay). */
  drop(cause: string): void {
    this.failure ??= cause;
    this.ws?.terminate();
  }

  private write(data: string | Buffer): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(data, { binary: Buffer.isBuffer(data) });
      return true;
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err) }, 'send failed');
      return false;
    }
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    this.epochN += 1;
    const epoch = this.epochN;
    this.failure = undefined;
    this.authRefused = false;
    this.phase = 'connecting';
    this.emit('status', { status: 'connecting' });
    const { options } = this;
    let token: string;
    let ws: WebSocket;
    try {
      token = await options.token();
      if (epoch !== this.epochN || this.phase !== 'connecting') return;
      const endpoint = assistEndpoint(options.url, options.insecure);
      if (!endpoint.secure) {
        options.log.warn(
          { url: endpoint.ws.origin },
          'INSECURE: connecting to Home Assistant over plain ws:// (cloud.insecure); audio and token travel unencrypted',
        );
      }
      ws = new WebSocket(endpoint.ws, {
        ...readTls(options.tls),
        rejectUnauthorized: true,
        maxPayload: options.maxPayloadBytes,
        handshakeTimeout: options.connectTimeoutMs,
        perMessageDeflate: false,
        followRedirects: false,
      });
    } catch (err) {
      if (epoch !== this.epochN) return;
      this.failure = errorMessage(err);
      this.afterClose();
      return;
    }
    this.ws = ws;
    const pinned = Boolean(options.tls.ca);
    ws.on('error', (err) => {
      this.failure ??= describeNetError(err, pinned);
    });
    ws.on('unexpected-response', (_req, res) => {
      this.failure ??= `HTTP ${res.statusCode ?? 0} instead of a WebSocket upgrade (is cloud.url …/api/websocket?)`;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      if (ws !== this.ws) return;
      this.phase = 'auth';
      this.authTimer = options.clock.setTimeout(
        () => this.drop(`no auth_ok within ${options.connectTimeoutMs} ms`),
        options.connectTimeoutMs,
      );
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      if (isBinary) return; // HA sends no binary frames to a client.
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
      for (const item of parseFrame(text)) {
        if (item.ok) this.onMessage(item.message, token);
        else options.log.warn({ reason: item.reason }, 'message from Home Assistant ignored');
      }
    });
    ws.on('close', (code) => {
      if (ws !== this.ws) return;
      this.failure ??=
        code === 1006 ? 'connection lost (no close frame)' : `closed by Home Assistant (${code})`;
      this.afterClose();
    });
  }

  private onMessage(m: HaMessage, token: string): void {
    if (this.phase === 'auth') {
      if (m.type === 'auth_required') {
        this.write(JSON.stringify({ type: 'auth', access_token: token }));
      } else if (m.type === 'auth_ok') {
        this.onAuthOk(m.ha_version);
      } else if (m.type === 'auth_invalid') {
        this.authRefused = true;
        this.drop(`auth_invalid: ${m.message ?? 'token refused'} (E_ASSIST_AUTH)`);
      }
      return;
    }
    if (this.phase !== 'up') return;
    if (m.type === 'pong') {
      this.options.clock.clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      this.schedulePing();
      return;
    }
    if (m.type === 'result') {
      const o = this.open.get(m.id);
      if (!o || o.answered) return;
      o.answered = true;
      if (!o.onEvent || !m.success) this.open.delete(m.id);
      if (m.success) o.resolve(m.result);
      else o.reject(new HaCommandError(m.error));
      return;
    }
    if (m.type === 'event') this.open.get(m.id)?.onEvent?.(m.event);
  }

  private onAuthOk(haVersion: string | undefined): void {
    this.options.clock.clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.phase = 'up';
    this.nextId = 1;
    this.backoff.reset();
    this.lastCause = undefined;
    this.schedulePing();
    this.options.log.info({ haVersion }, 'Home Assistant connected');
    this.emit('status', { status: 'up' });
    this.emit('up', { epoch: this.epochN, ...(haVersion ? { haVersion } : {}) });
  }

  private schedulePing(): void {
    const { clock, heartbeatMs, heartbeatTimeoutMs } = this.options;
    clock.clearTimeout(this.pingTimer);
    this.pingTimer = clock.setTimeout(() => {
      this.pingTimer = undefined;
      if (this.phase !== 'up') return;
      this.pongTimer = clock.setTimeout(
        () => this.drop(`heartbeat timeout: no pong within ${heartbeatTimeoutMs} ms`),
        heartbeatTimeoutMs,
      );
      const id = this.nextId++;
      this.write(JSON.stringify({ id, type: 'ping' }));
    }, heartbeatMs);
  }

  private failAll(cause: string): void {
    const open = [...this.open.values()];
    this.open.clear();
    for (const o of open) if (!o.answered) o.reject(new EarshotError('E_LINK_DOWN', cause));
  }

  private afterClose(): void {
    const wasUp = this.phase === 'up';
    const cause = this.failure ?? 'connection closed';
    this.clearTimers();
    this.ws = undefined;
    if (this.phase === 'stopped') return;
    this.failAll(cause);
    if (wasUp) this.emit('lost', cause);
    // A refused token does not get better by asking again soon: HA bans after failures.
    const retryInMs = this.authRefused ? this.options.backoff.maxMs : this.backoff.next();
    this.phase = 'waiting';
    const level = cause === this.lastCause ? 'debug' : 'warn';
    this.options.log[level]({ cause, retryInMs }, 'Home Assistant link down');
    this.lastCause = cause;
    this.emit('status', { status: 'down', cause, retryInMs });
    this.retryTimer = this.options.clock.setTimeout(() => void this.connect(), retryInMs);
  }

  private clearTimers(): void {
    const { clock } = this.options;
    for (const t of [this.retryTimer, this.authTimer, this.pingTimer, this.pongTimer]) {
      clock.clearTimeout(t);
    }
    this.retryTimer = this.authTimer = this.pingTimer = this.pongTimer = undefined;
  }
}
