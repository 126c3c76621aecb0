import type { ErrorCode } from '../shared/error-codes.js';
import { randomUUID, type KeyObject } from 'node:crypto';
import { acknowledgement, type AckFacts } from './acknowledgement.js';
import type WebSocket from 'ws';
import {
  PROTOCOL_VERSION,
  encodeMessage,
  errorReply,
  parseDeviceMessage,
  type CloudMessage,
  type DeviceMessage,
  type HelloMessage,
  type UtteranceEndMessage,
  type UtteranceStartMessage,
} from '../link/protocol/index.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { garbageFrames } from './garbage.js';
import { BYTES_PER_MS, IncomingUtterance } from './incoming-utterance.js';
import { replyText, streamReply } from './reply.js';
import type { Voice } from './speech.js';
import type { RecordingStore } from './store.js';
import { RateWindow } from '../shared/rate-window.js';
import type {
  CloudBehaviour,
  CloudLimits,
  CloudServerEmitter,
  SessionInfo,
  UtteranceRecord,
} from './types.js';

/**
 * One device connection on the reference cloud: hello, utterances in, replies out.
 * It follows PROTOCOL.md to the letter, so a device can be tested against it, and
 * it can misbehave on request (CloudBehaviour) so the device's error handling can
 * be tested too. A protocol error is answered with `error` and the session goes on.
 */
export interface ConnectionContext {
  ws: WebSocket;
  info: SessionInfo;
  events: CloudServerEmitter;
  behaviour: () => CloudBehaviour;
  store: RecordingStore | undefined;
  voice: Voice;
  maxUtteranceBytes: number;
  limits: CloudLimits;
  /** Signs every acknowledgement when set. */
  receiptKey?: KeyObject | undefined;
  log: Logger;
}

export class CloudConnection {
  private hello: HelloMessage | undefined;
  private current: IncomingUtterance | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly messages: RateWindow;
  private readonly errors: RateWindow;
  private readonly logLines: RateWindow;

  constructor(private readonly ctx: ConnectionContext) {
    const { ws, limits } = ctx;
    this.messages = new RateWindow(limits.maxMessagesPerSecond, 1000);
    this.errors = new RateWindow(limits.maxErrorsPer10s, 10_000);
    this.logLines = new RateWindow(limits.maxLogLinesPer10s, 10_000);
    // Whoever opens a connection must say who it is soon: a silent one is closed.
    this.later(() => {
      if (this.hello || this.closed) return;
      this.drop('E_UNAUTHORIZED', `no hello within ${limits.helloTimeoutMs} ms`, 1008);
    }, limits.helloTimeoutMs);
    ws.on('message', (data, isBinary) => {
      if (this.closed) return;
      if (!this.messages.take()) {
        if (this.messages.refused === 1) {
          this.drop('E_PEER_FLOOD', `more than ${limits.maxMessagesPerSecond} messages a second`);
        }
        return;
      }
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.onAudio(buf);
      else this.onText(buf.toString('utf8'));
    });
    // The server runs with autoPong off, so a stalled session can stay silent.
    ws.on('ping', (data) => {
      if (!this.stalled) ws.pong(data);
    });
    ws.on('error', (err) => {
      const code = (err as { code?: string }).code;
      if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.report('E_TOO_LARGE', 'frame above maxPayload: connection closed (1009)');
      } else {
        ctx.log.warn({ err: errorMessage(err) }, 'socket error');
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = true;
      for (const t of this.timers) clearTimeout(t);
      ctx.events.publish('disconnect', {
        sessionId: ctx.info.sessionId,
        code,
        reason: reason.toString('utf8'),
      });
    });
  }

  private get stalled(): boolean {
    return this.hello !== undefined && this.ctx.behaviour().stall;
  }

  private get sessionId(): string {
    return this.ctx.info.sessionId;
  }

