import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * Runs once before the suite. The CLI tests run the compiled `dist/`, so a `dist/` older
 * than `src/` would test yesterday's code: when any source is newer than its output (or
 * the output is missing), build first; when the build fails, stop the run and say why.
 */
export default function setup(): void {
  const stale = staleOutputs();
  if (stale.length === 0) return;
  process.stderr.write(
    `dist/ is older than src/ (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}): building\n`,
  );
  // The whole build (npm run build), so the prebuilt ORT models are there too.
  const r = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(`dist/ is stale and the build failed:\n${r.stdout}${r.stderr}`);
  }
}

/** Sources under src/ whose compiled .js in dist/ is missing or older. */
export function staleOutputs(): string[] {
  const src = join(repoRoot, 'src');
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const out = join(repoRoot, 'dist', relative(src, path)).replace(/\.ts$/, '.js');
        let outTime = 0;
        try {
          outTime = statSync(out).mtimeMs;
        } catch {
          // missing: stale
        }
        if (statSync(path).mtimeMs > outTime) stale.push(relative(repoRoot, path));
      }
    }
  };
  walk(src);
  return stale;
}
