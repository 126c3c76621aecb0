import { z } from 'zod';
import type { DeviceCommand } from '../shared/device-status.js';
import type { CommandTopics } from './topics.js';

/**
 * Commands in: every payload is validated here, completely, before anything happens. A
 * payload is either turned into one typed DeviceCommand or rejected with a reason that
 * is safe to publish; there is no partial result to apply half-way.
 */
export type CommandResult = { ok: true; command: DeviceCommand } | { ok: false; reason: string };

/** Commands are a word or a small JSON object; anything bigger is a mistake or abuse. */
export const MAX_COMMAND_BYTES = 512;

const TRUE_WORDS = ['on', 'true', '1', 'yes'] as const;
const FALSE_WORDS = ['off', 'false', '0', 'no'] as const;

/** `ON`/`OFF` (Home Assistant's default), `true`/`false`, `1`/`0`, `yes`/`no`, any case. */
function switchPayload(extraTrue: readonly string[], extraFalse: readonly string[]) {
  const trueSet = new Set<string>([...TRUE_WORDS, ...extraTrue]);
  const all = [...TRUE_WORDS, ...extraTrue, ...FALSE_WORDS, ...extraFalse];
  const expected = `expected ON or OFF (also ${all.filter((w) => w !== 'on' && w !== 'off').join(', ')})`;
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => all.includes(v), expected)
    .transform((v) => trueSet.has(v));
}

const mutePayload = switchPayload(['mute', 'muted'], ['unmute', 'unmuted']);
const retentionPayload = switchPayload([], []);

const VOLUME_RANGE = 'volume must be between 0 and 100';

/** `40`, `40.0`, ` 40 `, `40%`; rounded to a whole percent, which is all the sink uses. */
const volumePayload = z
  .string()
  .trim()
  .regex(/^[+-]?(\d+(\.\d*)?|\.\d+)\s*%?$/, 'expected a number from 0 to 100')
  .transform((s) => Number(s.replace('%', '')))
  .pipe(z.number().min(0, VOLUME_RANGE).max(100, VOLUME_RANGE))
  .transform((n) => Math.round(n));

/**
 * A one-shot action (a Home Assistant button sends `PRESS`). Deliberately not the empty
 * payload: clearing a retained message publishes an empty one, and that must not make
 * the speaker start listening.
 */
function actionPayload(name: string) {
  const accepted = ['press', 'on', 'true', '1', name.toLowerCase()];
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => accepted.includes(v), `expected PRESS (or ${name})`);
}

/** A text to speak: printable, not blank; the payload limit bounds its length. */
const announceText = z
  .string()
  .trim()
  .min(1, 'empty text')
  .refine(
    (t) =>
      ![...t].some((ch) => {
        const c = ch.codePointAt(0) ?? 0;
        return (c < 0x20 && ch !== '\n' && ch !== '\t') || c === 0x7f;
      }),
    'control characters in the text',
  );

/** A wake-word choice's name; whether it is one of the choices is the device's to say. */
const wakeWordName = z
  .string()
  .trim()
  .min(1, 'empty wake word')
  .max(200, 'wake word name too long')
  .refine((t) => ![...t].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20), 'control characters');

const jsonVolume = z
  .number()
  .min(0, VOLUME_RANGE)
  .max(100, VOLUME_RANGE)
  .transform((n) => Math.round(n));

/** The whole command as JSON on `<base>/command`, mirroring DeviceCommand. */
const jsonCommand = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('mute'), muted: z.boolean() }),
    z.strictObject({ type: z.literal('volume'), volume: jsonVolume }),
    z.strictObject({ type: z.literal('listen') }),
    z.strictObject({ type: z.literal('stop') }),
    z.strictObject({ type: z.literal('retention'), dontSaveRecordings: z.boolean() }),
    z.strictObject({ type: z.literal('falseWake') }),
    z.strictObject({ type: z.literal('announce'), text: announceText }),
    z.strictObject({ type: z.literal('wakeWord'), keyword: wakeWordName }),
  ],
  {
    error:
      'expected "type": mute, volume, listen, stop, retention, falseWake, announce or wakeWord',
  },
);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses one message received on a command topic. Never throws. */
export function parseCommand(topics: CommandTopics, topic: string, payload: Buffer): CommandResult {
  if (payload.length > MAX_COMMAND_BYTES) {
    return {
      ok: false,
      reason: `payload too large (${payload.length} bytes, max ${MAX_COMMAND_BYTES})`,
    };
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, reason: 'payload is not UTF-8 text' };
  }
  if (text.trim() === '') return { ok: false, reason: 'empty payload' };

  switch (topic) {
    case topics.mute:
      return build(mutePayload.safeParse(text), (muted) => ({ type: 'mute', muted }));
    case topics.volume:
      return build(volumePayload.safeParse(text), (volume) => ({ type: 'volume', volume }));
    case topics.dontSaveRecordings:
      return build(retentionPayload.safeParse(text), (dontSaveRecordings) => ({
        type: 'retention',
        dontSaveRecordings,
      }));
    case topics.listen:
      return build(actionPayload('listen').safeParse(text), () => ({ type: 'listen' }));
    case topics.stop:
      return build(actionPayload('stop').safeParse(text), () => ({ type: 'stop' }));
    case topics.falseWake:
      return build(actionPayload('false_wake').safeParse(text), () => ({ type: 'falseWake' }));
    case topics.wakeWord:
      return build(wakeWordName.safeParse(text), (keyword) => ({ type: 'wakeWord', keyword }));
    case topics.announce:
      return build(announceText.safeParse(text), (t) => ({ type: 'announce', text: t }));
    case topics.json:
      return parseJsonCommand(text);
    default:
      return { ok: false, reason: 'unknown command topic' };
  }
}

function parseJsonCommand(text: string): CommandResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'expected a JSON object, e.g. {"type":"volume","volume":40}' };
  }
  // The union's output is DeviceCommand member by member; the annotation keeps it honest.
  return build(jsonCommand.safeParse(value), (command): DeviceCommand => command);
}

function build<T>(
  result: z.ZodSafeParseResult<T>,
  make: (value: T) => DeviceCommand,
): CommandResult {
  if (result.success) return { ok: true, command: make(result.data) };
  const issue = result.error.issues[0];
  if (!issue) return { ok: false, reason: 'invalid payload' };
  const path = issue.path.map(String).join('.');
  return { ok: false, reason: path ? `${path}: ${issue.message}` : issue.message };
}

/**
 * A short, printable excerpt of a payload for logs and the error topic: a rejected
 * payload may be binary or huge, and must not be echoed back whole.
 */
export function payloadExcerpt(payload: Buffer, maxChars = 64): string {
  const text = payload.subarray(0, maxChars * 4).toString('utf8');
  const chars = Array.from(text, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code < 0x20 || code === 0x7f ? '?' : ch;
  });
  return chars.length > maxChars ? `${chars.slice(0, maxChars).join('')}…` : chars.join('');
}
