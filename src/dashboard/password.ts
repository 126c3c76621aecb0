import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chown, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EarshotError, errorMessage } from '../shared/errors.js';

/**
 * The dashboard password, kept only as a scrypt hash (Node's own, no dependency):
 * `scrypt$N$r$p$salt$hash`, salt and hash in base64. N = 2^14, r = 8 (16 MiB of memory):
 * one check took 160-200 ms on the shared two-core development machine, slower on a Pi;
 * slow enough for a guesser, and sign-in happens rarely.
 */
const PARAMS = { N: 16_384, r: 8, p: 1 };
const KEY_BYTES = 32;
/** Shortest password accepted: a word of four letters falls to a guesser in minutes. */
export const MIN_PASSWORD_LENGTH = 10;
/** Longest: scrypt hashes any length, but nobody types more and a body is bounded anyway. */
export const MAX_PASSWORD_LENGTH = 256;

function derive(password: string, salt: Buffer, params: typeof PARAMS): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 64 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new EarshotError(
      'E_DASHBOARD_PASSWORD',
      `the password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long`,
    );
  }
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  const { N, r, p } = PARAMS;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches the stored hash; compared in constant time. */
export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) throw new EarshotError('E_DASHBOARD_PASSWORD', 'the stored password hash is malformed');
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), {
    N: Number(m[1]),
    r: Number(m[2]),
    p: Number(m[3]),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Reads the stored hash; a missing file means no password was set (the page stays shut). */
export async function readPasswordHash(file: string): Promise<string | undefined> {
  try {
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0) {
      throw new EarshotError(
        'E_DASHBOARD_PASSWORD',
        `${file}: mode ${(st.mode & 0o777).toString(8)} lets others read the password hash`,
        { hint: `chmod 600 ${file}` },
      );
    }
    return (await readFile(file, 'utf8')).trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof EarshotError) throw err;
    throw new EarshotError('E_DASHBOARD_PASSWORD', `${file}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/**
 * Writes the hash (0600, replaced atomically). Run as root for a service user, the file
 * goes to the owner of its directory, so the daemon can read it and nobody else.
 */
export async function writePasswordHash(file: string, hash: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${hash}\n`, { mode: 0o600 });
  const owner = await stat(dir);
  if (process.getuid?.() === 0 && owner.uid !== 0) await chown(tmp, owner.uid, owner.gid);
  await rename(tmp, file);
}
