import type { Player } from '../audio/player.js';
import { FrameRing } from '../audio/ring-buffer.js';
import type { Config } from '../config/schema.js';
import { FRAME_MS, framesForMs, type Frame } from '../shared/audio-format.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { DeviceCommand, DeviceStateName } from '../shared/device-status.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { Detection, WakeDetector } from '../wake/detector.js';
import { transition } from './machine.js';
import type { ButtonEvent, StateLights, UploadRecorder, UtteranceTransport } from './ports.js';
import { StatusBook } from './status-book.js';
import { initialModel, type DeviceEvent, type Effect, type Model } from './states.js';
import { Uploads, type UploadRecord } from './uploads.js';
import type { SpeechEndDetector } from './utterance-session.js';

/** Opens and closes the microphone (the audio loop's capture). */
export interface CaptureControl {
  openCapture(): Promise<void>;
  closeCapture(): Promise<void>;
}

export type { UploadRecord } from './uploads.js';

export type DeviceEvents = {
  state: [{ state: DeviceStateName; previous: DeviceStateName; at: number; cause?: string }];
  wake: [Detection & { at: number; accepted: boolean }];
  upload: [UploadRecord];
  ack: [{ id: string; stored: boolean; at: number }];
  /** Something a dashboard shows changed (MQTT publishes snapshots). */
  changed: [];
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
}

/**
 * The orchestrator: feeds each frame to the pre-roll, the wake detector and the open
 * utterance; turns what the parts report into state-machine events; and carries out
 * the machine's effects, in order. It holds no state of its own that the machine's
 * model does not already say, apart from the handles the effects opened.
 */
export class Device extends TypedEmitter<DeviceEvents> {
  private model: Model;
  private readonly ring: FrameRing;
  private readonly uploads: Uploads;
  private replyTimer: TimerHandle | undefined;
  private replyHadAudio = false;
  /** The utterance whose reply is awaited; replies for any other id are stale. */
  private replyFor: string | undefined;
  readonly status: StatusBook;
  private readonly log: Logger;

  constructor(private readonly parts: DeviceParts) {
    super();
    const { config } = parts;
    this.log = parts.log;
    this.uploads = new Uploads({
      config,
      clock: parts.clock,
      log: this.log,
      transport: parts.transport,
      recorder: parts.recorder,
      vad: parts.vad,
      onReport: (record) => this.report(record),
      onOpenFailed: (code, cause) => this.dispatch({ type: 'uploadFailed', code, cause }),
      onLedgerFailed: (err, duringCommit) => {
        this.ledgerFailed(err);
        if (duringCommit && this.state === 'thinking') {
          this.dispatch({ type: 'uploadFailed', code: 'E_LEDGER', cause: errorMessage(err) });
        }
      },
    });
    // One frame more than the pre-roll: the wake frame itself is part of the ring.
    this.ring = new FrameRing(framesForMs(config.audio.preRollMs) + 1);
    this.model = initialModel(parts.transport.kind === 'local' ? 'disabled' : 'pending');
    this.status = new StatusBook(config, parts.player);
    this.wireParts();
  }

  get state(): DeviceStateName {
    return this.model.state.name;
  }

  get currentModel(): Model {
    return this.model;
  }

  /** Called once every part is up: leaves `booting`. */
  booted(muted = false): void {
    if (muted) this.dispatch({ type: 'mute', muted: true });
    this.dispatch({ type: 'booted' });
    if (!muted) void this.parts.capture.openCapture();
  }

