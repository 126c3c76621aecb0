/**
 * What the Device needs from the parts around it. Parts implement these (or are adapted
 * to them in `wiring.ts`); the Device never knows which implementation it has.
 */
import type { PcmFormat } from '../shared/audio-format.js';
import type { DeviceStateName, LinkStatus } from '../shared/device-status.js';
import type { ErrorCode } from '../shared/error-codes.js';
import type { AbortReason, EndReason, UploadClose, UtteranceTrigger } from './states.js';

/**
 * Every part of the running device: built from the config in `wiring.ts`, started in
 * the order listed there and stopped in reverse.
 */
export interface Part {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the transport is told when an utterance opens. */
export interface UtteranceInfo {
  id: string;
  trigger: UtteranceTrigger;
  /** Length of the pre-roll at the start of the audio, in ms. */
  preRollMs: number;
  dontSaveRecordings: boolean;
}

export interface UploadSummary {
  durationMs: number;
  bytes: number;
  sha256: string;
}

/** Why an upload is cut short: on purpose, or because it cannot go on. */
export type CutReason = AbortReason | Extract<UploadClose, { how: 'fail' }>['reason'];

/** One utterance on its way to the cloud; opened and closed by the state machine only. */
export interface UtteranceUpload {
  readonly id: string;
  /** Sends audio; false when the upload is no longer open (nothing was sent). */
  write(pcm: Buffer): boolean;
  /** Commits the utterance: the cloud may act on it. */
  end(reason: EndReason): UploadSummary;
  /** Tells the cloud to discard it. */
  abort(reason: CutReason): void;
}

/** The cloud's signature of an acknowledgement (src/shared/receipt.ts). */
export interface Receipt {
  deviceId: string;
  time: string;
  signature: string;
}

export interface AckInfo {
  id: string;
  stored: boolean;
  /** What the cloud says it received; compared with what was sent. */
  bytes?: number;
  sha256?: string;
  aborted?: boolean;
  receipt?: Receipt;
}

/** Settings the cloud may change, already validated against the config schema. */
export interface CloudSettings {
  volume?: number;
}

/**
 * Where uploads go, for the ledger and the MQTT state: the protocol, the host, and
 * whether the owner's retention choice (P7) travels with each request. Home
 * Assistant's API has no field for it: there it cannot be sent, and the record says so.
 */
export interface Destination {
  protocol: 'earshot' | 'home-assistant';
  host: string;
  retentionSent: boolean;
}

export type TransportEvents = {
  status: [LinkStatus];
  ack: [AckInfo];
  captureStop: [{ id: string }];
  replyStart: [{ id: string; format: PcmFormat }];
  /** Reply audio, with the utterance id when the transport knows it. */
  replyAudio: [Buffer, string?];
  replyEnd: [{ id: string; expectSpeech: boolean }];
  utteranceFailed: [{ id: string; code: string; message: string }];
  /** The cloud changed a setting (earshot.v1 `settings`). */
  settings: [CloudSettings];
  /** What the cloud heard (Home Assistant's speech-to-text). */
  transcript: [{ id: string; text: string }];
  /** The answer's text, before its audio (Home Assistant's conversation agent). */
  replyText: [{ id: string; text: string; conversationId?: string; continueConversation: boolean }];
};

/** The cloud link, or the local stand-in when no cloud is configured. */
export interface UtteranceTransport extends Part {
  /** `cloud`, `local` (the stand-in of simulate), `none` (no cloud configured). */
  readonly kind: string;
  /** Where uploads go (ledger, MQTT); unset for the local stand-ins. */
  readonly destination?: Destination;
  /**
   * The most pre-roll this cloud should get, in ms; the device sends the smaller of
   * this and `audio.preRollMs`, and records exactly what it sent (P3, P4).
   */
  readonly maxPreRollMs?: number;
  openUtterance(info: UtteranceInfo): UtteranceUpload;
  /**
   * Speaks a text (an announcement): the answer comes as `replyStart`/`replyAudio`/
   * `replyEnd` (or `utteranceFailed`) under `id`. Absent: this cloud takes no text.
   */
  announce?(id: string, text: string): void;
  /** The device no longer wants announcement `id` (barge-in, mute, stop). */
  cancelAnnouncement?(id: string): void;
  /** The owner changed "don't save recordings" (P7): announce it from now on. */
  setRetention?(dontSaveRecordings: boolean): void;
  /** The device's state changed: tell the cloud (earshot.v1 `state`). */
  reportState?(state: DeviceStateName): void;
  /** Tell the peer that something it sent was refused (rate-limited by the transport). */
  answer?(code: ErrorCode, message: string, id?: string): void;
  /** Reply audio waits for the sound card: stop reading the peer, or read it again. */
  pauseReplies?(paused: boolean): void;
  on<K extends keyof TransportEvents>(
    event: K,
    listener: (...args: TransportEvents[K]) => void,
  ): unknown;
  off<K extends keyof TransportEvents>(
    event: K,
    listener: (...args: TransportEvents[K]) => void,
  ): unknown;
}

/** The LEDs as the device sees them. */
export interface StateLights {
  showState(state: DeviceStateName): void;
}

/** Opens and closes the microphone (the audio loop's capture). */
export interface CaptureControl {
  openCapture(): Promise<void>;
  closeCapture(): Promise<void>;
}

/**
 * The ledger as the device sees it (P4). `record` resolves once the entry is on disk;
 * the device commits an utterance to the cloud only after that.
 */
export interface UploadRecorder {
  record(upload: RecordedUpload): Promise<void>;
  recordAck(ack: AckInfo): Promise<void>;
  /** A sent utterance failed at the cloud (its code, as the cloud gave it). */
  recordFailure?(id: string, code: string, message: string): Promise<void>;
}

export interface RecordedUpload extends UploadSummary {
  id: string;
  trigger: UtteranceTrigger;
  preRollMs: number;
  outcome: 'sent' | 'aborted' | 'failed';
  reason: string;
  dontSaveRecordings: boolean;
  /** Wall times (ISO 8601) the utterance was opened and closed. */
  start: string;
  end: string;
  destination?: Destination;
}
