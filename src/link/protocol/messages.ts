import { z } from 'zod';
import { DEVICE_STATES } from '../../shared/device-status.js';

/**
 * The device <-> cloud protocol, version 1: one zod schema per JSON message, shared
 * by the device (`src/link`) and the reference cloud (`src/cloud`). PROTOCOL.md next
 * to the link explains each message, the order of events and the error codes; this
 * file is the executable form of that page and the two must say the same thing.
 *
 * Objects are not strict on purpose: a peer of a later 1.x revision may add optional
 * fields, and an older peer ignores them instead of rejecting the whole message.
 * Breaking changes get a new subprotocol name (`earshot.v2`).
 */
export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = `earshot.v${PROTOCOL_VERSION}`;

/** Utterance ids travel in logs, file names and the ledger: keep them short and plain. */
export const utteranceId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, "-" and "_", 1-64 chars');

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256');
const count = z.number().int().min(0);

/** Audio encodings a peer may name. Only `pcm_s16le` is implemented in v1 (see PROTOCOL.md). */
export const AUDIO_ENCODINGS = ['pcm_s16le', 'opus'] as const;
export type AudioEncoding = (typeof AUDIO_ENCODINGS)[number];

export const audioFormat = z.object({
  encoding: z.enum(AUDIO_ENCODINGS),
  sampleRate: z.number().int().min(8000).max(48_000),
  channels: z.number().int().min(1).max(2),
});
export type AudioFormat = z.infer<typeof audioFormat>;

/** The upload format of v1: the capture loop's own format, raw. */
export const UPLOAD_FORMAT: AudioFormat = {
  encoding: 'pcm_s16le',
  sampleRate: 16_000,
  channels: 1,
};

export const capabilities = z.object({
  /** Encodings the device can upload, best first. */
  uploadEncodings: z.array(z.enum(AUDIO_ENCODINGS)).min(1),
  /** Encodings the device can play, best first. */
  replyEncodings: z.array(z.enum(AUDIO_ENCODINGS)).min(1),
  /** Optional behaviours, e.g. `captureStop`, `expectSpeech`. Unknown names are ignored. */
  features: z.array(z.string().max(64)).max(32).default([]),
});
export type Capabilities = z.infer<typeof capabilities>;

export const TRIGGER_KINDS = ['wake', 'button', 'followup'] as const;

export const trigger = z.object({
  kind: z.enum(TRIGGER_KINDS),
  /** The wake word that fired (kind `wake`). */
  keyword: z.string().min(1).max(64).optional(),
  /** The detector's score in [0, 1] (kind `wake`). */
  score: z.number().min(0).max(1).optional(),
});
export type WireTrigger = z.infer<typeof trigger>;

/** Why the device ended an utterance normally. */
export const END_REASONS = [
  'speechEnd', // device-side VAD: trailing silence after speech
  'captureStop', // the cloud sent capture.stop
  'button', // the owner pressed the action button
  'maxDuration', // the hard cap on one utterance
  'noSpeech', // nothing was said before the no-speech timeout
] as const;
export type WireEndReason = (typeof END_REASONS)[number];

/** Why an utterance was dropped; the cloud discards what it received. */
export const ABORT_REASONS = [
  'mute', // the owner muted the device mid-utterance
  'cancelled', // the device state machine gave up (button, stop command)
  'backpressure', // the link could not keep up (E_BACKPRESSURE)
  'error', // a device-side failure
  'shutdown', // the daemon is stopping
] as const;
export type WireAbortReason = (typeof ABORT_REASONS)[number];

/* ---------------------------------------------------------------- device -> cloud */

export const helloMessage = z.object({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  deviceId: z.string().min(1).max(63),
  firmware: z.string().min(1).max(64),
  capabilities,
  /** The capture format (what binary upload frames carry unless negotiated otherwise). */
  format: audioFormat,
  privacy: z
    .object({
      /** The owner's retention choice (P7): the cloud must not keep the audio. */
      dontSaveRecordings: z.boolean(),
      /** Voice ID needs saved recordings: always the negation of dontSaveRecordings. */
      voiceIdAvailable: z.boolean(),
    })
    .refine((p) => p.voiceIdAvailable === !p.dontSaveRecordings, {
      message: 'voiceIdAvailable must be !dontSaveRecordings',
      path: ['voiceIdAvailable'],
    }),
});

export const utteranceStartMessage = z.object({
  type: z.literal('utterance.start'),
  id: utteranceId,
  trigger,
  /** Audio from before the trigger at the head of the stream; hard maximum 2 s (P3). */
  preRollMs: z.number().int().min(0).max(2000),
  format: audioFormat,
  /** The retention choice, repeated with every request (P7). */
  dontSaveRecordings: z.boolean(),
});

export const utteranceEndMessage = z.object({
  type: z.literal('utterance.end'),
  id: utteranceId,
  reason: z.enum(END_REASONS),
  /** Audio duration of everything sent, derived from `bytes` and the format. */
  durationMs: count,
  /** Binary payload bytes sent for this utterance. */
  bytes: count,
  /** SHA-256 of the concatenated binary payloads, as the device's ledger records it. */
  sha256: sha256Hex,
});

