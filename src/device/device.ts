import type { ErrorCode } from '../shared/error-codes.js';
import type { Player } from '../audio/player.js';
import { FrameRing } from '../audio/ring-buffer.js';
import type { Config } from '../config/schema.js';
import { framesForMs, type Frame } from '../shared/audio-format.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { DeviceStateName } from '../shared/device-status.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { LogBudget } from '../shared/log-budget.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { Detection, WakeDetector } from '../wake/detector.js';
import { transition } from './machine.js';
import type {
  CaptureControl,
  Part,
  StateLights,
  UploadRecorder,
  UtteranceTransport,
} from './ports.js';
import {
  initialModel,
  type DeviceEvent,
  type Effect,
  type IgnoredKind,
  type Model,
} from './states.js';
import { Uploads, type UploadRecord } from './uploads.js';
import type { SpeechEndDetector } from './utterance-audio.js';

/**
 * Lines per kind of refused cloud message per window: the same budget as the answers
 * to the cloud (20 per 10 s), so the log shows as much as the peer is told.
 */
const IGNORED_LOG_MAX = 20;
const IGNORED_LOG_WINDOW_MS = 10_000;

export type { UploadRecord } from './uploads.js';

export type DeviceEvents = {
  state: [{ state: DeviceStateName; previous: DeviceStateName; at: number; cause?: string }];
  wake: [Detection & { at: number; accepted: boolean }];
  upload: [UploadRecord];
  ack: [{ id: string; stored: boolean; at: number }];
  /** Something from a peer was not taken (a stale reply, an unknown acknowledgement …). */
  ignored: [{ what: IgnoredKind; id: string; why: string; code?: string }];
  /** The facts a report shows changed (state, link, failed parts, retention). */
  facts: [Model];
  volume: [number];
  falseWake: [];
  /** A request from outside was not carried out (an announcement the cloud cannot speak …). */
  refused: [{ what: 'announce' | 'wakeWord'; code: ErrorCode; why: string; text: string }];
};

export interface DeviceParts {
  config: Config;
  /** End of speech during an utterance (energy or Silero VAD). */
  vad: SpeechEndDetector;
  /** The ledger; without one (tests of other parts) uploads are committed at once. */
  recorder?: UploadRecorder;
  clock: Clock;
  log: Logger;
  capture: CaptureControl;
  wake: WakeDetector;
  transport: UtteranceTransport;
  lights: StateLights;
  player: Player;
  /** Utterance ids are `${idPrefix}-${n}` (random per start unless given). */
  idPrefix: string;
  /** Start muted (the mute switch was on at shutdown). */
  startMuted?: boolean;
}

/**
 * The orchestrator: feeds each frame to the pre-roll, the wake detector and the open
 * utterance; turns what happens into state-machine events; and carries out the
 * machine's effects, in order. It decides nothing: every decision is in `machine.ts`.
 * It holds only the handles the effects opened (the upload, the reply timer).
 */
export class Device extends TypedEmitter<DeviceEvents> implements Part {
  readonly name = 'device';
  private current: Model;
  private readonly ring: FrameRing;
  private readonly uploads: Uploads;
  private replyTimer: TimerHandle | undefined;
  /** Events that arrive while effects are applied wait their turn (no re-entrant transitions). */
  private readonly pending: DeviceEvent[] = [];
  private dispatching = false;
  private lastShown: DeviceStateName = 'booting';
  private readonly log: Logger;
  /** Warnings about refused peer messages: a flood is counted, not written line by line. */
  private readonly ignoredLog: LogBudget;

