import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type {
  DeviceMessage,
  HelloMessage,
  UtteranceEndMessage,
  UtteranceStartMessage,
} from '../link/protocol/index.js';
import type { Voice } from './speech.js';

/** Misbehaviour the reference cloud can show on purpose, so devices can be tested against it. */
export const GARBAGE_KINDS = [
  'malformed-json', // a text frame that is not JSON
  'unknown-type', // valid JSON with a type the device does not know
  'invalid-fields', // a known type with wrong fields
  'oversized', // a frame larger than the device's maxPayload
  'stray-audio', // a binary frame outside any reply
] as const;
export type GarbageKind = (typeof GARBAGE_KINDS)[number];

export interface CloudBehaviour {
  /** What to answer an utterance with: speech (flite/espeak-ng, else a tone), a tone, or nothing. */
  reply: 'speech' | 'tone' | 'none';
  /** Send `capture.stop` once this much audio (ms) of an utterance has arrived. */
  captureStopAfterMs?: number | undefined;
  /** Ask the device for a follow-up (`reply.end` with expectSpeech). */
  expectSpeech: boolean;
  /** Wait this long after `utterance.end` before the reply starts. */
  replyDelayMs: number;
  /** Stop answering pings (WebSocket and JSON) after hello: a hung cloud. */
  stall: boolean;
  /** Drop the connection (no close frame) once this much audio (ms) of an utterance arrived. */
  dropAfterMs?: number | undefined;
  /** Stop reading the socket when an utterance starts: a cloud that cannot keep up. */
  stopReading: boolean;
  /** Frames to send right after hello.ok. */
  garbage: GarbageKind[];
  /** Size of the `oversized` garbage frame. */
  oversizedBytes: number;
  /** Announce replies as 48 kHz stereo Opus (never negotiated) while sending PCM. */
  wrongReplyFormat: boolean;
}

export const DEFAULT_BEHAVIOUR: CloudBehaviour = {
  reply: 'speech',
  expectSpeech: false,
  replyDelayMs: 0,
  stall: false,
  stopReading: false,
  garbage: [],
  oversizedBytes: 2 * 1024 * 1024,
  wrongReplyFormat: false,
};

export interface CloudServerOptions {
  /** Address to listen on; default 127.0.0.1 (a development server is not for the LAN by accident). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Server certificate and key files (PEM). */
  cert: string;
  key: string;
  /** CA file (PEM): when set, devices must present a client certificate it signed. */
  ca?: string | undefined;
  /** When set, devices must send `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Keep allowed recordings here as WAV; unset keeps nothing. */
  store?: string | undefined;
  /** Largest frame accepted from a device (default 1 MiB); bigger closes with 1009. */
  maxPayloadBytes?: number;
  /** Largest utterance accepted (default 60 s of audio); more is refused with E_TOO_LARGE. */
  maxUtteranceBytes?: number;
  voice?: Voice;
  behaviour?: Partial<CloudBehaviour>;
  logger?: Logger;
  /** Limits per connection and in total; defaults in DEFAULT_LIMITS. */
  limits?: Partial<CloudLimits>;
}

/**
 * What one device, or anybody who can open a TLS connection, may cost the cloud:
 * connections that never say hello are closed, a connection that floods or stops
 * reading is dropped, and the number of connections is capped.
 */
export interface CloudLimits {
  /** Connections at once; more are refused (HTTP 503). */
  maxConnections: number;
  /** TLS handshake and HTTP upgrade must finish within this. */
  handshakeTimeoutMs: number;
  /** A connection must send a valid `hello` within this after the upgrade. */
  helloTimeoutMs: number;
  /** Protocol errors a connection may cause per 10 s before it is dropped. */
  maxErrorsPer10s: number;
  /** Messages (text and binary) a connection may send per second. */
  maxMessagesPerSecond: number;
  /** Bytes waiting to go to a device that does not read, before it is dropped. */
  maxBufferedBytes: number;
  /** Warnings a connection may log per 10 s; the rest go to debug. */
  maxLogLinesPer10s: number;
}

export const DEFAULT_LIMITS: CloudLimits = {
  maxConnections: 64,
  handshakeTimeoutMs: 10_000,
  helloTimeoutMs: 10_000,
  maxErrorsPer10s: 50,
  // An upload sent faster than real time (simulate) is a few hundred frames a second.
  maxMessagesPerSecond: 2000,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxLogLinesPer10s: 20,
};

export interface SessionInfo {
  sessionId: string;
  remote: string;
  /** Subject CN of the verified client certificate, when mutual TLS is on. */
  certificateCn?: string;
}

export interface UtteranceRecord {
  sessionId: string;
  deviceId: string;
  id: string;
  start: UtteranceStartMessage;
  end: UtteranceEndMessage;
  /** Exactly the binary payloads received, in order. */
  audio: Buffer;
  sha256: string;
  /** bytes and sha256 in utterance.end match what arrived. */
  integrityOk: boolean;
  /** Where the WAV was written, when the device allowed saving and a store is set. */
  storedPath?: string;
}

export type CloudServerEvents = {
  connection: [SessionInfo];
  hello: [SessionInfo & { hello: HelloMessage }];
  /** Every valid message from a device. */
  message: [sessionId: string, message: DeviceMessage];
  /** Every binary frame accepted into an utterance. */
  audio: [sessionId: string, chunk: Buffer];
  utterance: [UtteranceRecord];
  aborted: [{ sessionId: string; id: string; reason: string; bytes: number }];
  /** A reply was sent completely. */
  replied: [{ sessionId: string; id: string; engine: string; bytes: number }];
  protocolError: [{ sessionId: string; code: string; message: string }];
  /** An upgrade refused (no or untrusted client certificate, bad token, wrong subprotocol). */
  rejected: [{ remote: string; status: number; reason: string }];
  disconnect: [{ sessionId: string; code: number; reason: string }];
};

/** The server's event stream; `publish` is for the server's own modules. */
export class CloudServerEmitter extends TypedEmitter<CloudServerEvents> {
  publish<K extends keyof CloudServerEvents & string>(
    event: K,
    ...args: CloudServerEvents[K]
  ): boolean {
    return this.emit(event, ...args);
  }
}
