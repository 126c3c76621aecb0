import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CloudServer } from '../../src/cloud/index.js';
import { verifyLedger } from '../../src/privacy/verify.js';
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
} from '../helpers/fault-harness.js';
import { tempDir } from '../helpers/paths.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

/**
 * Faults that take the connection down in the middle of a request: a cloud that drops
 * it, one that hangs (no more pongs), one that sends a 10 MB frame. Each must end in a
 * defined state with a log line that says what happened, nothing half-sent may be
 * committed, and once the link is back the next "Alexa" is uploaded and answered.
 *
 * These run the recording at real time: the link reconnects on real time, and the
 * second request must come after it is back, as it would in a kitchen.
 */
let certs: TestCerts;
let cloud: CloudServer | undefined;
const tmp = tempDir('earshot-fault-link-');
let twoRequests: string;

beforeAll(async () => {
  certs = makeCerts('fault-link');
  // Two requests 5 s apart: room for a heartbeat timeout and a reconnect in between.
  twoRequests = await composeWav(tmp.dir, 'two.wav', [
    'alexa-what-time.wav',
    5,
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

/** The second request went through: committed, acknowledged, intact, answered. */
function expectServed(
  second: { id: string; outcome: string; ack?: { stored: boolean } } | undefined,
  seen: ReturnType<typeof watchCloud>,
): void {
  expect(second).toMatchObject({ outcome: 'sent', ack: { stored: false } });
  expect(seen.utterances.map((u) => [u.id, u.integrityOk])).toContainEqual([second!.id, true]);
  expect(seen.replied).toContain(second!.id);
}

describe('fault injection: the connection breaks mid-request', () => {
  it('the cloud drops the connection mid-utterance', async () => {
    cloud = await faultCloud(certs, { dropAfterMs: 1000 });
    const c = cloud;
    onFirst(c, 'disconnect', () => c.setBehaviour({ dropAfterMs: undefined }));
    const seen = watchCloud(c);
    const { log, lines } = memoryLogger();
    const ledger = join(tmp.dir, 'drop.jsonl');
    const run = await runDevice({
      wav: twoRequests,
      config: deviceConfig(certs, c, ledger),
      log,
      realtime: true,
    });

    const [first, second] = run.uploads;
    // Cut by the link, recorded as failed, never committed to the cloud.
    expect(first).toMatchObject({ outcome: 'failed', reason: 'link down' });
    expect(seen.messages.filter((m) => m.type === 'utterance.end').map((m) => m.id)).toEqual([
      second!.id,
    ]);
    expect(logged(lines, /^cloud link down$/, LEVEL.warn)[0]).toMatchObject({
      cause: 'connection lost (no close frame)',
    });
    // Defined state: offline while the link is down, idle once it is back.
    expect(run.states.slice(0, 4)).toEqual(['idle', 'listening', 'offline', 'idle']);
    expectServed(second, seen);
    expect(run.summary.finalState).toBe('idle');
    const verified = await verifyLedger(ledger);
    expect(verified.ok).toBe(true);
    expect(verified.entries.map((e) => (e.type === 'utterance' ? e.outcome : 'ack'))).toEqual([
      'failed',
      'sent',
      'ack',
    ]);
  }, 60_000);

  it('the cloud stalls (stops answering pings) while the device waits for its reply', async () => {
    cloud = await faultCloud(certs);
    const c = cloud;
    // Hang as soon as the first request is complete: no pong, no reply.
    onFirst(
      c,
      'message',
      () => c.setBehaviour({ stall: true, reply: 'none' }),
      (_s, m) => (m as { type: string }).type === 'utterance.end',
    );
    onFirst(c, 'disconnect', () => c.setBehaviour({ stall: false, reply: 'tone' }));
    const seen = watchCloud(c);
    const { log, lines } = memoryLogger();
    const run = await runDevice({
      wav: twoRequests,
      // The heartbeat (1 s + 2 s) must notice before the reply deadline does.
      config: deviceConfig(certs, c, join(tmp.dir, 'stall.jsonl'), {
        'utterance.replyTimeoutMs': 8000,
      }),
      log,
      realtime: true,
    });

    const [first, second] = run.uploads;
    expect(first).toMatchObject({ outcome: 'sent' });
    expect(seen.replied).not.toContain(first!.id);
    const down = logged(lines, /^cloud link down$/, LEVEL.warn);
    expect(down[0]?.cause).toMatch(/^heartbeat timeout: no pong within 2000 ms/);
    // Waiting for a reply from a cloud that is gone ends in offline, then idle; the
    // first request is never answered (no speaking before the second listening).
    const firstRequest = run.states.slice(0, run.states.indexOf('listening', 2));
    expect(inOrder(firstRequest, ['idle', 'listening', 'thinking', 'offline', 'idle'])).toBe(true);
    expect(firstRequest).not.toContain('speaking');
    expect(logged(lines, /no reply from the cloud in time/)).toEqual([]);
    expectServed(second, seen);
    expect(run.summary.finalState).toBe('idle');
  }, 60_000);

  it('the cloud sends a 10 MB frame mid-utterance', async () => {
    cloud = await faultCloud(certs);
    const c = cloud;
    onFirst(
      c,
      'message',
      () => c.broadcast(JSON.stringify({ type: 'settings', pad: 'x'.repeat(10 * 2 ** 20) })),
      (_s, m) => (m as { type: string }).type === 'utterance.start',
    );
    const seen = watchCloud(c);
    const { log, lines } = memoryLogger();
    const run = await runDevice({
      wav: twoRequests,
      config: deviceConfig(certs, c, join(tmp.dir, 'big.jsonl')),
      log,
      realtime: true,
    });

    const [first, second] = run.uploads;
    // The device's WebSocket refuses the frame (maxPayload 1 MiB) and closes with 1009.
    expect(logged(lines, /^cloud link down$/, LEVEL.warn)[0]?.cause).toMatch(/too big|1009/);
    expect(logged(lines, /^protocol error: /, LEVEL.warn).map((l) => l.code)).toContain(
      'E_TOO_LARGE',
    );
    // Whichever notices first (the next write, or the close), the upload is failed.
    expect(first?.outcome).toBe('failed');
    expect(first?.reason).toMatch(/^(link down|E_LINK_DOWN: )/);
    expect(seen.utterances.map((u) => u.id)).not.toContain(first!.id);
    expect(
      inOrder(run.states, ['idle', 'listening', 'offline', 'idle', 'listening', 'thinking']),
    ).toBe(true);
    expectServed(second, seen);
    expect(run.summary.finalState).toBe('idle');
  }, 60_000);
});
