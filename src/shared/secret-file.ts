import { readFile, stat } from 'node:fs/promises';
import { EarshotError, errorMessage } from './errors.js';

/** Largest secret file read: a token is a few hundred bytes. */
const MAX_SECRET_BYTES = 16 * 1024;

/**
 * Reads a secret (a token) from a file, as ssh reads a key: refused when group or
 * others may read or write it, when it is not a regular file, or when it is empty.
 * Trailing white space (the newline an editor adds) is not part of the secret. The
 * error names the config key and the file, never the content.
 */
export async function readSecretFile(key: string, path: string): Promise<string> {
  let mode: number;
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a regular file');
    mode = st.mode;
    size = st.size;
  } catch (err) {
    throw new EarshotError('E_SECRET_FILE', `${key} ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new EarshotError(
      'E_SECRET_FILE',
      `${key} ${path}: mode ${(mode & 0o777).toString(8)} lets others read it (refused)`,
      { hint: `chmod 600 ${path}` },
    );
  }
  if (size > MAX_SECRET_BYTES) {
    throw new EarshotError('E_SECRET_FILE', `${key} ${path}: ${size} bytes is not a token`);
  }
  const text = (await readFile(path, 'utf8')).trim();
  if (!text) throw new EarshotError('E_SECRET_FILE', `${key} ${path}: empty`);
  return text;
}
