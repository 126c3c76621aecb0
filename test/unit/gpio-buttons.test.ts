import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { ButtonWatcher, type ButtonKind } from '../../src/gpio/button-watcher.js';
import { SimulatedBackend } from '../../src/gpio/simulated-backend.js';
import { gpioConfig, makeGpio, testProfile } from '../helpers/gpio-fixtures.js';

/*
 * Edge interrupts (onoff's `watch`, epoll on the sysfs value file) need a kernel GPIO
 * driver and cannot run on this machine. The button logic is therefore tested through
 * the port with the simulated backend, which delivers edges the same way.
 */

async function started(longPressMs?: number) {
  const h = makeGpio({ config: gpioConfig(longPressMs ? { longPressMs } : {}) });
  await h.gpio.start();
  return { ...h, sim: h.gpio.simulated! };
}

describe('mute button', () => {
  it('counts a bouncing press once, after the contact settles', async () => {
    const h = await started();
    // Contact bounce: five edges within 8 ms, then held (debounceMs is 20).
    for (const [t, level] of [
      [0, true],
      [2, false],
      [4, true],
      [6, false],
      [8, true],
    ] as const) {
      h.clock.advanceTo(1000 + t);
      h.sim.edge('mute', level);
    }
    h.clock.advanceTo(1000 + 8 + 19);
    expect(h.buttons).toEqual([]); // not yet stable for 20 ms
    h.clock.advanceTo(1000 + 8 + 20);
    expect(h.buttons).toEqual([{ name: 'mute', kind: 'press' }]);

    // The release bounces too and is not a second press.
    h.sim.edge('mute', false);
    h.clock.advanceBy(3);
    h.sim.edge('mute', true);
    h.clock.advanceBy(3);
    h.sim.edge('mute', false);
    h.clock.advanceBy(100);
    expect(h.buttons).toHaveLength(1);

    // A second, clean press counts again.
    h.sim.press('mute');
    h.clock.advanceBy(100);
    h.sim.release('mute');
    h.clock.advanceBy(100);
    expect(h.buttons).toEqual([
      { name: 'mute', kind: 'press' },
      { name: 'mute', kind: 'press' },
    ]);
    h.gpio.stop();
  });

  it('ignores a spike shorter than the debounce time', async () => {
    const h = await started();
    h.sim.edge('mute', true);
    h.clock.advanceBy(5);
    h.sim.edge('mute', false);
    h.clock.advanceBy(1000);
    expect(h.buttons).toEqual([]);
    h.gpio.stop();
  });

  it('a button held at start is ignored until released and pressed again', async () => {
    // A backend whose mute button reads "pressed" from the start (no pull-up fitted).
    const sim = new SimulatedBackend();
    const openButton = sim.openButton.bind(sim);
    sim.openButton = (spec) => {
      const port = openButton(spec);
      if (spec.name === 'mute') sim.edge('mute', true);
      return port;
    };
    const h = makeGpio({ backendFactory: () => sim });
    await h.gpio.start();
    const warning = h.logs.find(
      (l) => l.level === 40 && l.msg.includes('button mute reads pressed'),
    );
    expect(warning?.msg).toContain('gpio=5=ip,pu');
    h.clock.advanceBy(1000);
    expect(h.buttons).toEqual([]);
    sim.release('mute');
    h.clock.advanceBy(100);
    expect(h.buttons).toEqual([]); // releasing is not a press
    sim.press('mute');
    h.clock.advanceBy(100);
    expect(h.buttons).toEqual([{ name: 'mute', kind: 'press' }]);
    h.gpio.stop();
  });

  it('pressing a button the board does not have is a clear error', async () => {
    const h = makeGpio({ profile: testProfile({ buttons: { mute: { pin: 5 } } }) });
    await h.gpio.start();
    expect(() => h.gpio.simulated!.press('action')).toThrow(
      expect.objectContaining({ code: 'E_GPIO_NO_SUCH_BUTTON' }),
    );
    h.gpio.stop();
  });
});

describe('action button', () => {
  it('a short press is reported on release, as press', async () => {
    const h = await started();
    h.sim.press('action');
    h.clock.advanceBy(1500);
    expect(h.buttons).toEqual([]); // could still become a long press
    h.sim.release('action');
    h.clock.advanceBy(20);
    expect(h.buttons).toEqual([{ name: 'action', kind: 'press' }]);
    h.gpio.stop();
  });

  it('held for longPressMs (default 5 s) is long, with no press', async () => {
    const h = await started();
    h.clock.advanceTo(100);
    h.sim.press('action');
    h.clock.advanceTo(100 + 20 + 4999);
    expect(h.buttons).toEqual([]);
    h.clock.advanceTo(100 + 20 + 5000);
    expect(h.buttons).toEqual([{ name: 'action', kind: 'long' }]);
    h.clock.advanceBy(3000);
    h.sim.release('action');
    h.clock.advanceBy(100);
    expect(h.buttons).toEqual([{ name: 'action', kind: 'long' }]);
    h.gpio.stop();
  });

  it('gpio.longPressMs sets the threshold', async () => {
    const h = await started(2000);
    h.sim.press('action');
    h.clock.advanceBy(2020);
    expect(h.buttons).toEqual([{ name: 'action', kind: 'long' }]);
    h.gpio.stop();
  });

  it('a bouncing release right after a long press adds nothing', async () => {
    const h = await started(2000);
    h.sim.press('action');
    h.clock.advanceBy(2500);
    h.sim.edge('action', false);
    h.clock.advanceBy(2);
    h.sim.edge('action', true);
    h.clock.advanceBy(2);
    h.sim.edge('action', false);
    h.clock.advanceBy(200);
    // Then a short press works normally again.
    h.sim.press('action');
    h.clock.advanceBy(300);
    h.sim.release('action');
    h.clock.advanceBy(100);
    expect(h.buttons).toEqual([
      { name: 'action', kind: 'long' },
      { name: 'action', kind: 'press' },
    ]);
    h.gpio.stop();
  });
});

describe('ButtonWatcher with a single interrupt edge', () => {
  it('counts each settled burst as one press (no release is seen)', () => {
    const clock = new ManualClock();
    const sim = new SimulatedBackend();
    const port = sim.openButton({
      name: 'mute',
      pin: 5,
      activeLow: true,
      pull: 'up',
      edge: 'rising',
    });
    const kinds: ButtonKind[] = [];
    const watcher = new ButtonWatcher(
      port,
      clock,
      { debounceMs: 20, edge: 'rising' },
      (k) => kinds.push(k),
      () => {},
    );
    watcher.start();
    // With only rising edges the port reports three presses in a burst, then one later.
    sim.edge('mute', true);
    clock.advanceBy(3);
    sim.edge('mute', true);
    clock.advanceBy(3);
    sim.edge('mute', true);
    clock.advanceBy(50);
    expect(kinds).toEqual(['press']);
    sim.edge('mute', true);
    clock.advanceBy(50);
    expect(kinds).toEqual(['press', 'press']);
    watcher.stop();
  });

  it('stop cancels a pending debounce', () => {
    const clock = new ManualClock();
    const sim = new SimulatedBackend();
    const port = sim.openButton({
      name: 'mute',
      pin: 5,
      activeLow: true,
      pull: 'up',
      edge: 'both',
    });
    const kinds: ButtonKind[] = [];
    const watcher = new ButtonWatcher(
      port,
      clock,
      { debounceMs: 20, edge: 'both' },
      (k) => kinds.push(k),
      () => {},
    );
    watcher.start();
    sim.press('mute');
    watcher.stop();
    clock.advanceBy(100);
    expect(kinds).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
