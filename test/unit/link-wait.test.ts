import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LinkWait } from '../../src/device/link-wait.js';
import type { Logger } from '../../src/shared/logger.js';

// LinkWait alone, against the transport's status events (the port it listens on): the
// real transports are exercised with it by the simulate and device-cloud tests.
function rig(ms: number) {
  const transport = new EventEmitter();
  const warnings: string[] = [];
  const log = { warn: (msg: string) => warnings.push(msg) } as unknown as Logger;
  const wait = new LinkWait(transport, ms, log);
  return { transport, warnings, wait };
}

describe('LinkWait', () => {
  it('starts at once when the link came up before start', async () => {
    const { transport, warnings, wait } = rig(60_000);
    transport.emit('status', { status: 'up' });
    await wait.start();
    expect(warnings).toEqual([]);
    expect(transport.listenerCount('status')).toBe(0);
  });

  it('holds start until the link is up, or the cloud is disabled', async () => {
    for (const status of ['up', 'disabled']) {
      const { transport, warnings, wait } = rig(60_000);
      let started = false;
      const p = wait.start().then(() => (started = true));
      transport.emit('status', { status: 'connecting' });
      await new Promise((r) => setTimeout(r, 20));
      expect(started).toBe(false);
      transport.emit('status', { status });
      await p;
      expect(started).toBe(true);
      expect(warnings).toEqual([]);
    }
  });

  it('gives up after its bound, says so, and stops listening', async () => {
    const { transport, warnings, wait } = rig(30);
    transport.emit('status', { status: 'connecting' });
    await wait.start();
    expect(warnings).toEqual(['the cloud link is not up yet; starting anyway']);
    expect(transport.listenerCount('status')).toBe(0);
    // A link that comes up later changes nothing.
    transport.emit('status', { status: 'up' });
    expect(warnings).toHaveLength(1);
  });
});
