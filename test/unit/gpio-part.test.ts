import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EarshotError } from '../../src/shared/errors.js';
import {
  OnoffBackend,
  SimulatedBackend,
  type BackendFactory,
  type GpioBackend,
} from '../../src/gpio/index.js';
import { gpioConfig, makeGpio, testProfile } from '../helpers/gpio-fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A sysfs root with nothing in it: what a machine without GPIO looks like. */
function emptySysfs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-gpio-'));
  dirs.push(dir);
  return dir;
}

/** The real onoff backend pointed at an empty sysfs tree; simulated otherwise. */
function noGpioHere(): BackendFactory {
  const root = emptySysfs();
  return (name) => (name === 'onoff' ? OnoffBackend.create({ root }) : new SimulatedBackend());
}

describe('Gpio start and stop', () => {
  it('reports its backend and shows booting', async () => {
    const h = makeGpio();
    await h.gpio.start();
    expect(h.statuses).toEqual([{ backend: 'simulated' }]);
    expect(h.gpio.status).toEqual({ backend: 'simulated' });
    expect(h.gpio.state).toBe('booting');
    expect(h.leds).toEqual([{ name: 'status', on: true, at: 0 }]);
    h.gpio.stop();
  });

  it('stop leaves every LED off, every pin released and no timer running', async () => {
    const h = makeGpio();
    await h.gpio.start();
    const sim = h.gpio.simulated!;
    expect(sim.claimedPins).toEqual([5, 6, 23, 24, 25]);
    h.gpio.showState('muted');
    h.gpio.showState('thinking'); // status blinking
    h.clock.advanceBy(100);
    // Light everything at once to be sure stop turns each one off.
    h.gpio.showState('listening');
    expect(h.gpio.isLit('listening')).toBe(true);

    h.gpio.stop();
    expect(h.gpio.ledViews()).toEqual([]);
    expect(sim.claimedPins).toEqual([]);
    expect(sim.ledViews()).toEqual([]);
    expect(h.clock.pending).toBe(0);
    const last = new Map(h.leds.map((e) => [e.name, e.on]));
    expect(last.size).toBeGreaterThan(0);
    expect([...last.values()].every((on) => !on)).toBe(true);

    const count = h.leds.length;
    h.clock.advanceBy(10_000);
    h.gpio.showState('thinking');
    expect(h.leds.length).toBe(count);
    h.gpio.stop(); // twice is fine
  });

  it('turns off LEDs through the port even when they are already off', async () => {
    const writes: Array<[string, boolean]> = [];
    const sim = new SimulatedBackend();
    const openLed = sim.openLed.bind(sim);
    sim.openLed = (spec) => {
      const port = openLed(spec);
      return { ...port, set: (on) => (writes.push([spec.name, on]), port.set(on)) };
    };
    const h = makeGpio({ backendFactory: () => sim });
    await h.gpio.start();
    writes.length = 0;
    h.gpio.stop();
    expect(writes.sort()).toEqual([
      ['listening', false],
      ['mute', false],
      ['status', false],
    ]);
  });

  it('stop during start leaves nothing open', async () => {
    const sim = new SimulatedBackend();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = makeGpio({ backendFactory: async () => (await gate, sim) });
    const starting = h.gpio.start();
    h.gpio.stop();
    release();
    await starting;
    expect(sim.claimedPins).toEqual([]);
    expect(h.statuses).toEqual([]);
    expect(h.clock.pending).toBe(0);
  });

  it('renders all LEDs as one line', async () => {
    const h = makeGpio();
    await h.gpio.start();
    h.gpio.showState('listening');
    expect(h.gpio.render()).toBe('● listening ○ mute ○ status');
    expect(h.gpio.simulated!.render()).toBe('● listening ○ mute ○ status');
    h.gpio.stop();
  });
});