  /** One frame of microphone audio, in order. Never waits on the network. */
  async onFrame(frame: Frame): Promise<void> {
    const ended = await this.uploads.onFrame(frame);
    if (ended) this.dispatch({ type: 'speechEnded', reason: ended });
    this.ring.push(frame);
    let detections: Detection[];
    try {
      detections = await this.parts.wake.process(frame);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'wake detector failed on a frame');
      return;
    }
    for (const d of detections) this.onDetection(d);
  }

  dispatch(event: DeviceEvent): void {
    const before = this.model;
    const { model, effects } = transition(before, event);
    this.model = model;
    for (const effect of effects) this.apply(effect, event);
    const partsChanged = model.failed !== before.failed;
    if (partsChanged) this.reportFailedParts(before.failed, model.failed);
    if (model.state.name !== before.state.name || model.link !== before.link || partsChanged) {
      this.emit('changed');
    }
  }

  /**
   * A critical part that is down (capture, ledger) is a problem the owner must see
   * named, not only as the `error` state: MQTT `problems`, doctor and STATUS list it with
   * its cause until it recovers.
   */
  private reportFailedParts(before: Model['failed'], after: Model['failed']): void {
    for (const f of before) {
      if (!after.some((a) => a.part === f.part)) this.status.clearProblem(f.part);
    }
    for (const f of after) {
      this.status.setProblem({
        part: f.part,
        code: `E_${f.part.toUpperCase()}_DOWN`,
        message: f.cause,
      });
    }
  }

  /** Something reportable changed outside the state machine (a part's problem). */
  emitChanged(): void {
    this.emit('changed');
  }

  handleButton(button: ButtonEvent): void {
    this.log.info(button, 'button');
    if (button.name === 'mute' && button.kind === 'press') this.dispatch({ type: 'mute' });
    else if (button.name === 'action' && button.kind === 'press') this.dispatch({ type: 'talk' });
    else this.log.info(button, 'long press (no action assigned)');
  }

  /** A validated command from outside (MQTT). */
  command(cmd: DeviceCommand): void {
    this.log.info({ cmd }, 'command');
    switch (cmd.type) {
      case 'mute':
        this.dispatch({ type: 'mute', muted: cmd.muted });
        break;
      case 'listen':
        this.dispatch({ type: 'talk' });
        break;
      case 'stop':
        this.dispatch({ type: 'stop' });
        break;
      case 'volume':
        this.parts.player.setVolume(cmd.volume);
        break;
      case 'retention':
        this.status.dontSaveRecordings = cmd.dontSaveRecordings;
        this.parts.transport.setRetention?.(cmd.dontSaveRecordings);
        break;
      case 'falseWake':
        this.status.falseWake(this.log);
        break;
    }
    this.emit('changed');
  }

  private onDetection(d: Detection): void {
    const at = this.parts.clock.now();
    const accepted =
      this.state === 'idle' || this.state === 'thinking' || this.state === 'speaking';
    this.status.wake(d, this.state);
    this.emit('wake', { ...d, at, accepted });
    this.log.info(
      { keyword: d.keyword, score: d.score, frame: d.frameIndex, state: this.state },
      'wake word',
    );
    this.dispatch({ type: 'wake', keyword: d.keyword, score: d.score, frameIndex: d.frameIndex });
    this.emit('changed');
  }

  private apply(effect: Effect, cause: DeviceEvent): void {
    const { capture, wake, player, lights, clock } = this.parts;
    switch (effect.type) {
      case 'showState': {
        const previous = this.status.lastState;
        lights.showState(effect.state);
        this.status.lastState = effect.state;
        if (previous !== effect.state) {
          this.log.info({ state: effect.state, previous, event: cause.type }, 'state');
          this.emit('state', { state: effect.state, previous, at: clock.now(), cause: cause.type });
        }
        break;
      }
      case 'openCapture':
        capture.openCapture().catch((err: unknown) => this.captureFailed(errorMessage(err)));
        break;
      case 'closeCapture':
        // P1: stop the capture process and forget every frame heard before the mute.
        this.ring.clear();
        capture
          .closeCapture()
          .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'close capture'));
        break;
      case 'resetWake':
        wake.reset();
        break;
      case 'openUpload':
        this.replyFor = undefined; // a new question: any earlier reply is stale
        this.uploads.open(effect.trigger, this.ring.frames(), this.status.dontSaveRecordings);
        break;
      case 'endUpload':
        this.uploads.close('end', effect.reason, this.status.dontSaveRecordings);
        break;
      case 'abortUpload':
        this.uploads.close('abort', effect.reason, this.status.dontSaveRecordings);
        break;
      case 'failUpload':
        this.uploads.close('failed', effect.reason, this.status.dontSaveRecordings);
        break;
      case 'armReplyTimer':
        clock.clearTimeout(this.replyTimer);
        this.replyHadAudio = false;
        this.replyTimer = clock.setTimeout(() => {
          this.replyTimer = undefined;
          this.log.warn('no reply from the cloud in time');
          this.dispatch({ type: 'replyTimeout' });
        }, this.parts.config.utterance.replyTimeoutMs);
        break;
      case 'cancelReplyTimer':
        clock.clearTimeout(this.replyTimer);
        this.replyTimer = undefined;
        break;
      case 'stopPlayback':
        player.stopReply();
        break;
      case 'earcon':
        void player.earcon(effect.name);
        break;
    }
  }

  private report(record: UploadRecord): void {
    this.status.upload(record.outcome);
    // Committed: this is the utterance whose reply the device now waits for.
    if (record.outcome === 'sent') this.replyFor = record.id;
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
    this.emit('changed');
  }

  private ledgerFailed(err: unknown): void {
    this.log.error({ err: errorMessage(err) }, 'ledger write failed: uploads stop');
    this.dispatch({ type: 'partFailed', part: 'ledger', cause: errorMessage(err) });
  }

  private captureFailed(cause: string): void {
    this.dispatch({ type: 'partFailed', part: 'capture', cause });
  }

  private wireParts(): void {
    const { transport, player } = this.parts;
    transport.on('status', (s) => {
      this.status.link = s;
      if (s.status === 'up') this.dispatch({ type: 'linkUp' });
      else if (s.status === 'down')
        this.dispatch({ type: 'linkDown', cause: s.cause ?? 'unknown' });
      this.emit('changed');
    });
    transport.on('ack', (a) => {
      this.emit('ack', { ...a, at: this.parts.clock.now() });
      this.parts.recorder
        ?.recordAck(a.id, a.stored)
        .catch((err: unknown) => this.ledgerFailed(err));
    });
    transport.on('captureStop', ({ id }) => {
      if (this.uploads.currentId === id) this.dispatch({ type: 'speechEnded', reason: 'cloud' });
    });
    transport.on('utteranceFailed', ({ id, code, message }) => {
      this.log.error({ id, code, message }, 'utterance failed');
      if (this.uploads.currentId === id) {
        this.uploads.close('failed', `${code}: ${message}`, this.status.dontSaveRecordings);
      }
      if (this.state === 'listening' || this.state === 'thinking') {
        this.dispatch({ type: 'uploadFailed', code, cause: message });
      }
    });
    transport.on('replyStart', ({ id, format }) => {
      // Only the reply to the utterance the device is waiting for: not a late one after a
      // stop, a barge-in or a reply deadline, which would answer the wrong question.
      if (this.state !== 'thinking' || id !== this.replyFor) {
        this.log.warn({ id, waitingFor: this.replyFor, state: this.state }, 'stale reply ignored');
        return;
      }
      try {
        player.beginReply(format);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'reply cannot be played');
        this.dispatch({ type: 'uploadFailed', code: 'E_REPLY_FORMAT', cause: errorMessage(err) });
        return;
      }
      this.replyHadAudio = true;
      this.dispatch({ type: 'replyStarted' });
    });
    transport.on('replyAudio', (chunk, id) => {
      if (this.state === 'speaking' && (id === undefined || id === this.replyFor)) {
        player.writeReply(chunk);
      }
    });
    transport.on('replyEnd', ({ id, expectSpeech }) => {
      if (id !== this.replyFor) return;
      this.replyFor = undefined;
      if (this.state === 'speaking') player.endReply();
      this.dispatch({ type: 'replyEnded', expectSpeech, hadAudio: this.replyHadAudio });
    });
    player.on('replyDone', ({ error }) => {
      if (this.state === 'speaking')
        this.dispatch({ type: 'playbackDone', ...(error ? { error } : {}) });
    });
  }
}

/** Frames of pre-roll kept for a given configuration (exported for tests). */
export function preRollFrames(preRollMs: number): number {
  return Math.ceil(preRollMs / FRAME_MS) + 1;
}
