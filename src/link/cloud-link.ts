import type { ErrorCode } from '../shared/error-codes.js';
import { randomUUID, type KeyObject } from 'node:crypto';
import { verifyReceipt } from '../shared/receipt.js';
import { BYTES_PER_SAMPLE, CHANNELS, SAMPLE_RATE } from '../shared/audio-format.js';
import { RealClock, type Clock } from '../shared/clock.js';
import { EarshotError } from '../shared/errors.js';
import { RateWindow } from '../shared/rate-window.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { Connection, type ConnectionOptions } from './connection.js';
import {
  UPLOAD_FORMAT,
  errorReply,
  trigger as triggerSchema,
  utteranceId,
  type CloudMessage,
  type HelloMessage,
  type UtteranceAckMessage,
  type StateMessage,
  type WireTrigger,
} from './protocol/index.js';
import { ReplyTracker } from './reply-tracker.js';
import { checkEndpoint, readTlsMaterial } from './tls.js';
import type { CloudLinkEvents, LinkStatusEvent, ProtocolErrorEvent } from './types.js';
import { Upload, type CloudUpload } from './uploader.js';

/**
 * The device's side of the cloud link: one TLS WebSocket kept open while started
 * (Connection), the utterance uploader, and the dispatch of everything the cloud
 * sends into typed events. The device's orchestrator owns it; it never decides on
 * its own to record or to send audio (P2).
 */
export interface LinkSettings extends Omit<ConnectionOptions, 'url'> {
  /** `wss://host:port/path`; required here (the device does not start a link without it). */
  url?: string | undefined;
  /** Abort an utterance when this much audio is queued in the socket (E_BACKPRESSURE). */
  maxBufferedBytes: number;
}

export interface HelloInfo {
  deviceId: string;
  firmware: string;
  /** The owner's retention choice at start; change it later with setRetention (P7). */
  dontSaveRecordings: boolean;
  /** Extra feature names announced in `hello.capabilities.features`. */
  features?: string[];
}

export interface CloudLinkOptions {
  /** `config.cloud` (or the same shape): url, TLS files, token, timings, limits. */
  cloud: LinkSettings;
  hello: HelloInfo;
  logger: Logger;
  clock?: Clock;
  /** Random source for the backoff jitter, in [0, 1) (tests inject one). */
  random?: () => number;
  /**
   * At most this many `error` answers (and warnings) per window and code; past it
   * protocol errors are still emitted but only logged at debug level, so a cloud that
   * floods garbage cannot flood the journal or make us flood it back. Per code, so a
   * flood of one refusal (forged acks) does not silence another (a reply overflow);
   * codes are a closed set, so the total stays bounded.
   */
  errorAnswers?: { max: number; windowMs: number };
  /** The cloud's receipt public key: acknowledgements must carry a receipt it verifies. */
  receiptKey?: KeyObject;
}

export interface UtteranceStart {
  /** Defaults to a random UUID. */
  id?: string;
  trigger: WireTrigger;
  /** Audio from before the trigger at the head of what will be written (P3: at most 2000). */
  preRollMs: number;
}

const BYTES_PER_MS = (SAMPLE_RATE * CHANNELS * BYTES_PER_SAMPLE) / 1000;
const FEATURES = ['captureStop', 'expectSpeech', 'settings'];
/** P3: the hard maximum of pre-roll, whatever the configuration says. */
const MAX_PRE_ROLL_MS = 2000;

export class CloudLink extends TypedEmitter<CloudLinkEvents> {
  private readonly connection: Connection;
  private readonly log: Logger;
  private dontSave: boolean;
  private upload: Upload | undefined;
  private readonly replies: ReplyTracker;
  private lastStatus: LinkStatusEvent = { status: 'down', cause: 'not started' };
  private readonly clock: Clock;
  private readonly answerWindows = new Map<ErrorCode, RateWindow>();

  /** Throws EarshotError (E_LINK_CONFIG, E_LINK_INSECURE, E_LINK_TLS_FILE) for a bad setup. */
  constructor(private readonly options: CloudLinkOptions) {
    super();
    const { cloud } = options;
    if (!cloud.url) throw new EarshotError('E_LINK_CONFIG', 'cloud.url is not set');
    // Fail at start-up, with the config key named, rather than on every retry.
    checkEndpoint(cloud.url, cloud.insecure);
    readTlsMaterial(cloud);
    this.log = options.logger;
    this.dontSave = options.hello.dontSaveRecordings;
    this.clock = options.clock ?? new RealClock();
    this.connection = new Connection(
      { ...cloud, url: cloud.url },
      () => this.helloMessage(),
      this.log,
      this.clock,
      options.random,
    );
    this.replies = new ReplyTracker({
      emit: (event, ...args) => this.emit(event, ...args),
      answer: (code, message, id) => this.answer(code, message, id),
    });
    this.connection.on('status', (s) => {
      this.lastStatus = s;
      this.emit('status', s);
    });
    this.connection.on('up', (ok) => {
      if (ok.settings) this.emit('settings', ok.settings);
    });
    this.connection.on('message', (m) => this.onMessage(m));
    this.connection.on('audio', (chunk) => this.replies.audio(chunk));
    this.connection.on('invalid', (e) => this.onInvalid(e));
    this.connection.on('lost', (cause) => this.onLost(cause));
  }