describe('when real GPIO is unavailable', () => {
  it('falls back to simulated pins and says so (onUnavailable: simulate)', async () => {
    const h = makeGpio({
      config: gpioConfig({ backend: 'onoff', onUnavailable: 'simulate' }),
      backendFactory: noGpioHere(),
    });
    await h.gpio.start();
    expect(h.statuses).toHaveLength(1);
    expect(h.statuses[0]!.backend).toBe('simulated');
    expect(h.statuses[0]!.degraded?.code).toBe('E_GPIO_UNAVAILABLE');
    expect(h.statuses[0]!.degraded?.message).toMatch(/no sysfs GPIO here/);
    const warning = h.logs.find((l) => l.level === 40 && l.msg.includes('SIMULATED'));
    expect(warning).toMatchObject({ code: 'E_GPIO_UNAVAILABLE' });
    expect(String(warning?.hint)).toMatch(/gpio.backend: simulated/);
    // Still a working part: LEDs follow states, buttons can be pressed.
    h.gpio.showState('listening');
    expect(h.gpio.isLit('listening')).toBe(true);
    h.gpio.simulated!.press('mute');
    h.clock.advanceBy(50);
    expect(h.buttons).toEqual([{ name: 'mute', kind: 'press' }]);
    h.gpio.stop();
  });

  it('throws a coded error with a hint (onUnavailable: fail)', async () => {
    const h = makeGpio({
      config: gpioConfig({ backend: 'onoff', onUnavailable: 'fail' }),
      backendFactory: noGpioHere(),
    });
    const err = await h.gpio.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EarshotError);
    expect(err).toMatchObject({ code: 'E_GPIO_UNAVAILABLE' });
    expect((err as EarshotError).hint).toBeTruthy();
    expect(h.statuses).toEqual([]);
  });

  it('a pin failing midway releases the pins already claimed, then falls back', async () => {
    const real = new SimulatedBackend();
    const failing: GpioBackend = {
      name: 'onoff',
      openLed: (spec) => {
        if (spec.name === 'status') {
          throw new EarshotError('E_GPIO_BUSY', 'GPIO 25 (sysfs 537) for LED status is busy');
        }
        return real.openLed(spec);
      },
      openButton: (spec) => real.openButton(spec),
      close: () => real.close(),
    };
    const h = makeGpio({
      config: gpioConfig({ backend: 'onoff' }),
      backendFactory: (name) => (name === 'onoff' ? failing : new SimulatedBackend()),
    });
    await h.gpio.start();
    expect(real.claimedPins).toEqual([]);
    expect(h.gpio.status).toMatchObject({
      backend: 'simulated',
      degraded: { code: 'E_GPIO_BUSY' },
    });
    h.gpio.stop();
  });

  it('a simulated backend that fails is not hidden behind another fallback', async () => {
    const h = makeGpio({
      backendFactory: () => {
        throw new Error('boom');
      },
    });
    await expect(h.gpio.start()).rejects.toMatchObject({ code: 'E_GPIO_IO' });
  });
});

describe('a degraded part', () => {
  it('shows the error pattern on LEDs idle leaves dark, only while idle', async () => {
    const h = makeGpio();
    await h.gpio.start();
    h.gpio.showState('idle');
    h.gpio.setDegraded('wake', true);
    const status = () => h.leds.filter((e) => e.name === 'status').map((e) => [e.on, e.at]);
    h.clock.advanceBy(2500);
    // The generic profile's error pattern: status blinks 100 ms on, 900 ms off.
    expect(status()).toEqual([
      [true, 0],
      [false, 0],
      [true, 0],
      [false, 100],
      [true, 1000],
      [false, 1100],
      [true, 2000],
      [false, 2100],
    ]);
    // Listening shows only its own pattern: the listening LED lit, status dark.
    h.gpio.showState('listening');
    h.clock.advanceBy(2000);
    expect(h.gpio.isLit('listening')).toBe(true);
    expect(h.gpio.isLit('status')).toBe(false);
    expect(h.leds.filter((e) => e.name === 'status' && e.at > 2500)).toEqual([]);
    // Muted: the mute LED, nothing else.
    h.gpio.showState('muted');
    h.clock.advanceBy(2000);
    expect(h.gpio.isLit('mute')).toBe(true);
    expect(h.leds.filter((e) => e.name === 'status' && e.at > 2500)).toEqual([]);
    // Back to idle the overlay returns; once the part recovers, idle is dark again.
    h.gpio.showState('idle');
    expect(h.gpio.isLit('status')).toBe(true);
    h.gpio.setDegraded('wake', false);
    h.clock.advanceBy(3000);
    expect(h.gpio.ledViews().filter((l) => l.on)).toEqual([]);
    h.gpio.stop();
  });
});

describe('LED writes', () => {
  it('a failing write is logged once and not reported as lit', async () => {
    const sim = new SimulatedBackend();
    const openLed = sim.openLed.bind(sim);
    sim.openLed = (spec) => {
      const port = openLed(spec);
      if (spec.name !== 'status') return port;
      return {
        ...port,
        set: () => {
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        },
      };
    };
    const h = makeGpio({ backendFactory: () => sim });
    await h.gpio.start();
    h.gpio.showState('thinking');
    h.clock.advanceBy(2000);
    expect(h.gpio.isLit('status')).toBe(false);
    expect(h.leds.filter((e) => e.name === 'status')).toEqual([]);
    expect(h.logs.filter((l) => l.msg === 'LED status: write failed')).toHaveLength(1);
    h.gpio.stop();
  });
});

describe('virtual LEDs', () => {
  it('shows states in events and says the LEDs are virtual', async () => {
    const h = makeGpio({
      profile: testProfile({
        leds: {
          listening: { driver: 'virtual', note: 'no LED on this board' },
          mute: { driver: 'virtual' },
        },
      }),
    });
    await h.gpio.start();
    expect(h.gpio.status).toEqual({ backend: 'simulated', virtualLeds: ['listening', 'mute'] });
    h.gpio.showState('listening');
    expect(h.gpio.isLit('listening')).toBe(true);
    expect(h.leds.filter((e) => e.name === 'listening').at(-1)).toMatchObject({ on: true });
    // Only the buttons are pins; the LEDs never reach a backend.
    expect(h.gpio.simulated!.claimedPins).toEqual([5, 6]);
    expect(h.logs.some((l) => l.msg === 'LED listening is virtual: no LED on this board')).toBe(
      true,
    );
    h.gpio.stop();
  });
});
