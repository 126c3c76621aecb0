import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ErrorCode } from '../shared/error-codes.js';
import { EarshotError } from '../shared/errors.js';
import { checkProfileRules } from './board-profile-rules.js';
import { closestName } from './suggest.js';
import { DEVICE_STATES, type DeviceStateName } from '../shared/device-status.js';
import {
  colorSchema,
  DEFAULT_PATTERNS,
  ledPatternSchema,
  type LedPattern,
} from './led-patterns.js';

export {
  colorSchema,
  DEFAULT_PATTERNS,
  ledPatternSchema,
  PATTERN_TYPES,
  type LedPattern,
  type LedPatternType,
} from './led-patterns.js';

/**
 * A board profile says how one kind of speaker is wired: which BCM pins drive which
 * LED, where the buttons are and how they are pulled, which LED pattern each device
 * state shows, and which ALSA devices capture and play. Profiles live as YAML in
 * `hardware/`; `board:` in the config names one or gives a path.
 */

/** BCM numbers of the 40-pin header. The chip offset of newer kernels is added later. */
const bcmPin = z
  .number({ error: 'a BCM GPIO number (0-27)' })
  .int('a BCM GPIO number (0-27)')
  .min(0, 'a BCM GPIO number (0-27)')
  .max(27, 'a BCM GPIO number of the 40-pin header (0-27)');

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'lower-case letters, digits and "-", starting with a letter');

/** APA102 global brightness: 5 bits, 1 (dim) to 31 (full). */
const apa102Level = z.number().int().min(1).max(31);

const ledSchema = z.strictObject({
  /**
   * `gpio`: a pin with a resistor and an LED. `apa102`: pixels of the board's APA102
   * chain on SPI (see `apa102`). `virtual`: shown in memory only.
   */
  driver: z.enum(['gpio', 'apa102', 'virtual']).default('gpio'),
  pin: bcmPin.optional(),
  /** True when the LED lights with the pin low (wired from 3.3 V to the pin). */
  activeLow: z.boolean().default(false),
  /** apa102: the pixels (0 = the first on the chain) this LED lights, one or more. */
  pixels: z.array(z.number().int().min(0).max(255)).min(1).optional(),
  /** apa102: its colour when a pattern names none. */
  color: colorSchema.optional(),
  /** apa102: its brightness (1-31) before `gpio.brightness` scales it; default the chain's. */
  brightness: apa102Level.optional(),
  /** Why an LED is virtual, e.g. that the board's LEDs sit on SPI. Logged at start. */
  note: z.string().optional(),
});

/** A chain of APA102 (DotStar) RGB LEDs on an SPI bus, through the kernel's spidev. */
const apa102Schema = z.strictObject({
  /** The spidev device: `/dev/spidevB.C` (bus B, chip select C). */
  device: z.string().regex(/^\/dev\/spidev\d+\.\d+$/, 'a spidev device such as /dev/spidev0.1'),
  /** Pixels on the chain. */
  count: z.number().int().min(1).max(256),
  /** SPI clock; APA102s take up to about 20 MHz, HAT traces less. */
  speedHz: z.number().int().min(100_000).max(20_000_000).default(8_000_000),
  /** Brightness (1-31) of a lit pixel unless its LED says otherwise. */
  brightness: apa102Level.default(31),
  /** A pin that must be driven high to power the chain (the 4-Mic HAT's GPIO 5). */
  powerPin: bcmPin.optional(),
});

/**
 * What the board needs from the system: lines for `config.txt` (overlays, dtparams), and
 * the sound card those create, made ALSA's default by the installer. `codec` is the
 * device-tree `compatible` of the codec the overlay adds: `earshot doctor` looks for it
 * to tell "overlay not active" from "driver did not bind".
 */
