import type { BoardProfile } from '../config/board-profile.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

/**
 * The port between the GPIO part and the pins. Everything above it (patterns,
 * debounce, long press, quiet hours) is backend-agnostic; a backend only turns pins
 * on and off and reports raw edges. Values here are logical: `on` means lit and
 * `pressed` means pressed, whatever the wiring polarity.
 */

export type BackendName = 'onoff' | 'simulated';

export interface GpioLedSpec {
  driver: 'gpio';
  /** Role name from the profile: `listening`, `mute`, `status` … */
  name: string;
  /** BCM pin number (the backend adds the chip offset). */
  pin: number;
  activeLow: boolean;
}

/** An LED made of pixels of an APA102 chain on SPI. */
export interface Apa102LedSpec {
  driver: 'apa102';
  name: string;
  pixels: readonly number[];
  /** `#rrggbb` when the pattern names no colour. */
  color: string;
  /** 1-31, before `gpio.brightness` scales it. */
  brightness: number;
}

export type LedSpec = GpioLedSpec | Apa102LedSpec;

/** How a lit LED looks, for LEDs that can show more than on and off. */
export interface LedLook {
  /** `#rrggbb`. */
  color?: string | undefined;
}

export interface ButtonSpec {
  name: string;
  pin: number;
  activeLow: boolean;
  pull: 'up' | 'down' | 'off';
  edge: 'both' | 'rising' | 'falling';
}

export interface Led {
  readonly name: string;
  /**
   * Drives the LED; synchronous so that "LED first, then upload" (P2) holds. `look`
   * (a colour) is for LEDs that have one; plain LEDs ignore it.
   */
  set(on: boolean, look?: LedLook): void;
  /** Turns the LED off and releases (unexports) the pin. */
  close(): void;
}

export type EdgeListener = (pressed: boolean) => void;

export interface Button {
  readonly name: string;
  /** The current level, true when pressed. */
  read(): boolean;
  /** Raw, undebounced edges. One listener per port. */
  watch(onEdge: EdgeListener, onError: (err: Error) => void): void;
  /** Stops watching and releases (unexports) the pin. */
  close(): void;
}

export interface GpioBackend {
  readonly name: BackendName;
  /**
   * Set when part of the backend could not start and runs on memory instead (e.g. the
   * pins work but the SPI LEDs do not): the part reports it as degraded.
   */
  readonly degraded?: { code: string; message: string } | undefined;
  /** Claims and configures the pin; the LED starts off. Throws EarshotError when it cannot. */
  openLed(spec: LedSpec): Led;
  openButton(spec: ButtonSpec): Button;
  /** Closes every port still open: LEDs off, pins released. Safe to call twice. */
  close(): void;
}

export interface BackendContext {
  profile: BoardProfile;
  logger: Logger;
  /** The part's clock (tests record when a frame was written). */
  clock: Clock;
  /** `gpio.brightness`: percent applied to LEDs that can dim. */
  brightnessPercent: number;
}

/** Makes a ready backend; async because the real one loads its native module lazily. */
export type BackendFactory = (
  name: BackendName,
  context: BackendContext,
) => GpioBackend | Promise<GpioBackend>;
