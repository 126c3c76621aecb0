import { describe, expect, it } from 'vitest';
import { Heartbeat } from '../../../src/link/heartbeat.js';
import { ManualClock } from '../../../src/shared/clock.js';

function setup() {
  const clock = new ManualClock();
  const pings: number[] = [];
  const timeouts: Array<{ at: number; cause: string }> = [];
  const hb = new Heartbeat({
    clock,
    intervalMs: 1000,
    timeoutMs: 300,
    ping: () => {
      pings.push(clock.now());
      return true;
    },
    onTimeout: (cause) => timeouts.push({ at: clock.now(), cause }),
  });
  return { clock, pings, timeouts, hb };
}

describe('heartbeat', () => {
  it('pings every interval while pongs come back', () => {
    const { clock, pings, timeouts, hb } = setup();
    hb.start();
    for (let t = 1000; t <= 5000; t += 100) {
      clock.advanceTo(t);
      // Pongs come back 200 ms after their ping, inside the 300 ms deadline.
      if (hb.awaitingPong && t - pings.at(-1)! >= 200) hb.pong();
    }
    // Each interval starts after the previous pong.
    expect(pings).toEqual([1000, 2200, 3400, 4600]);
    expect(timeouts).toEqual([]);
  });

  it('reports a missing pong exactly at the deadline, once', () => {
    const { clock, timeouts, hb } = setup();
    hb.start();
    clock.advanceTo(1299);
    expect(timeouts).toEqual([]);
    clock.advanceTo(1300);
    expect(timeouts).toEqual([{ at: 1300, cause: 'heartbeat timeout: no pong within 300 ms' }]);
    clock.advanceTo(10_000);
    expect(timeouts).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('stops cleanly, and a late pong changes nothing', () => {
    const { clock, pings, timeouts, hb } = setup();
    hb.start();
    clock.advanceTo(1000);
    hb.stop();
    hb.pong();
    clock.advanceTo(10_000);
    expect(pings).toEqual([1000]);
    expect(timeouts).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('refuses nonsense timings', () => {
    expect(
      () =>
        new Heartbeat({
          clock: new ManualClock(),
          intervalMs: 0,
          timeoutMs: 1,
          ping: () => true,
          onTimeout: () => undefined,
        }),
    ).toThrow(RangeError);
  });
});
