import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AssistClient, HaCommandError } from '../../../src/assist/client.js';
import type { HaStandin, StandinBehaviour } from '../../../src/ha-standin/server.js';
import { RealClock } from '../../../src/shared/clock.js';
import type { LinkStatus } from '../../../src/shared/device-status.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { startStandin } from '../../helpers/ha-standin.js';
import { eventually } from '../../helpers/mosquitto.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

// The WebSocket client on its own against the stand-in over TLS: auth, HA's ping as the
// heartbeat, ids, and the bounds on what HA may send.
let certs: TestCerts;
let standin: HaStandin | undefined;
let client: AssistClient | undefined;
beforeAll(() => {
  certs = makeCerts('client');
});
afterAll(() => certs.cleanup());
afterEach(async () => {
  await client?.stop();
  await standin?.close();
  client = undefined;
  standin = undefined;
});

async function connect(
  behaviour: Partial<StandinBehaviour>,
  options: { token?: string; heartbeatMs?: number; maxPayloadBytes?: number } = {},
): Promise<{ c: AssistClient; statuses: Array<LinkStatus & { retryInMs?: number }> }> {
  standin = await startStandin(certs, behaviour);
  const statuses: Array<LinkStatus & { retryInMs?: number }> = [];
  client = new AssistClient({
    url: standin.url,
    insecure: false,
    tls: { ca: certs.ca },
    token: async () => options.token ?? 'standin-token',
    heartbeatMs: options.heartbeatMs ?? 60_000,
    heartbeatTimeoutMs: 300,
    connectTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 4000 },
    maxPayloadBytes: options.maxPayloadBytes ?? 1024 * 1024,
    clock: new RealClock(),
    log: silentLogger(),
  });
  client.on('status', (s) => statuses.push(s));
  client.start();
  return { c: client, statuses };
}

describe('the Home Assistant WebSocket client', () => {
  it('a refused token: down with HA’s words and E_ASSIST_AUTH, retried only after the longest delay', async () => {
    const { statuses } = await connect({}, { token: 'wrong' });
    const down = await eventually(() => statuses.find((s) => s.status === 'down'), 'down');
    expect(down.cause).toBe('auth_invalid: Invalid access token or password (E_ASSIST_AUTH)');
    expect(down.retryInMs).toBe(4000);
  });

  it('commands get their results on increasing ids; HA’s errors keep HA’s code', async () => {
    const { c, statuses } = await connect({ registry: 'unauthorized' });
    await eventually(() => (c.isUp ? true : undefined), 'up');
    const a = c.command({ type: 'assist_pipeline/pipeline/list' });
    const b = c.command({ type: 'config/device_registry/list' });
    expect(b.id).toBeGreaterThan(a.id);
    await expect(a.result).resolves.toMatchObject({ preferred_pipeline: expect.any(String) });
    const err = await b.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HaCommandError);
    expect((err as HaCommandError).code).toBe('unauthorized');
    // Still up: an error answer is not a broken connection (HA would say id_reuse
    // and the like if the ids did not increase).
    expect(c.isUp).toBe(true);
    expect(statuses.filter((s) => s.status === 'down')).toEqual([]);
  });

  it('a HA that stops answering ping is dropped, and rejoined when it answers again', async () => {
    const { c, statuses } = await connect({}, { heartbeatMs: 200 });
    await eventually(() => (c.isUp ? true : undefined), 'up');
    standin!.setBehaviour({ answerPings: false });
    const down = await eventually(() => statuses.find((s) => s.status === 'down'), 'dropped', 5000);
    expect(down.cause).toBe('heartbeat timeout: no pong within 300 ms');
    standin!.setBehaviour({ answerPings: true });
    await eventually(
      () => (statuses.at(-1)?.status === 'up' && c.isUp ? true : undefined),
      'up again',
      5000,
    );
  });

  it('a frame above maxPayloadBytes closes the connection; commands in flight fail with E_LINK_DOWN', async () => {
    const devices = Array.from({ length: 400 }, (_, i) => ({
      id: `device-${i}-${'x'.repeat(40)}`,
      identifiers: [['mqtt', `thing-${i}`]] as Array<[string, string]>,
    }));
    const { c, statuses } = await connect({ devices }, { maxPayloadBytes: 16 * 1024 });
    await eventually(() => (c.isUp ? true : undefined), 'up');
    const err = await c
      .command({ type: 'config/device_registry/list' })
      .result.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_LINK_DOWN' });
    const down = await eventually(() => statuses.find((s) => s.status === 'down'), 'down');
    expect(down.cause).toMatch(/message too big|1009/);
  });
});
