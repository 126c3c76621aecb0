import { describe, expect, it } from 'vitest';
import { gpioSection } from '../../src/config/sections/gpio.js';
import { isQuiet, msUntilChange, parseQuietHours } from '../../src/gpio/quiet-hours.js';
import { ManualClock } from '../../src/shared/clock.js';
import { gpioConfig, makeGpio } from '../helpers/gpio-fixtures.js';

/** Local time on 2025-03-12 (no DST change near it in any common zone). */
const at = (h: number, m: number, s = 0) => new Date(2025, 2, 12, h, m, s);

describe('quiet schedule', () => {
  it('wraps past midnight', () => {
    const q = parseQuietHours('22:00-07:00');
    expect(isQuiet(q, at(21, 59))).toBe(false);
    expect(isQuiet(q, at(22, 0))).toBe(true);
    expect(isQuiet(q, at(3, 0))).toBe(true);
    expect(isQuiet(q, at(6, 59))).toBe(true);
    expect(isQuiet(q, at(7, 0))).toBe(false);
  });

  it('works within one day', () => {
    const q = parseQuietHours('13:30-15:00');
    expect(isQuiet(q, at(13, 29))).toBe(false);
    expect(isQuiet(q, at(13, 30))).toBe(true);
    expect(isQuiet(q, at(15, 0))).toBe(false);
  });

  it('knows how long until the next change', () => {
    const q = parseQuietHours('22:00-07:00');
    expect(msUntilChange(q, at(21, 59, 30))).toBe(30_000);
    expect(msUntilChange(q, at(22, 0))).toBe(9 * 3600_000);
    expect(msUntilChange(q, at(8, 0))).toBe(14 * 3600_000);
  });

  it('the config names a bad schedule', () => {
    for (const bad of ['25:00-07:00', '22:60-07:00', '22:00-22:00', '10pm-7am']) {
      const r = gpioSection.safeParse({ quietHours: bad });
      expect(r.success, bad).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(['quietHours']);
    }
    expect(gpioSection.parse({ quietHours: '22:00-07:00' }).quietHours).toBe('22:00-07:00');
  });
});

describe('Gpio during quiet hours', () => {
  it('turns off all but the mute and listening LEDs, and back on after', async () => {
    const clock = new ManualClock();
    const start = at(21, 59, 30).getTime();
    const h = makeGpio({
      clock,
      config: gpioConfig({ quietHours: '22:00-07:00' }),
      wallClock: () => new Date(start + clock.now()),
    });
    await h.gpio.start();
    h.gpio.showState('speaking');
    expect(h.gpio.quiet).toBe(false);
    expect(h.gpio.isLit('status')).toBe(true);

    clock.advanceTo(30_000); // 22:00
    expect(h.gpio.quiet).toBe(true);
    expect(h.gpio.isLit('status')).toBe(false);
    const quietFrom = h.leds.length;
    clock.advanceTo(60_000);
    expect(h.leds.slice(quietFrom).filter((e) => e.name === 'status')).toEqual([]);

    // The privacy lights still show.
    h.gpio.showState('listening');
    expect(h.gpio.isLit('listening')).toBe(true);
    h.gpio.showState('muted');
    expect(h.gpio.isLit('mute')).toBe(true);
    h.gpio.showState('thinking');
    clock.advanceBy(1000);
    expect(h.gpio.isLit('status')).toBe(false);

    // 07:00 the next morning: 9 h after 22:00.
    clock.advanceTo(30_000 + 9 * 3600_000);
    expect(h.gpio.quiet).toBe(false);
    expect(h.gpio.isLit('status')).toBe(true); // thinking blinks again, from "on"
    expect(h.logs.some((l) => l.msg.includes('quiet hours: only mute and listening'))).toBe(true);
    h.gpio.stop();
    expect(clock.pending).toBe(0);
  });

  it('follows a wall clock that jumps (NTP after boot on a Pi without RTC)', async () => {
    const clock = new ManualClock();
    let wall = at(12, 0).getTime();
    const h = makeGpio({
      clock,
      config: gpioConfig({ quietHours: '22:00-07:00' }),
      wallClock: () => new Date(wall + clock.now()),
    });
    await h.gpio.start();
    h.gpio.showState('speaking');
    wall = at(23, 0).getTime(); // the time is set; the Clock itself did not move
    clock.advanceBy(60_000);
    expect(h.gpio.quiet).toBe(true);
    expect(h.gpio.isLit('status')).toBe(false);
    h.gpio.stop();
  });
});