  start(): void {
    this.connection.start();
  }

  /** Aborts an open upload ('shutdown') and closes the connection. */
  async stop(): Promise<void> {
    this.upload?.abort('shutdown');
    await this.connection.stop();
  }

  get status(): LinkStatusEvent {
    return this.lastStatus;
  }

  get isUp(): boolean {
    return this.connection.isUp;
  }

  /** Tells the cloud that something it sent was refused (within the answers' rate limit). */
  refuse(code: ErrorCode, message: string, id?: string): void {
    this.answer(code, message, id);
  }

  /** Stops reading the cloud while reply audio waits for the sound card, or reads again. */
  pause(paused: boolean): void {
    this.connection.pause(paused);
  }

  /** The owner changed "don't save recordings": used by the next hello and utterance (P7). */
  setRetention(dontSaveRecordings: boolean): void {
    this.dontSave = dontSaveRecordings;
  }

  /** Reports the device state to the cloud; false when the link is not up. */
  sendState(state: Omit<StateMessage, 'type' | 'dontSaveRecordings'>): boolean {
    return this.connection.send(this.connection.epoch, {
      type: 'state',
      state: state.state,
      muted: state.muted,
      dontSaveRecordings: this.dontSave,
    });
  }

  /**
   * Opens an utterance and sends `utterance.start`. Never throws for the link's state:
   * when the link is not up the handle is born failed (writes return false) and
   * `utteranceFailed` (E_LINK_DOWN) follows asynchronously. Throws E_LINK_BUSY when
   * another utterance is still open and E_LINK_BAD_UTTERANCE for an invalid id,
   * trigger or pre-roll (over 2000 ms, P3): both are bugs in the caller.
   */
  openUtterance(meta: UtteranceStart): CloudUpload {
    if (this.upload?.state === 'open') {
      throw new EarshotError('E_LINK_BUSY', `utterance ${this.upload.id} is still open`);
    }
    const id = meta.id ?? randomUUID();
    checkMeta(id, meta);
    const epoch = this.connection.epoch;
    const upload = new Upload({
      id,
      sink: {
        send: (data) => this.connection.send(epoch, data),
        bufferedAmount: () => this.connection.bufferedAmount,
      },
      maxBufferedBytes: this.options.cloud.maxBufferedBytes,
      bytesPerMs: BYTES_PER_MS,
      onFailed: (failedId, code, message) => {
        this.log.warn({ id: failedId, code }, message);
        this.replies.forget(failedId);
        this.emit('utteranceFailed', { id: failedId, code, message });
      },
      onClosed: (closedId, state) => {
        if (this.upload?.id === closedId) this.upload = undefined;
        // An aborted utterance gets no reply; one that failed is reported by onFailed.
        if (state === 'aborted') this.replies.forget(closedId);
      },
    });
    this.upload = upload;
    const started = this.connection.send(epoch, {
      type: 'utterance.start',
      id,
      trigger: meta.trigger,
      preRollMs: meta.preRollMs,
      format: UPLOAD_FORMAT,
      dontSaveRecordings: this.dontSave,
    });
    if (!started) {
      upload.fail('E_LINK_DOWN', `cloud link is ${this.lastStatus.status}: nothing sent`);
    } else {
      this.replies.expect(id);
    }
    return upload;
  }

  private helloMessage(): HelloMessage {
    const { hello } = this.options;
    return {
      type: 'hello',
      protocol: 1,
      deviceId: hello.deviceId,
      firmware: hello.firmware,
      capabilities: {
        uploadEncodings: ['pcm_s16le'],
        replyEncodings: ['pcm_s16le'],
        features: [...FEATURES, ...(hello.features ?? [])],
      },
      format: UPLOAD_FORMAT,
      privacy: { dontSaveRecordings: this.dontSave, voiceIdAvailable: !this.dontSave },
    };
  }

