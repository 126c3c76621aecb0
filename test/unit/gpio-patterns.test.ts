import { describe, expect, it } from 'vitest';
import { ledPatternSchema, type LedPattern } from '../../src/config/board-profile.js';
import { ManualClock, type Clock, type TimerHandle } from '../../src/shared/clock.js';
import { PatternRunner } from '../../src/gpio/pattern-runner.js';
import { makeGpio, timeline } from '../helpers/gpio-fixtures.js';

function run(pattern: unknown, untilMs: number, clock: Clock & { advanceTo(ms: number): void }) {
  const changes: Array<[number, boolean]> = [];
  let last: boolean | undefined;
  const runner = new PatternRunner(clock, (on) => {
    if (on !== last) changes.push([clock.now(), on]);
    last = on;
  });
  runner.play(ledPatternSchema.parse(pattern));
  clock.advanceTo(untilMs);
  return { changes, runner };
}

describe('LED patterns on the Clock', () => {
  it('solid lights once and needs no timer', () => {
    const clock = new ManualClock();
    const { changes } = run('solid', 10_000, clock);
    expect(changes).toEqual([[0, true]]);
    expect(clock.pending).toBe(0);
  });

  it('off stays dark with no timer', () => {
    const clock = new ManualClock();
    const { changes } = run('off', 10_000, clock);
    expect(changes).toEqual([[0, false]]);
    expect(clock.pending).toBe(0);
  });

  it('blink alternates with its default 250/250 ms', () => {
    const { changes } = run('blink', 1000, new ManualClock());
    expect(changes).toEqual([
      [0, true],
      [250, false],
      [500, true],
      [750, false],
      [1000, true],
    ]);
  });

  it('blink takes its timings from the profile', () => {
    const { changes } = run({ type: 'blink', onMs: 100, offMs: 900 }, 2000, new ManualClock());
    expect(changes).toEqual([
      [0, true],
      [100, false],
      [1000, true],
      [1100, false],
      [2000, true],
    ]);
  });

  it('pulse is a slower blink (1000/1000 ms)', () => {
    const { changes } = run('pulse', 4000, new ManualClock());
    expect(changes).toEqual([
      [0, true],
      [1000, false],
      [2000, true],
      [3000, false],
      [4000, true],
    ]);
  });

  it('double-blink flashes twice, then rests', () => {
    const { changes } = run('double-blink', 2400, new ManualClock());
    expect(changes).toEqual([
      [0, true],
      [120, false],
      [240, true],
      [360, false],
      [1200, true],
      [1320, false],
      [1440, true],
      [1560, false],
      [2400, true],
    ]);
  });

  it('late timers do not make the pattern drift', () => {
    // A clock whose timers always run 7 ms late, like a busy event loop.
    const inner = new ManualClock();
    const late: Clock & { advanceTo(ms: number): void } = {
      now: () => inner.now(),
      setTimeout: (fn: () => void, ms: number): TimerHandle => inner.setTimeout(fn, ms + 7),
      clearTimeout: (h) => inner.clearTimeout(h),
      advanceTo: (ms) => inner.advanceTo(ms),
    };
    const { changes } = run('blink', 1100, late);
    // Each step is due at k*250; it runs 7 ms late but the lateness never adds up.
    expect(changes).toEqual([
      [0, true],
      [257, false],
      [507, true],
      [757, false],
      [1007, true],
    ]);
  });

  it('a new pattern replaces the old one and its timer', () => {
    const clock = new ManualClock();
    const changes: Array<[number, boolean]> = [];
    const runner = new PatternRunner(clock, (on) => changes.push([clock.now(), on]));
    runner.play(ledPatternSchema.parse('blink'));
    clock.advanceTo(300);
    runner.play(ledPatternSchema.parse('solid'));
    expect(clock.pending).toBe(0);
    clock.advanceTo(5000);
    expect(changes).toEqual([
      [0, true],
      [250, false],
      [300, true],
    ]);
  });

  it('the same pattern again keeps its phase', () => {
    const clock = new ManualClock();
    const changes: Array<[number, boolean]> = [];
    const runner = new PatternRunner(clock, (on) => changes.push([clock.now(), on]));
    const blink: LedPattern = ledPatternSchema.parse('blink');
    runner.play(blink);
    clock.advanceTo(100);
    runner.play({ ...blink });
    clock.advanceTo(500);
    expect(changes).toEqual([
      [0, true],
      [250, false],
      [500, true],
    ]);
  });
});

describe('Gpio.showState', () => {
  it('applies each state pattern per LED, after the attention system', async () => {
    const h = makeGpio();
    await h.gpio.start();
    expect(h.gpio.render()).toBe('○ listening ○ mute ● status'); // booting: status solid

    h.clock.advanceBy(1000);
    h.gpio.showState('idle');
    expect(h.gpio.render()).toBe('○ listening ○ mute ○ status');

    h.clock.advanceBy(1000);
    h.gpio.showState('listening');
    // Synchronous: the LED is lit before showState returns (P2: light first).
    expect(h.gpio.isLit('listening')).toBe(true);
    expect(h.gpio.render()).toBe('● listening ○ mute ○ status');

    h.clock.advanceBy(1000);
    const t0 = h.clock.now();
    h.gpio.showState('thinking');
    expect(h.gpio.isLit('listening')).toBe(false);
    h.clock.advanceBy(600);
    expect(timeline(h.leds, 'status').filter(([at]) => at >= t0)).toEqual([
      [t0, true],
      [t0 + 250, false],
      [t0 + 500, true],
    ]);

    h.gpio.showState('muted');
    expect(h.gpio.render()).toBe('○ listening ● mute ○ status');
    const before = h.leds.length;
    h.clock.advanceBy(5000);
    expect(h.leds.length).toBe(before); // nothing blinks while muted
    h.gpio.stop();
  });

  it('shows offline and error with distinct patterns', async () => {
    const h = makeGpio();
    await h.gpio.start();
    h.gpio.showState('idle');
    h.clock.advanceBy(10);
    h.gpio.showState('offline');
    let t0 = h.clock.now();
    h.clock.advanceBy(1200);
    expect(
      timeline(h.leds, 'status')
        .filter(([at]) => at >= t0)
        .map(([at]) => at - t0),
    ).toEqual([0, 120, 240, 360, 1200]);
    h.gpio.showState('error');
    t0 = h.clock.now();
    h.clock.advanceBy(1000);
    expect(
      timeline(h.leds, 'status')
        .filter(([at]) => at > t0)
        .map(([at]) => at - t0),
    ).toEqual([100, 1000]);
    h.gpio.stop();
  });

  it('a state shown before start is applied on start', async () => {
    const h = makeGpio();
    h.gpio.showState('muted');
    expect(h.leds).toEqual([]);
    await h.gpio.start();
    expect(h.gpio.isLit('mute')).toBe(true);
    expect(h.gpio.state).toBe('muted');
    h.gpio.stop();
  });
});
