import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../helpers/paths.js';

// `earshot` loads only the command it is asked for (the daemon should not carry the
// reference cloud or the benchmarks); help and unknown names still see every command.
const earshot = (...args: string[]) =>
  spawnSync(process.execPath, [cliPath, ...args], { cwd: repoRoot, encoding: 'utf8' });

const ALL = [
  'demo',
  'run',
  'simulate',
  'doctor',
  'ledger',
  'mqtt',
  'config',
  'cloud',
  'bench',
  'errors',
];

describe('earshot commands', () => {
  it('--help lists every command', () => {
    const r = earshot('--help');
    expect(r.status).toBe(0);
    const listed = [...r.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]);
    expect(listed).toEqual([...ALL, 'help']);
  });

  it.each(ALL)('%s --help works on its own', (name) => {
    const r = earshot(name, '--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: earshot ${name}\\b`));
  });

  it('an unknown command is refused with a suggestion', () => {
    const r = earshot('simulat');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'simulat'/);
    expect(r.stderr).toMatch(/Did you mean simulate\?/);
  });

  it('a command works with options before its arguments', () => {
    const r = earshot('config', 'print', '--set', 'wake.vadThreshold=0.25', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ wake: { vadThreshold: 0.25 } });
  });
});
