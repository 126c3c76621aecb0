import fc from 'fast-check';
import type { CloudMessage, DeviceMessage } from '../../src/link/protocol/index.js';

/**
 * Inputs for the protocol fuzzers: whatever can arrive in a WebSocket text frame,
 * from random bytes to messages that are almost right. Valid examples of every
 * message are the seeds; the mutations break one thing at a time (a missing field, a
 * wrong type, an extra key, a swapped `type`), which is where parsers go wrong.
 */
const format = { encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 } as const;
const sha = 'a'.repeat(64);

export const DEVICE_SEEDS: DeviceMessage[] = [
  {
    type: 'hello',
    protocol: 1,
    deviceId: 'kitchen',
    firmware: '0.1.0',
    capabilities: { uploadEncodings: ['pcm_s16le'], replyEncodings: ['pcm_s16le'], features: [] },
    format,
    privacy: { dontSaveRecordings: true, voiceIdAvailable: false },
  },
  {
    type: 'utterance.start',
    id: 'u-1',
    trigger: { kind: 'wake', keyword: 'alexa', score: 0.9 },
    preRollMs: 500,
    format,
    dontSaveRecordings: true,
  },
  {
    type: 'utterance.end',
    id: 'u-1',
    reason: 'speechEnd',
    durationMs: 10,
    bytes: 320,
    sha256: sha,
  },
  { type: 'utterance.abort', id: 'u-1', reason: 'mute' },
  { type: 'state', state: 'idle', muted: false, dontSaveRecordings: true },
  { type: 'ping', nonce: 'n' },
  { type: 'pong' },
  { type: 'error', code: 'E_BAD_JSON', message: 'x', id: 'u-1' },
];

export const CLOUD_SEEDS: CloudMessage[] = [
  { type: 'hello.ok', protocol: 1, sessionId: 's', server: 'x', settings: { volume: 40 } },
  { type: 'utterance.ack', id: 'u-1', stored: false, bytes: 320, sha256: sha },
  { type: 'capture.stop', id: 'u-1' },
  { type: 'reply.start', id: 'u-1', format: { ...format, sampleRate: 22050 }, text: 'hi' },
  { type: 'reply.end', id: 'u-1', expectSpeech: true },
  { type: 'settings', settings: { volume: 40 } },
  { type: 'error', code: 'E_INTERNAL', message: 'x' },
  { type: 'ping' },
  { type: 'pong', nonce: 'n' },
];

const ALL_TYPES = [...new Set([...DEVICE_SEEDS, ...CLOUD_SEEDS].map((m) => m.type))];

/** Ids: plausible, almost plausible (leading `-`/`_`, too long) and junk. */
export const idArb = fc.oneof(
  fc.constantFrom('u-1', 'u-2', 'x'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,70}$/),
  fc.string({ maxLength: 80 }),
);

/** Any JSON value, with the odd huge number, negative zero and deep nesting. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(-0, 1e308, -1, 0.5, 2 ** 53, '', 'E_', null, [], {}) },
  { weight: 2, arbitrary: idArb },
  // Long values: whatever is echoed into a log line or an answer must be cut.
  { weight: 1, arbitrary: fc.string({ minLength: 1000, maxLength: 5000 }) },
);

type Json = Record<string, unknown>;

/** Replaces, removes or adds one field at `path` (top level or one object deep). */
function mutateOnce(message: Json): fc.Arbitrary<Json> {
  const keys = Object.keys(message);
  const nested = keys.filter((k) => typeof message[k] === 'object' && message[k] !== null);
  const copy = (): Json => structuredClone(message);
  const perKey = keys.length
    ? [
        fc.tuple(fc.constantFrom(...keys), valueArb).map(([k, v]) => ({ ...copy(), [k]: v })),
        fc.constantFrom(...keys).map((k) => {
          const c = copy();
          delete c[k];
          return c;
        }),
      ]
    : [];
  return fc.oneof(
    ...perKey,
    fc.tuple(fc.string({ maxLength: 12 }), valueArb).map(([k, v]) => ({ ...copy(), [k]: v })),
    fc.constantFrom(...ALL_TYPES).map((type) => ({ ...copy(), type })),
    idArb.map((id) => ({ ...copy(), id })),
    ...(nested.length
      ? [
          fc
            .tuple(fc.constantFrom(...nested), fc.string({ maxLength: 12 }), valueArb)
            .map(([k, inner, v]) => {
              const c = copy();
              c[k] = Array.isArray(c[k]) ? [v] : { ...(c[k] as Json), [inner]: v };
              return c;
            }),
        ]
      : []),
  );
}

/** A seed message with one to three mutations. */
export function mutatedMessage(seeds: readonly object[]): fc.Arbitrary<Json> {
  const seed = fc.constantFrom(...seeds.map((s) => s as Json));
  return seed
    .chain((m) => mutateOnce(m))
    .chain((m) => fc.oneof(fc.constant(m), mutateOnce(m)))
    .chain((m) => fc.oneof(fc.constant(m), mutateOnce(m)));
}

/** Text frames of every kind: random text, random JSON, valid and nearly valid messages. */
export function textFrame(seeds: readonly object[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
    },
    { weight: 1, arbitrary: fc.constantFrom(...seeds).map((m) => JSON.stringify(m)) },
    { weight: 6, arbitrary: mutatedMessage(seeds).map((m) => JSON.stringify(m)) },
    {
      // Nesting deep enough to trouble a recursive parser.
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 20_000 })
        .map((n) =>
          n % 2 ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n),
        ),
    },
  );
}
