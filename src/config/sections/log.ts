import { z } from 'zod';

export const logSection = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto`: readable on a terminal, JSON otherwise (e.g. under systemd). */
    format: z.enum(['auto', 'pretty', 'json']).default('auto'),
  })
  .prefault({});
