import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, fixture, repoRoot, tempDir } from '../helpers/paths.js';

// `earshot` loads only the command it is asked for (the daemon should not carry the
// reference cloud or the benchmarks); help and unknown names still see every command.
const earshot = (...args: string[]) =>
  spawnSync(process.execPath, [cliPath, ...args], { cwd: repoRoot, encoding: 'utf8' });

const ALL = [
  'demo',
  'run',
  'simulate',
  'ask',
  'doctor',
  'ledger',
  'mqtt',
  'config',
  'board',
  'cloud',
  'dashboard',
  'certs',
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

describe('honest errors', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('a misspelt option is named first, not a required option it hides', () => {
    const r = earshot('simulate', '--wavv', fixture('noise.wav'));
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe("error: unknown option '--wavv'");
    expect(r.stderr).toMatch(/Did you mean --wav\?/);
    expect(r.stderr).not.toMatch(/required option/);
  });

  it('a missing required option is still reported', () => {
    const r = earshot('simulate', '--json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/required option '--wav <file>' not specified/);
    const cloud = earshot('cloud', '--key', 'k.pem');
    expect(cloud.status).toBe(1);
    expect(cloud.stderr).toMatch(/required option '--cert <file>' not specified/);
  });

  it('config check says the exit code it uses (78) and names the file and the likely key', () => {
    const help = earshot('config', 'check', '--help');
    expect(help.stdout).toMatch(/exit 78/);
    const file = join(tmp.dir, 'typo.yaml');
    writeFileSync(file, 'audio:\n  preRolMs: 300\n');
    const r = earshot('config', 'check', file);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(
      `audio.preRolMs: unknown key (did you mean preRollMs?); allowed here: capture, playback, preRollMs, queueFrames, debugSaveAudioDir (from ${file})`,
    );
  });

  it('a WAV cut short is refused, saying how much is missing', () => {
    const file = join(tmp.dir, 'cut.wav');
    writeFileSync(file, readFileSync(fixture('alexa-what-time.wav')).subarray(0, 20_044));
    const r = earshot('simulate', '--wav', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /cut\.wav is cut short: its header says \d+ bytes of audio \(6\.32 s\), the file holds 20000 \(0\.63 s\) \[E_WAV_TRUNCATED\]/,
    );
    expect(r.stderr).toMatch(/hint: .*sox/);
  });

  it('a --press after the end of the WAV is refused', () => {
    const r = earshot('simulate', '--wav', fixture('noise.wav'), '--press', 'mute@999');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /--press mute@999 is after the end of .*noise\.wav \(\d+(\.\d+)? s\) \[E_USAGE\]/,
    );
  });
});
