import { z } from 'zod';

/**
 * The owner's web page (src/dashboard): what the speaker is doing, what it sent, and
 * what the ledger proves. Off by default. Plain HTTP only on a loopback address;
 * anywhere else HTTPS with `cert`/`key` (the device's own certificate), else the
 * self-signed one `earshot dashboard cert` makes in the state directory.
 */
export const dashboardSection = z
  .strictObject({
    /** Serve the page from the daemon. */
    enabled: z.boolean().default(false),
    /** TCP port (0: any free port, as tests use). */
    port: z.number().int().min(0).max(65_535).default(8443),
    /** Address to listen on: `0.0.0.0` (every interface, HTTPS) or `127.0.0.1` (this machine only). */
    bind: z.string().min(1).default('0.0.0.0'),
    /** Certificate (PEM) for HTTPS; default `<stateDir>/dashboard/cert.pem` (self-signed at install). */
    cert: z.string().min(1).optional(),
    /** Private key (PEM) of `cert`; default `<stateDir>/dashboard/key.pem`. */
    key: z.string().min(1).optional(),
    /** The password hash `earshot dashboard password` writes; default `<stateDir>/dashboard/password`. */
    passwordFile: z.string().min(1).optional(),
    /** A session ends this long after its last request. */
    sessionIdleMinutes: z.number().int().min(1).max(10_080).default(60),
    /** A session ends this long after sign-in, used or not. */
    sessionMaxHours: z.number().int().min(1).max(720).default(12),
    /** Sessions kept at once; signing in past it ends the oldest. */
    maxSessions: z.number().int().min(1).max(100).default(8),
    /** Live pages (server-sent event streams) open at once; past it the oldest is closed. */
    maxLiveStreams: z.number().int().min(1).max(100).default(8),
    /** Largest request body accepted (forms are a few hundred bytes). */
    maxBodyBytes: z.number().int().min(256).max(1_048_576).default(4096),
    /** Failed sign-ins from one address within `failureWindowMinutes` before it is locked out. */
    maxFailedSignIns: z.number().int().min(1).max(100).default(5),
    /** The window failed sign-ins are counted in. */
    failureWindowMinutes: z.number().int().min(1).max(1440).default(15),
    /** How long a locked-out address must wait. */
    lockoutMinutes: z.number().int().min(1).max(1440).default(15),
    /** Addresses whose failures are tracked; past it every new address is refused until one expires. */
    maxTrackedAddresses: z.number().int().min(16).max(100_000).default(1024),
    /** Uploads the page draws and lists at most (the newest first). */
    maxRows: z.number().int().min(10).max(100_000).default(2000),
    /** Rows of the uploads table per page (the timeline draws all of `maxRows`). */
    rowsPerPage: z.number().int().min(10).max(10_000).default(100),
  })
  .prefault({});

export type DashboardConfig = z.infer<typeof dashboardSection>;

/** Whether an address only this machine can reach: plain HTTP is allowed there only. */
export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\./.test(address);
}
