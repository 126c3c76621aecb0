import type { ErrorCode } from '../shared/error-codes.js';
import type { AudioFormat, Settings, UtteranceAckMessage } from './protocol/index.js';

/** The link's connection state as the device sees it. */
export interface LinkStatusEvent {
  status: 'connecting' | 'up' | 'down';
  /**
   * Why the link is down: `ECONNREFUSED: …`, `certificate verify failed: …`,
   * `heartbeat timeout: …`, `HTTP 401 unauthorized (…)`, `stopped` …
   */
  cause?: string;
  /** With `down`: the backoff delay before the next attempt. */
  retryInMs?: number;
}

/** A message from the cloud that was malformed, unknown or out of place. */
export interface ProtocolErrorEvent {
  code: ErrorCode;
  message: string;
  /** The offending message's type, when it had one. */
  type?: string;
  /** The utterance it named, when it named one. */
  id?: string;
}

/** The cloud's acknowledgement of an utterance (for the ledger, P4). */
export type AckEvent = Omit<UtteranceAckMessage, 'type'>;

export interface ReplyStartEvent {
  id: string;
  format: AudioFormat;
  text?: string;
}

export interface ReplyEndEvent {
  id: string;
  /** The cloud wants a follow-up: listen again without a wake word. */
  expectSpeech: boolean;
}

export interface UtteranceFailedEvent {
  id: string;
  /** E_LINK_DOWN, E_BACKPRESSURE, E_UNSUPPORTED_FORMAT or a code from the cloud's `error`. */
  code: string;
  message: string;
}

export interface CloudErrorEvent {
  code: string;
  message: string;
  id?: string;
}

export type CloudLinkEvents = {
  status: [LinkStatusEvent];
  ack: [AckEvent];
  captureStop: [{ id: string }];
  replyStart: [ReplyStartEvent];
  replyAudio: [chunk: Buffer, id: string];
  replyEnd: [ReplyEndEvent];
  utteranceFailed: [UtteranceFailedEvent];
  settings: [Settings];
  protocolError: [ProtocolErrorEvent];
  /** An `error` from the cloud that names no utterance of ours. */
  cloudError: [CloudErrorEvent];
};
