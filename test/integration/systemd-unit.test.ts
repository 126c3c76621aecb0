import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';

// The unit files under systemd/, checked by systemd's own parser. `systemd-analyze
// verify` exits 0 on many mistakes (an unknown key is only a warning), so the check is
// on what it prints. It also wants ExecStart='s program to exist: the copy under test
// points at the node running this test instead of /usr/bin/node.
const unitDir = join(repoRoot, 'systemd');
const units = readdirSync(unitDir).filter((f) => /\.(service|socket|timer|path)$/.test(f));
const tmp = tempDir('earshot-units-');
afterAll(() => tmp.cleanup());

function withNode(text: string): string {
  return text.replace(/^(ExecStart=-?)\/usr\/bin\/node /m, `$1${process.execPath} `);
}

/** What `systemd-analyze verify` says about this unit text; [] means clean. */
function verify(name: string, text: string): string[] {
  const dir = mkdtempSync(join(tmp.dir, 'verify-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', LANG: 'C' },
  });
  if (r.error) throw r.error;
  // Lines about other units on this machine (dependencies systemd loaded along the way)
  // are not ours to judge; everything naming our file or our unit counts.
  return `${r.stdout}${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && (l.includes(file) || l.includes(name) || !/^\//.test(l)));
}

/** Key → every value it has (a key may repeat), comments and sections ignored. */
function directives(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    map.set(key, [...(map.get(key) ?? []), line.slice(eq + 1)]);
  }
  return map;
}

describe('systemd units', () => {
  it('has the earshot service', () => {
    expect(units).toContain('earshot.service');
  });

  it.each(units)('%s passes systemd-analyze verify without a word', (name) => {
    const text = withNode(readFileSync(join(unitDir, name), 'utf8'));
    expect(verify(name, text)).toEqual([]);
  });

  it('the same check catches a broken copy', () => {
    const text = withNode(readFileSync(join(unitDir, 'earshot.service'), 'utf8'));
    const unknownKey = text.replace('[Service]\n', '[Service]\nWatchDogSec=20s\n');
    expect(verify('earshot.service', unknownKey).join('\n')).toMatch(/Unknown key/i);
    const badValue = text.replace(/^Restart=.*$/m, 'Restart=sometimes');
    expect(verify('earshot.service', badValue).join('\n')).toMatch(/sometimes/);
    const missingProgram = text.replace(process.execPath, '/usr/bin/no-such-node');
    expect(verify('earshot.service', missingProgram).join('\n')).toMatch(/no-such-node/);
  });
});

describe('earshot.service', () => {
  const text = readFileSync(join(unitDir, 'earshot.service'), 'utf8');
  const d = directives(text);
  const one = (key: string) => d.get(key)?.at(-1);

  it('runs the daemon under the notify protocol with a watchdog', () => {
    expect(one('Type')).toBe('notify');
    // The notifier sends through a systemd-notify child process.
    expect(one('NotifyAccess')).toBe('all');
    expect(one('WatchdogSec')).toMatch(/^\d+s$/);
    expect(one('ExecStart')).toMatch(
      /^\/usr\/bin\/node (--\S+ )*\/opt\/earshot\/dist\/cli\/main\.js run --config \/etc\/earshot\/config\.yaml$/,
    );
    expect(one('Restart')).toBe('on-failure');
    expect(d.has('StartLimitIntervalSec') && d.has('StartLimitBurst')).toBe(true);
    expect(d.has('TimeoutStopSec')).toBe(true);
  });

  it('runs as its own user with the sound card and GPIO groups', () => {
    expect(one('User')).toBe('earshot');
    expect(one('SupplementaryGroups')?.split(/\s+/).sort()).toEqual(['audio', 'gpio']);
    expect(one('StateDirectory')).toBe('earshot');
    expect(one('ConfigurationDirectory')).toBe('earshot');
  });

  it('is hardened but still reaches ALSA and GPIO', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('SystemCallFilter')).toBeDefined();
    expect(d.get('SystemCallFilter')).toContain('@system-service');
    expect(one('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual(
      ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX'].sort(),
    );
    expect(one('DevicePolicy')).toBe('closed');
    expect(d.get('DeviceAllow')).toEqual(
      expect.arrayContaining(['char-alsa rw', 'char-gpiochip rw', '/dev/gpiomem rw']),
    );
    const rw = (d.get('ReadWritePaths') ?? []).join(' ');
    expect(rw).toContain('/sys/class/gpio');
    // V8's JIT needs writable-then-executable memory; these would hide the devices.
    expect(d.has('MemoryDenyWriteExecute')).toBe(false);
    expect(one('PrivateDevices') ?? 'no').toBe('no');
    expect(one('PrivateUsers') ?? 'no').toBe('no');
  });

  it("keeps systemd's own exposure rating low", () => {
    const file = join(mkdtempSync(join(tmp.dir, 'security-')), 'earshot.service');
    writeFileSync(file, withNode(text));
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', file], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0', LANG: 'C' },
    });
    const m = /Overall exposure level for earshot\.service: ([\d.]+)/.exec(r.stdout + r.stderr);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.5);
  });

  it('gives node flags on the command line that this node accepts without a word', () => {
    const flags = /^\/usr\/bin\/node ((?:--\S+ )*)/.exec(one('ExecStart') ?? '')![1]!.trim();
    expect(flags.split(' ')).toContain('--optimize-for-size');
    // The start-up collection (src/device/wiring.ts) needs gc exposed.
    expect(flags.split(' ')).toContain('--expose-gc');
    const run = (args: string[]) =>
      spawnSync(process.execPath, [...args, '-e', '0'], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
    const r = run(flags.split(' '));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // A flag this node does not know is refused, so the check above can fail.
    expect(run(['--optimise-for-size']).status).not.toBe(0);
  });

  it('gives node a small young generation and glibc two arenas, and node takes them', () => {
    const env: Record<string, string> = {};
    for (const line of d.get('Environment') ?? []) {
      const eq = line.indexOf('=');
      env[line.slice(0, eq)] = line.slice(eq + 1);
    }
    expect(env).toMatchObject({
      NODE_OPTIONS: expect.stringMatching(/--max-semi-space-size=\d+/),
      MALLOC_ARENA_MAX: '2',
      // Large blocks in their own mappings, freed tops of the heap returned.
      MALLOC_MMAP_THRESHOLD_: '65536',
      MALLOC_TRIM_THRESHOLD_: '65536',
    });
    // Node refuses V8 flags NODE_OPTIONS does not allow; this one must be accepted and
    // must hold: after churning through short-lived objects the young generation stays
    // small (V8's default lets it grow to 32 MiB here).
    const churn = `let keep = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 5e4) keep = []; }
      const s = require('v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      console.log(s.space_size / 1048576);`;
    const run = (extra: Record<string, string>) =>
      spawnSync(process.execPath, ['-e', churn], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '', ...extra },
      });
    const tuned = run(env);
    expect(tuned.status, tuned.stderr).toBe(0);
    const plain = run({});
    expect(Number(tuned.stdout)).toBeLessThanOrEqual(4);
    expect(Number(plain.stdout)).toBeGreaterThan(Number(tuned.stdout));
  });
});
