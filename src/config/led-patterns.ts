import { z } from 'zod';
import type { DeviceStateName } from '../shared/device-status.js';

/** LED patterns of a board profile: what a state looks like on one LED. */

/** Patterns faster than this would spend more time in sysfs writes than they are worth. */
const stepMs = z.number().int().min(20).max(60_000);

export const PATTERN_TYPES = ['off', 'solid', 'blink', 'pulse', 'double-blink'] as const;

/** `#rrggbb`: the colour of an LED that has one (APA102); plain LEDs ignore it. */
export const colorSchema = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, 'a colour as #rrggbb, e.g. #ff0000 for red')
  .transform((c) => c.toLowerCase());

const color = { color: colorSchema.optional() };

const patternVariants = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('off') }),
    z.strictObject({ type: z.literal('solid'), ...color }),
    z.strictObject({
      type: z.literal('blink'),
      onMs: stepMs.default(250),
      offMs: stepMs.default(250),
      ...color,
    }),
    // No PWM on sysfs GPIO, so a "pulse" is a slow, calm blink rather than a fade.
    z.strictObject({
      type: z.literal('pulse'),
      onMs: stepMs.default(1000),
      offMs: stepMs.default(1000),
      ...color,
    }),
    z.strictObject({
      type: z.literal('double-blink'),
      onMs: stepMs.default(120),
      gapMs: stepMs.default(120),
      offMs: stepMs.default(840),
      ...color,
    }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `unknown pattern ${JSON.stringify((issue.input as { type?: unknown } | undefined)?.type)}; use one of ${PATTERN_TYPES.join(', ')}`
        : undefined,
  },
);

/** A pattern is written as a bare name (`blink`) or as an object with timings. */
export const ledPatternSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { type: v } : v),
  patternVariants,
);

export type LedPattern = z.infer<typeof ledPatternSchema>;
export type LedPatternType = LedPattern['type'];

/**
 * Patterns after Amazon's attention system. They address the LED by role: a board
 * without a `status` LED simply shows nothing for thinking/speaking unless its
 * profile says otherwise.
 */
export const DEFAULT_PATTERNS: Readonly<Record<DeviceStateName, Record<string, unknown>>> = {
  booting: { status: 'solid' },
  idle: {},
  listening: { listening: 'solid' },
  thinking: { status: 'blink' },
  speaking: { status: 'pulse' },
  muted: { mute: 'solid' },
  offline: { status: 'double-blink' },
  error: { status: { type: 'blink', onMs: 100, offMs: 900 } },
};
