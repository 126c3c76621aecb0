import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CheckResult } from '../../src/cli/doctor/check.js';
import { alsaFileConfig } from './alsa.js';
import { cliPath, repoRoot } from './paths.js';

/**
 * `earshot …` as a real process (the built dist/cli/main.js), for the doctor and run
 * tests: a config file per scenario, an ALSA file-PCM sound card, and no inherited
 * systemd variables.
 */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without anything from a service manager or a real sound setup. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('EARSHOT_') || k === 'NOTIFY_SOCKET' || k.startsWith('WATCHDOG_')) {
      delete env[k];
    }
  }
  delete env.ALSA_CONFIG_PATH;
  delete env.PICOVOICE_ACCESS_KEY;
  return { ...env, ...extra };
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
  /** A command the node process runs under, e.g. `unshare -m sh -c …`. */
  wrap?: string[];
  /** Another build's `cli/main.js` (a copy of the install); this repository's by default. */
  cli?: string;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const argv = [process.execPath, options.cli ?? cliPath, ...args];
  const [cmd, ...rest] = options.wrap ? [...options.wrap, ...argv] : argv;
  const child = spawn(cmd!, rest, {
    cwd: repoRoot,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Writes `tree` as a YAML config file named `name` in `dir`. */
export function writeConfig(dir: string, name: string, tree: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(tree));
  return file;
}

/** An ALSA config in its own directory (alsaFileConfig always names it asound.conf). */
export function soundCard(dir: string, name: string, opts: { infile?: string }): string {
  const sub = join(dir, `alsa-${name}`);
  mkdirSync(sub, { recursive: true });
  return alsaFileConfig(sub, opts);
}

export interface DoctorRun extends CliResult {
  ok: boolean;
  checks: CheckResult[];
  /** The check of that name; throws when doctor did not report it. */
  check(name: string): CheckResult;
}

/** `earshot doctor --json …`: the parsed report, the exit code, and stderr. */
export async function runDoctor(args: string[], options: CliOptions = {}): Promise<DoctorRun> {
  const r = await runCli(['doctor', '--json', ...args], options);
  let report: { ok: boolean; checks: CheckResult[] };
  try {
    report = JSON.parse(r.stdout) as typeof report;
  } catch {
    throw new Error(
      `doctor printed no JSON (exit ${r.code ?? r.signal}):\n${r.stdout}\n${r.stderr}`,
    );
  }
  return {
    ...r,
    ...report,
    check(name) {
      const found = report.checks.find((c) => c.name === name);
      if (!found) throw new Error(`no "${name}" check in ${r.stdout}`);
      return found;
    },
  };
}

/** True when a required check failed: exactly when doctor must exit non-zero. */
export function requiredFailed(checks: CheckResult[]): boolean {
  return checks.some((c) => c.required && c.status === 'fail');
}
