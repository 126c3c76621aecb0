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

/**
 * The listening LED's on-windows, in event order (several changes can share a time on
 * the virtual clock, so order, not time, decides which "off" closes which "on").
 */
export function listeningWindows(
  lines: Array<{ event: string; t: number; name?: unknown; on?: unknown }>,
): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  let onAt: number | undefined;
  for (const l of lines) {
    if (l.event !== 'led' || l.name !== 'listening') continue;
    if (l.on && onAt === undefined) onAt = l.t;
    if (!l.on && onAt !== undefined) {
      windows.push([onAt, l.t]);
      onAt = undefined;
    }
  }
  if (onAt !== undefined) windows.push([onAt, Infinity]);
  return windows;
}

/** True when an upload opened and closed inside one listening-LED window (P2). */
export function insideListening(
  windows: Array<[number, number]>,
  openT: number,
  closeT: number,
): boolean {
  return windows.some(([on, off]) => on <= openT && closeT <= off);
}
