import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';

// `npm run bench:daemon` works from a fresh checkout and reports what it claims; the
// figures themselves are for the README, not for a test on a shared machine.
describe('bench:daemon', () => {
  it('runs the device in its own process with the unit environment and reports its memory', () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist/bench/daemon.js'), '--repeat', '1', '--json'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      environment: { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: expect.stringMatching(/semi-space/) },
      // The flags of the unit's ExecStart= line, which NODE_OPTIONS cannot carry.
      nodeFlags: expect.arrayContaining(['--optimize-for-size', '--expose-gc']),
      mqtt: true,
      // `earshot run` heard the fixture through the real arecord: one request, answered.
      wakes: 1,
      uploads: 1,
      micDroppedBytes: 0,
    });
    // A node process with onnxruntime and the models loaded is well over 50 MiB.
    expect(result.peakRssMiB).toBeGreaterThan(50);
    expect(result.peakRssMiB).toBeGreaterThanOrEqual(result.rssEndMiB as number);
    expect(result.cpuPerAudioSecond).toBeGreaterThan(0);
  }, 150_000);
});
