import type { PcmFormat } from '../shared/audio-format.js';
import type { DeviceStateName } from '../shared/device-status.js';
import type { ErrorCode } from '../shared/error-codes.js';
import type { Detection } from '../wake/detector.js';
import type { AckInfo } from './ports.js';

/** Why an utterance was opened. */
export type UtteranceTrigger =
  | { kind: 'wake'; keyword: string; score: number; frameIndex: number }
  | { kind: 'button' }
  | { kind: 'followup' };

/** One request: what was heard, under the id the device gave it. */
export interface Utterance {
  id: string;
  trigger: UtteranceTrigger;
}

/** Why the device stopped capturing an utterance that it then sent. */
export type EndReason = 'vad' | 'maxLength' | 'noSpeech' | 'cloud' | 'button';
/** Why an utterance was cut on purpose (the cloud is told to discard it). */
export type AbortReason = 'muted' | 'stopped';
/** The critical parts: while one is down the device rests in `error`. */
export type CriticalPart = 'capture' | 'ledger';

/** How an upload closed, and why. Rendered for logs, simulate and the ledger by `closeReason`. */
export type UploadClose =
  | { how: 'end'; reason: EndReason }
  | { how: 'abort'; reason: AbortReason }
  | { how: 'fail'; reason: 'link down' | `${CriticalPart} failed` }
  /** The cloud or the transport refused it, with the peer's code. */
  | { how: 'fail'; reason: 'refused'; code: string; message: string };

/**
 * The one device state. Each variant carries only what that state needs; there are
 * no flags elsewhere that together mean a state.
 */
export type DeviceState =
  | { name: 'booting' }
  | { name: 'idle' }
  | { name: 'listening'; utterance: Utterance }
  /** The utterance was sent; its reply, and only its reply, is awaited. */
  | { name: 'thinking'; utterance: Utterance }
  /** Its reply plays; `expectSpeech` is known once the reply has ended. */
  | { name: 'speaking'; utterance: Utterance; expectSpeech?: boolean }
  | { name: 'muted' }
  | { name: 'offline'; cause: string }
  | { name: 'error'; part: CriticalPart; cause: string };

/** How many closed utterances may still be acknowledged at once; the oldest is forgotten. */
export const MAX_AWAITED_ACKS = 16;

/** Facts the machine remembers across states. */
export interface Model {
  state: DeviceState;
  /** `pending`: not yet connected once; `disabled`: no cloud configured (local stand-in). */
  link: 'pending' | 'up' | 'down' | 'disabled';
  linkCause: string;
  /** Critical parts that are down, oldest first. */
  failed: ReadonlyArray<{ part: CriticalPart; cause: string }>;
  /** The owner's "don't save recordings" (P7): sent with every utterance. */
  dontSaveRecordings: boolean;
  /** Utterances closed and told to the cloud whose acknowledgement may still come, oldest first. */
  awaitingAck: ReadonlyArray<{ id: string; bytes: number; sha256: string }>;
  /** Utterance ids are `${idPrefix}-${seq}`: unique per run, and reproducible from a seed. */
  idPrefix: string;
  nextSeq: number;
  /** The cloud speaks texts (Home Assistant): announcements can be taken. */
  canAnnounce: boolean;
  /**
   * An announcement being fetched or played. It belongs to the speaker, not to the
   * microphone: it plays in `idle` and in `muted` (mute closes the microphone, not the
   * speaker), opens no capture and no upload (P1, P2), and ends before anything else
   * uses the speaker.
   */
  announcement?: { id: string; playing: boolean };
}

export type DeviceEvent =
  | { type: 'booted'; muted: boolean }
  | ({ type: 'wake' } & Detection)
  | { type: 'talk' }
  | { type: 'stop' }
  | { type: 'mute'; muted?: boolean }
  | { type: 'retention'; dontSaveRecordings: boolean }
  | { type: 'volume'; volume: number }
  | { type: 'falseWake' }
  | { type: 'wakeWord'; keyword: string }
  /** Speak this text (an MQTT command or Home Assistant's notify entity). */
  | { type: 'announce'; text: string }
  /** The device's own end of speech on the open utterance. */
  | { type: 'speechEnded'; id: string; reason: EndReason }
  /** The cloud asked to stop capturing. */
  | { type: 'captureStop'; id: string }
  /** The upload was closed and its ledger entry written (or refused: `failed`). */
  | {
      type: 'uploadClosed';
      id: string;
      outcome: 'sent' | 'aborted' | 'failed';
      bytes: number;
      sha256: string;
    }
  /** The transport or the cloud gave up on an utterance (refusal, backpressure …). */
  | { type: 'utteranceFailed'; id: string; code: string; message: string }
  | ({ type: 'ack' } & AckInfo)
  | { type: 'replyStarted'; id: string; format: PcmFormat }
  /** Reply audio; `id` when the transport knows which reply it belongs to. */
  | { type: 'replyAudio'; id?: string; chunk: Buffer }
  | { type: 'replyEnded'; id: string; expectSpeech: boolean }
  /** The reply played out; `refused` when the player cut it for the cloud's fault. */
  | { type: 'playbackDone'; error?: string; refused?: { code: ErrorCode; message: string } }
  | { type: 'replyTimeout'; id: string }
  | { type: 'linkUp' }
  | { type: 'linkDown'; cause: string }
  | { type: 'partFailed'; part: CriticalPart; cause: string }
  | { type: 'partRecovered'; part: CriticalPart };

