/**
 * One GPIO scenario against the compiled code in dist/, run in its own process by
 * gpio-sandbox.ts (usually inside a private mount namespace whose /sys/class/gpio is
 * a tmpfs and with gpio-fake-kernel.ts loaded). Prints one JSON object on stdout.
 *
 *   node --import tsx [--import gpio-fake-kernel.ts] gpio-sandbox-scenario.ts <name>
 *
 * Input comes as JSON in EARSHOT_SCENARIO_INPUT; the dist folder in EARSHOT_DIST.
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FakeKernel } from './gpio-fake-kernel.js';

type GpioModule = typeof import('../../src/gpio/index.js');
type ProfileModule = typeof import('../../src/config/board-profile.js');
type GpioSectionModule = typeof import('../../src/config/sections/gpio.js');
type ClockModule = typeof import('../../src/shared/clock.js');
type LoggerModule = typeof import('../../src/shared/logger.js');

const ROOT = '/sys/class/gpio';
const dist = process.env['EARSHOT_DIST'];
if (!dist) throw new Error('EARSHOT_DIST is not set');
const input = JSON.parse(process.env['EARSHOT_SCENARIO_INPUT'] ?? '{}') as {
  profile?: unknown;
  config?: Record<string, unknown>;
};

const load = <T>(rel: string): Promise<T> =>
  import(pathToFileURL(join(dist, rel)).href) as Promise<T>;
const { Gpio, OnoffBackend, SimulatedBackend, importOnoff } =
  await load<GpioModule>('gpio/index.js');
const { parseBoardProfile } = await load<ProfileModule>('config/board-profile.js');
const { gpioSection } = await load<GpioSectionModule>('config/sections/gpio.js');
const { ManualClock } = await load<ClockModule>('shared/clock.js');
const { silentLogger } = await load<LoggerModule>('shared/logger.js');

const kernel = (globalThis as { fakeGpioKernel?: FakeKernel }).fakeGpioKernel;

/** Every file under /sys/class/gpio except the chips, trimmed: `{ "gpio535/value": "1" }`. */
function snapshot(dir = ROOT, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('gpiochip')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) Object.assign(out, snapshot(path, `${prefix}${entry}/`));
    else out[`${prefix}${entry}`] = readFileSync(path, 'utf8').trim();
  }
  return out;
}

function codeOf(err: unknown) {
  const e = err as { code?: string; message?: string; hint?: string };
  return { code: e.code, message: e.message, hint: e.hint };
}

function kernelOutput() {
  return kernel ? { journal: kernel.journal, raw: Object.fromEntries(kernel.raw) } : {};
}

/** The whole part on the real onoff backend, driven through its states on a ManualClock. */
async function part() {
  const clock = new ManualClock();
  const gpio = new Gpio({
    profile: parseBoardProfile(input.profile),
    config: gpioSection.parse(input.config ?? {}),
    logger: silentLogger(),
    clock,
  });
  const snapshots: Record<string, Record<string, string>> = {};
  const leds: unknown[] = [];
  gpio.on('led', (e) => leds.push(e));
  try {
    await gpio.start();
  } catch (err) {
    return { error: codeOf(err), snapshots: { afterError: snapshot() }, ...kernelOutput() };
  }
  snapshots['started'] = snapshot();
  gpio.showState('listening');
  snapshots['listening'] = snapshot();
  gpio.showState('muted');
  snapshots['muted'] = snapshot();
  gpio.showState('thinking');
  snapshots['thinking@0'] = snapshot();
  clock.advanceBy(250);
  snapshots['thinking@250'] = snapshot();
  gpio.stop();
  snapshots['stopped'] = snapshot();
  return { status: gpio.status, snapshots, leds, ...kernelOutput() };
}

/** A button on the onoff backend: configuration and reading the level. */
async function button() {
  const backend = await OnoffBackend.create();
  const port = backend.openButton({
    name: 'mute',
    pin: 17,
    activeLow: true,
    pull: 'up',
    edge: 'both',
  });
  const opened = snapshot();
  const n = backend.chip.base + 17;
  const reads: boolean[] = [];
  for (const level of ['1', '0', '1']) {
    // Stands in for the kernel updating the value file when the line changes.
    writeFileSync(join(ROOT, `gpio${n}`, 'value'), `${level}\n`);
    reads.push(port.read());
  }
  backend.close();
  return { base: backend.chip.base, opened, reads, closed: snapshot(), ...kernelOutput() };
}

/** Whether onoff or its native epoll has been loaded into this process. */
function nativeLoaded(): string[] {
  const cache = createRequire(import.meta.url).cache;
  return Object.keys(cache).filter((k) => /[\\/]node_modules[\\/](onoff|epoll)[\\/]/.test(k));
}

/** A daemon on simulated pins, or without GPIO, never loads the native module. */
async function lazy() {
  const profile = parseBoardProfile(input.profile);
  const clock = new ManualClock();
  const simulated = new Gpio({
    profile,
    config: gpioSection.parse({ backend: 'simulated' }),
    logger: silentLogger(),
    clock,
  });
  await simulated.start();
  simulated.showState('thinking');
  clock.advanceBy(1000);
  simulated.stop();
  const afterSimulated = nativeLoaded();

  const noGpio = new Gpio({
    profile,
    config: gpioSection.parse({ backend: 'onoff', onUnavailable: 'simulate' }),
    logger: silentLogger(),
    clock,
    backendFactory: (name) =>
      name === 'onoff'
        ? OnoffBackend.create({ root: '/nonexistent/gpio' })
        : new SimulatedBackend(),
  });
  await noGpio.start();
  noGpio.stop();
  const afterNoGpio = nativeLoaded();

  await importOnoff(); // shows that the check above would see a load
  return { afterSimulated, afterNoGpio, status: noGpio.status, afterImport: nativeLoaded() };
}

const scenarios: Record<string, () => Promise<unknown>> = { part, button, lazy };
const name = process.argv[2] ?? '';
const scenario = scenarios[name];
if (!scenario) throw new Error(`unknown scenario ${name}`);
let result: unknown;
try {
  result = await scenario();
} catch (err) {
  result = { thrown: codeOf(err), ...kernelOutput() };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
// onoff's epoll handles (no-ops here) must not keep the process alive.
process.exit(0);
