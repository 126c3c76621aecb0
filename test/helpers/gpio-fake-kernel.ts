/**
 * The kernel's side of sysfs GPIO, for a process whose /sys/class/gpio is a tmpfs of
 * plain files (see gpio-sandbox.ts). Loaded with `node --import` before the code under
 * test. onoff's own file I/O runs for real; this adds what the kernel would do in
 * response to some writes:
 *
 * - `export` creates `gpioN/{value,direction,active_low,edge}` at once (the kernel
 *   does so inside the write; onoff then waits for the files to open), EBUSY for a
 *   claimed or already exported line, EINVAL for a line no chip has;
 * - `unexport` removes `gpioN`;
 * - `direction` `high`/`low` set the raw level, and `value` shows it through
 *   `active_low`, as in gpiolib-sysfs, so a glitch on setup would be visible.
 *
 * Every write to a GPIO file (including onoff's `fs.writeSync` to `value`) is kept in
 * a journal, `globalThis.fakeGpioKernel.journal`, so a test can check the order.
 *
 * Edge interrupts are the exception: epoll refuses regular files (EPERM), so `watch`
 * is made a no-op here, and button edges are tested with the simulated backend.
 */
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';

const ROOT = '/sys/class/gpio';

export interface KernelJournalEntry {
  file: string;
  data: string;
}

export interface FakeKernel {
  journal: KernelJournalEntry[];
  /** The physical level of each line set up as an output, by sysfs number. */
  raw: Map<number, 0 | 1>;
}

const raw = new Map<number, 0 | 1>();
const kernel: FakeKernel = { journal: [], raw };
(globalThis as { fakeGpioKernel?: FakeKernel }).fakeGpioKernel = kernel;

/** Lines a kernel driver holds (e.g. SPI or I2S pins), from the environment. */
const claimed = new Set<number>(
  JSON.parse(process.env['EARSHOT_FAKE_GPIO_CLAIMED'] ?? '[]') as number[],
);

function kernelError(code: 'EBUSY' | 'EINVAL', errno: number): NodeJS.ErrnoException {
  const messages = { EBUSY: 'resource busy or locked', EINVAL: 'invalid argument' };
  return Object.assign(new Error(`${code}: ${messages[code]}, write`), {
    code,
    errno: -errno,
    syscall: 'write',
  });
}

function lineExists(n: number): boolean {
  for (const entry of fs.readdirSync(ROOT)) {
    if (!entry.startsWith('gpiochip')) continue;
    const base = Number(fs.readFileSync(join(ROOT, entry, 'base'), 'utf8'));
    const ngpio = Number(fs.readFileSync(join(ROOT, entry, 'ngpio'), 'utf8'));
    if (n >= base && n < base + ngpio) return true;
  }
  return false;
}

const realWriteFileSync = fs.writeFileSync;
const realWriteSync = fs.writeSync;
const realOpenSync = fs.openSync;
const fdPaths = new Map<number, string>();

function put(file: string, text: string): void {
  realWriteFileSync(file, text);
}

function read(file: string): string {
  return fs.readFileSync(file, 'utf8').trim();
}

function showValue(dir: string, n: number): void {
  const activeLow = read(join(dir, 'active_low')) === '1';
  put(join(dir, 'value'), `${(raw.get(n) ?? 0) ^ (activeLow ? 1 : 0)}\n`);
}

function sysfsWrite(path: string, data: string): boolean {
  const text = data.trim();
  if (path === join(ROOT, 'export')) {
    const n = Number(text);
    if (!lineExists(n)) throw kernelError('EINVAL', 22);
    if (claimed.has(n) || fs.existsSync(join(ROOT, `gpio${n}`))) throw kernelError('EBUSY', 16);
    const dir = join(ROOT, `gpio${n}`);
    fs.mkdirSync(dir);
    // A fresh line is an input held high, as a Pi's pull-up would hold a button line.
    for (const [f, v] of Object.entries({
      value: '1',
      direction: 'in',
      active_low: '0',
      edge: 'none',
    })) {
      put(join(dir, f), `${v}\n`);
    }
    raw.set(n, 1);
    return true;
  }
  if (path === join(ROOT, 'unexport')) {
    const n = Number(text);
    if (!fs.existsSync(join(ROOT, `gpio${n}`))) throw kernelError('EINVAL', 22);
    fs.rmSync(join(ROOT, `gpio${n}`), { recursive: true });
    return true;
  }
  const m = /^\/sys\/class\/gpio\/gpio(\d+)\/(direction|active_low|edge)$/.exec(path);
  if (!m) return false;
  const n = Number(m[1]);
  const dir = join(ROOT, `gpio${n}`);
  switch (m[2]) {
    case 'direction':
      if (!['in', 'out', 'high', 'low'].includes(text)) throw kernelError('EINVAL', 22);
      // gpiolib-sysfs: "high"/"low" are raw levels, "out" is raw low.
      if (text !== 'in') raw.set(n, text === 'high' ? 1 : 0);
      put(join(dir, 'direction'), `${text === 'in' ? 'in' : 'out'}\n`);
      showValue(dir, n);
      return true;
    case 'active_low':
      put(join(dir, 'active_low'), `${text === '0' ? 0 : 1}\n`);
      showValue(dir, n);
      return true;
    default:
      if (!['none', 'rising', 'falling', 'both'].includes(text)) throw kernelError('EINVAL', 22);
      put(join(dir, 'edge'), `${text}\n`);
      return true;
  }
}

fs.writeFileSync = function writeFileSync(file, data, options) {
  const path = String(file);
  if (path.startsWith(`${ROOT}/`)) {
    kernel.journal.push({ file: path.slice(ROOT.length + 1), data: String(data) });
    if (sysfsWrite(path, String(data))) return;
  }
  realWriteFileSync(file, data, options);
} as typeof fs.writeFileSync;

fs.openSync = function openSync(path, ...rest: unknown[]) {
  const fd = (realOpenSync as (...a: unknown[]) => number)(path, ...rest);
  if (String(path).startsWith(`${ROOT}/`)) fdPaths.set(fd, String(path).slice(ROOT.length + 1));
  return fd;
} as typeof fs.openSync;

fs.writeSync = function writeSync(fd: number, buffer: unknown, ...rest: unknown[]) {
  const file = fdPaths.get(fd);
  const written = (realWriteSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
  if (file) {
    const data = Buffer.from(buffer as Buffer)
      .toString()
      .slice(0, 1);
    kernel.journal.push({ file, data });
    const m = /^gpio(\d+)\/value$/.exec(file);
    if (m) {
      // A logical write: the line's raw level is the value through active_low.
      const activeLow = read(join(ROOT, `gpio${m[1]}`, 'active_low')) === '1';
      raw.set(Number(m[1]), ((data === '1' ? 1 : 0) ^ (activeLow ? 1 : 0)) as 0 | 1);
    }
  }
  return written;
} as typeof fs.writeSync;

// Let ES modules that import these functions by name see the kernel too.
syncBuiltinESMExports();

// epoll_ctl refuses regular files with EPERM; interrupts are not emulated (see above).
const { Epoll } = createRequire(import.meta.url)('epoll') as {
  Epoll: { prototype: { add: unknown; remove: unknown } };
};
Epoll.prototype.add = function add(this: unknown) {
  return this;
};
Epoll.prototype.remove = function remove(this: unknown) {
  return this;
};
