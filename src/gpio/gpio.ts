import type { BoardProfile, ButtonName, LedPattern, LedProfile } from '../config/board-profile.js';
import type { GpioConfig } from '../config/sections/gpio.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { DeviceStateName, LedState } from '../shared/device-status.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { ButtonWatcher, type ButtonKind } from './button-watcher.js';
import { GPIO_ERRORS } from './errors.js';
import { PatternRunner } from './pattern-runner.js';
import type {
  BackendContext,
  BackendFactory,
  BackendName,
  Button,
  GpioBackend,
  Led,
  LedSpec,
} from './port.js';
import {
  ALWAYS_SHOWN_LEDS,
  isQuiet,
  msUntilChange,
  parseQuietHours,
  type QuietHours,
} from './quiet-hours.js';
import { renderLeds, type LedView } from './render.js';
import { defaultBackendFactory } from './backends.js';
import { SimulatedBackend } from './simulated-backend.js';
import { SpiLedBackend } from './spi-led-backend.js';

export interface GpioOptions {
  profile: BoardProfile;
  config: GpioConfig;
  logger: Logger;
  clock: Clock;
  /** Makes the backend by name; the default builds OnoffBackend or SimulatedBackend. */
  backendFactory?: BackendFactory;
  /** Local wall time for the quiet schedule (the Clock has no time of day). */
  wallClock?: () => Date;
}

/** A physical (or virtual) LED changed. `at` is the Clock's time. */
export interface LedEvent {
  name: string;
  on: boolean;
  at: number;
  /** `#rrggbb` for a lit LED that has a colour (APA102); absent for plain LEDs. */
  color?: string;
}

export interface ButtonEvent {
  name: ButtonName;
  kind: ButtonKind;
}

export interface GpioStatus {
  backend: BackendName;
  /** Set when real GPIO was wanted but the part runs on simulated pins. */
  degraded?: { code: string; message: string };
  /** LEDs the board profile declares `virtual`: shown in events only, not on the device. */
  virtualLeds?: string[];
}

// A type alias, not an interface: TypedEmitter needs it to fit Record<string, any[]>.
export type GpioEvents = {
  led: [LedEvent];
  button: [ButtonEvent];
  status: [GpioStatus];
};

interface ManagedLed {
  name: string;
  port: Led;
  runner: PatternRunner;
  on: boolean;
  /** The colour shown while lit; undefined for plain LEDs. */
  color: string | undefined;
  /** The LED's own colour when a pattern names none; undefined for plain LEDs. */
  baseColor: string | undefined;
  writeFailed: boolean;
}

/** A colour LED with no colour of its own in the profile shows white. */
const DEFAULT_COLOR = '#ffffff';

const OFF: LedPattern = { type: 'off' };
/** Quiet hours are re-checked at least this often: a Pi has no RTC and NTP may jump. */
const QUIET_RECHECK_MS = 60_000;

/**
 * The GPIO part: shows the device state on the LEDs and turns button edges into
 * presses. It never learns which backend it has beyond its name; when real GPIO is
 * unavailable and `gpio.onUnavailable` is `simulate`, it runs on simulated pins and
 * says so loudly (a warning and a `status` event with `degraded`).
 */
export class Gpio extends TypedEmitter<GpioEvents> {
  readonly name = 'gpio';
  private phase: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private backend: GpioBackend | undefined;
  private readonly leds = new Map<string, ManagedLed>();
  private readonly buttons: Array<{ port: Button; watcher: ButtonWatcher }> = [];
  private current: DeviceStateName = 'booting';
  /** Parts running degraded (e.g. the wake engine fell back); shown while idle. */
  private readonly degraded = new Set<string>();
  private readonly quietHours: QuietHours | undefined;
  private quietNow = false;
  private quietTimer: TimerHandle | undefined;
  private statusValue: GpioStatus | undefined;
  private readonly log: Logger;

  constructor(private readonly options: GpioOptions) {
    super();
    this.log = options.logger;
    const q = options.config.quietHours;
    this.quietHours = q ? parseQuietHours(q) : undefined;
  }

