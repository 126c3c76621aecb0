import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UtteranceRecord } from '../../../src/cloud/index.js';
import { decodeWav } from '../../../src/shared/wav.js';
import { SUBPROTOCOL } from '../../../src/link/protocol/index.js';
import { tempDir } from '../../helpers/paths.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';
import { pcm, startPair, waitForEvent, waitUntil, type Pair } from '../../helpers/tls-link.js';

/** P7 on the reference cloud: a recording is kept only when the request allowed it. */
let certs: TestCerts;
let store: { dir: string; cleanup: () => void };
let pair: Pair | undefined;

beforeAll(() => {
  certs = makeCerts('store-dev');
});
afterEach(async () => {
  await pair?.close();
  pair = undefined;
  store?.cleanup();
});
afterAll(() => certs?.cleanup());

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function utter(
  p: Pair,
  id: string,
  audio: Buffer,
): Promise<{ stored: boolean; record: UtteranceRecord }> {
  const ack = waitForEvent<{ id: string; stored: boolean }>(p.link, 'ack', (a) => a.id === id);
  const rec = waitForEvent<UtteranceRecord>(p.cloud.events, 'utterance', (u) => u.id === id);
  const handle = p.link.openUtterance({ id, trigger: { kind: 'button' }, preRollMs: 0 });
  for (let o = 0; o < audio.length; o += 2560) handle.write(audio.subarray(o, o + 2560));
  handle.end('speechEnd');
  return { stored: (await ack).stored, record: await rec };
}

describe('cloud store', () => {
  it('keeps nothing when the device says "don\'t save recordings"', async () => {
    store = tempDir('earshot-store-');
    pair = await startPair(certs, { cloud: { store: store.dir, behaviour: { reply: 'none' } } });
    const { stored, record } = await utter(pair, 'private-1', pcm(32_000));
    expect(stored).toBe(false);
    expect(record.storedPath).toBeUndefined();
    expect(files(store.dir)).toEqual([]);
  });

  it('keeps a WAV of exactly the received audio when the device allows it', async () => {
    store = tempDir('earshot-store-');
    pair = await startPair(certs, {
      cloud: { store: store.dir, behaviour: { reply: 'none' } },
      hello: { dontSaveRecordings: false },
    });
    const audio = pcm(48_000, 5);
    const { stored, record } = await utter(pair, 'saved-1', audio);
    expect(stored).toBe(true);
    const all = files(store.dir);
    expect(all).toHaveLength(1);
    expect(all[0]).toBe(record.storedPath);
    expect(all[0]).toMatch(/store-dev\/.*-saved-1\.wav$/);
    const wav = decodeWav(readFileSync(all[0]!));
    expect(wav.sampleRate).toBe(16000);
    expect(wav.channels).toBe(1);
    const bytes = Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength);
    expect(bytes.equals(audio)).toBe(true);
  });

  it('follows the retention flag of each request, not the one from hello', async () => {
    store = tempDir('earshot-store-');
    pair = await startPair(certs, {
      cloud: { store: store.dir, behaviour: { reply: 'none' } },
      hello: { dontSaveRecordings: false },
    });
    pair.link.setRetention(true);
    const { stored } = await utter(pair, 'changed-1', pcm(6400));
    expect(stored).toBe(false);
    expect(files(store.dir)).toEqual([]);
  });

  it('keeps nothing and answers E_INTEGRITY when bytes or sha256 do not match', async () => {
    store = tempDir('earshot-store-');
    pair = await startPair(certs, { cloud: { store: store.dir, behaviour: { reply: 'none' } } });
    const ws = new WebSocket(pair.cloud.url, SUBPROTOCOL, {
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.deviceCert),
      key: readFileSync(certs.deviceKey),
    });
    const inbox: Array<Record<string, unknown>> = [];
    ws.on('message', (d, bin) => {
      if (!bin) inbox.push(JSON.parse(String(d)) as Record<string, unknown>);
    });
    await new Promise((r) => ws.once('open', r));
    const format = { encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 };
    ws.send(
      JSON.stringify({
        type: 'hello',
        protocol: 1,
        deviceId: 'store-dev',
        firmware: 'raw',
        capabilities: { uploadEncodings: ['pcm_s16le'], replyEncodings: ['pcm_s16le'] },
        format,
        privacy: { dontSaveRecordings: false, voiceIdAvailable: true },
      }),
    );
    ws.send(
      JSON.stringify({
        type: 'utterance.start',
        id: 'bad-sum',
        trigger: { kind: 'button' },
        preRollMs: 0,
        format,
        dontSaveRecordings: false,
      }),
    );
    const audio = pcm(6400);
    ws.send(audio);
    const wrong = createHash('sha256').update('something else').digest('hex');
    ws.send(
      JSON.stringify({
        type: 'utterance.end',
        id: 'bad-sum',
        reason: 'speechEnd',
        durationMs: 200,
        bytes: audio.length,
        sha256: wrong,
      }),
    );
    await waitUntil(() => inbox.some((m) => m.type === 'utterance.ack'), 'the ack');
    expect(inbox.find((m) => m.type === 'error')).toMatchObject({
      code: 'E_INTEGRITY',
      id: 'bad-sum',
    });
    expect(inbox.find((m) => m.type === 'utterance.ack')).toMatchObject({
      stored: false,
      bytes: 6400,
    });
    expect(files(store.dir)).toEqual([]);
    ws.close();
  });
});
