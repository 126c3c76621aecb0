import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  parseBoardProfile,
  type BoardProfile,
  type BoardProfileInput,
} from '../../src/config/board-profile.js';
import { gpioSection, type GpioConfig } from '../../src/config/sections/gpio.js';
import { ManualClock, type Clock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/shared/logger.js';
import {
  Gpio,
  type ButtonEvent,
  type GpioOptions,
  type GpioStatus,
  type LedEvent,
} from '../../src/gpio/index.js';

/** A breadboard-like profile: three LEDs (one active-low), two buttons. */
export function testProfileInput(): BoardProfileInput {
  return {
    name: 'test-board',
    leds: {
      listening: { pin: 23 },
      mute: { pin: 24, activeLow: true },
      status: { pin: 25 },
    },
    buttons: {
      mute: { pin: 5, debounceMs: 20 },
      action: { pin: 6, debounceMs: 20 },
    },
    audio: { capture: 'default', playback: 'default' },
  };
}

export function testProfile(patch: Partial<BoardProfileInput> = {}): BoardProfile {
  return parseBoardProfile({ ...testProfileInput(), ...patch });
}

export function gpioConfig(input: Partial<GpioConfig> = {}): GpioConfig {
  return gpioSection.parse(input);
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose lines can be inspected. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug', base: {} }, stream), lines };
}

export interface GpioHarness {
  gpio: Gpio;
  clock: ManualClock;
  leds: LedEvent[];
  buttons: ButtonEvent[];
  statuses: GpioStatus[];
  logs: LogLine[];
}

/** A Gpio on a ManualClock with every event recorded. */
export function makeGpio(
  options: Partial<GpioOptions> & { clock?: ManualClock } = {},
): GpioHarness {
  const clock = options.clock ?? new ManualClock();
  const { logger, lines } = captureLogger();
  const gpio = new Gpio({
    profile: options.profile ?? testProfile(),
    config: options.config ?? gpioConfig(),
    logger: options.logger ?? logger,
    clock: options.clock ?? (clock as Clock),
    ...(options.backendFactory ? { backendFactory: options.backendFactory } : {}),
    ...(options.wallClock ? { wallClock: options.wallClock } : {}),
  });
  const harness: GpioHarness = { gpio, clock, leds: [], buttons: [], statuses: [], logs: lines };
  gpio.on('led', (e) => harness.leds.push(e));
  gpio.on('button', (e) => harness.buttons.push(e));
  gpio.on('status', (e) => harness.statuses.push(e));
  return harness;
}

/** LED events of one LED as `[at, on]` pairs, easy to compare with a pattern. */
export function timeline(events: readonly LedEvent[], name: string): Array<[number, boolean]> {
  return events.filter((e) => e.name === name).map((e) => [e.at, e.on]);
}
