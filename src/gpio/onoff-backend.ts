import { closeSync, constants, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EarshotError, errorCode, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  DEFAULT_SYSFS_GPIO_ROOT,
  resolveHeaderChip,
  sysfsNumber,
  type ChipChoice,
  type ResolvedChip,
} from './chip.js';
import { GPIO_ERRORS, GPIO_GROUP_HINT, pinError } from './errors.js';
import type { Button, ButtonSpec, GpioBackend, Led, LedSpec } from './port.js';

/** The part of onoff's API used here, declared locally so `onoff` stays optional. */
export interface OnoffPin {
  readSync(): 0 | 1;
  writeSync(value: 0 | 1): void;
  watch(callback: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unexport(): void;
}

export interface OnoffGpioClass {
  new (
    gpio: number,
    direction: 'in' | 'out' | 'high' | 'low',
    edge?: 'none' | 'rising' | 'falling' | 'both',
    options?: { activeLow?: boolean },
  ): OnoffPin;
  new (
    gpio: number,
    direction: 'in' | 'out' | 'high' | 'low',
    options?: { activeLow?: boolean },
  ): OnoffPin;
  readonly accessible: boolean;
}

export interface OnoffModule {
  Gpio: OnoffGpioClass;
}

/**
 * Loads onoff only now: it requires the native `epoll` addon at load time, and a
 * daemon on simulated pins (or an arm64 image tested under emulation on x86) must
 * never load a native module it does not use.
 */
export async function importOnoff(specifier = 'onoff'): Promise<OnoffModule> {
  // A variable specifier also keeps the optional package out of type checking.
  try {
    const mod = (await import(specifier)) as { Gpio?: OnoffGpioClass; default?: OnoffModule };
    const Gpio = mod.Gpio ?? mod.default?.Gpio;
    if (!Gpio) throw new Error('onoff has no Gpio export');
    return { Gpio };
  } catch (err) {
    throw new EarshotError(GPIO_ERRORS.module, `cannot load onoff: ${errorMessage(err)}`, {
      cause: err,
      hint: 'install or rebuild it on the device (npm rebuild onoff epoll); it is an optional dependency with a native part',
    });
  }
}

export interface OnoffBackendOptions {
  /** The sysfs GPIO directory; onoff itself always uses /sys/class/gpio. */
  root?: string;
  chip?: ChipChoice;
  /** Replaces the dynamic import (tests). */
  loadOnoff?: () => Promise<OnoffModule>;
  logger?: Logger;
}

/** Real pins through the Linux sysfs GPIO interface, by way of onoff. */
export class OnoffBackend implements GpioBackend {
  readonly name = 'onoff' as const;
  private readonly open = new Set<{ close(): void }>();

  private constructor(
    private readonly onoff: OnoffModule,
    readonly chip: ResolvedChip,
    private readonly root: string,
    private readonly logger: Logger | undefined,
  ) {}

  /** Checks access and finds the chip before loading any native code. */
  static async create(options: OnoffBackendOptions = {}): Promise<OnoffBackend> {
    const root = options.root ?? DEFAULT_SYSFS_GPIO_ROOT;
    checkExportWritable(root);
    const chip = resolveHeaderChip(root, options.chip);
    const onoff = await (options.loadOnoff ?? (() => importOnoff()))();
    if (!onoff.Gpio.accessible) {
      throw new EarshotError(GPIO_ERRORS.unavailable, 'onoff reports GPIO as not accessible', {
        hint: GPIO_GROUP_HINT,
      });
    }
    options.logger?.debug({ base: chip.base, label: chip.label }, 'GPIO chip');
    return new OnoffBackend(onoff, chip, root, options.logger);
  }

  openLed(spec: LedSpec): Led {
    const role = `LED ${spec.name}`;
    if (spec.driver !== 'gpio') {
      throw new EarshotError(GPIO_ERRORS.io, `${role} is on ${spec.driver}, not a GPIO pin`);
    }
    const n = sysfsNumber(this.chip, spec.pin, role);
    // 'high'/'low' set the *raw* level together with the direction, so the LED never
    // flashes on while the pin becomes an output ('out' would drive it low, which
    // lights an active-low LED). Raw high is off for active-low, raw low otherwise.
    const pin = this.claim(
      n,
      spec.pin,
      role,
      () => new this.onoff.Gpio(n, spec.activeLow ? 'high' : 'low', { activeLow: spec.activeLow }),
    );
    const port: Led = {
      name: spec.name,
      set: (on) => pin.writeSync(on ? 1 : 0),
      close: () => {
        if (!this.open.delete(port)) return;
        // Off first: after unexport the pin keeps driving its last level.
        tryQuietly(() => pin.writeSync(0));
        tryQuietly(() => pin.unexport());
      },
    };
    this.open.add(port);
    return port;
  }

  openButton(spec: ButtonSpec): Button {
    const role = `button ${spec.name}`;
    const n = sysfsNumber(this.chip, spec.pin, role);
    const pin = this.claim(
      n,
      spec.pin,
      role,
      () => new this.onoff.Gpio(n, 'in', spec.edge, { activeLow: spec.activeLow }),
    );
    if (spec.pull !== 'off') {
      this.logger?.debug(
        { pin: spec.pin },
        `sysfs cannot set pulls: the pull-${spec.pull} for button ${spec.name} comes from config.txt (gpio=${spec.pin}=ip,p${spec.pull === 'up' ? 'u' : 'd'})`,
      );
    }
    const port: Button = {
      name: spec.name,
      read: () => pin.readSync() === 1,
      watch: (onEdge, onError) => {
        try {
          pin.watch((err, value) => (err ? onError(err) : onEdge(value === 1)));
        } catch (err) {
          throw pinError(err, { role, bcm: spec.pin, sysfs: n });
        }
      },
      close: () => {
        if (!this.open.delete(port)) return;
        tryQuietly(() => pin.unexport()); // unexport also stops watching
      },
    };
    this.open.add(port);
    return port;
  }

  close(): void {
    for (const port of [...this.open]) port.close();
  }

  /** Exports and configures a pin; on failure releases what was half done. */
  private claim(n: number, bcm: number, role: string, make: () => OnoffPin): OnoffPin {
    const dir = join(this.root, `gpio${n}`);
    const wasExported = existsSync(dir);
    if (wasExported) {
      // sysfs records no owner; most often this is a run that did not stop cleanly.
      this.logger?.warn({ pin: bcm, sysfs: n }, `GPIO ${bcm} was already exported; taking it over`);
    }
    try {
      return make();
    } catch (err) {
      if (!wasExported && existsSync(dir)) {
        tryQuietly(() => writeFileSync(join(this.root, 'unexport'), String(n)));
      }
      throw pinError(err, { role, bcm, sysfs: n });
    }
  }
}

/** What onoff's `accessible` checks, done without loading onoff. */
function checkExportWritable(root: string): void {
  const file = join(root, 'export');
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_WRONLY);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new EarshotError(GPIO_ERRORS.permission, `no permission to write ${file}`, {
        cause: err,
        hint: GPIO_GROUP_HINT,
      });
    }
    throw new EarshotError(GPIO_ERRORS.unavailable, `no sysfs GPIO here (${file}: ${code})`, {
      cause: err,
      hint: 'earshot drives pins through /sys/class/gpio on Raspberry Pi OS; elsewhere set gpio.backend: simulated',
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function tryQuietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Shutting down: nothing better to do with a failure than to carry on.
  }
}
