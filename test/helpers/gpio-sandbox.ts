import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FakeChip } from './gpio-sysfs-tree.js';

/**
 * Runs a GPIO scenario (gpio-sandbox-scenario.ts) in a private mount namespace whose
 * /sys/class/gpio is a tmpfs of plain files: onoff writes and reads them for real,
 * and gpio-fake-kernel.ts plays the kernel's part. Nothing outside the namespace
 * sees the mount, and it disappears with the process.
 */

export const REPO = resolve(import.meta.dirname, '../..');
const DIST = join(REPO, 'dist');
const HELPERS = join(REPO, 'test/helpers');
/** Where a scenario run as another user finds the repository (inside its namespace only). */
const SHARED_ROOT = '/mnt';
const SHARED_REPO = `${SHARED_ROOT}/earshot`;

/** Why the sandbox cannot run here, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'sysfs GPIO is Linux only';
  if (process.getuid?.() !== 0) return 'needs root for unshare -m and mount -t tmpfs';
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], {
    encoding: 'utf8',
  });
  if (probe.error) return `unshare is not available: ${probe.error.message}`;
  if (probe.status !== 0) return `unshare -m fails here: ${probe.stderr.trim()}`;
  return undefined;
}

/** The compiled files the scenarios import, checked against their sources. */
export function distProblem(): string | undefined {
  const pairs = [
    ['gpio/index', 'gpio/gpio', 'gpio/onoff-backend', 'gpio/chip'],
    ['config/board-profile', 'config/sections/gpio'],
  ].flat();
  for (const rel of pairs) {
    const built = join(DIST, `${rel}.js`);
    const source = join(REPO, 'src', `${rel}.ts`);
    if (!existsSync(built)) return `${built} is missing: run npx tsc -p tsconfig.build.json`;
    if (statSync(source).mtimeMs > statSync(built).mtimeMs) {
      return `${built} is older than its source: run npx tsc -p tsconfig.build.json`;
    }
  }
  return undefined;
}

export interface SandboxRun {
  scenario: 'part' | 'button' | 'lazy';
  /** The gpiochips in the fake tree; none means "no sandbox, this machine as it is". */
  chips?: readonly FakeChip[];
  /** sysfs numbers a kernel driver holds: exporting them is EBUSY. */
  claimed?: number[];
  /** Run the scenario as this uid (65534 is nobody) after setting up the tree as root. */
  uid?: number;
  input?: unknown;
}

export interface SandboxResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The scenario's JSON output. */
  result: Record<string, unknown>;
}

/** The shell that builds the tree as root and then starts node (as root or another uid). */
function setupScript(run: SandboxRun, node: string[]): string {
  const lines = [
    'set -e',
    // mkdir is impossible on sysfs itself, so without a gpio class mount over /sys/class.
    'if [ -d /sys/class/gpio ]; then mount -t tmpfs earshot-gpio /sys/class/gpio;',
    'else mount -t tmpfs earshot-gpio /sys/class && mkdir /sys/class/gpio; fi',
    'cd /sys/class/gpio',
    ': > export',
    ': > unexport',
  ];
  for (const chip of run.chips ?? []) {
    const dir = `gpiochip${chip.base}`;
    lines.push(
      `mkdir ${dir}`,
      `echo ${chip.base} > ${dir}/base`,
      `echo '${chip.label}' > ${dir}/label`,
      `echo ${chip.ngpio} > ${dir}/ngpio`,
    );
  }
  let repo = REPO;
  if (run.uid !== undefined) {
    // The clone may live where other users cannot enter (a 0700 home or mktemp dir):
    // inside this namespace, the repository is bind-mounted under a fresh tmpfs that
    // anyone may enter, and the other user runs it from there.
    repo = SHARED_REPO;
    lines.push(
      `mount -t tmpfs -o mode=0755 earshot-shared ${SHARED_ROOT}`,
      `mkdir ${SHARED_REPO}`,
      `mount --bind '${REPO}' ${SHARED_REPO}`,
    );
  }
  lines.push(`cd '${repo}'`);
  const drop =
    run.uid !== undefined ? `setpriv --reuid=${run.uid} --regid=${run.uid} --clear-groups -- ` : '';
  const command = node.map((a) => (a.startsWith(REPO) ? repo + a.slice(REPO.length) : a));
  lines.push(`exec ${drop}${command.map((a) => `'${a}'`).join(' ')}`);
  return lines.join('\n');
}

export async function runScenario(run: SandboxRun): Promise<SandboxResult> {
  const node = [process.execPath, '--import', 'tsx'];
  if (run.chips) node.push('--import', join(HELPERS, 'gpio-fake-kernel.ts'));
  node.push(join(HELPERS, 'gpio-sandbox-scenario.ts'), run.scenario);
  const [cmd, args] = run.chips
    ? ['unshare', ['-m', '--propagation', 'private', 'sh', '-c', setupScript(run, node)]]
    : [node[0]!, node.slice(1)];
  const env = {
    ...process.env,
    EARSHOT_DIST: run.uid !== undefined && run.chips ? join(SHARED_REPO, 'dist') : DIST,
    EARSHOT_SCENARIO_INPUT: JSON.stringify(run.input ?? {}),
    EARSHOT_FAKE_GPIO_CLAIMED: JSON.stringify(run.claimed ?? []),
  };
  const child = spawn(cmd as string, args as string[], { cwd: REPO, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(
      `scenario ${run.scenario} printed no result (exit ${code}):\n${stdout}\n${stderr}`,
    );
  }
  return { code, stdout, stderr, result };
}
