import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import { errorMessage } from '../../shared/errors.js';
import { result, type CheckResult } from './check.js';

/** Warn this long before a certificate expires: time to make and copy a new one. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

interface CertInfo {
  role: string;
  file: string;
  subject: string;
  validTo: Date;
  validFrom: Date;
}

/** Every certificate in a PEM file (a CA file may hold several). */
async function readCerts(role: string, file: string): Promise<CertInfo[]> {
  const text = await readFile(file, 'utf8');
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new Error(`${file} holds no PEM certificate`);
  return pems.map((pem) => {
    const x = new X509Certificate(pem);
    return {
      role,
      file,
      subject: x.subject.replace(/\n/g, ', '),
      validTo: new Date(x.validTo),
      validFrom: new Date(x.validFrom),
    };
  });
}

/**
 * The device's certificate (`cloud.cert`) and the pinned CA (`cloud.ca`): fails when
 * one has expired or is not valid yet, warns 30 days before one expires.
 */
export async function checkCertificates(config: Config, now = new Date()): Promise<CheckResult> {
  const files: Array<[string, string | undefined]> = [
    ['device certificate', config.cloud.cert],
    ['CA', config.cloud.ca],
  ];
  const wanted = files.filter((f): f is [string, string] => Boolean(f[1]));
  if (wanted.length === 0) {
    return result('certificates', false, 'skip', 'no cloud.cert or cloud.ca configured');
  }
  const certs: CertInfo[] = [];
  for (const [role, file] of wanted) {
    try {
      certs.push(...(await readCerts(role, file)));
    } catch (err) {
      return result(
        'certificates',
        true,
        'fail',
        `${role} ${file}: ${errorMessage(err)}`,
        'check the path in the config (cloud.cert, cloud.ca)',
      );
    }
  }
  const renew = 'make new ones with `earshot certs` (see "Your own cloud with your own CA")';
  const days = (c: CertInfo) => Math.floor((c.validTo.getTime() - now.getTime()) / DAY_MS);
  const describe = (c: CertInfo) => `${c.role} ${c.file} (${c.subject})`;
  const expired = certs.find((c) => c.validTo <= now);
  if (expired) {
    return result(
      'certificates',
      true,
      'fail',
      `${describe(expired)} expired on ${expired.validTo.toISOString().slice(0, 10)}`,
      renew,
    );
  }
  const early = certs.find((c) => c.validFrom > now);
  if (early) {
    return result(
      'certificates',
      true,
      'fail',
      `${describe(early)} is valid only from ${early.validFrom.toISOString()}`,
      'is the clock right? (timedatectl)',
    );
  }
  const soon = certs
    .filter((c) => days(c) < EXPIRY_WARNING_DAYS)
    .sort((a, b) => a.validTo.getTime() - b.validTo.getTime())[0];
  if (soon) {
    return result(
      'certificates',
      true,
      'warn',
      `${describe(soon)} expires in ${days(soon)} day(s), on ${soon.validTo.toISOString().slice(0, 10)}`,
      renew,
    );
  }
  const first = certs.reduce((a, b) => (a.validTo <= b.validTo ? a : b));
  return result(
    'certificates',
    true,
    'pass',
    `${certs.map((c) => c.role).join(' and ')} valid; the first to expire: ${first.role} in ${days(first)} days (${first.validTo.toISOString().slice(0, 10)})`,
  );
}
