import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/paths.js';
import { makeCertsScript } from '../../helpers/tls-certs.js';

/** scripts/make-certs.sh: idempotent, never prints key material, passes shellcheck. */
let dirs: Array<{ cleanup: () => void }> = [];
afterEach(() => {
  for (const d of dirs) d.cleanup();
  dirs = [];
});

function run(dir: string, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('bash', [makeCertsScript, dir, ...args], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const NAMES = ['ca', 'server', 'device', 'other-ca', 'other-device'];

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    NAMES.flatMap((n) => [`${n}.crt`, `${n}.key`]).map((f) => [
      f,
      readFileSync(join(dir, f), 'utf8'),
    ]),
  );
}

function subject(file: string): string {
  const r = spawnSync(
    'openssl',
    ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'],
    {
      encoding: 'utf8',
    },
  );
  return r.stdout.trim();
}

function verifies(ca: string, cert: string): boolean {
  return spawnSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8' }).status === 0;
}

describe('make-certs.sh', () => {
  it('makes a CA, a server, a device and an unrelated CA + device, printing no key', () => {
    const t = tempDir('earshot-mkcerts-');
    dirs.push(t);
    const first = run(t.dir, '--device-id', 'hall');
    expect(first.status).toBe(0);
    expect(first.out).not.toMatch(/PRIVATE KEY|BEGIN/);
    expect(first.out.match(/^made /gm)).toHaveLength(5);
    expect(subject(join(t.dir, 'device.crt'))).toBe('subject=CN=hall');
    expect(verifies(join(t.dir, 'ca.crt'), join(t.dir, 'server.crt'))).toBe(true);
    expect(verifies(join(t.dir, 'ca.crt'), join(t.dir, 'device.crt'))).toBe(true);
    expect(verifies(join(t.dir, 'ca.crt'), join(t.dir, 'other-device.crt'))).toBe(false);
    expect(verifies(join(t.dir, 'other-ca.crt'), join(t.dir, 'other-device.crt'))).toBe(true);
    const text = spawnSync(
      'openssl',
      ['x509', '-in', join(t.dir, 'server.crt'), '-noout', '-text'],
      {
        encoding: 'utf8',
      },
    ).stdout;
    expect(text).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1/);
    for (const n of NAMES) expect(statSync(join(t.dir, `${n}.key`)).mode & 0o777).toBe(0o600);
  });

  it('is idempotent, and repairs only what is missing or no longer fits', () => {
    const t = tempDir('earshot-mkcerts-');
    dirs.push(t);
    expect(run(t.dir).status).toBe(0);
    const before = snapshot(t.dir);
    const again = run(t.dir);
    expect(again.status).toBe(0);
    expect(again.out).not.toMatch(/^made /m);
    expect(snapshot(t.dir)).toEqual(before);

    // A new CA invalidates what it signed, and nothing else.
    rmSync(join(t.dir, 'ca.key'));
    const repaired = run(t.dir);
    expect(repaired.out.match(/^made .*/gm)).toEqual([
      `made ${t.dir}/ca.crt (CA)`,
      `made ${t.dir}/server.crt (signed by ca)`,
      `made ${t.dir}/device.crt (signed by ca)`,
    ]);
    const after = snapshot(t.dir);
    expect(after['other-ca.crt']).toBe(before['other-ca.crt']);
    expect(after['other-device.key']).toBe(before['other-device.key']);

    // Another device id replaces the device certificates.
    const renamed = run(t.dir, '--device-id', 'porch');
    expect(renamed.out.match(/^made .*/gm)).toHaveLength(2);
    expect(subject(join(t.dir, 'device.crt'))).toBe('subject=CN=porch');
    expect(subject(join(t.dir, 'other-device.crt'))).toBe('subject=CN=porch');
  });

  it('refuses a device id that could not be a device id', () => {
    const t = tempDir('earshot-mkcerts-');
    dirs.push(t);
    const r = run(t.dir, '--device-id', 'Bad/Id');
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/invalid --device-id/);
    expect(run(t.dir, '--bogus').status).toBe(2);
  });

  it('passes shellcheck', () => {
    const r = spawnSync('shellcheck', [makeCertsScript], { encoding: 'utf8' });
    expect(r.error, 'shellcheck is not installed (apt-get install shellcheck)').toBeUndefined();
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
