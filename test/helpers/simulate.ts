import { spawn } from 'node:child_process';
import { cliPath, repoRoot } from './paths.js';

export type SimLine = Record<string, unknown> & { event: string; t: number };

/** Runs `earshot simulate … --json` as a real process and returns its event lines. */
export async function runSimulate(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ lines: SimLine[]; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cliPath, 'simulate', '--json', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
  });
  let out = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const lines = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SimLine);
  return { lines, code, stderr };
}

export const ofType = (lines: SimLine[], event: string): SimLine[] =>
  lines.filter((l) => l.event === event);
