import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { EarshotError } from '../shared/errors.js';

/** SHA-256 fingerprint of a PEM certificate, as browsers show it (AB:CD:…). */
export async function certificateFingerprint(
  file: string,
): Promise<{ fingerprint: string; validTo: Date; subject: string }> {
  const x = new X509Certificate(await readFile(file));
  return {
    fingerprint: x.fingerprint256,
    validTo: new Date(x.validTo),
    subject: x.subject.replace(/\n/g, ', '),
  };
}

export interface SelfSignedOptions {
  cert: string;
  key: string;
  /** Names the page is reached by; default the host name and `<host>.local`. */
  names?: string[];
  ips?: string[];
  days?: number;
}

/**
 * A self-signed certificate for the page (ECDSA P-256, openssl). Browsers warn about
 * it once; the owner compares its fingerprint with `earshot doctor`'s before trusting
 * it. The key is 0600 and, made as root, belongs to the owner of the state directory.
 */
export async function makeSelfSigned(o: SelfSignedOptions): Promise<void> {
  const host = hostname();
  const names = o.names?.length ? o.names : [host, `${host}.local`, 'localhost'];
  const ips = o.ips?.length ? o.ips : ['127.0.0.1'];
  const san = [...names.map((n) => `DNS:${n}`), ...ips.map((a) => `IP:${a}`)].join(',');
  await mkdir(dirname(o.cert), { recursive: true });
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      String(o.days ?? 3650),
      '-subj',
      `/CN=${names[0]}/O=earshot dashboard`,
      '-addext',
      `subjectAltName=${san}`,
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-keyout',
      o.key,
      '-out',
      o.cert,
    ],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) {
    throw new EarshotError(
      'E_DASHBOARD_CERT',
      `openssl could not make the certificate: ${r.error?.message ?? String(r.stderr).trim()}`,
    );
  }
  await chmod(o.key, 0o600);
  const owner = await stat(dirname(o.key));
  if (process.getuid?.() === 0 && owner.uid !== 0) {
    await chown(o.key, owner.uid, owner.gid);
    await chown(o.cert, owner.uid, owner.gid);
  }
}
