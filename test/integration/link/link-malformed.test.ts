import { readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from '../../../src/cloud/index.js';
import type { ProtocolErrorEvent } from '../../../src/link/index.js';
import { SUBPROTOCOL, type DeviceMessage } from '../../../src/link/protocol/index.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';
import {
  cloudOptions,
  pcm,
  record,
  startPair,
  waitForEvent,
  waitForStatus,
  waitUntil,
  type Pair,
} from '../../helpers/tls-link.js';

/**
 * Garbage in either direction is logged, answered with `error`, and survived: no
 * crash, and no closed connection for anything the protocol can recover from.
 */
let certs: TestCerts;
let pair: Pair | undefined;

beforeAll(() => {
  certs = makeCerts('robust');
});
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});
afterAll(() => certs?.cleanup());

function deviceErrors(cloud: CloudServer): Array<Extract<DeviceMessage, { type: 'error' }>> {
  const errors: Array<Extract<DeviceMessage, { type: 'error' }>> = [];
  cloud.events.on('message', (_s: string, m: DeviceMessage) => {
    if (m.type === 'error') errors.push(m);
  });
  return errors;
}

describe('device side: garbage from the cloud', () => {
  it('answers malformed JSON, unknown types, bad fields and stray audio, and stays up', async () => {
    pair = await startPair(certs, {
      cloud: {
        behaviour: { garbage: ['malformed-json', 'unknown-type', 'invalid-fields', 'stray-audio'] },
      },
      waitUp: false,
    });
    const problems = record<ProtocolErrorEvent>(pair.link, 'protocolError');
    const statuses = record<{ status: string }>(pair.link, 'status');
    const answers = deviceErrors(pair.cloud);
    await waitUntil(() => answers.length === 4, 'four error answers');
    expect(problems.map((p) => p.code)).toEqual([
      'E_BAD_JSON',
      'E_UNKNOWN_TYPE',
      'E_BAD_MESSAGE',
      'E_UNEXPECTED',
    ]);
    expect(answers.map((a) => (a.type === 'error' ? a.code : ''))).toEqual([
      'E_BAD_JSON',
      'E_UNKNOWN_TYPE',
      'E_BAD_MESSAGE',
      'E_UNEXPECTED',
    ]);
    expect(problems[1]?.message).toMatch(/unknown type "teleport"/);
    expect(problems[2]?.message).toMatch(/stored/);
    expect(statuses.filter((s) => s.status === 'down')).toEqual([]);

    // Still fully working.
    const handle = pair.link.openUtterance({ trigger: { kind: 'button' }, preRollMs: 0 });
    handle.write(pcm(3200));
    const ack = waitForEvent(pair.link, 'ack');
    handle.end('speechEnd');
    await ack;
  });

  it('never answers an error with an error', async () => {
    pair = await startPair(certs);
    const answers = deviceErrors(pair.cloud);
    const problems = record<ProtocolErrorEvent>(pair.link, 'protocolError');
    pair.cloud.broadcast(JSON.stringify({ type: 'error', code: 'not a code', message: 1 }));
    pair.cloud.broadcast(JSON.stringify({ type: 'teleport' })); // answered: proves the pipe works
    await waitUntil(() => answers.length >= 1 && problems.length === 2, 'the answer');
    expect(problems[0]?.code).toBe('E_BAD_MESSAGE');
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ code: 'E_UNKNOWN_TYPE' });
  });

  it('answers a flood of garbage only up to its rate limit', async () => {
    pair = await startPair(certs, { errorAnswers: { max: 5, windowMs: 60_000 } });
    const answers = deviceErrors(pair.cloud);
    const problems = record<ProtocolErrorEvent>(pair.link, 'protocolError');
    for (let i = 0; i < 30; i++) pair.cloud.broadcast(JSON.stringify({ type: `junk-${i}` }));
    // Another kind of refusal keeps its own budget: the flood does not silence it.
    pair.cloud.broadcast('{not json');
    pair.cloud.broadcast(JSON.stringify({ type: 'ping', nonce: 'after' }));
    let pong = false;
    pair.cloud.events.on('message', (_s: string, m: DeviceMessage) => (pong ||= m.type === 'pong'));
    // The pong to the last frame arrives after every error answer the link sent.
    await waitUntil(
      () => problems.length === 31 && pong,
      'thirty-one protocol errors and the pong',
    );
    expect(answers.filter((a) => a.code === 'E_UNKNOWN_TYPE')).toHaveLength(5);
    expect(answers.filter((a) => a.code !== 'E_UNKNOWN_TYPE')).toHaveLength(1);
    expect(pair.link.isUp).toBe(true);
  });

  it('survives a frame above maxPayload: closes with 1009 and reconnects', async () => {
    pair = await startPair(certs, {
      link: { maxPayloadBytes: 64 * 1024 },
      cloud: { behaviour: { garbage: ['oversized'], oversizedBytes: 128 * 1024 } },
      waitUp: false,
    });
    const problems = record<ProtocolErrorEvent>(pair.link, 'protocolError');
    const down = await waitForStatus(pair.link, 'down');
    expect(down.cause).toMatch(/message too big/);
    expect(problems.map((p) => p.code)).toContain('E_TOO_LARGE');
    pair.cloud.setBehaviour({ garbage: [] });
    await waitForStatus(pair.link, 'up');
  });
});

