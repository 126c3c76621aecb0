/**
 * What the Device needs from the parts around it. Parts implement these (or are
 * adapted to them in `wiring.ts`); the Device never knows which implementation it has.
 */
import type { PcmFormat } from '../shared/audio-format.js';
import type { DeviceStateName, LinkStatus } from '../shared/device-status.js';
import type { Trigger } from './states.js';

export interface UtteranceMeta {
  id: string;
  trigger: Trigger;
  /** Length of the pre-roll at the start of the audio, in ms. */
  preRollMs: number;
  dontSaveRecordings: boolean;
}

export interface UploadSummary {
  durationMs: number;
  bytes: number;
  sha256: string;
}

/** One utterance on its way to the cloud; opened and closed by the state machine only. */
export interface UploadHandle {
  readonly id: string;
  /** Sends audio; false when the upload is no longer open (nothing was sent). */
  write(pcm: Buffer): boolean;
  end(reason: string): UploadSummary;
  abort(reason: string): void;
}

export interface AckInfo {
  id: string;
  stored: boolean;
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
};

/** The cloud link, or the local stand-in when no cloud is configured. */
export interface UtteranceTransport {
  readonly kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  openUtterance(meta: UtteranceMeta): UploadHandle;
  /** The owner changed "don't save recordings" (P7): announce it from now on. */
  setRetention?(dontSaveRecordings: boolean): void;
  on<K extends keyof TransportEvents>(
    event: K,
    listener: (...args: TransportEvents[K]) => void,
  ): unknown;
}

/** The LEDs as the device sees them. */
export interface StateLights {
  showState(state: DeviceStateName): void;
}

export type ButtonEvent = { name: 'mute' | 'action'; kind: 'press' | 'long' };

/**
 * The ledger as the device sees it (P4). `record` resolves once the entry is on disk;
 * the device commits an utterance to the cloud only after that.
 */
export interface UploadRecorder {
  record(upload: RecordedUpload): Promise<void>;
  recordAck(id: string, stored: boolean): Promise<void>;
}

export interface RecordedUpload extends UploadSummary {
  id: string;
  trigger: Trigger;
  preRollMs: number;
  outcome: 'sent' | 'aborted' | 'failed';
  reason: string;
  dontSaveRecordings: boolean;
  /** Wall times (ISO 8601) the utterance was opened and closed. */
  start: string;
  end: string;
}
