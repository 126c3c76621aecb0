import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UtteranceRecord } from '../../../src/cloud/index.js';
import type { DeviceMessage } from '../../../src/link/protocol/index.js';
import { EarshotError } from '../../../src/shared/errors.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';
import {
  pcm,
  record,
  startPair,
  waitForEvent,
  waitForStatus,
  waitUntil,
  type Pair,
} from '../../helpers/tls-link.js';

/** What the uploader sends is exactly what the cloud gets, and what the ledger will record. */
let certs: TestCerts;
let pair: Pair | undefined;

beforeAll(() => {
  certs = makeCerts('uploader');
});
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});
afterAll(() => certs?.cleanup());

const trigger = { kind: 'wake' as const, keyword: 'hey earshot', score: 0.93 };

describe('link upload', () => {
  it('delivers byte for byte what was written, even when the caller reuses its buffer', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'none' } } });
    const received = waitForEvent<UtteranceRecord>(pair.cloud.events, 'utterance');
    const handle = pair.link.openUtterance({ id: 'bytes-1', trigger, preRollMs: 500 });
    const expected: Buffer[] = [];
    const scratch = Buffer.alloc(4096);
    for (let i = 0; i < 60; i++) {
      // Odd sizes, and one scratch buffer overwritten after every write, as an audio loop does.
      const size = 2 * (1 + ((i * 379) % 2000));
      const chunk = pcm(size, i);
      chunk.copy(scratch);
      expect(handle.write(scratch.subarray(0, size))).toBe(true);
      scratch.fill(0xee);
      expected.push(chunk);
    }
    const summary = handle.end('speechEnd');
    const got = await received;
    const all = Buffer.concat(expected);
    expect(got.audio.equals(all)).toBe(true);
    expect(got.integrityOk).toBe(true);
    expect(summary.bytes).toBe(all.length);
    expect(summary.completed).toBe(true);
  });

  it('sends the right bytes, sha256 and duration in utterance.end', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'none' } } });
    const messages: DeviceMessage[] = [];
    pair.cloud.events.on('message', (_s: string, m: DeviceMessage) => messages.push(m));
    const ack = waitForEvent<{ id: string; sha256?: string; bytes: number }>(pair.link, 'ack');
    const handle = pair.link.openUtterance({ id: 'sum-1', trigger, preRollMs: 300 });
    const audio = pcm(16_000 * 2 * 2 + 640, 3); // 2.02 s
    for (let o = 0; o < audio.length; o += 2560) handle.write(audio.subarray(o, o + 2560));
    const summary = handle.end('maxDuration');
    const sha = createHash('sha256').update(audio).digest('hex');
    expect(summary).toEqual({
      bytes: audio.length,
      sha256: sha,
      durationMs: 2020,
      completed: true,
    });
    const a = await ack;
    expect(a).toMatchObject({ id: 'sum-1', bytes: audio.length, sha256: sha, stored: false });
    const end = messages.find((m) => m.type === 'utterance.end');
    expect(end).toEqual({
      type: 'utterance.end',
      id: 'sum-1',
      reason: 'maxDuration',
      bytes: audio.length,
      sha256: sha,
      durationMs: 2020,
    });
  });

  it('sends nothing after end or abort, and end is idempotent', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'none' } } });
    const audioFrames = record<string>(pair.cloud.events, 'audio');
    const messages: DeviceMessage[] = [];
    pair.cloud.events.on('message', (_s: string, m: DeviceMessage) => messages.push(m));

    const first = pair.link.openUtterance({ id: 'once-1', trigger, preRollMs: 0 });
    expect(first.write(pcm(3200))).toBe(true);
    const s1 = first.end('button');
    expect(first.state).toBe('ended');
    expect(first.write(pcm(3200))).toBe(false);
    expect(first.end('button')).toEqual(s1);
    first.abort('cancelled'); // too late: nothing goes out

    const second = pair.link.openUtterance({ id: 'once-2', trigger, preRollMs: 0 });
    expect(second.write(pcm(3200))).toBe(true);
    const aborted = waitForEvent<{ id: string }>(pair.cloud.events, 'aborted');
    second.abort('mute');
    expect(second.state).toBe('aborted');
    expect(second.write(pcm(3200))).toBe(false);
    expect(second.end('speechEnd').completed).toBe(false);
    expect((await aborted).id).toBe('once-2');

    // A third utterance proves the stream is still in order afterwards.
    const third = pair.link.openUtterance({ id: 'once-3', trigger, preRollMs: 0 });
    third.write(pcm(3200));
    const done = waitForEvent<UtteranceRecord>(
      pair.cloud.events,
      'utterance',
      (u) => u.id === 'once-3',
    );
    third.end('speechEnd');
    await done;
    expect(audioFrames.length).toBe(3);
    const kinds = messages
      .filter((m) => m.type.startsWith('utterance.'))
      .map((m) => `${m.type}:${(m as { id: string }).id}`);
    expect(kinds).toEqual([
      'utterance.start:once-1',
      'utterance.end:once-1',
      'utterance.start:once-2',
      'utterance.abort:once-2',
      'utterance.start:once-3',
      'utterance.end:once-3',
    ]);
  });

  it('carries the retention choice in hello and in every utterance.start (P7)', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'none' } }, waitUp: false });
    const hellos = record<{ hello: { privacy: unknown } }>(pair.cloud.events, 'hello');
    const messages: DeviceMessage[] = [];
    pair.cloud.events.on('message', (_s: string, m: DeviceMessage) => messages.push(m));
    await waitForStatus(pair.link, 'up');
    await waitUntil(() => hellos.length === 1, 'hello');
    expect(hellos[0]?.hello.privacy).toEqual({ dontSaveRecordings: true, voiceIdAvailable: false });

    const send = async (id: string): Promise<void> => {
      const h = pair!.link.openUtterance({ id, trigger, preRollMs: 0 });
      h.write(pcm(640));
      const got = waitForEvent<UtteranceRecord>(
        pair!.cloud.events,
        'utterance',
        (u) => u.id === id,
      );
      h.end('speechEnd');
      await got;
    };
    await send('ret-1');
    await send('ret-2');
    pair.link.setRetention(false);
    await send('ret-3');
    const starts = messages.filter((m) => m.type === 'utterance.start');
    expect(starts.map((m) => [m.id, m.dontSaveRecordings])).toEqual([
      ['ret-1', true],
      ['ret-2', true],
      ['ret-3', false],
    ]);

    // The next connection's hello carries the new choice.
    const up = waitForStatus(pair.link, 'up');
    pair.cloud.dropAll();
    await up;
    await waitUntil(() => hellos.length === 2, 'second hello');
    expect(hellos[1]?.hello.privacy).toEqual({ dontSaveRecordings: false, voiceIdAvailable: true });
  });

  it('fails an utterance opened while the link is down, without throwing', async () => {
    pair = await startPair(certs);
    const down = waitForStatus(pair.link, 'down');
    await pair.cloud.close();
    await down;
    const failed = waitForEvent<{ id: string; code: string }>(pair.link, 'utteranceFailed');
    const handle = pair.link.openUtterance({ id: 'offline-1', trigger, preRollMs: 0 });
    expect(handle.state).toBe('failed');
    expect(handle.write(pcm(640))).toBe(false);
    expect(await failed).toMatchObject({ id: 'offline-1', code: 'E_LINK_DOWN' });
  });

  it('refuses a bad id, trigger or pre-roll over 2 s before sending anything (P3)', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'none' } } });
    const messages: DeviceMessage[] = [];
    pair.cloud.events.on('message', (_s: string, m: DeviceMessage) => messages.push(m));
    const bad = [
      { id: '../etc', trigger, preRollMs: 0 },
      { trigger: { kind: 'clap' as 'wake' }, preRollMs: 0 },
      { trigger, preRollMs: 2001 },
      { trigger, preRollMs: -1 },
    ];
    for (const meta of bad) {
      let code = '';
      try {
        pair.link.openUtterance(meta);
      } catch (err) {
        code = (err as EarshotError).code;
      }
      expect(code, JSON.stringify(meta)).toBe('E_LINK_BAD_UTTERANCE');
    }
    const ok = pair.link.openUtterance({ id: 'ok-1', trigger, preRollMs: 2000 });
    ok.abort('cancelled');
    await waitForEvent(pair.cloud.events, 'aborted');
    expect(messages.filter((m) => m.type === 'utterance.start')).toHaveLength(1);
  });

  it('refuses a second open utterance (a bug in the caller)', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'none' } } });
    const handle = pair.link.openUtterance({ id: 'busy-1', trigger, preRollMs: 0 });
    let thrown: unknown;
    try {
      pair.link.openUtterance({ trigger, preRollMs: 0 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(EarshotError);
    expect((thrown as EarshotError).code).toBe('E_LINK_BUSY');
    handle.end('speechEnd');
    const next = pair.link.openUtterance({ trigger, preRollMs: 0 });
    expect(next.state).toBe('open');
    expect(next.id).toMatch(/^[0-9a-f-]{36}$/);
    next.abort('cancelled');
  });
});