  constructor(private readonly parts: DeviceParts) {
    super();
    const { config } = parts;
    this.log = parts.log;
    this.ignoredLog = new LogBudget({
      max: IGNORED_LOG_MAX,
      windowMs: IGNORED_LOG_WINDOW_MS,
      clock: parts.clock,
      summary: (key, unlogged) => {
        const [what, code] = key.split(' ');
        this.log.warn(
          { what, ...(code ? { code } : {}), unlogged },
          `ignored: ${unlogged} more of the same not logged (over ${IGNORED_LOG_MAX} per ${IGNORED_LOG_WINDOW_MS / 1000} s)`,
        );
      },
    });
    this.uploads = new Uploads({
      config,
      clock: parts.clock,
      log: this.log,
      transport: parts.transport,
      recorder: parts.recorder,
      vad: parts.vad,
      onClosed: (record) => this.closed(record),
      onOpenFailed: (id, message) =>
        this.dispatch({ type: 'utteranceFailed', id, code: 'E_OPEN', message }),
    });
    // One frame more than the pre-roll: the wake frame itself is part of the ring.
    this.ring = new FrameRing(framesForMs(config.audio.preRollMs) + 1);
    this.current = initialModel({
      link: parts.transport.kind === 'local' ? 'disabled' : 'pending',
      dontSaveRecordings: config.privacy.dontSaveRecordings,
      idPrefix: parts.idPrefix,
      canAnnounce: typeof parts.transport.announce === 'function',
    });
  }

  get state(): DeviceStateName {
    return this.current.state.name;
  }

  /** The state machine's model (read-only: it changes only through `dispatch`). */
  get model(): Model {
    return this.current;
  }

  /** Every part is up: leave `booting` (the microphone opens unless muted). */
  async start(): Promise<void> {
    this.dispatch({ type: 'booted', muted: this.parts.startMuted ?? false });
  }

  /** Shutdown: an utterance in flight is aborted (the cloud discards it), a reply abandoned. */
  async stop(): Promise<void> {
    const s = this.state;
    if (s === 'listening') {
      this.log.warn('shutdown: the utterance in flight is aborted (the cloud discards it)');
    } else if (s === 'thinking' || s === 'speaking') {
      this.log.info(`shutdown while ${s}: the reply is abandoned`);
    }
    this.dispatch({ type: 'stop' });
    this.ignoredLog.flush();
    this.parts.clock.clearTimeout(this.replyTimer);
    this.replyTimer = undefined;
  }

