import { join } from 'node:path';
import type { Config } from '../config/schema.js';

/**
 * The dashboard's files: the certificate and key (the configured ones, else the
 * self-signed pair made at install) and the password hash. Kept directly in the state
 * directory, which the service user owns.
 */
export function dashboardFiles(config: Config): {
  cert: string;
  key: string;
  passwordFile: string;
  selfSigned: boolean;
} {
  const d = config.dashboard;
  const dir = config.device.stateDir;
  return {
    cert: d.cert ?? join(dir, 'dashboard.crt'),
    key: d.key ?? join(dir, 'dashboard.key'),
    passwordFile: d.passwordFile ?? join(dir, 'dashboard-password'),
    selfSigned: d.cert === undefined,
  };
}