const setupSchema = z.strictObject({
  configTxt: z
    .array(
      z.string().regex(/^(dtoverlay|dtparam|gpio)=\S+$/, 'a dtoverlay=, dtparam= or gpio= line'),
    )
    .default([]),
  card: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,15}$/, 'an ALSA card id: letters, digits, _ (at most 15)')
    .optional(),
  codec: z.string().min(1).optional(),
  /** An overlay Raspberry Pi OS does not ship: `/boot/firmware/overlays/<file>` must exist. */
  overlayFile: z
    .string()
    .regex(/^[\w.-]+\.dtbo$/, 'a file name ending in .dtbo')
    .optional(),
  /** What to do when the overlay is not shipped (printed by the installer and doctor). */
  note: z.string().optional(),
});

const buttonObject = z.strictObject({
  pin: bcmPin,
  /** sysfs cannot set pulls; they come from config.txt (`gpio=17=ip,pu`), see README. */
  pull: z.enum(['up', 'down', 'off']).default('up'),
  /** Pressed reads low. Defaults to true with a pull-up (button to ground). */
  activeLow: z.boolean().optional(),
  /** Which edges interrupt; `rising` is the press (active_low is applied first). */
  edge: z.enum(['both', 'rising', 'falling']).default('both'),
  debounceMs: z.number().int().min(0).max(1000).default(30),
});
const buttonSchema = buttonObject.transform((b) => ({
  ...b,
  activeLow: b.activeLow ?? b.pull === 'up',
}));

export type LedSpecInput = z.infer<typeof ledSchema>;
export type ButtonProfile = z.infer<typeof buttonSchema>;
export type ButtonName = 'mute' | 'action';

const rawProfileSchema = z.strictObject({
  name,
  description: z.string().optional(),
  /** Which gpiochip carries the header pins; found by label unless given. */
  chip: z
    .strictObject({
      labels: z.array(z.string().min(1)).min(1).optional(),
      base: z.number().int().min(0).optional(),
    })
    .optional(),
  leds: z.record(name, ledSchema),
  apa102: apa102Schema.optional(),
  setup: setupSchema.optional(),
  buttons: z.strictObject({ mute: buttonSchema, action: buttonSchema.optional() }),
  patterns: z
    .partialRecord(z.enum(DEVICE_STATES), z.record(z.string(), ledPatternSchema))
    .optional(),
  audio: z.strictObject({
    /** ALSA capture device for arecord, e.g. `plughw:CARD=seeed2micvoicec,DEV=0`. */
    capture: z.string().min(1),
    /** ALSA playback device for aplay / speaker. */
    playback: z.string().min(1),
  }),
});

/** A profile as read, before the rules across keys and the default patterns. */
export type RawBoardProfile = z.output<typeof rawProfileSchema>;

export const boardProfileSchema = rawProfileSchema
  .superRefine(checkProfileRules)
  .transform((p) => ({ ...p, patterns: resolvePatterns(p.leds, p.patterns) }));

export type BoardProfile = z.output<typeof boardProfileSchema>;
export type BoardProfileInput = z.input<typeof boardProfileSchema>;
export type LedProfile = BoardProfile['leds'][string];
export type Apa102Profile = NonNullable<BoardProfile['apa102']>;
export type BoardSetup = NonNullable<BoardProfile['setup']>;

/** The keys allowed where an unknown key was found, for a did-you-mean. */
function knownKeys(path: readonly string[]): string[] {
  const [top] = path;
  switch (top) {
    case undefined:
      return Object.keys(rawProfileSchema.shape);
    case 'chip':
      return ['labels', 'base'];
    case 'leds':
      return Object.keys(ledSchema.shape);
    case 'apa102':
      return Object.keys(apa102Schema.shape);
    case 'setup':
      return Object.keys(setupSchema.shape);
    case 'buttons':
      return path.length === 1 ? ['mute', 'action'] : Object.keys(buttonObject.shape);
    case 'audio':
      return ['capture', 'playback'];
    case 'patterns':
      return path.length <= 1 ? [...DEVICE_STATES] : ['type', 'onMs', 'offMs', 'gapMs', 'color'];
    default:
      return [];
  }
}