  /** One frame of microphone audio, in order. Never waits on the network. */
  async onFrame(frame: Frame): Promise<void> {
    const ended = await this.uploads.onFrame(frame);
    if (ended) this.dispatch({ type: 'speechEnded', id: ended.id, reason: ended.reason });
    this.ring.push(frame);
    let detections: Detection[];
    try {
      detections = await this.parts.wake.process(frame);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'wake detector failed on a frame');
      return;
    }
    for (const d of detections) this.dispatch({ type: 'wake', ...d });
  }

  dispatch(event: DeviceEvent): void {
    this.pending.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        const { model, effects } = transition(this.current, next);
        this.current = model;
        for (const effect of effects) this.apply(effect, next);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private apply(effect: Effect, cause: DeviceEvent): void {
    const { capture, wake, player, lights, clock, transport } = this.parts;
    switch (effect.type) {
      case 'showState': {
        const previous = this.lastShown;
        lights.showState(effect.state);
        this.lastShown = effect.state;
        if (previous !== effect.state) {
          this.log.info({ state: effect.state, previous, event: cause.type }, 'state');
          this.emit('state', { state: effect.state, previous, at: clock.now(), cause: cause.type });
          transport.reportState?.(effect.state);
        }
        return;
      }
      case 'openCapture':
        capture
          .openCapture()
          .catch((err: unknown) =>
            this.dispatch({ type: 'partFailed', part: 'capture', cause: errorMessage(err) }),
          );
        return;
      case 'closeCapture':
        // P1: stop the capture process and forget every frame heard before the mute.
        this.ring.clear();
        capture
          .closeCapture()
          .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'close capture'));
        return;
      case 'resetWake':
        wake.reset();
        return;
      case 'reportWake': {
        const d = effect.detection;
        this.log.info(
          { keyword: d.keyword, score: d.score, frame: d.frameIndex, accepted: effect.accepted },
          'wake word',
        );
        this.emit('wake', { ...d, at: clock.now(), accepted: effect.accepted });
        return;
      }
      case 'openUpload':
        this.uploads.open(effect.utterance, this.ring.frames(), effect.dontSaveRecordings);
        return;
      case 'closeUpload':
        this.uploads.close(effect.id, effect.close);
        return;
      case 'armReplyTimer': {
        clock.clearTimeout(this.replyTimer);
        const id = effect.id;
        this.replyTimer = clock.setTimeout(() => {
          this.replyTimer = undefined;
          this.log.warn({ id }, 'no reply from the cloud in time');
          this.dispatch({ type: 'replyTimeout', id });
        }, this.parts.config.utterance.replyTimeoutMs);
        return;
      }
      case 'cancelReplyTimer':
        clock.clearTimeout(this.replyTimer);
        this.replyTimer = undefined;
        return;
      case 'startPlayback':
        try {
          player.beginReply(effect.format);
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'reply cannot be played');
          this.dispatch({ type: 'playbackDone', error: errorMessage(err) });
        }
        return;
      case 'playReply':
        player.writeReply(effect.chunk);
        return;
      case 'endPlayback':
        player.endReply();
        return;
      case 'stopPlayback':
        player.stopReply();
        return;
      case 'earcon':
        void player.earcon(effect.name);
        return;
      case 'recordAck':
        this.emit('ack', { id: effect.ack.id, stored: effect.ack.stored, at: clock.now() });
        // A failed write takes the ledger down; it reports that itself.
        this.parts.recorder?.recordAck(effect.ack).catch(() => undefined);
        return;
      case 'answer':
        this.log.warn({ id: effect.id, code: effect.code }, effect.message);
        transport.answer?.(effect.code, effect.message, effect.id);
        return;
      case 'ignore':
        // With a code, the peer is told too (answers are rate-limited by the transport).
        if (effect.code) transport.answer?.(effect.code, effect.why, effect.id);
        if (this.ignoredLog.take(`${effect.what} ${effect.code ?? ''}`.trim())) {
          this.log.warn(
            { what: effect.what, id: effect.id, state: this.state, code: effect.code },
            `ignored: ${effect.why}`,
          );
        }
        this.emit('ignored', {
          what: effect.what,
          id: effect.id,
          why: effect.why,
          ...(effect.code ? { code: effect.code } : {}),
        });
        return;
      case 'recordFailure':
        this.parts.recorder
          ?.recordFailure?.(effect.id, effect.code, effect.message)
          .catch(() => undefined);
        return;
      case 'requestAnnouncement':
        this.log.info({ id: effect.id, chars: effect.text.length }, 'announcement');
        transport.announce?.(effect.id, effect.text);
        return;
      case 'cancelAnnouncement':
        transport.cancelAnnouncement?.(effect.id);
        return;
      case 'refuse':
        this.log.warn({ what: effect.what, code: effect.code }, `refused: ${effect.why}`);
        this.emit('refused', {
          what: effect.what,
          code: effect.code,
          why: effect.why,
          text: effect.text,
        });
        return;
      case 'selectWakeWord':
        this.selectWakeWord(effect.keyword);
        return;
      case 'setRetention':
        transport.setRetention?.(effect.dontSaveRecordings);
        return;
      case 'setVolume':
        player.setVolume(effect.volume);
        this.emit('volume', player.volume);
        return;
      case 'falseWake':
        this.emit('falseWake');
        return;
      case 'changed':
        this.emit('facts', this.current);
        return;
    }
  }

  /** Switches the wake word in the background; a refusal is reported like an announcement's. */
  private selectWakeWord(keyword: string): void {
    const refuse = (code: ErrorCode, why: string): void => {
      this.log.warn({ what: 'wakeWord', code, keyword }, `refused: ${why}`);
      this.emit('refused', { what: 'wakeWord', code, why, text: keyword });
    };
    const { wake } = this.parts;
    if (!wake.selectKeyword) {
      refuse('E_WAKE_CHOICE', `the ${wake.engine} engine cannot switch keywords at run time`);
      return;
    }
    wake.selectKeyword(keyword).catch((err: unknown) => {
      const code = err instanceof EarshotError ? err.code : 'E_WAKE_MODEL_LOAD';
      refuse(code, errorMessage(err));
    });
  }

  private closed(record: UploadRecord): void {
    this.log.info(
      {
        id: record.id,
        outcome: record.outcome,
        reason: record.reason,
        bytes: record.bytes,
        ms: record.durationMs,
      },
      'utterance closed',
    );
    this.emit('upload', record);
    this.dispatch({
      type: 'uploadClosed',
      id: record.id,
      outcome: record.outcome,
      bytes: record.bytes,
      sha256: record.sha256,
    });
  }
}