export const utteranceAbortMessage = z.object({
  type: z.literal('utterance.abort'),
  id: utteranceId,
  reason: z.enum(ABORT_REASONS),
});

export const stateMessage = z.object({
  type: z.literal('state'),
  state: z.enum(DEVICE_STATES),
  muted: z.boolean(),
  dontSaveRecordings: z.boolean(),
});

/** Application-level liveness check; either side may send it (WebSocket pings do the heartbeat). */
export const pingMessage = z.object({
  type: z.literal('ping'),
  nonce: z.string().max(64).optional(),
});

export const pongMessage = z.object({
  type: z.literal('pong'),
  nonce: z.string().max(64).optional(),
});

/* ---------------------------------------------------------------- cloud -> device */

export const settingsBody = z.object({
  /** Output volume, percent. */
  volume: z.number().int().min(0).max(100).optional(),
  // Retention is deliberately not a cloud setting: only the owner changes it (P7).
});
export type Settings = z.infer<typeof settingsBody>;

export const helloOkMessage = z.object({
  type: z.literal('hello.ok'),
  protocol: z.literal(PROTOCOL_VERSION),
  sessionId: z.string().min(1).max(64),
  server: z.string().max(64).optional(),
  settings: settingsBody.optional(),
});

export const utteranceAckMessage = z.object({
  type: z.literal('utterance.ack'),
  id: utteranceId,
  /** True only when the cloud kept the audio (never when dontSaveRecordings was sent). */
  stored: z.boolean(),
  /** What the cloud received, for the ledger to compare with what was sent. */
  bytes: count,
  sha256: sha256Hex.optional(),
  /** The cloud discarded an aborted utterance. */
  aborted: z.boolean().optional(),
  /**
   * The cloud's Ed25519 signature of these facts (src/shared/receipt.ts): devices that
   * pin the cloud's public key refuse an acknowledgement without a valid one.
   */
  receipt: z
    .object({
      time: z.string().min(10).max(40),
      signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'an Ed25519 signature in base64'),
    })
    .optional(),
});

export const captureStopMessage = z.object({
  type: z.literal('capture.stop'),
  id: utteranceId,
});

export const replyStartMessage = z.object({
  type: z.literal('reply.start'),
  id: utteranceId,
  format: audioFormat,
  /** What the reply says, for logs and displays. */
  text: z.string().max(1000).optional(),
});

export const replyEndMessage = z.object({
  type: z.literal('reply.end'),
  id: utteranceId,
  /** Open the microphone again for a follow-up without a wake word. */
  expectSpeech: z.boolean().optional(),
});

export const settingsMessage = z.object({
  type: z.literal('settings'),
  settings: settingsBody,
});

export const errorMessage = z.object({
  type: z.literal('error'),
  code: z.string().regex(/^E_[A-Z0-9_]{1,40}$/),
  message: z.string().max(1000),
  /** The utterance the error is about, if any. */
  id: utteranceId.optional(),
});

/* ---------------------------------------------------------------- unions */

export const deviceMessage = z.discriminatedUnion('type', [
  helloMessage,
  utteranceStartMessage,
  utteranceEndMessage,
  utteranceAbortMessage,
  stateMessage,
  pingMessage,
  pongMessage,
  errorMessage,
]);

export const cloudMessage = z.discriminatedUnion('type', [
  helloOkMessage,
  utteranceAckMessage,
  captureStopMessage,
  replyStartMessage,
  replyEndMessage,
  settingsMessage,
  errorMessage,
  pingMessage,
  pongMessage,
]);

export type HelloMessage = z.infer<typeof helloMessage>;
export type UtteranceStartMessage = z.infer<typeof utteranceStartMessage>;
export type UtteranceEndMessage = z.infer<typeof utteranceEndMessage>;
export type UtteranceAbortMessage = z.infer<typeof utteranceAbortMessage>;
export type StateMessage = z.infer<typeof stateMessage>;
export type PingMessage = z.infer<typeof pingMessage>;
export type PongMessage = z.infer<typeof pongMessage>;
export type HelloOkMessage = z.infer<typeof helloOkMessage>;
export type UtteranceAckMessage = z.infer<typeof utteranceAckMessage>;
export type CaptureStopMessage = z.infer<typeof captureStopMessage>;
export type ReplyStartMessage = z.infer<typeof replyStartMessage>;
export type ReplyEndMessage = z.infer<typeof replyEndMessage>;
export type SettingsMessage = z.infer<typeof settingsMessage>;
export type ErrorMessage = z.infer<typeof errorMessage>;
export type DeviceMessage = z.infer<typeof deviceMessage>;
export type CloudMessage = z.infer<typeof cloudMessage>;

export const DEVICE_MESSAGE_TYPES: ReadonlySet<string> = new Set(
  deviceMessage.options.map((o) => o.shape.type.value),
);
export const CLOUD_MESSAGE_TYPES: ReadonlySet<string> = new Set(
  cloudMessage.options.map((o) => o.shape.type.value),
);
