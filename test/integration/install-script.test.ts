import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/image-fixture.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

// scripts/install.sh run by bash, against a temporary root (--root) and as a dry run.
// The programs that would change this machine (apt-get, systemctl, useradd, npm …) are
// stubs first on PATH that only log their calls, so a test sees exactly what ran.
const tmp = tempDir('earshot-install-');
afterAll(() => tmp.cleanup());

const STUBS = ['apt-get', 'systemctl', 'useradd', 'groupadd', 'usermod', 'userdel', 'npm'];
let src: string;
let stubs: string;
const log = () => join(tmp.dir, 'calls.log');

beforeAll(() => {
  src = makeBundle(join(tmp.dir, 'src'));
  stubs = join(tmp.dir, 'stubs');
  mkdirSync(stubs);
  for (const name of STUBS) {
    const extra = name === 'npm' ? 'if [ "$1" = ci ]; then mkdir -p node_modules; fi\n' : '';
    writeFileSync(
      join(stubs, name),
      `#!/bin/sh\necho "${name} $* [$(pwd)]" >> '${log()}'\n${extra}exit 0\n`,
    );
    chmodSync(join(stubs, name), 0o755);
  }
});

function install(args: string[], opts: { path?: string } = {}) {
  rmSync(log(), { force: true });
  const r = spawnSync('bash', [join(src, 'scripts', 'install.sh'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${opts.path ?? stubs}:${process.env.PATH}` },
  });
  if (r.error) throw r.error;
  const calls = existsSync(log()) ? readFileSync(log(), 'utf8').trim().split('\n') : [];
  return { code: r.status, stdout: r.stdout, out: r.stdout + r.stderr, calls };
}

function freshRoot(name: string): string {
  const root = join(tmp.dir, name);
  mkdirSync(root, { recursive: true });
  return root;
}

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('install.sh --dry-run', () => {
  it('prints every action for this machine and changes nothing', () => {
    const host = ['/opt/earshot', '/etc/earshot', '/etc/systemd/system/earshot.service'];
    // Precondition: earshot is not installed here, or "nothing changed" proves nothing.
    expect(host.filter((p) => existsSync(p))).toEqual([]);
    const r = install(['--dry-run']);
    expect(r.code, r.out).toBe(0);
    expect(r.calls).toEqual([]);
    expect(host.filter((p) => existsSync(p))).toEqual([]);
    const lines = r.stdout.split('\n');
    const action = (re: RegExp) =>
      expect(
        lines.some((l) => l.startsWith('+ ') && re.test(l)),
        String(re),
      ).toBe(true);
    action(/^\+ apt-get .*install .*alsa-utils/);
    action(/^\+ useradd --system .*--groups audio,gpio,spi earshot$/);
    action(
      /^\+ install -m 0640 -o root -g earshot .*config\.template\.yaml \/etc\/earshot\/config\.yaml$/,
    );
    action(/^\+ cp -R .*\/dist \/opt\/earshot\/dist$/);
    action(
      /^\+ node .*\/dist\/cli\/main\.js dashboard cert --set device\.stateDir=\/var\/lib\/earshot$/,
    );
    action(
      /^\+ \(cd \/opt\/earshot && env ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --ignore-scripts/,
    );
    action(/^\+ \(cd \/opt\/earshot && npm rebuild epoll spi-device speaker/);
    action(
      /^\+ install -m 0644 .*\/systemd\/earshot\.service \/etc\/systemd\/system\/earshot\.service$/,
    );
    action(/^\+ systemctl daemon-reload$/);
    action(/^\+ systemctl enable earshot\.service$/);
    action(/^\+ systemctl restart earshot\.service$/);
  });

  it('points the unit at a Node.js that is not /usr/bin/node, with a drop-in', () => {
    const bin = join(tmp.dir, 'other-node');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'node'))) symlinkSync(process.execPath, join(bin, 'node'));
    const r = install(['--dry-run', '--no-packages'], { path: `${bin}:${stubs}` });
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toContain('+ write /etc/systemd/system/earshot.service.d/10-node.conf');
    // The unit's command line, node flags included, with the other node.
    const unitExec = /^ExecStart=\/usr\/bin\/node (.*)$/m.exec(
      readFileSync(join(repoRoot, 'systemd/earshot.service'), 'utf8'),
    )![1]!;
    expect(unitExec).toMatch(/^--\S+ .*\/opt\/earshot\/dist\/cli\/main\.js run/);
    expect(r.stdout).toContain(`ExecStart=${bin}/node ${unitExec}\n`);
    expect(r.calls).toEqual([]);
  });

  it('with --root, prints and changes nothing under the root either', () => {
    const root = freshRoot('dry-root');
    const r = install(['--dry-run', '--root', root]);
    expect(r.code, r.out).toBe(0);
    expect(tree(root)).toEqual([]);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain(
      `+ ln -sfn /etc/systemd/system/earshot.service ${root}/etc/systemd/system/multi-user.target.wants/earshot.service`,
    );
  });
});

describe('install.sh --root', () => {
  let root: string;
  beforeAll(() => {
    root = freshRoot('root');
  });

  it('puts the runtime, config and unit where they belong, enabled, without touching the host', () => {
    const r = install(['--root', root]);
    expect(r.code, r.out).toBe(0);
    for (const f of [
      'opt/earshot/dist/cli/main.js',
      'opt/earshot/package.json',
      'opt/earshot/package-lock.json',
      'opt/earshot/hardware/generic.yaml',
      'opt/earshot/models/wake-verifier/alexa_v0.1.verifier.json',
      'opt/earshot/systemd/earshot.service',
      'opt/earshot/scripts/install.sh',
      'etc/earshot/config.yaml',
      'etc/systemd/system/earshot.service',
    ]) {
      expect(existsSync(join(root, f)), f).toBe(true);
    }
    const wants = join(root, 'etc/systemd/system/multi-user.target.wants/earshot.service');
    expect(lstatSync(wants).isSymbolicLink()).toBe(true);
    expect(readlinkSync(wants)).toBe('/etc/systemd/system/earshot.service');
    expect(readFileSync(join(root, 'etc/earshot/config.yaml'), 'utf8')).toBe(
      readFileSync(join(repoRoot, 'scripts/config.template.yaml'), 'utf8'),
    );
    expect(statSync(join(root, 'etc/earshot/config.yaml')).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(root, 'etc/systemd/system/earshot.service'), 'utf8')).toBe(
      readFileSync(join(repoRoot, 'systemd/earshot.service'), 'utf8'),
    );
    // Only npm ran, in the runtime directory; nothing asked the host's systemd or apt.
    expect(r.calls).toEqual([
      `npm ci --omit=dev --ignore-scripts --no-audit --no-fund [${root}/opt/earshot]`,
      `npm rebuild epoll spi-device speaker --foreground-scripts [${root}/opt/earshot]`,
    ]);
  });

  it('on a re-run keeps the config, updates the runtime and skips an unchanged npm ci', () => {
    const config = join(root, 'etc/earshot/config.yaml');
    writeFileSync(config, 'board: generic\n# edited by the owner\n');
    const main = join(src, 'dist/cli/main.js');
    const original = readFileSync(main, 'utf8');
    writeFileSync(main, `${original}// version 2\n`);
    try {
      const r = install(['--root', root]);
      expect(r.code, r.out).toBe(0);
      expect(readFileSync(config, 'utf8')).toBe('board: generic\n# edited by the owner\n');
      expect(r.out).toMatch(/keeping .*config\.yaml/);
      expect(readFileSync(join(root, 'opt/earshot/dist/cli/main.js'), 'utf8')).toContain(
        'version 2',
      );
      expect(r.calls).toEqual([]);
    } finally {
      writeFileSync(main, original);
    }
  });

  it('--uninstall removes runtime and unit but keeps config and ledger', () => {
    mkdirSync(join(root, 'var/lib/earshot'), { recursive: true });
    writeFileSync(join(root, 'var/lib/earshot/ledger.jsonl'), '{"seq":1}\n');
    const r = install(['--uninstall', '--root', root]);
    expect(r.code, r.out).toBe(0);
    expect(existsSync(join(root, 'opt/earshot'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/earshot.service'))).toBe(false);
    expect(
      existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/earshot.service')),
    ).toBe(false);
    expect(readFileSync(join(root, 'etc/earshot/config.yaml'), 'utf8')).toContain(
      'edited by the owner',
    );
    expect(readFileSync(join(root, 'var/lib/earshot/ledger.jsonl'), 'utf8')).toBe('{"seq":1}\n');
    expect(r.calls).toEqual([]);
  });

  it('--uninstall --purge removes config and ledger too', () => {
    expect(install(['--root', root, '--no-npm']).code).toBe(0);
    const r = install(['--uninstall', '--purge', '--root', root]);
    expect(r.code, r.out).toBe(0);
    for (const p of [
      'opt/earshot',
      'etc/earshot',
      'var/lib/earshot',
      'etc/systemd/system/earshot.service',
    ]) {
      expect(existsSync(join(root, p)), p).toBe(false);
    }
  });
});

describe('install.sh: the board set-up and the CLI on PATH', () => {
  const STOCK = '# stock config.txt\ndtparam=audio=on\n[cm4]\notg_mode=1\n';
  let root: string;
  let config: string;
  beforeAll(() => {
    root = freshRoot('board');
    mkdirSync(join(root, 'boot/firmware'), { recursive: true });
    writeFileSync(join(root, 'boot/firmware/config.txt'), STOCK);
    config = join(tmp.dir, 'respeaker.yaml');
    writeFileSync(config, 'board: respeaker-2mic\n');
  });
  const txt = () => readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8');
  const BLOCK = [
    '',
    "# earshot board setup: begin (board respeaker-2mic; written by earshot's installer, removed by install.sh --uninstall)",
    '[all]',
    'dtparam=i2c_arm=on',
    'dtparam=i2s=on',
    'dtparam=spi=on',
    'dtoverlay=wm8960-soundcard,alsaname=seeed2micvoicec',
    'gpio=17=ip,pu',
    '# earshot board setup: end',
    '',
  ].join('\n');

  it('--dry-run shows the config.txt lines and the ALSA default, and writes neither', () => {
    const r = install(['--dry-run', '--root', root, '--no-npm', '--config', config]);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toContain(`+ write ${root}/boot/firmware/config.txt (mode -):`);
    expect(r.stdout).toContain('    dtoverlay=wm8960-soundcard,alsaname=seeed2micvoicec');
    expect(r.stdout).toContain(`+ write ${root}/etc/asound.conf (mode 0644):`);
    expect(r.stdout).toContain('      capture.pcm "plughw:CARD=seeed2micvoicec,DEV=0"');
    expect(r.stdout).toContain(
      `+ ln -sfn /opt/earshot/dist/cli/main.js ${root}/usr/local/bin/earshot`,
    );
    expect(txt()).toBe(STOCK);
    expect(existsSync(join(root, 'etc/asound.conf'))).toBe(false);
  });

  it('writes the block after the stock lines, the ALSA default, and links earshot', () => {
    const r = install(['--root', root, '--no-npm', '--config', config]);
    expect(r.code, r.out).toBe(0);
    expect(txt()).toBe(STOCK + BLOCK);
    const asound = readFileSync(join(root, 'etc/asound.conf'), 'utf8');
    expect(asound).toMatch(/^# Written by earshot's installer for the board respeaker-2mic/);
    expect(asound).toContain(
      'pcm.!default {\n  type asym\n  capture.pcm "plughw:CARD=seeed2micvoicec,DEV=0"',
    );
    const link = join(root, 'usr/local/bin/earshot');
    expect(readlinkSync(link)).toBe('/opt/earshot/dist/cli/main.js');
    expect(statSync(join(root, 'opt/earshot/dist/cli/main.js')).mode & 0o111).toBe(0o111);
  });

  it('a re-run changes nothing', () => {
    const before = txt();
    const r = install(['--root', root, '--no-npm']);
    expect(r.code, r.out).toBe(0);
    expect(txt()).toBe(before);
    expect(r.out).toContain('already has the board');
    expect(r.out).toContain('already makes the board');
  });

  it('--uninstall gives back the stock config.txt, removes its asound.conf and the link', () => {
    const r = install(['--uninstall', '--root', root]);
    expect(r.code, r.out).toBe(0);
    expect(txt()).toBe(STOCK);
    expect(existsSync(join(root, 'etc/asound.conf'))).toBe(false);
    expect(existsSync(join(root, 'usr/local/bin/earshot'))).toBe(false);
  });

  it('keeps an asound.conf it did not write, and says what to do', () => {
    writeFileSync(join(root, 'etc/asound.conf'), 'pcm.!default { type hw card 1 }\n');
    const r = install(['--root', root, '--no-npm']);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(join(root, 'etc/asound.conf'), 'utf8')).toBe(
      'pcm.!default { type hw card 1 }\n',
    );
    expect(r.out).toMatch(/keeping your .*asound\.conf.*seeed2micvoicec/);
    expect(install(['--uninstall', '--root', root]).code).toBe(0);
    expect(existsSync(join(root, 'etc/asound.conf'))).toBe(true);
    expect(txt()).toBe(STOCK);
  });
});

describe('install.sh with a user database under --root', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'creates the user and gpio group there with useradd --prefix',
    () => {
      const root = freshRoot('with-users');
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\naudio:x:29:\n');
      writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n');
      writeFileSync(join(root, 'etc/gshadow'), 'root:*::\naudio:*::\n');
      // The real useradd/groupadd this time (they only write under the prefix).
      const path = join(tmp.dir, 'npm-only');
      mkdirSync(path, { recursive: true });
      const r = install(['--root', root, '--no-npm'], { path });
      expect(r.code, r.out).toBe(0);
      const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
      expect(passwd).toMatch(
        /^earshot:x:\d+:\d+:earshot daemon:\/var\/lib\/earshot:\/usr\/sbin\/nologin$/m,
      );
      const group = readFileSync(join(root, 'etc/group'), 'utf8');
      expect(group).toMatch(/^gpio:x:\d+:earshot$/m);
      expect(group).toMatch(/^audio:x:29:earshot$/m);
      const gid = Number(/^earshot:x:(\d+):/m.exec(group)![1]);
      expect(statSync(join(root, 'etc/earshot/config.yaml')).gid).toBe(gid);
      expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^earshot:/m); // the host's is untouched
      const purge = install(['--uninstall', '--purge', '--root', root], { path });
      expect(purge.code, purge.out).toBe(0);
      expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).not.toMatch(/^earshot:/m);
    },
  );
});

