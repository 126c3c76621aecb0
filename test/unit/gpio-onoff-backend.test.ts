import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  OnoffBackend,
  importOnoff,
  type OnoffGpioClass,
  type OnoffModule,
  type OnoffPin,
} from '../../src/gpio/onoff-backend.js';
import { CHIPS, tempSysfsTree } from '../helpers/gpio-sysfs-tree.js';

/*
 * Error mapping and the order of calls into onoff, with a stand-in for onoff's Gpio
 * class. The real onoff runs against a sysfs tree in test/integration/gpio-onoff-sysfs.
 */

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

interface Call {
  args: unknown[];
  writes: number[];
  unexported: boolean;
}

function fakeOnoff(
  root: string,
  options: { fail?: (n: number) => NodeJS.ErrnoException | undefined; accessible?: boolean } = {},
) {
  const calls: Call[] = [];
  const Gpio = function (this: OnoffPin, ...args: unknown[]) {
    const n = args[0] as number;
    // Like the kernel, exporting creates gpioN before configuration can still fail.
    mkdirSync(join(root, `gpio${n}`), { recursive: true });
    const err = options.fail?.(n);
    if (err) throw err;
    const call: Call = { args, writes: [], unexported: false };
    calls.push(call);
    return {
      readSync: () => 1,
      writeSync: (v: 0 | 1) => void call.writes.push(v),
      watch: () => {},
      unexport: () => {
        call.unexported = true;
        rmSync(join(root, `gpio${n}`), { recursive: true, force: true });
      },
    };
  } as unknown as OnoffGpioClass;
  Object.defineProperty(Gpio, 'accessible', { value: options.accessible ?? true });
  const mod: OnoffModule = { Gpio };
  const load = vi.fn(async () => mod);
  return { calls, load };
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: error, write`), { code, syscall: 'write' });
}

function pi4(): string {
  const root = tempSysfsTree(CHIPS.pi4);
  roots.push(root);
  return root;
}

describe('OnoffBackend', () => {
  it('does not load onoff when there is no sysfs GPIO', async () => {
    const { load } = fakeOnoff('/nonexistent');
    await expect(
      OnoffBackend.create({ root: '/nonexistent/gpio', loadOnoff: load }),
    ).rejects.toMatchObject({
      code: 'E_GPIO_UNAVAILABLE',
    });
    expect(load).not.toHaveBeenCalled();
  });

  it('configures LEDs glitch-free and buttons as inputs, at chip offset + BCM', async () => {
    const root = pi4();
    const { calls, load } = fakeOnoff(root);
    const backend = await OnoffBackend.create({ root, loadOnoff: load });
    expect(backend.chip.base).toBe(512);
    const lowLed = backend.openLed({ driver: 'gpio', name: 'mute', pin: 24, activeLow: true });
    backend.openLed({ driver: 'gpio', name: 'listening', pin: 23, activeLow: false });
    backend.openButton({ name: 'mute', pin: 5, activeLow: true, pull: 'up', edge: 'both' });
    expect(calls.map((c) => c.args)).toEqual([
      // Raw high = off for an active-low LED; set together with the direction.
      [536, 'high', { activeLow: true }],
      [535, 'low', { activeLow: false }],
      [517, 'in', 'both', { activeLow: true }],
    ]);
    lowLed.set(true);
    lowLed.set(false);
    expect(calls[0]!.writes).toEqual([1, 0]);
    backend.close();
    // Off, then released, for every pin.
    expect(calls.map((c) => c.unexported)).toEqual([true, true, true]);
    expect(calls[0]!.writes).toEqual([1, 0, 0]);
    expect(calls[1]!.writes).toEqual([0]);
  });

  it.each([
    ['EBUSY', 'E_GPIO_BUSY', /pinctrl get 24/],
    ['EACCES', 'E_GPIO_PERMISSION', /usermod -aG gpio/],
    ['EINVAL', 'E_GPIO_PIN_INVALID', /BCM/],
    ['EIO', 'E_GPIO_IO', /journalctl -k/],
  ])('%s while exporting is %s with a hint', async (code, expected, hint) => {
    const root = pi4();
    const { load } = fakeOnoff(root, { fail: (n) => (n === 536 ? errno(code) : undefined) });
    const backend = await OnoffBackend.create({ root, loadOnoff: load });
    let caught: unknown;
    try {
      backend.openLed({ driver: 'gpio', name: 'mute', pin: 24, activeLow: false });
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({
      code: expected,
      message: expect.stringContaining('GPIO 24 (sysfs 536) for LED mute'),
      hint: expect.stringMatching(hint),
    });
    // A half-exported pin is released again (a plain file here: no kernel removes gpio536).
    expect(readFileSync(join(root, 'unexport'), 'utf8')).toBe('536');
  });

  it('takes over a pin left exported, with a warning', async () => {
    const root = pi4();
    mkdirSync(join(root, 'gpio535'));
    const warnings: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => warnings.push(msg), debug: () => {} };
    const { load, calls } = fakeOnoff(root);
    const backend = await OnoffBackend.create({
      root,
      loadOnoff: load,
      logger: logger as never,
    });
    backend.openLed({ driver: 'gpio', name: 'listening', pin: 23, activeLow: false });
    expect(calls).toHaveLength(1);
    expect(warnings).toEqual(['GPIO 23 was already exported; taking it over']);
    backend.close();
  });

  it('onoff saying "not accessible" is E_GPIO_UNAVAILABLE', async () => {
    const root = pi4();
    const { load } = fakeOnoff(root, { accessible: false });
    await expect(OnoffBackend.create({ root, loadOnoff: load })).rejects.toMatchObject({
      code: 'E_GPIO_UNAVAILABLE',
    });
  });

  it('a module that will not load is E_GPIO_MODULE', async () => {
    await expect(importOnoff('earshot-no-such-gpio-module')).rejects.toMatchObject({
      code: 'E_GPIO_MODULE',
      hint: expect.stringContaining('npm rebuild onoff epoll'),
    });
    // The installed one loads (its native epoll is built for this machine).
    const real = await importOnoff();
    expect(typeof real.Gpio).toBe('function');
  });

  it('the chip must have the line', async () => {
    const root = tempSysfsTree([{ base: 571, label: 'pinctrl-rp1', ngpio: 20 }]);
    roots.push(root);
    const { load } = fakeOnoff(root);
    const backend = await OnoffBackend.create({ root, loadOnoff: load });
    expect(() =>
      backend.openLed({ driver: 'gpio', name: 'status', pin: 25, activeLow: false }),
    ).toThrow(expect.objectContaining({ code: 'E_GPIO_PIN_INVALID' }));
  });
});