  /** Opens the pins and shows the current state (`booting` until told otherwise). */
  async start(): Promise<void> {
    if (this.phase !== 'new') return;
    this.phase = 'starting';
    const { config } = this.options;
    let degraded: GpioStatus['degraded'];
    try {
      await this.open(config.backend);
    } catch (err) {
      this.closePorts();
      const e =
        err instanceof EarshotError
          ? err
          : new EarshotError(GPIO_ERRORS.io, errorMessage(err), { cause: err });
      if (config.backend === 'simulated' || config.onUnavailable === 'fail') {
        this.phase = 'stopped';
        throw e;
      }
      degraded = { code: e.code, message: e.message };
      this.log.warn(
        { code: e.code, hint: e.hint },
        `real GPIO unavailable, running on SIMULATED pins: LEDs and buttons on the device do nothing (${e.message})`,
      );
      try {
        await this.open('simulated');
      } catch (fallbackErr) {
        this.closePorts();
        this.phase = 'stopped';
        throw fallbackErr;
      }
    }
    if (this.phase !== 'starting') {
      this.closePorts(); // stop() came while the backend was loading
      return;
    }
    this.phase = 'running';
    degraded ??= this.backend?.degraded;
    const virtualLeds = Object.entries(this.options.profile.leds)
      .filter(([, led]) => led.driver === 'virtual')
      .map(([name]) => name);
    this.statusValue = {
      backend: this.backend!.name,
      ...(degraded ? { degraded } : {}),
      ...(virtualLeds.length > 0 ? { virtualLeds } : {}),
    };
    this.emit('status', this.statusValue);
    this.checkQuiet();
    this.apply();
  }

  /** Every LED off, every pin released, all timers cancelled. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.options.clock.clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    this.closePorts();
  }

  /** Shows a device state; before `start` it is remembered and shown on start. */
  showState(state: DeviceStateName): void {
    this.current = state;
    if (this.phase === 'running') this.apply();
  }

  /**
   * Marks a part as running degraded (or not any more). While any part is degraded and
   * the device is idle, LEDs that idle leaves dark show the `error` pattern: the device
   * still answers, but something the owner configured is not in use. Every other state
   * shows its own pattern untouched, so the listening and mute LEDs keep their promises.
   */
  setDegraded(part: string, degraded: boolean): void {
    if (degraded === this.degraded.has(part)) return;
    if (degraded) this.degraded.add(part);
    else this.degraded.delete(part);
    if (this.phase === 'running') this.apply();
  }

  get state(): DeviceStateName {
    return this.current;
  }

  /** Whether an LED is lit right now (the last write to it succeeded). */
  isLit(name: string): boolean {
    return this.leds.get(name)?.on ?? false;
  }

  ledViews(): LedView[] {
    return [...this.leds.values()].map((l) => ({ name: l.name, on: l.on }));
  }

  /** Every LED's current pattern (what the owner's page shows; blinking is drawn there). */
  ledStates(): LedState[] {
    return [...this.leds.values()].map((l) => {
      const pattern = l.runner.current ?? OFF;
      const own = 'color' in pattern ? pattern.color : undefined;
      const color = pattern.type === 'off' ? undefined : (own ?? l.baseColor);
      return { name: l.name, pattern: pattern.type, ...(color ? { color } : {}) };
    });
  }

  /** All LEDs, virtual ones included, as one line: `● listening ○ mute ○ status`. */
  render(): string {
    return renderLeds(this.ledViews());
  }

  get status(): GpioStatus | undefined {
    return this.statusValue;
  }

  /** The in-memory backend when pins are simulated (to press buttons); else undefined. */
  get simulated(): SimulatedBackend | undefined {
    const b = this.backend;
    const pins = b instanceof SpiLedBackend ? b.pins : b;
    return pins instanceof SimulatedBackend ? pins : undefined;
  }

  get quiet(): boolean {
    return this.quietNow;
  }

