import { z } from 'zod';

/** `HH:MM-HH:MM` in local time, 24-hour clock; the range may wrap past midnight. */
const QUIET_HOURS = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;

export const gpioSection = z
  .strictObject({
    /** `onoff`: real pins through sysfs; `simulated`: in memory (tests, demo). */
    backend: z.enum(['onoff', 'simulated']).default('simulated'),
    /** When real GPIO cannot be used: stop, or run with simulated pins and say so. */
    onUnavailable: z.enum(['fail', 'simulate']).default('simulate'),
    /**
     * Hours when only the mute and listening LEDs light, e.g. `22:00-07:00` (local
     * time). Those two stay because they carry the privacy promises (P1, P2).
     */
    quietHours: z
      .string()
      .regex(QUIET_HOURS, 'HH:MM-HH:MM, 24-hour local time, e.g. 22:00-07:00')
      .refine((s) => s.slice(0, 5) !== s.slice(6), 'start and end must differ')
      .optional(),
    /**
     * Brightness of LEDs that can dim (APA102), in percent of the level the board
     * profile gives them. Plain GPIO LEDs are on or off.
     */
    brightness: z.number().int().min(1).max(100).default(100),
    /** Press this long on the action button for a long press. */
    longPressMs: z.number().int().min(500).max(30_000).default(5000),
  })
  .prefault({});

export type GpioConfig = z.infer<typeof gpioSection>;
