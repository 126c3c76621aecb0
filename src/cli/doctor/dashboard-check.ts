import { hostname } from 'node:os';
import { isLoopback } from '../../config/sections/dashboard.js';
import type { Config } from '../../config/schema.js';
import { certificateFingerprint } from '../../dashboard/cert.js';
import { dashboardFiles } from '../../dashboard/files.js';
import { readPasswordHash } from '../../dashboard/password.js';
import { errorMessage } from '../../shared/errors.js';
import { result, type CheckResult } from './check.js';
import { EXPIRY_WARNING_DAYS } from './cert-checks.js';

const NAME = 'dashboard';

/** The address to type into a browser: this host's name when the page listens on every interface. */
export function dashboardUrl(config: Config, secure: boolean): string {
  const { bind, port } = config.dashboard;
  const host = bind === '0.0.0.0' || bind === '::' ? `${hostname()}.local` : bind;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${secure ? 'https' : 'http'}://${shown}:${port}/`;
}

/**
 * The owner's web page: where to open it and the SHA-256 fingerprint of its certificate
 * (to compare with what the browser shows before trusting a self-signed one), whether
 * a password is set, and whether the certificate is about to expire.
 */
export async function checkDashboard(config: Config, now = new Date()): Promise<CheckResult> {
  if (!config.dashboard.enabled) return result(NAME, false, 'skip', 'off (dashboard.enabled)');
  const files = dashboardFiles(config);
  let cert: Awaited<ReturnType<typeof certificateFingerprint>> | undefined;
  try {
    cert = await certificateFingerprint(files.cert);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing || !files.selfSigned || !isLoopback(config.dashboard.bind)) {
      return result(
        NAME,
        false,
        'fail',
        `${dashboardUrl(config, true)}: no usable certificate at ${files.cert} (${errorMessage(err)})`,
        files.selfSigned
          ? 'make one with `earshot dashboard cert`, or set dashboard.bind: 127.0.0.1'
          : 'check dashboard.cert and dashboard.key',
      );
    }
  }
  const url = dashboardUrl(config, cert !== undefined);
  const what = cert
    ? `${url}, certificate SHA-256 ${cert.fingerprint}${files.selfSigned ? ' (self-signed)' : ''}`
    : `${url} (plain HTTP, this machine only)`;
  let password: string | undefined;
  try {
    password = await readPasswordHash(files.passwordFile);
  } catch (err) {
    return result(NAME, false, 'fail', `${what}; ${errorMessage(err)}`);
  }
  if (!password) {
    return result(
      NAME,
      false,
      'warn',
      `${what}; no password set, nobody can sign in`,
      'run `earshot dashboard password`',
    );
  }
  if (cert) {
    const days = Math.floor((cert.validTo.getTime() - now.getTime()) / 86_400_000);
    if (days < 0)
      return result(
        NAME,
        false,
        'fail',
        `${what}; the certificate expired`,
        'earshot dashboard cert --force',
      );
    if (days < EXPIRY_WARNING_DAYS) {
      return result(
        NAME,
        false,
        'warn',
        `${what}; the certificate expires in ${days} day(s)`,
        'earshot dashboard cert --force',
      );
    }
  }
  return result(NAME, false, 'pass', what);
}