export type EarconName = 'wake' | 'error' | 'mute' | 'unmute' | 'announce';

export type Effect =
  /** Show the state on the LEDs. Always before the effect that opens an upload (P2). */
  | { type: 'showState'; state: DeviceStateName }
  | { type: 'openCapture' }
  | { type: 'closeCapture' }
  /** Reset the wake detector's context (after mute, so stale audio cannot fire). */
  | { type: 'resetWake' }
  /** A wake word was heard; `accepted` when it opened (or tried to open) an utterance. */
  | { type: 'reportWake'; detection: Detection; accepted: boolean }
  | { type: 'openUpload'; utterance: Utterance; dontSaveRecordings: boolean }
  | { type: 'closeUpload'; id: string; close: UploadClose }
  | { type: 'armReplyTimer'; id: string }
  | { type: 'cancelReplyTimer' }
  | { type: 'startPlayback'; format: PcmFormat }
  | { type: 'playReply'; chunk: Buffer }
  | { type: 'endPlayback' }
  | { type: 'stopPlayback' }
  | { type: 'earcon'; name: EarconName }
  /** An acknowledgement of an utterance this device sent and waited on: into the ledger. */
  | { type: 'recordAck'; ack: AckInfo }
  /** A sent utterance failed at the cloud: into the ledger, with the cloud's code. */
  | { type: 'recordFailure'; id: string; code: string; message: string }
  /** Tell the peer, with a code, that something it sent about utterance `id` was refused. */
  | { type: 'answer'; id: string; code: ErrorCode; message: string }
  /** Something from a peer that the device does not take (stale, unknown, repeated). */
  | { type: 'ignore'; what: IgnoredKind; id: string; why: string; code?: ErrorCode }
  /** Ask the cloud to speak a text under `id` (an announcement). */
  | { type: 'requestAnnouncement'; id: string; text: string }
  | { type: 'cancelAnnouncement'; id: string }
  /** A request from outside that the device does not carry out, with the reason. */
  | { type: 'refuse'; what: 'announce'; code: ErrorCode; why: string; text: string }
  /** Switch the wake word (the detector loads it beside the running one). */
  | { type: 'selectWakeWord'; keyword: string }
  | { type: 'setRetention'; dontSaveRecordings: boolean }
  | { type: 'setVolume'; volume: number }
  | { type: 'falseWake' }
  /** The facts a report shows (state, link, failed parts, retention) changed. */
  | { type: 'changed'; failedChanged: boolean };

export type IgnoredKind = 'reply' | 'replyEnd' | 'ack' | 'captureStop' | 'failure' | 'closed';

export interface Transition {
  model: Model;
  effects: Effect[];
}

export interface ModelOptions {
  link?: Model['link'];
  dontSaveRecordings?: boolean;
  idPrefix?: string;
  canAnnounce?: boolean;
}

export const initialModel = (options: ModelOptions = {}): Model => ({
  state: { name: 'booting' },
  link: options.link ?? 'pending',
  linkCause: '',
  failed: [],
  dontSaveRecordings: options.dontSaveRecordings ?? true,
  awaitingAck: [],
  idPrefix: options.idPrefix ?? 'u',
  nextSeq: 1,
  canAnnounce: options.canAnnounce ?? false,
});

/** The words an upload's close is reported in (simulate, logs, the ledger's `reason`). */
export function closeReason(close: UploadClose): string {
  return close.reason === 'refused' ? `${close.code}: ${close.message}` : close.reason;
}

/** The outcome an upload's close is recorded as. */
export function closeOutcome(close: UploadClose): 'sent' | 'aborted' | 'failed' {
  return close.how === 'end' ? 'sent' : close.how === 'abort' ? 'aborted' : 'failed';
}