describe('cloud side: garbage from a device', () => {
  let cloud: CloudServer;
  beforeAll(async () => {
    cloud = await startCloudServer(cloudOptions(certs, { maxPayloadBytes: 16 * 1024 }));
  });
  afterAll(async () => {
    await cloud?.close();
  });

  /** A raw WebSocket with the device certificate: free to send anything. */
  async function raw(): Promise<{ ws: WebSocket; inbox: Array<Record<string, unknown>> }> {
    const ws = new WebSocket(cloud.url, SUBPROTOCOL, {
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.deviceCert),
      key: readFileSync(certs.deviceKey),
    });
    const inbox: Array<Record<string, unknown>> = [];
    ws.on('message', (data, isBinary) => {
      if (!isBinary) inbox.push(JSON.parse(String(data)) as Record<string, unknown>);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, inbox };
  }

  const hello = {
    type: 'hello',
    protocol: 1,
    deviceId: 'robust',
    firmware: 'raw',
    capabilities: { uploadEncodings: ['pcm_s16le'], replyEncodings: ['pcm_s16le'] },
    format: { encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 },
    privacy: { dontSaveRecordings: true, voiceIdAvailable: false },
  };

  it('answers each bad message with an error and keeps the session', async () => {
    const { ws, inbox } = await raw();
    ws.send(
      JSON.stringify({ type: 'state', state: 'idle', muted: false, dontSaveRecordings: true }),
    );
    ws.send('{oops');
    ws.send(JSON.stringify([1, 2]));
    ws.send(JSON.stringify({ type: 'warp' }));
    ws.send(
      JSON.stringify({ ...hello, privacy: { dontSaveRecordings: true, voiceIdAvailable: true } }),
    );
    ws.send(JSON.stringify({ ...hello, protocol: 7 }));
    ws.send(JSON.stringify(hello));
    ws.send(Buffer.alloc(640)); // audio outside an utterance
    ws.send(
      JSON.stringify({
        type: 'utterance.end',
        id: 'nope',
        reason: 'speechEnd',
        durationMs: 0,
        bytes: 0,
        sha256: '0'.repeat(64),
      }),
    );
    ws.send(JSON.stringify({ type: 'utterance.start', id: 'bad id!' }));
    ws.send(JSON.stringify({ type: 'ping', nonce: 'n1' }));
    await waitUntil(() => inbox.some((m) => m.type === 'pong'), 'the pong');
    expect(inbox.map((m) => (m.type === 'error' ? m.code : m.type))).toEqual([
      'E_UNEXPECTED', // state before hello
      'E_BAD_JSON',
      'E_BAD_MESSAGE',
      'E_UNKNOWN_TYPE',
      'E_BAD_MESSAGE', // voiceIdAvailable must be !dontSaveRecordings
      'E_PROTOCOL_VERSION',
      'hello.ok',
      'E_UNEXPECTED',
      'E_UNKNOWN_UTTERANCE',
      'E_BAD_MESSAGE',
      'pong',
    ]);
    expect(inbox.at(-1)).toEqual({ type: 'pong', nonce: 'n1' });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('refuses a client that does not offer earshot.v1, and plain HTTPS requests', async () => {
    const tls = {
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.deviceCert),
      key: readFileSync(certs.deviceKey),
    };
    const refused = await new Promise<{ status: number; header: unknown }>((resolve, reject) => {
      const ws = new WebSocket(cloud.url, 'chat.v2', tls);
      ws.on('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0, header: res.headers['x-earshot-error'] });
        ws.terminate();
      });
      ws.on('error', () => undefined);
      ws.on('open', () => reject(new Error('opened without earshot.v1')));
    });
    expect(refused.status).toBe(400);
    expect(refused.header).toMatch(/^E_PROTOCOL_VERSION: .*earshot\.v1/);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsGet(cloud.url.replace('wss:', 'https:'), tls, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    expect(res.status).toBe(426);
    expect(res.body).toMatch(/earshot\.v1/);
  });

  it('closes with 1009 on a frame above its maxPayload, and serves the next device', async () => {
    const problems = record<{ code: string }>(cloud.events, 'protocolError');
    const { ws } = await raw();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send(JSON.stringify(hello));
    ws.send(Buffer.alloc(17 * 1024));
    expect(await closed).toBe(1009);
    await waitUntil(() => problems.some((p) => p.code === 'E_TOO_LARGE'), 'E_TOO_LARGE');
    const next = await raw();
    next.ws.send(JSON.stringify(hello));
    await waitUntil(() => next.inbox.some((m) => m.type === 'hello.ok'), 'hello.ok');
    next.ws.close();
  });
});