  private send(message: CloudMessage): boolean {
    const { ws, limits } = this.ctx;
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      this.drop(
        'E_PEER_NOT_READING',
        `the device does not read (${ws.bufferedAmount} bytes waiting)`,
      );
      return false;
    }
    ws.send(encodeMessage(message));
    return true;
  }

  /**
   * Answers with `error`, logs (within the log budget), and tells the test/demo
   * listener. A connection that keeps getting it wrong is dropped.
   */
  private report(code: ErrorCode, message: string, id?: string, answer = true): void {
    if (this.closed) return;
    const level = this.logLines.take() ? 'warn' : 'debug';
    this.ctx.log[level]({ session: this.sessionId, code, id }, message);
    this.ctx.events.publish('protocolError', { sessionId: this.sessionId, code, message });
    if (!this.errors.take()) {
      this.drop(
        'E_PEER_FLOOD',
        `more than ${this.ctx.limits.maxErrorsPer10s} protocol errors in 10 s`,
      );
      return;
    }
    if (answer) this.send(errorReply(code, message, id));
  }

  /** Ends a connection that broke a limit: one line in the log, then it is gone. */
  private drop(code: ErrorCode, message: string, closeCode?: number): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.log.warn({ session: this.sessionId, code }, `connection dropped: ${message}`);
    this.ctx.events.publish('protocolError', { sessionId: this.sessionId, code, message });
    if (closeCode !== undefined) {
      this.ctx.ws.close(closeCode, `${code}: ${message}`.slice(0, 120));
      const t = setTimeout(() => this.ctx.ws.terminate(), 1000);
      t.unref();
    } else {
      this.ctx.ws.terminate();
    }
  }

  private onText(text: string): void {
    const parsed = parseDeviceMessage(text);
    if (!parsed.ok) {
      // Never answer an `error` with an `error`.
      this.report(parsed.code, parsed.reason, parsed.id, parsed.type !== 'error');
      return;
    }
    const message = parsed.message;
    this.ctx.events.publish('message', this.sessionId, message);
    if (!this.hello && message.type !== 'hello') {
      this.report('E_UNEXPECTED', `${message.type} before hello`);
      return;
    }
    this.dispatch(message);
  }

  private dispatch(message: DeviceMessage): void {
    switch (message.type) {
      case 'hello':
        return this.onHello(message);
      case 'utterance.start':
        return this.onStart(message);
      case 'utterance.end':
        return this.onEnd(message);
      case 'utterance.abort':
        return this.onAbort(message.id, message.reason);
      case 'ping':
        if (!this.stalled) {
          this.send({
            type: 'pong',
            ...(message.nonce !== undefined ? { nonce: message.nonce } : {}),
          });
        }
        return;
      case 'error':
        this.ctx.log.warn(
          { code: message.code, id: message.id },
          `device error: ${message.message}`,
        );
        return;
      case 'state':
      case 'pong':
        return;
    }
  }

  private onHello(hello: HelloMessage): void {
    if (this.hello) return this.report('E_UNEXPECTED', 'second hello');
    if (!hello.capabilities.uploadEncodings.includes('pcm_s16le')) {
      return this.report('E_UNSUPPORTED_FORMAT', 'this cloud needs pcm_s16le uploads');
    }
    const cn = this.ctx.info.certificateCn;
    if (cn !== undefined && cn !== hello.deviceId) {
      this.report('E_UNAUTHORIZED', `certificate is for "${cn}", hello says "${hello.deviceId}"`);
      this.ctx.ws.close(1008, 'device id does not match certificate');
      return;
    }
    this.hello = hello;
    this.send({
      type: 'hello.ok',
      protocol: PROTOCOL_VERSION,
      sessionId: this.sessionId,
      server: 'earshot-cloud/1',
    });
    this.ctx.events.publish('hello', { ...this.ctx.info, hello });
    const { garbage, oversizedBytes } = this.ctx.behaviour();
    for (const { data } of garbageFrames(garbage, oversizedBytes)) {
      this.ctx.ws.send(data, { binary: Buffer.isBuffer(data) });
    }
  }

  private onStart(start: UtteranceStartMessage): void {
    if (this.current) {
      return this.report('E_UNEXPECTED', `utterance ${this.current.id} is still open`, start.id);
    }
    this.current = new IncomingUtterance(start);
    if (this.current.refused) {
      this.report('E_UNSUPPORTED_FORMAT', 'uploads must be pcm_s16le, 16000 Hz, mono', start.id);
      return;
    }
    if (this.ctx.behaviour().stopReading) this.ctx.ws.pause();
  }

  private onAudio(chunk: Buffer): void {
    const current = this.current;
    if (!current) {
      return this.report(
        'E_UNEXPECTED',
        `binary frame (${chunk.length} bytes) outside an utterance`,
      );
    }
    if (current.refused) return;
    const limit = this.ctx.maxUtteranceBytes;
    if (!current.accepts(chunk, limit)) {
      return this.report('E_TOO_LARGE', `utterance over ${limit} bytes: discarded`, current.id);
    }
    current.add(chunk);
    this.ctx.events.publish('audio', this.sessionId, chunk);
    const { captureStopAfterMs, dropAfterMs } = this.ctx.behaviour();
    if (dropAfterMs !== undefined && current.audioMs >= dropAfterMs) {
      this.ctx.log.info({ id: current.id }, 'dropping the connection mid-utterance (as asked)');
      this.ctx.ws.terminate();
      return;
    }
    if (current.stopDue(captureStopAfterMs)) {
      this.send({ type: 'capture.stop', id: current.id });
    }
  }

  private onEnd(end: UtteranceEndMessage): void {
    const current = this.current;
    if (!current || current.id !== end.id) {
      return this.report('E_UNKNOWN_UTTERANCE', `utterance.end for ${end.id}: not open`, end.id);
    }
    this.current = undefined;
    if (current.refused) {
      this.ack({ id: end.id, stored: false, ...IncomingUtterance.NOTHING_KEPT, aborted: true });
      return;
    }
    const { audio, sha256, integrityOk } = current.end(end);
    void this.finish({
      sessionId: this.sessionId,
      deviceId: this.hello?.deviceId ?? 'unknown',
      id: end.id,
      start: current.start,
      end,
      audio,
      sha256,
      integrityOk,
    });
  }

  private async finish(record: UtteranceRecord): Promise<void> {
    const { id } = record;
    if (!record.integrityOk) {
      this.report(
        'E_INTEGRITY',
        `received ${record.audio.length} bytes, sha256 ${record.sha256}`,
        id,
      );
    }
    // P7: the retention choice of this very request decides; the hello's may be stale.
    const mayStore = record.start.dontSaveRecordings === false && record.integrityOk;
    if (mayStore && this.ctx.store) {
      try {
        record.storedPath = await this.ctx.store.save(record.deviceId, id, record.audio, 16_000);
      } catch (err) {
        this.ctx.log.error({ err: errorMessage(err) }, 'could not store the recording');
      }
    }
    this.ack({
      id,
      stored: record.storedPath !== undefined,
      bytes: record.audio.length,
      sha256: record.sha256,
      aborted: false,
    });
    this.ctx.events.publish('utterance', record);
    if (record.integrityOk) this.scheduleReply(id, record.audio.length / BYTES_PER_MS);
  }

  private onAbort(id: string, reason: string): void {
    const current = this.current;
    if (!current || current.id !== id) {
      return this.report('E_UNKNOWN_UTTERANCE', `utterance.abort for ${id}: not open`, id);
    }
    this.current = undefined;
    const received = current.aborted();
    this.ack({ id, stored: false, ...received, aborted: true });
    this.ctx.events.publish('aborted', {
      sessionId: this.sessionId,
      id,
      reason,
      bytes: received.bytes,
    });
  }

  private scheduleReply(id: string, audioMs: number): void {
    const b = this.ctx.behaviour();
    if (b.reply === 'none') return;
    this.later(() => void this.reply(id, audioMs), b.replyDelayMs);
  }

  private ack(a: AckFacts): void {
    this.send(acknowledgement(a, this.hello?.deviceId ?? 'unknown', this.ctx.receiptKey));
  }

  /** A timer of this connection: cleared when it closes. */
  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private async reply(id: string, audioMs: number): Promise<void> {
    const b = this.ctx.behaviour();
    const { ws } = this.ctx;
    try {
      const result = await streamReply(
        {
          sendMessage: (m) => this.send(m),
          sendAudio: (chunk) => (this.closed ? false : (ws.send(chunk, { binary: true }), true)),
          isOpen: () => !this.closed && ws.readyState === ws.OPEN,
        },
        {
          id,
          text: replyText(audioMs),
          kind: b.reply === 'tone' ? 'tone' : 'speech',
          voice: this.ctx.voice,
          expectSpeech: b.expectSpeech,
          wrongFormat: b.wrongReplyFormat,
        },
      );
      if (result.complete) {
        this.ctx.events.publish('replied', {
          sessionId: this.sessionId,
          id,
          engine: result.engine,
          bytes: result.bytes,
        });
      }
    } catch (err) {
      this.report('E_INTERNAL', `reply failed: ${errorMessage(err)}`, id);
    }
  }

  static newId(): string {
    return randomUUID();
  }
}
