import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixture = (name: string): string => join(repoRoot, 'test', 'fixtures', name);
export const cliPath = join(repoRoot, 'dist', 'cli', 'main.js');
/** The shared real-speaker corpus, read in place (never copied into the repository). */
export const corpusDir = resolve(repoRoot, '..', 'shared', 'corpus');

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'earshot-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      } catch (err) {
        // A child process killed by the test (aplay, arecord) may still be closing a
        // file in it; a leftover temp dir is not a test failure.
        process.stderr.write(`note: could not remove ${dir}: ${(err as Error).message}\n`);
      }
    },
  };
}
