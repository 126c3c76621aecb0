import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer } from '../../../src/cloud/index.js';
import type { DeviceMessage } from '../../../src/link/protocol/index.js';
import type { LinkStatusEvent, UtteranceFailedEvent } from '../../../src/link/index.js';
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

/** Half-open connections, a cloud that goes away and comes back, drops, a slow cloud. */
let certs: TestCerts;
let pair: Pair | undefined;

beforeAll(() => {
  certs = makeCerts('resilient');
});
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});
afterAll(() => certs?.cleanup());

const trigger = { kind: 'button' as const };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('link resilience', () => {
  it('detects a cloud that stops answering pings within the heartbeat deadline', async () => {
    pair = await startPair(certs, { link: { heartbeatMs: 1000, heartbeatTimeoutMs: 1000 } });
    const down = waitForStatus(pair.link, 'down', 8000); // 1 s interval + 1 s deadline, with room
    pair.cloud.setBehaviour({ stall: true });
    const status = await down;
    expect(status.cause).toMatch(/^heartbeat timeout: no pong within 1000 ms/);
    // The cloud recovers: the link is up again and stays up past a heartbeat.
    pair.cloud.setBehaviour({ stall: false });
    await waitForStatus(pair.link, 'up');
    const statuses = record<LinkStatusEvent>(pair.link, 'status');
    await sleep(2500);
    expect(statuses.filter((s) => s.status === 'down')).toEqual([]);
  });

  it('rejoins a cloud that comes back, with growing, jittered, reset backoff delays', async () => {
    const sequence = [0.5, 0.25, 0.75, 0.9, 0.1, 0.6, 0.35, 0.8];
    const drawn: number[] = [];
    const random = (): number => {
      const v = sequence[drawn.length % sequence.length]!;
      drawn.push(v);
      return v;
    };
    pair = await startPair(certs, { random, link: { backoff: { initialMs: 50, maxMs: 400 } } });
    const statuses = record<LinkStatusEvent>(pair.link, 'status');
    const port = pair.cloud.port;
    await pair.cloud.close();
    await waitUntil(() => statuses.filter((s) => s.status === 'down').length >= 6, 'six failures');

    const back = await startCloudServer(cloudOptions(certs, { port }));
    pair.cloud = back;
    await waitForStatus(pair.link, 'up');
    const down = waitForStatus(pair.link, 'down');
    back.dropAll();
    await down;

    // Replay: attempt n after the last success has ceiling min(400, 50 * 2^n) and the
    // delay is floor(random * ceiling), with the random values in the order drawn.
    let attempt = 0;
    let draw = 0;
    const ceilings: number[] = [];
    for (const s of statuses) {
      if (s.status === 'up') attempt = 0;
      if (s.status !== 'down') continue;
      const ceiling = Math.min(400, 50 * 2 ** attempt);
      ceilings.push(ceiling);
      expect(s.retryInMs).toBe(Math.floor(drawn[draw]! * ceiling));
      draw += 1;
      attempt += 1;
    }
    expect(ceilings.slice(0, 6)).toEqual([50, 100, 200, 400, 400, 400]);
    expect(ceilings.at(-1)).toBe(50); // reset by the success in between
    const firstDowns = statuses.filter((s) => s.status === 'down').slice(1, 6);
    expect(firstDowns).toHaveLength(5);
    expect(firstDowns.every((s) => /ECONNREFUSED/.test(s.cause ?? ''))).toBe(true);
    // Jitter: equal ceilings, different delays.
    const at400 = statuses.filter((s) => s.status === 'down').slice(3, 6);
    expect(new Set(at400.map((s) => s.retryInMs)).size).toBe(3);
  });

  it('fails an utterance whose connection drops, and re-sends nothing after reconnecting', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { dropAfterMs: 200, reply: 'none' } } });
    const audioBySession = new Map<string, number>();
    pair.cloud.events.on('audio', (sessionId: string) =>
      audioBySession.set(sessionId, (audioBySession.get(sessionId) ?? 0) + 1),
    );
    const messages: Array<[string, DeviceMessage]> = [];
    pair.cloud.events.on('message', (s: string, m: DeviceMessage) => messages.push([s, m]));
    const failed = waitForEvent<UtteranceFailedEvent>(pair.link, 'utteranceFailed');
    const handle = pair.link.openUtterance({ id: 'drop-1', trigger, preRollMs: 0 });
    let failure: UtteranceFailedEvent | undefined;
    void failed.then((f) => (failure = f));
    for (let i = 0; i < 1000 && !failure; i++) {
      handle.write(pcm(1280, i));
      await sleep(5);
    }
    expect(failure).toMatchObject({ id: 'drop-1', code: 'E_LINK_DOWN' });
    expect(failure?.message).toMatch(/connection lost/);
    expect(handle.state).toBe('failed');
    expect(handle.write(pcm(1280))).toBe(false);
    expect(handle.end('speechEnd').completed).toBe(false);

    await waitForStatus(pair.link, 'up');
    pair.cloud.setBehaviour({ dropAfterMs: undefined });
    await sleep(500);
    const firstSession = messages[0]![0];
    const later = messages.filter(([s]) => s !== firstSession).map(([, m]) => m.type);
    expect(later).toEqual(['hello']);
    expect([...audioBySession.keys()]).toEqual([firstSession]);
  });

  it('fails an utterance that waits for its reply when the connection drops', async () => {
    pair = await startPair(certs, { cloud: { behaviour: { replyDelayMs: 30_000 } } });
    const handle = pair.link.openUtterance({ id: 'wait-1', trigger, preRollMs: 0 });
    handle.write(pcm(3200));
    const ack = waitForEvent(pair.link, 'ack');
    handle.end('speechEnd');
    await ack;
    const failed = waitForEvent<UtteranceFailedEvent>(pair.link, 'utteranceFailed');
    pair.cloud.dropAll();
    expect(await failed).toMatchObject({ id: 'wait-1', code: 'E_LINK_DOWN' });
  });

  it('aborts with E_BACKPRESSURE when the cloud stops reading, without blocking the writer', async () => {
    pair = await startPair(certs, {
      cloud: { behaviour: { stopReading: true } },
      link: { maxBufferedBytes: 64 * 1024, heartbeatMs: 60_000 },
    });
    const failed = waitForEvent<UtteranceFailedEvent>(pair.link, 'utteranceFailed');
    const handle = pair.link.openUtterance({ id: 'slow-1', trigger, preRollMs: 0 });
    const chunk = pcm(32 * 1024);
    let written = 0;
    let refusedAt = -1;
    // Kernel socket buffers on loopback absorb several MB first; then the user-space
    // queue grows until the limit. Each write returns at once either way.
    for (let batch = 0; batch < 6400 && refusedAt < 0; batch++) {
      for (let i = 0; i < 32; i++) {
        if (!handle.write(chunk)) {
          refusedAt = written;
          break;
        }
        written += chunk.length;
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(refusedAt).toBeGreaterThan(0);
    const failure = await failed;
    expect(failure).toMatchObject({ id: 'slow-1', code: 'E_BACKPRESSURE' });
    expect(failure.message).toMatch(/limit 65536/);
    expect(handle.state).toBe('failed');
    expect(handle.write(chunk)).toBe(false);
    expect(pair.link.isUp).toBe(true);
  });
});
