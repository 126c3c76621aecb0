import { z } from 'zod';

export const deviceSection = z
  .strictObject({
    /** Stable id of this speaker; used in topics, the cloud hello and the ledger. */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, "-" and "_", 1-63 chars')
      .default('earshot'),
    /** A friendly name for dashboards. */
    name: z.string().min(1).max(64).default('earshot speaker'),
    /** Where the ledger and other state live (systemd's StateDirectory). */
    stateDir: z.string().min(1).default('/var/lib/earshot'),
  })
  .prefault({});
