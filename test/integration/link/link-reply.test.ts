import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  ProtocolErrorEvent,
  ReplyEndEvent,
  ReplyStartEvent,
  UtteranceFailedEvent,
} from '../../../src/link/index.js';
import type { DeviceMessage } from '../../../src/link/protocol/index.js';
import type { CloudLink } from '../../../src/link/index.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';
import {
  pcm,
  record,
  startPair,
  waitForEvent,
  waitUntil,
  type Pair,
} from '../../helpers/tls-link.js';

/** The cloud's side of a request as the device sees it: ack, capture.stop, the reply stream. */
let certs: TestCerts;
let pair: Pair | undefined;

beforeAll(() => {
  certs = makeCerts('replies');
});
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});
afterAll(() => certs?.cleanup());

type Seen =
  | { e: 'ack'; id: string }
  | { e: 'start'; v: ReplyStartEvent }
  | { e: 'audio'; bytes: number; id: string }
  | { e: 'end'; v: ReplyEndEvent };

function watch(link: CloudLink): Seen[] {
  const seen: Seen[] = [];
  link.on('ack', (a) => seen.push({ e: 'ack', id: a.id }));
  link.on('replyStart', (v) => seen.push({ e: 'start', v }));
  link.on('replyAudio', (chunk, id) => seen.push({ e: 'audio', bytes: chunk.length, id }));
  link.on('replyEnd', (v) => seen.push({ e: 'end', v }));
  return seen;
}

async function ask(p: Pair, id: string, ms = 1000): Promise<void> {
  const handle = p.link.openUtterance({
    id,
    trigger: { kind: 'wake', keyword: 'k' },
    preRollMs: 0,
  });
  const total = ms * 32; // 16 kHz s16le mono
  for (let sent = 0; sent < total; sent += 2560)
    handle.write(pcm(Math.min(2560, total - sent), sent));
  handle.end('speechEnd');
}

describe('link replies', () => {
  it('streams ack, replyStart, audio chunks, replyEnd in that order', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'tone' } } });
    const seen = watch(pair.link);
    const replied = waitForEvent<{ bytes: number }>(pair.cloud.events, 'replied');
    const ended = waitForEvent<ReplyEndEvent>(pair.link, 'replyEnd');
    await ask(pair, 'order-1', 2100);
    expect(await ended).toEqual({ id: 'order-1', expectSpeech: false });
    const cloudBytes = (await replied).bytes;
    expect(seen[0]).toEqual({ e: 'ack', id: 'order-1' });
    const start = seen[1];
    expect(start?.e).toBe('start');
    if (start?.e === 'start') {
      expect(start.v.format).toEqual({ encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 });
      expect(start.v.text).toBe('I heard 2.1 seconds');
    }
    const middle = seen.slice(2, -1);
    expect(middle.length).toBeGreaterThan(1);
    expect(middle.every((s) => s.e === 'audio' && s.id === 'order-1')).toBe(true);
    const bytes = middle.reduce((n, s) => n + (s.e === 'audio' ? s.bytes : 0), 0);
    expect(bytes).toBe(cloudBytes);
    expect(seen.at(-1)?.e).toBe('end');
  });

  it('passes expectSpeech through for a follow-up', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'tone', expectSpeech: true } } });
    const ended = waitForEvent<ReplyEndEvent>(pair.link, 'replyEnd');
    await ask(pair, 'follow-1', 300);
    expect(await ended).toEqual({ id: 'follow-1', expectSpeech: true });
  });

  it('acknowledges before a delayed reply', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'tone', replyDelayMs: 400 } } });
    const seen = watch(pair.link);
    const ended = waitForEvent(pair.link, 'replyEnd');
    await ask(pair, 'late-1', 200);
    await ended;
    expect(seen[0]).toEqual({ e: 'ack', id: 'late-1' });
    expect(seen[1]?.e).toBe('start');
  });

  it('tells the device to stop capturing after the configured amount of audio', async () => {
    pair = await startPair(certs, {
      cloud: { behaviour: { captureStopAfterMs: 300, reply: 'none' } },
    });
    const stops = record<{ id: string }>(pair.link, 'captureStop');
    const handle = pair.link.openUtterance({
      id: 'stop-1',
      trigger: { kind: 'button' },
      preRollMs: 0,
    });
    let written = 0;
    while (stops.length === 0 && written < 32 * 5000) {
      handle.write(pcm(1280, written));
      written += 1280;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(stops).toEqual([{ id: 'stop-1' }]);
    expect(written).toBeGreaterThanOrEqual(300 * 32);
    const summary = handle.end('captureStop');
    expect(summary.completed).toBe(true);
  });

  it('refuses a reply in a format it did not offer, and plays none of it', async () => {
    pair = await startPair(certs, {
      cloud: { behaviour: { reply: 'tone', wrongReplyFormat: true } },
    });
    const seen = watch(pair.link);
    const problems = record<ProtocolErrorEvent>(pair.link, 'protocolError');
    const answers: DeviceMessage[] = [];
    pair.cloud.events.on('message', (_s: string, m: DeviceMessage) => {
      if (m.type === 'error') answers.push(m);
    });
    const failed = waitForEvent<UtteranceFailedEvent>(pair.link, 'utteranceFailed');
    const replied = waitForEvent(pair.cloud.events, 'replied');
    await ask(pair, 'fmt-1', 200);
    expect(await failed).toMatchObject({ id: 'fmt-1', code: 'E_UNSUPPORTED_FORMAT' });
    await replied;
    await waitUntil(() => answers.length === 1, 'the error answer');
    expect(answers[0]).toMatchObject({ code: 'E_UNSUPPORTED_FORMAT', id: 'fmt-1' });
    expect(problems.map((p) => p.code)).toEqual(['E_UNSUPPORTED_FORMAT']);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((s) => s.e)).toEqual(['ack']);
  });

  it('refuses a reply for an utterance it never sent or already aborted', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { reply: 'none' } } });
    const seen = watch(pair.link);
    const problems = record<ProtocolErrorEvent>(pair.link, 'protocolError');
    const handle = pair.link.openUtterance({
      id: 'gone-1',
      trigger: { kind: 'button' },
      preRollMs: 0,
    });
    handle.abort('cancelled');
    const format = { encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 };
    pair.cloud.broadcast(JSON.stringify({ type: 'reply.start', id: 'gone-1', format }));
    pair.cloud.broadcast(Buffer.alloc(3200));
    pair.cloud.broadcast(JSON.stringify({ type: 'reply.end', id: 'gone-1' }));
    pair.cloud.broadcast(JSON.stringify({ type: 'reply.end', id: 'never-1' }));
    await waitUntil(() => problems.length === 2, 'two protocol errors');
    expect(problems.map((p) => p.code)).toEqual(['E_UNKNOWN_UTTERANCE', 'E_UNEXPECTED']);
    expect(seen.filter((s) => s.e !== 'ack')).toEqual([]);
  });
});