  private onMessage(message: CloudMessage): void {
    switch (message.type) {
      case 'utterance.ack': {
        const { type: _type, ...ack } = message;
        if (!this.receiptOk(ack)) return;
        if (ack.aborted) this.replies.forget(ack.id);
        this.emit('ack', ack);
        return;
      }
      case 'capture.stop':
        // A late stop (the device already ended the utterance) is normal, not an error.
        if (this.upload?.id === message.id) this.emit('captureStop', { id: message.id });
        else this.log.debug({ id: message.id }, 'capture.stop for an utterance no longer open');
        return;
      case 'reply.start':
        return this.replies.start(message);
      case 'reply.end':
        return this.replies.end(message);
      case 'settings':
        this.emit('settings', message.settings);
        return;
      case 'error':
        return this.onCloudError(message.code, message.message, message.id);
      case 'ping':
        this.connection.sendControl({
          type: 'pong',
          ...(message.nonce !== undefined ? { nonce: message.nonce } : {}),
        });
        return;
      case 'pong':
        return;
      case 'hello.ok':
        return; // handled by the connection
    }
  }

  /**
   * With the cloud's public key pinned, an acknowledgement is taken only with a valid
   * signed receipt: anything else is answered, and never reaches the device (or its
   * ledger).
   */
  private receiptOk(ack: Omit<UtteranceAckMessage, 'type'>): boolean {
    const key = this.options.receiptKey;
    if (!key) return true;
    const { receipt } = ack;
    if (!receipt || ack.sha256 === undefined) {
      this.answer(
        'E_RECEIPT_MISSING',
        `utterance.ack for ${ack.id} without a signed receipt`,
        ack.id,
      );
      return false;
    }
    const facts = {
      deviceId: this.options.hello.deviceId,
      id: ack.id,
      sha256: ack.sha256,
      bytes: ack.bytes,
      stored: ack.stored,
      aborted: ack.aborted ?? false,
      time: receipt.time,
    };
    if (!verifyReceipt(facts, receipt.signature, key)) {
      this.answer(
        'E_RECEIPT_INVALID',
        `utterance.ack for ${ack.id}: the receipt does not verify`,
        ack.id,
      );
      return false;
    }
    return true;
  }

  private onCloudError(code: string, message: string, id: string | undefined): void {
    this.log.warn({ code, id }, `cloud error: ${message}`);
    if (id !== undefined && this.upload?.id === id) {
      // The cloud refused the utterance: stop sending it (fail() reports it).
      this.upload.fail(code, message);
      return;
    }
    if (id !== undefined && this.replies.isPending(id)) {
      this.replies.forget(id);
      this.emit('utteranceFailed', { id, code, message });
      return;
    }
    this.emit('cloudError', { code, message, ...(id !== undefined ? { id } : {}) });
  }

  private onInvalid(event: ProtocolErrorEvent): void {
    // Never answer an error with an error: two confused peers would loop forever.
    if (event.type !== 'error') this.answer(event.code, event.message, event.id);
    else this.log.warn({ code: event.code }, `malformed error from the cloud: ${event.message}`);
    this.emit('protocolError', event);
  }

  /** Logs a protocol error and answers it with `error`, within the rate limit. */
  private answer(code: ErrorCode, message: string, id?: string): void {
    let window = this.answerWindows.get(code);
    if (!window) {
      const { max, windowMs } = this.options.errorAnswers ?? { max: 20, windowMs: 10_000 };
      window = new RateWindow(max, windowMs, () => this.clock.now());
      this.answerWindows.set(code, window);
    }
    if (!window.take()) {
      this.log.debug({ code, id }, `protocol error (not answered: rate limit): ${message}`);
      return;
    }
    this.log.warn({ code, id }, `protocol error: ${message}`);
    this.connection.sendControl(errorReply(code, message, id));
  }

  private onLost(cause: string): void {
    const message = `connection lost: ${cause}`;
    const openId = this.upload?.id;
    // The open upload reports its own failure; the others waited for a reply.
    this.upload?.fail('E_LINK_DOWN', message);
    for (const id of this.replies.dropAll()) {
      if (id !== openId) this.emit('utteranceFailed', { id, code: 'E_LINK_DOWN', message });
    }
  }
}

/**
 * Catches a caller's bug before anything is sent: the cloud would refuse the message
 * anyway, but the device should learn about it here, with the reason. P3 lives here
 * too: never more than 2 s of pre-roll.
 */
function checkMeta(id: string, meta: UtteranceStart): void {
  const problems: string[] = [];
  if (!utteranceId.safeParse(id).success) problems.push(`bad id "${id}"`);
  if (!triggerSchema.safeParse(meta.trigger).success) problems.push('bad trigger');
  if (!Number.isInteger(meta.preRollMs) || meta.preRollMs < 0 || meta.preRollMs > MAX_PRE_ROLL_MS) {
    problems.push(`preRollMs ${meta.preRollMs} outside 0..${MAX_PRE_ROLL_MS}`);
  }
  if (problems.length > 0) {
    throw new EarshotError('E_LINK_BAD_UTTERANCE', `openUtterance: ${problems.join(', ')}`);
  }
}