describe('install.sh refuses', () => {
  it('a source tree that was not built', () => {
    const bare = join(tmp.dir, 'unbuilt');
    mkdirSync(join(bare, 'scripts'), { recursive: true });
    writeFileSync(join(bare, 'scripts/install.sh'), readFileSync(join(src, 'scripts/install.sh')));
    const r = spawnSync(
      'bash',
      [join(bare, 'scripts/install.sh'), '--root', freshRoot('unbuilt-root')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/dist\/cli\/main\.js is missing: build .*npm run build/);
  });

  it('--first-boot outside a bundle, and --purge without --uninstall', () => {
    const root = freshRoot('refuse-root');
    const a = install(['--first-boot', '--root', root]);
    expect(a.code).not.toBe(0);
    expect(a.out).toMatch(/--first-boot runs only from a bundle/);
    const b = install(['--purge', '--root', root]);
    expect(b.code).not.toBe(0);
    expect(b.out).toMatch(/--purge goes with --uninstall/);
    expect(tree(root)).toEqual([]);
  });
});

describe('shell scripts', () => {
  it('pass shellcheck', () => {
    const scripts = ['install.sh', 'build-image.sh'].map((f) => join(repoRoot, 'scripts', f));
    const lib = join(repoRoot, 'scripts', 'lib');
    if (existsSync(lib))
      scripts.push(
        ...readdirSync(lib)
          .filter((f) => f.endsWith('.sh'))
          .map((f) => join(lib, f)),
      );
    const r = spawnSync('shellcheck', scripts, { encoding: 'utf8' });
    if (r.error) throw r.error;
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
