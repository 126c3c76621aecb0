import { spawnSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import {
  existsSync,
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
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  extractBootDir,
  listBoot,
  makeBundle,
  makePiImage,
  outsideBootHash,
  readBootFile,
  sha256,
  STOCK_CMDLINE,
  type PiImage,
} from '../helpers/image-fixture.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

// scripts/build-image.sh on a small synthetic Raspberry Pi OS image (MBR, FAT32 boot
// partition with the stock cloud-init seed, ext4 root), checked with mtools: what the
// first boot will find on the boot partition, and that nothing else changed.
const script = join(repoRoot, 'scripts', 'build-image.sh');
const tmp = tempDir('earshot-image-');
afterAll(() => tmp.cleanup());

const PASSPHRASE = 'correct horse battery staple';
const SSID = 'Kitchen "Wi-Fi"';
const DEVICE_KEY =
  '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKEYMATERIALNEVERPRINTED\n-----END PRIVATE KEY-----\n';
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx3examplekeyexamplekeyexample maker@laptop';

let bundle: string;
const file = (name: string, text: string) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  bundle = makeBundle(join(tmp.dir, 'bundle'));
  file('wifi.pass', `${PASSPHRASE}\n`);
  file('device.key', DEVICE_KEY);
  file('device.crt', '-----BEGIN CERTIFICATE-----\nDEVICECERT\n-----END CERTIFICATE-----\n');
  file('ca.crt', '-----BEGIN CERTIFICATE-----\nCACERT\n-----END CERTIFICATE-----\n');
  file('id.pub', `${SSH_KEY}\n`);
});

function build(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env, cwd: tmp.dir });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout + r.stderr };
}

/** A fresh input image in its own directory; `dir` is where OUT goes too. */
function fresh(name: string, options?: Parameters<typeof makePiImage>[1]) {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const img = makePiImage(join(dir, 'in.img'), options);
  return { dir, img, hash: sha256(readFileSync(img.path)), out: join(dir, 'out.img') };
}

const yamlFile = (img: PiImage, name: string) =>
  parse(readBootFile(img, name).toString('utf8')) as Record<string, unknown>;