  private async open(name: BackendName): Promise<void> {
    const { profile, logger, clock, config } = this.options;
    const factory = this.options.backendFactory ?? defaultBackendFactory;
    const context: BackendContext = {
      profile,
      logger,
      clock,
      brightnessPercent: config.brightness,
    };
    const backend = await factory(name, context);
    this.backend = backend;
    if (this.phase !== 'starting') return;
    for (const [ledName, led] of Object.entries(profile.leds)) {
      let port: Led;
      if (led.driver === 'virtual') {
        port = { name: ledName, set: () => {}, close: () => {} };
        this.log.info(`LED ${ledName} is virtual${led.note ? `: ${led.note}` : ''}`);
      } else {
        port = backend.openLed(ledSpec(ledName, led, profile));
      }
      const baseColor = led.driver === 'apa102' ? (led.color ?? DEFAULT_COLOR) : undefined;
      const managed: ManagedLed = {
        name: ledName,
        port,
        on: false,
        color: undefined,
        baseColor,
        writeFailed: false,
        runner: new PatternRunner(clock, (on) => this.drive(managed, on)),
      };
      this.leds.set(ledName, managed);
    }
    for (const buttonName of ['mute', 'action'] as const) {
      const button = profile.buttons[buttonName];
      if (!button) continue;
      const port = backend.openButton({ name: buttonName, ...button });
      const watcher = new ButtonWatcher(
        port,
        clock,
        {
          debounceMs: button.debounceMs,
          edge: button.edge,
          longPressMs: buttonName === 'action' ? config.longPressMs : undefined,
        },
        (kind) => this.emit('button', { name: buttonName, kind }),
        (err) => this.log.warn({ err: errorMessage(err) }, `button ${buttonName}: read failed`),
      );
      this.buttons.push({ port, watcher });
      if (watcher.start()) {
        this.log.warn(
          `button ${buttonName} reads pressed at start; it is ignored until released. Check its pull (config.txt gpio=${button.pin}=ip,p${button.pull === 'down' ? 'd' : 'u'}) and activeLow in the board profile`,
        );
      }
    }
    this.log.info({ backend: backend.name }, 'GPIO ready');
  }

  private closePorts(): void {
    for (const { watcher, port } of this.buttons.splice(0)) {
      watcher.stop();
      port.close();
    }
    for (const led of this.leds.values()) {
      led.runner.cancel();
      // Written even when already off: the pin keeps its last level after release.
      this.drive(led, false, true);
      led.port.close();
    }
    this.leds.clear();
    this.backend?.close();
  }

  /**
   * The pattern of the current state on every LED (with the degraded overlay when idle),
   * minus the quiet ones at night.
   */
  private apply(): void {
    const patterns = this.options.profile.patterns;
    const own = patterns[this.current];
    const overlay = this.current === 'idle' && this.degraded.size > 0 ? patterns.error : {};
    for (const led of this.leds.values()) {
      const hidden = this.quietNow && !ALWAYS_SHOWN_LEDS.has(led.name);
      led.runner.play(hidden ? OFF : (own[led.name] ?? overlay[led.name] ?? OFF));
    }
  }

  private drive(led: ManagedLed, on: boolean, force = false): void {
    const pattern = led.runner.current;
    const color =
      on && led.baseColor
        ? ((pattern && 'color' in pattern ? pattern.color : undefined) ?? led.baseColor)
        : undefined;
    if (led.on === on && led.color === color && !force) return;
    try {
      led.port.set(on, color ? { color } : undefined);
      led.writeFailed = false;
    } catch (err) {
      // Unknown level after a failed write; `on` keeps what is known to be shown.
      if (!led.writeFailed) {
        this.log.warn({ err: errorMessage(err) }, `LED ${led.name}: write failed`);
      }
      led.writeFailed = true;
      return;
    }
    if (led.on === on && led.color === color) return;
    led.on = on;
    led.color = color;
    this.emit('led', {
      name: led.name,
      on,
      at: this.options.clock.now(),
      ...(color ? { color } : {}),
    });
  }

  private checkQuiet(): void {
    const q = this.quietHours;
    if (!q || this.phase !== 'running') return;
    const now = (this.options.wallClock ?? (() => new Date()))();
    const quiet = isQuiet(q, now);
    if (quiet !== this.quietNow) {
      this.quietNow = quiet;
      this.log.info(quiet ? 'quiet hours: only mute and listening LEDs light' : 'quiet hours over');
    }
    const wait = Math.min(msUntilChange(q, now), QUIET_RECHECK_MS);
    this.quietTimer = this.options.clock.setTimeout(() => {
      const before = this.quietNow;
      this.checkQuiet();
      if (this.quietNow !== before) this.apply();
    }, wait);
  }
}

/** The port's view of one LED of the profile. */
function ledSpec(name: string, led: LedProfile, profile: BoardProfile): LedSpec {
  if (led.driver === 'apa102') {
    return {
      driver: 'apa102',
      name,
      pixels: led.pixels ?? [],
      color: led.color ?? DEFAULT_COLOR,
      brightness: led.brightness ?? profile.apa102?.brightness ?? 31,
    };
  }
  return { driver: 'gpio', name, pin: led.pin!, activeLow: led.activeLow };
}
