import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLOUD_MESSAGE_TYPES,
  DEVICE_MESSAGE_TYPES,
  PROTOCOL_ERROR_CODES,
  encodeMessage,
  errorReply,
  parseCloudMessage,
  parseDeviceMessage,
  type ParseResult,
} from '../../src/link/protocol/index.js';
import { CLOUD_SEEDS, DEVICE_SEEDS, mutatedMessage, textFrame } from './arbitraries.js';

/**
 * The codec is the first thing every byte from the network meets: whatever arrives,
 * it must return a typed result (never throw), a valid message must survive a
 * round trip, and a refusal must be answerable, i.e. the `error` built from it must
 * itself be a valid message on the other side.
 */
const CODES: ReadonlySet<string> = new Set(Object.values(PROTOCOL_ERROR_CODES));
const RUNS = { numRuns: 1000 };

const longProtocol = (type: string): string =>
  JSON.stringify({ type, protocol: 'x'.repeat(5000), sessionId: 's' });

interface Side {
  name: string;
  parse: (text: string) => ParseResult<{ type: string }>;
  /** How the peer parses what this side sends back. */
  peerParse: (text: string) => ParseResult<{ type: string }>;
  known: ReadonlySet<string>;
  seeds: readonly object[];
}

const SIDES: Side[] = [
  {
    name: 'device (parses cloud frames)',
    parse: parseCloudMessage,
    peerParse: parseDeviceMessage,
    known: CLOUD_MESSAGE_TYPES,
    seeds: CLOUD_SEEDS,
  },
  {
    name: 'cloud (parses device frames)',
    parse: parseDeviceMessage,
    peerParse: parseCloudMessage,
    known: DEVICE_MESSAGE_TYPES,
    seeds: DEVICE_SEEDS,
  },
];

function checkTyped(side: Side, text: string): void {
  const result = side.parse(text);
  if (result.ok) {
    expect(side.known.has(result.message.type)).toBe(true);
    // What was accepted encodes to something accepted again, unchanged.
    expect(side.parse(encodeMessage(result.message as never))).toEqual(result);
    return;
  }
  expect(CODES.has(result.code), result.code).toBe(true);
  expect(result.reason.length).toBeGreaterThan(0);
  if (result.type !== undefined) expect(result.type.length).toBeLessThanOrEqual(64);
}

describe.each(SIDES)('protocol codec, $name', (side) => {
  it('returns a typed result for any text, never throws', () => {
    fc.assert(
      fc.property(textFrame(side.seeds), (text) => checkTyped(side, text)),
      RUNS,
    );
  });

  it('returns a typed result for binary garbage decoded as text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const buf = Buffer.from(bytes);
        checkTyped(side, buf.toString('utf8'));
        checkTyped(side, buf.toString('latin1'));
      }),
      RUNS,
    );
  });

  it('refuses a message of a known type with wrong fields as E_BAD_MESSAGE or accepts it whole', () => {
    fc.assert(
      fc.property(mutatedMessage(side.seeds), (m) => {
        const result = side.parse(JSON.stringify(m));
        if (result.ok) return;
        if (typeof m.type === 'string' && side.known.has(m.type)) {
          expect(['E_BAD_MESSAGE', 'E_PROTOCOL_VERSION']).toContain(result.code);
        }
      }),
      RUNS,
    );
  });

  it('keeps refusal reasons short enough to log and send back', () => {
    fc.assert(
      fc.property(textFrame(side.seeds), (text) => {
        const result = side.parse(text);
        if (result.ok) return;
        expect(result.reason.length).toBeLessThanOrEqual(1000);
      }),
      RUNS,
    );
  });

  it('builds an error answer the peer accepts for every refusal', () => {
    fc.assert(
      fc.property(textFrame(side.seeds), (text) => {
        const result = side.parse(text);
        if (result.ok) return;
        const answer = encodeMessage(errorReply(result.code, result.reason, result.id));
        const back = side.peerParse(answer);
        expect(back.ok, `answer ${answer} refused: ${back.ok ? '' : back.reason}`).toBe(true);
      }),
      RUNS,
    );
  });

  it('an id starting with "-" or "_" is not echoed into an answer the peer would refuse', () => {
    for (const id of ['-a', '_a', '-']) {
      const result = side.parse(JSON.stringify({ type: 'teleport', id }));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const back = side.peerParse(encodeMessage(errorReply(result.code, result.reason, result.id)));
      expect(back.ok).toBe(true);
    }
  });

  it('a huge protocol value does not make a huge refusal reason', () => {
    const result = side.parse(longProtocol(side.name.startsWith('device') ? 'hello.ok' : 'hello'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeLessThanOrEqual(1000);
  });
});