function resolvePatterns(
  leds: Record<string, unknown>,
  given: Partial<Record<DeviceStateName, Record<string, LedPattern>>> | undefined,
): Record<DeviceStateName, Record<string, LedPattern>> {
  const out = {} as Record<DeviceStateName, Record<string, LedPattern>>;
  for (const state of DEVICE_STATES) {
    const fromProfile = given?.[state];
    if (fromProfile) {
      out[state] = fromProfile;
      continue;
    }
    const defaults: Record<string, LedPattern> = {};
    for (const [led, pattern] of Object.entries(DEFAULT_PATTERNS[state])) {
      if (led in leds) defaults[led] = ledPatternSchema.parse(pattern);
    }
    out[state] = defaults;
  }
  return out;
}

export interface BoardProfileProblem {
  /** Dotted key, e.g. `leds.mute.pin`; `(file)` for a problem with the file itself. */
  key: string;
  message: string;
}

export class BoardProfileError extends EarshotError {
  constructor(
    readonly source: string,
    readonly problems: BoardProfileProblem[],
    code: ErrorCode = 'E_BOARD_PROFILE',
    hint?: string,
  ) {
    const lines = problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
    super(code, `invalid board profile ${source}:\n${lines}`, hint ? { hint } : undefined);
    this.name = 'BoardProfileError';
  }
}

export interface LoadedBoardProfile extends BoardProfile {
  /** The file the profile came from. */
  source: string;
}

/** `hardware/` of the package: two levels up from both `src/config` and `dist/config`. */
export const HARDWARE_DIR = fileURLToPath(new URL('../../hardware/', import.meta.url));

/** Validates a parsed profile; the error names every bad key. */
export function parseBoardProfile(data: unknown, source = '(inline)'): BoardProfile {
  const result = boardProfileSchema.safeParse(data);
  if (result.success) return result.data;
  const problems: BoardProfileProblem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      // A misspelt key is named in full, so the message points at the typo.
      const known = knownKeys(path);
      for (const k of issue.keys) {
        const guess = closestName(k, known);
        problems.push({
          key: [...path, k].join('.'),
          message: `unknown key${guess ? ` (did you mean ${guess}?)` : ''}`,
        });
      }
    } else {
      problems.push({ key: path.join('.') || '(root)', message: issue.message });
    }
  }
  throw new BoardProfileError(source, problems);
}

/** Names of the profiles shipped in `hardware/`. */
export function listBoardProfiles(hardwareDir = HARDWARE_DIR): string[] {
  if (!existsSync(hardwareDir)) return [];
  return readdirSync(hardwareDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * Loads a profile by name (`generic` → `hardware/generic.yaml`) or by path (anything
 * with a slash or a `.yaml`/`.yml` ending, relative to the working directory).
 */
export function loadBoardProfile(
  nameOrPath: string,
  options: { hardwareDir?: string } = {},
): LoadedBoardProfile {
  const hardwareDir = options.hardwareDir ?? HARDWARE_DIR;
  const isPath = /[/\\]/.test(nameOrPath) || /\.ya?ml$/.test(nameOrPath);
  const file = isPath ? resolve(nameOrPath) : join(hardwareDir, `${nameOrPath}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (!isPath && code === 'ENOENT') {
      const known = listBoardProfiles(hardwareDir);
      throw new BoardProfileError(
        file,
        [{ key: 'board', message: `no board profile named ${nameOrPath}` }],
        'E_BOARD_UNKNOWN',
        `known boards: ${known.join(', ') || '(none)'}; or give a path to a YAML file`,
      );
    }
    throw new BoardProfileError(file, [{ key: '(file)', message: `cannot read: ${code}` }]);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0] ?? 'parse error';
    throw new BoardProfileError(file, [{ key: '(file)', message: `not valid YAML: ${first}` }]);
  }
  return { ...parseBoardProfile(data, file), source: file };
}
