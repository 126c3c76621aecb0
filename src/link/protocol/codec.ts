import type { ErrorCode } from '../../shared/error-codes.js';
import type { z } from 'zod';
import {
  CLOUD_MESSAGE_TYPES,
  DEVICE_MESSAGE_TYPES,
  PROTOCOL_VERSION,
  cloudMessage,
  deviceMessage,
  utteranceId,
  type CloudMessage,
  type DeviceMessage,
  type ErrorMessage,
} from './messages.js';

/**
 * Error codes carried by `error` messages (and close reasons). Stable: peers, logs and
 * tests match on them, never on the message text. PROTOCOL.md lists what each means.
 */
export const PROTOCOL_ERROR_CODES = {
  /** A text frame that is not JSON. */
  badJson: 'E_BAD_JSON',
  /** JSON that fails the message's schema (missing or wrong fields). */
  badMessage: 'E_BAD_MESSAGE',
  /** A `type` this side does not know. */
  unknownType: 'E_UNKNOWN_TYPE',
  /** A valid message at the wrong time (audio outside an utterance, no hello yet …). */
  unexpected: 'E_UNEXPECTED',
  /** An audio format this side cannot handle or did not negotiate. */
  unsupportedFormat: 'E_UNSUPPORTED_FORMAT',
  /** A frame above the receiver's maxPayload (the connection closes with 1009). */
  tooLarge: 'E_TOO_LARGE',
  /** bytes / sha256 in utterance.end differ from what arrived. */
  integrity: 'E_INTEGRITY',
  /** A message about an utterance id that is not the current one. */
  unknownUtterance: 'E_UNKNOWN_UTTERANCE',
  /** A hello with a protocol version this side does not speak. */
  protocolVersion: 'E_PROTOCOL_VERSION',
  /** The other side failed internally (e.g. speech synthesis); the request is lost. */
  internal: 'E_INTERNAL',
} as const satisfies Record<string, ErrorCode>;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[keyof typeof PROTOCOL_ERROR_CODES];

export type ParseResult<T> =
  | { ok: true; message: T }
  | {
      ok: false;
      code: ProtocolErrorCode;
      /** Human-readable, safe to log and to send back in an `error`. */
      reason: string;
      /** The offending message's `type`, when it had a string one. */
      type?: string;
      /** The offending message's `id`, when it had a plausible one (so the error can name it). */
      id?: string;
    };

/** Parses one text frame from a device (used by the cloud). Never throws. */
export function parseDeviceMessage(text: string): ParseResult<DeviceMessage> {
  return parseWith(text, deviceMessage, DEVICE_MESSAGE_TYPES);
}

/** Parses one text frame from the cloud (used by the device). Never throws. */
export function parseCloudMessage(text: string): ParseResult<CloudMessage> {
  return parseWith(text, cloudMessage, CLOUD_MESSAGE_TYPES);
}

function parseWith<T>(
  text: string,
  schema: z.ZodType<T>,
  knownTypes: ReadonlySet<string>,
): ParseResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, code: 'E_BAD_JSON', reason: `not JSON: ${(err as Error).message}` };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, code: 'E_BAD_MESSAGE', reason: 'a message must be a JSON object' };
  }
  const obj = raw as Record<string, unknown>;
  const id =
    typeof obj.id === 'string' && utteranceId.safeParse(obj.id).success ? obj.id : undefined;
  const meta = id !== undefined ? { id } : {};
  if (typeof obj.type !== 'string') {
    return { ok: false, code: 'E_BAD_MESSAGE', reason: 'missing string field "type"', ...meta };
  }
  const type = obj.type.slice(0, 64);
  if (!knownTypes.has(obj.type)) {
    return { ok: false, code: 'E_UNKNOWN_TYPE', reason: `unknown type "${type}"`, type, ...meta };
  }
  if (obj.type === 'hello' || obj.type === 'hello.ok') {
    if (obj.protocol !== PROTOCOL_VERSION) {
      return {
        ok: false,
        code: 'E_PROTOCOL_VERSION',
        // The peer's value is cut: a refusal must not echo a whole frame into logs.
        reason: `protocol ${JSON.stringify(obj.protocol)?.slice(0, 64) ?? 'undefined'} not supported (this side speaks ${PROTOCOL_VERSION})`,
        type,
      };
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
      .join('; ');
    return {
      ok: false,
      code: 'E_BAD_MESSAGE',
      reason: `invalid ${type}: ${issues}`,
      type,
      ...meta,
    };
  }
  return { ok: true, message: result.data };
}

/** Serialises a message for a text frame. */
export function encodeMessage(message: DeviceMessage | CloudMessage): string {
  return JSON.stringify(message);
}

/** An `error` message; the text is cut to the schema's limit so the answer always validates. */
export function errorReply(code: ErrorCode, message: string, id?: string): ErrorMessage {
  const reply: ErrorMessage = { type: 'error', code, message: message.slice(0, 1000) };
  if (id !== undefined) reply.id = id;
  return reply;
}
