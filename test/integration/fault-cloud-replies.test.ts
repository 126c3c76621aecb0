import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CloudServer } from '../../src/cloud/index.js';
import type { DeviceMessage } from '../../src/link/protocol/index.js';
import {
  LEVEL,
  composeWav,
  deviceConfig,
  faultCloud,
  inOrder,
  logged,
  memoryLogger,
  onFirst,
  runDevice,
  watchCloud,
  type CloudLog,
  type Upload,
} from '../helpers/fault-harness.js';
import { tempDir } from '../helpers/paths.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

/**
 * Faults in what the cloud says while the link stays up: a reply that comes too late,
 * garbage in the middle of a request, a reply in a format the device never offered.
 * The recording runs on the virtual clock (fast); while the device waits for the cloud
 * it follows real time, so reply deadlines are real.
 */
let certs: TestCerts;
let cloud: CloudServer | undefined;
const tmp = tempDir('earshot-fault-replies-');
let twoRequests: string;

beforeAll(async () => {
  certs = makeCerts('fault-replies');
  twoRequests = await composeWav(tmp.dir, 'two.wav', [
    'alexa-what-time.wav',
    2,
    'alexa-what-time.wav',
  ]);
});
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});
afterAll(() => {
  certs?.cleanup();
  tmp.cleanup();
});

const errorsFromDevice = (seen: CloudLog): string[] =>
  seen.messages.flatMap((m) => (m.type === 'error' ? [m.code] : []));

function expectServed(second: Upload | undefined, seen: CloudLog): void {
  expect(second).toMatchObject({ outcome: 'sent', ack: { stored: false } });
  expect(seen.utterances.map((u) => [u.id, u.integrityOk])).toContainEqual([second!.id, true]);
  expect(seen.replied).toContain(second!.id);
}

describe('fault injection: the cloud misbehaves while the link stays up', () => {
  it('answers too slowly: the request times out, the next one is answered', async () => {
    cloud = await faultCloud(certs, { replyDelayMs: 2500 });
    const c = cloud;
    // Heal once the slow reply has been scheduled (the cloud reads the delay then).
    onFirst(c, 'utterance', () => setImmediate(() => c.setBehaviour({ replyDelayMs: 0 })));
    const seen = watchCloud(c);
    const { log, lines } = memoryLogger();
    const run = await runDevice({
      wav: twoRequests,
      config: deviceConfig(certs, c, join(tmp.dir, 'slow.jsonl'), {
        'utterance.replyTimeoutMs': 1000,
      }),
      log,
    });

    const [first, second] = run.uploads;
    expect(first).toMatchObject({ outcome: 'sent' });
    expect(logged(lines, /^no reply from the cloud in time$/, LEVEL.warn)).toHaveLength(1);
    // thinking → idle without speaking: the deadline, not a reply, ended it.
    const firstRequest = run.states.slice(0, run.states.indexOf('listening', 2));
    expect(firstRequest).toEqual(['idle', 'listening', 'thinking', 'idle']);
    expect(logged(lines, /^cloud link down$/)).toEqual([]);
    expectServed(second, seen);
    expect(inOrder(run.states.slice(4), ['listening', 'thinking', 'speaking', 'idle'])).toBe(true);
    expect(run.summary.finalState).toBe('idle');
  }, 60_000);

  it('sends malformed JSON, an unknown type and bad fields mid-utterance: answered, ignored', async () => {
    cloud = await faultCloud(certs);
    const c = cloud;
    onFirst(
      c,
      'message',
      () => {
        c.broadcast('{"type": "reply.start", "id": ');
        c.broadcast(JSON.stringify({ type: 'teleport', id: 'x1', destination: 'moon' }));
        c.broadcast(JSON.stringify({ type: 'utterance.ack', id: 'x2', stored: 'maybe' }));
      },
      (_s, m) => (m as DeviceMessage).type === 'utterance.start',
    );
    const seen = watchCloud(c);
    const { log, lines } = memoryLogger();
    const run = await runDevice({
      wav: twoRequests,
      config: deviceConfig(certs, c, join(tmp.dir, 'garbage.jsonl')),
      log,
    });

    expect(errorsFromDevice(seen)).toEqual(['E_BAD_JSON', 'E_UNKNOWN_TYPE', 'E_BAD_MESSAGE']);
    const problems = logged(lines, /^protocol error: /, LEVEL.warn);
    expect(problems.map((l) => l.code)).toEqual(['E_BAD_JSON', 'E_UNKNOWN_TYPE', 'E_BAD_MESSAGE']);
    expect(problems[1]?.msg).toMatch(/unknown type "teleport"/);
    // Nothing else happened: the link stayed up and both requests went through.
    expect(logged(lines, /^cloud link down$/)).toEqual([]);
    const [first, second] = run.uploads;
    expectServed(first, seen);
    expectServed(second, seen);
    expect(run.summary.finalState).toBe('idle');
  }, 60_000);

  it('replies in a format it never negotiated: refused, error earcon, next request answered', async () => {
    cloud = await faultCloud(certs, { wrongReplyFormat: true });
    const c = cloud;
    onFirst(c, 'replied', () => c.setBehaviour({ wrongReplyFormat: false }));
    const seen = watchCloud(c);
    const { log, lines } = memoryLogger();
    const run = await runDevice({
      wav: twoRequests,
      config: deviceConfig(certs, c, join(tmp.dir, 'format.jsonl')),
      log,
    });

    const [first, second] = run.uploads;
    expect(first).toMatchObject({ outcome: 'sent' });
    expect(errorsFromDevice(seen)).toEqual(['E_UNSUPPORTED_FORMAT']);
    const failed = logged(lines, /^utterance failed$/, LEVEL.error);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ id: first!.id, code: 'E_UNSUPPORTED_FORMAT' });
    expect(failed[0]?.message).toMatch(/opus/);
    const firstRequest = run.states.slice(0, run.states.indexOf('listening', 2));
    expect(firstRequest).toEqual(['idle', 'listening', 'thinking', 'idle']);
    expectServed(second, seen);
    expect(inOrder(run.states.slice(4), ['listening', 'thinking', 'speaking', 'idle'])).toBe(true);
    expect(run.summary.finalState).toBe('idle');
  }, 60_000);

  it('a reply to a timed-out request is not played as the next request’s answer', async () => {
    // The device gives up on request 1 (reply deadline); request 1's reply then arrives
    // while request 2 waits, and must not be played as its answer.
    cloud = await faultCloud(certs, { reply: 'none' });
    const c = cloud;
    const seen = watchCloud(c);
    let stale = false;
    c.events.on('utterance', (u) => {
      if (seen.utterances.length !== 2) return;
      const firstId = seen.utterances[0]!.id;
      c.broadcast(
        JSON.stringify({
          type: 'reply.start',
          id: firstId,
          format: { encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 },
        }),
      );
      c.broadcast(Buffer.alloc(3200));
      c.broadcast(JSON.stringify({ type: 'reply.end', id: firstId }));
      stale = u.id !== firstId;
    });
    const { log } = memoryLogger();
    const run = await runDevice({
      wav: twoRequests,
      config: deviceConfig(certs, c, join(tmp.dir, 'stale.jsonl'), {
        'utterance.replyTimeoutMs': 1000,
      }),
      log,
    });
    // The stale reply went out while request 2 waited (the cloud had request 2).
    expect(stale).toBe(true);
    // The cloud answers nothing itself: any speaking is request 1's stale reply.
    expect(run.states).not.toContain('speaking');
  }, 60_000);
});