describe('build-image.sh with every option', () => {
  let input: ReturnType<typeof fresh>;
  let result: { code: number | null; out: string };
  let out: PiImage;

  beforeAll(() => {
    input = fresh('full');
    result = build([
      input.img.path,
      input.out,
      '--bundle',
      bundle,
      '--hostname',
      'Kitchen-1',
      '--wifi-ssid',
      SSID,
      '--wifi-password-file',
      join(tmp.dir, 'wifi.pass'),
      '--wifi-country',
      'gb',
      '--ssh-key',
      join(tmp.dir, 'id.pub'),
      '--user',
      'maker',
      '--cloud-url',
      'wss://cloud.example.net/earshot',
      '--device-cert',
      join(tmp.dir, 'device.crt'),
      '--device-key',
      join(tmp.dir, 'device.key'),
      '--ca',
      join(tmp.dir, 'ca.crt'),
      '--board',
      'respeaker-2mic',
      '--wake-word',
      'hey_jarvis',
    ]);
    out = { ...input.img, path: input.out };
  }, 60_000);

  it('succeeds, leaves the input byte-identical and changes nothing outside the boot partition', () => {
    expect(result.code, result.out).toBe(0);
    expect(sha256(readFileSync(input.img.path))).toBe(input.hash);
    expect(statSync(input.out).size).toBe(input.img.size);
    expect(outsideBootHash(input.out, input.img.boot!)).toBe(
      outsideBootHash(input.img.path, input.img.boot!),
    );
    expect(readdirSync(input.dir).sort()).toEqual(['in.img', 'out.img']);
  });

  it('writes the image readable by its owner only: it holds the key, the PSK and the token', () => {
    expect(statSync(input.out).mode & 0o777).toBe(0o600);
  });

  it('never shows the Wi-Fi passphrase, its PSK or the device key', () => {
    const psk = pbkdf2Sync(PASSPHRASE, SSID, 4096, 32, 'sha1').toString('hex');
    expect(result.out).not.toContain(PASSPHRASE);
    expect(result.out).not.toContain(psk);
    expect(result.out).not.toContain('KEYMATERIAL');
    // The passphrase itself is nowhere in the image, only its PSK.
    expect(readFileSync(input.out).includes(Buffer.from(PASSPHRASE))).toBe(false);
  });

  it('writes a user-data that sets the host, the login and runs the installer', () => {
    const text = readBootFile(out, 'user-data').toString('utf8');
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const ud = parse(text) as Record<string, unknown>;
    expect(ud.hostname).toBe('Kitchen-1');
    const users = ud.users as Array<Record<string, unknown>>;
    expect(users).toHaveLength(1);
    expect(users[0]!.name).toBe('maker');
    expect(users[0]!.ssh_authorized_keys).toEqual([SSH_KEY]);
    expect(users[0]!.lock_passwd).toBe(true);
    expect(ud.ssh_pwauth).toBe(false);
    const runcmd = ud.runcmd as string[][];
    expect(runcmd).toContainEqual(['rfkill', 'unblock', 'wifi']);
    expect(runcmd.at(-1)).toEqual([
      'bash',
      '/boot/firmware/earshot/scripts/install.sh',
      '--first-boot',
    ]);
  });

  it('writes a netplan v2 network-config with the PSK and the country', () => {
    const nc = yamlFile(out, 'network-config') as {
      network: { version: number; wifis: { wlan0: Record<string, unknown> } };
    };
    expect(nc.network.version).toBe(2);
    const wlan = nc.network.wifis.wlan0;
    expect(wlan['regulatory-domain']).toBe('GB');
    expect(wlan.dhcp4).toBe(true);
    const aps = wlan['access-points'] as Record<string, { password: string }>;
    expect(Object.keys(aps)).toEqual([SSID]);
    expect(aps[SSID]!.password).toBe(
      pbkdf2Sync(PASSPHRASE, SSID, 4096, 32, 'sha1').toString('hex'),
    );
  });

  it('gives cloud-init a new instance and keeps cmdline.txt one line, plus the country', () => {
    const md = yamlFile(out, 'meta-data');
    expect(String(md['instance-id'])).toMatch(/^earshot-/);
    expect(md.dsmode).toBe('local');
    expect(md['local-hostname']).toBe('Kitchen-1');
    const cmdline = readBootFile(out, 'cmdline.txt').toString('utf8');
    expect(cmdline).toBe(`${STOCK_CMDLINE.trimEnd()} cfg80211.ieee80211_regdom=GB\n`);
  });

  it('puts the bundle with config and certificates on the boot partition', () => {
    const files = listBoot(out, '/earshot');
    for (const f of [
      '/earshot/.earshot-bundle',
      '/earshot/dist/cli/main.js',
      '/earshot/package.json',
      '/earshot/package-lock.json',
      '/earshot/systemd/earshot.service',
      '/earshot/hardware/generic.yaml',
      '/earshot/scripts/install.sh',
      '/earshot/config.yaml',
      '/earshot/tls/device.crt',
      '/earshot/tls/device.key',
      '/earshot/tls/ca.crt',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.includes('node_modules'))).toBe(false);
    expect(readBootFile(out, 'earshot/tls/device.key').toString()).toBe(DEVICE_KEY);
    expect(
      readBootFile(out, 'earshot/scripts/install.sh').equals(
        readFileSync(join(repoRoot, 'scripts', 'install.sh')),
      ),
    ).toBe(true);
  });

  it("adds the board's overlay and SPI lines to config.txt, once, after the stock lines", () => {
    const text = readBootFile(out, 'config.txt').toString();
    const stock = readBootFile(input.img, 'config.txt').toString();
    expect(text.startsWith(stock)).toBe(true);
    const block = text.slice(stock.length).split('\n');
    expect(block.slice(1, 9)).toEqual([
      "# earshot board setup: begin (board respeaker-2mic; written by earshot's installer, removed by install.sh --uninstall)",
      '[all]',
      'dtparam=i2c_arm=on',
      'dtparam=i2s=on',
      'dtparam=spi=on',
      'dtoverlay=wm8960-soundcard,alsaname=seeed2micvoicec',
      'gpio=17=ip,pu',
      '# earshot board setup: end',
    ]);
    expect(result.out).toContain('dtoverlay=wm8960-soundcard,alsaname=seeed2micvoicec');
  });

  it('replaces its config.txt block when an image is built again for another board', () => {
    const again = join(tmp.dir, 'full', 'again.img');
    const r = build([out.path, again, '--bundle', bundle, '--board', 'respeaker-2mic-v2']);
    expect(r.code, r.out).toBe(0);
    const text = readBootFile({ ...out, path: again }, 'config.txt').toString();
    expect(text.match(/# earshot board setup: begin/g)).toHaveLength(1);
    expect(text).toContain('dtoverlay=respeaker-2mic-v2_0-overlay');
    expect(text).not.toContain('wm8960');
    // Raspberry Pi OS does not ship the v2.0 overlay: the build says what to do.
    expect(r.out).toMatch(/no overlays\/respeaker-2mic-v2_0-overlay\.dtbo/);
    expect(r.out).toMatch(/seeed-linux-dtoverlays/);
  }, 60_000);

  it('writes a valid earshot config carrying the settings', () => {
    const cfgFile = file(
      'extracted-config.yaml',
      readBootFile(out, 'earshot/config.yaml').toString(),
    );
    const cfg = loadConfig({ file: cfgFile });
    expect(cfg.cloud.url).toBe('wss://cloud.example.net/earshot');
    expect(cfg.cloud.cert).toBe('/etc/earshot/tls/device.crt');
    expect(cfg.cloud.key).toBe('/etc/earshot/tls/device.key');
    expect(cfg.cloud.ca).toBe('/etc/earshot/tls/ca.crt');
    expect(cfg.board).toBe('respeaker-2mic');
    expect(cfg.wake.keywords.map((k) => [k.name, k.model])).toEqual([['hey_jarvis', 'hey_jarvis']]);
    expect(cfg.device.id).toBe('kitchen-1');
    expect(cfg.gpio.backend).toBe('onoff');
  });

  it('is what install.sh --first-boot installs from, removing the secrets from the card', () => {
    const boot = join(tmp.dir, 'firstboot', 'boot');
    const root = join(tmp.dir, 'firstboot', 'root');
    extractBootDir(out, '/earshot', boot);
    mkdirSync(root, { recursive: true });
    const src = join(boot, 'earshot');
    const r = spawnSync(
      'bash',
      [join(src, 'scripts', 'install.sh'), '--first-boot', '--root', root, '--no-npm'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const installed = readFileSync(join(root, 'etc', 'earshot', 'config.yaml'), 'utf8');
    expect(installed).toBe(readBootFile(out, 'earshot/config.yaml').toString());
    expect(readFileSync(join(root, 'etc', 'earshot', 'tls', 'device.key'), 'utf8')).toBe(
      DEVICE_KEY,
    );
    expect(statSync(join(root, 'etc', 'earshot', 'tls', 'device.key')).mode & 0o777).toBe(0o640);
    expect(existsSync(join(root, 'opt', 'earshot', 'dist', 'cli', 'main.js'))).toBe(true);
    // The HAT's card becomes ALSA's default for capture and playback.
    const asound = readFileSync(join(root, 'etc', 'asound.conf'), 'utf8');
    expect(asound).toContain('capture.pcm "plughw:CARD=seeed2micvoicec,DEV=0"');
    expect(asound).toContain('playback.pcm "plughw:CARD=seeed2micvoicec,DEV=0"');
    expect(asound).toContain('card seeed2micvoicec');
    expect(readlinkSync(join(root, 'usr', 'local', 'bin', 'earshot'))).toBe(
      '/opt/earshot/dist/cli/main.js',
    );
    expect(existsSync(src)).toBe(false); // the whole bundle is gone after a good install
    expect(r.stdout + r.stderr).not.toContain('KEYMATERIAL');
  });
});

describe('build-image.sh with no options', () => {
  it('only adds the installer; network-config and cmdline.txt stay stock', () => {
    const input = fresh('plain');
    const r = build([input.img.path, input.out, '--bundle', bundle]);
    expect(r.code, r.out).toBe(0);
    const out = { ...input.img, path: input.out };
    const ud = yamlFile(out, 'user-data');
    expect(ud.users).toBeUndefined();
    expect(ud.runcmd).toEqual([
      ['bash', '/boot/firmware/earshot/scripts/install.sh', '--first-boot'],
    ]);
    for (const f of ['network-config', 'cmdline.txt', 'config.txt']) {
      expect(readBootFile(out, f).equals(readBootFile(input.img, f)), f).toBe(true);
    }
    expect(listBoot(out, '/earshot')).toContain('/earshot/config.yaml');
    expect(listBoot(out, '/earshot').some((f) => f.startsWith('/earshot/tls'))).toBe(false);
    expect(outsideBootHash(input.out, input.img.boot!)).toBe(
      outsideBootHash(input.img.path, input.img.boot!),
    );
  }, 60_000);

  it('decompresses an .img.xz input into the output', () => {
    const input = fresh('xz');
    spawnSync('xz', ['-0', '-T1', '-k', input.img.path]);
    const xzHash = sha256(readFileSync(`${input.img.path}.xz`));
    const r = build([
      `${input.img.path}.xz`,
      input.out,
      '--bundle',
      bundle,
      '--hostname',
      'xz-box',
    ]);
    expect(r.code, r.out).toBe(0);
    expect(sha256(readFileSync(`${input.img.path}.xz`))).toBe(xzHash);
    const out = { ...input.img, path: input.out };
    expect(yamlFile(out, 'user-data').hostname).toBe('xz-box');
    expect(outsideBootHash(input.out, input.img.boot!)).toBe(
      outsideBootHash(input.img.path, input.img.boot!),
    );
  }, 60_000);
});

describe('build-image.sh refuses, leaving the input untouched and no output behind', () => {
  function refused(
    dir: string,
    input: string,
    out: string,
    args: string[],
    message: RegExp,
    env?: NodeJS.ProcessEnv,
  ) {
    const before = sha256(readFileSync(input));
    const listing = readdirSync(dir).sort();
    const r = build([input, out, '--bundle', bundle, ...args], env);
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(message);
    expect(sha256(readFileSync(input))).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(listing);
    return r.out;
  }

  it('a file that is not a disk image', () => {
    const dir = join(tmp.dir, 'not-image');
    mkdirSync(dir, { recursive: true });
    const input = join(dir, 'notes.img');
    writeFileSync(input, 'these are not the sectors you are looking for\n'.repeat(100));
    refused(dir, input, join(dir, 'out.img'), [], /not a disk image/);
  });

  it('an image without a FAT boot partition', () => {
    const input = fresh('no-boot', { bootMiB: 0 });
    refused(input.dir, input.img.path, input.out, [], /no FAT boot partition/);
  });

  it('a boot partition too full for the bundle (mcopy fails)', () => {
    const input = fresh('full-boot', {
      bootMiB: 4,
      bootType: 'e',
      fill: 4 * 1024 * 1024 - 120 * 1024,
    });
    refused(input.dir, input.img.path, input.out, [], /boot partition is full: .* KiB are free/);
  }, 60_000);

  it('a config the schema refuses (plain ws://)', () => {
    const input = fresh('bad-config');
    const out = refused(
      input.dir,
      input.img.path,
      input.out,
      ['--cloud-url', 'ws://cloud.example.net/'],
      /config is not valid/,
    );
    expect(out).toMatch(/cloud\.url/);
  }, 60_000);

  it('a Wi-Fi passphrase that cannot be one, without printing it', () => {
    const input = fresh('bad-wifi');
    const pass = file('short.pass', 'sh0rt!\n');
    const out = refused(
      input.dir,
      input.img.path,
      input.out,
      ['--wifi-ssid', 'Net', '--wifi-password-file', pass, '--wifi-country', 'DE'],
      /8 to 63 printable/,
    );
    expect(out).not.toContain('sh0rt!');
  }, 60_000);

  it('Wi-Fi without a country, an existing output, a missing tool', () => {
    const input = fresh('misc');
    const pass = join(tmp.dir, 'wifi.pass');
    refused(
      input.dir,
      input.img.path,
      input.out,
      ['--wifi-ssid', 'Net', '--wifi-password-file', pass],
      /needs --wifi-country/,
    );
    refused(input.dir, input.img.path, input.img.path, ['--force'], /must not be IN/);
    writeFileSync(input.out, 'an earlier build');
    refused(input.dir, input.img.path, input.out, [], /out\.img exists/);
    expect(readFileSync(input.out, 'utf8')).toBe('an earlier build');
    rmSync(input.out);
    // A PATH with every program this machine has, except mtools' mcopy.
    const bin = join(tmp.dir, 'bin-without-mcopy');
    mkdirSync(bin, { recursive: true });
    const seen = new Set<string>();
    for (const d of `${process.env.PATH}:/usr/sbin:/sbin`.split(':')) {
      if (!d || !existsSync(d)) continue;
      for (const name of readdirSync(d)) {
        if (name === 'mcopy' || seen.has(name)) continue;
        seen.add(name);
        symlinkSync(join(d, name), join(bin, name));
      }
    }
    refused(input.dir, input.img.path, input.out, [], /missing required tools: mcopy/, {
      ...process.env,
      PATH: bin,
    });
  }, 60_000);
});
