import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  cpSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';

/**
 * A small stand-in for a Raspberry Pi OS card image, made without root or loop devices:
 * an MBR with a FAT boot partition (type c, FAT32 like the real one, written by
 * mformat) and an ext4 root partition (mke2fs -d on a side file, copied into place).
 * The boot partition holds what a Trixie image has there: config.txt, cmdline.txt and
 * the stock cloud-init seed. The gap before the first partition is random bytes, so a
 * stray write outside the boot partition shows up in a hash.
 */
export interface PiImage {
  path: string;
  size: number;
  /** Byte range of the FAT boot partition; undefined for an image without one. */
  boot?: { offset: number; size: number };
}

export interface PiImageOptions {
  /** FAT boot partition in MiB; 0 leaves it out (root partition only). FAT32 from 33 MiB. */
  bootMiB?: number;
  rootMiB?: number;
  /** MBR type of the boot partition (c: FAT32 LBA, as Raspberry Pi OS; e: FAT16 LBA). */
  bootType?: string;
  /** Files on the boot partition, replacing the defaults of the same name. */
  bootFiles?: Record<string, string>;
  /** Bytes of filler on the boot partition (to make it full). */
  fill?: number;
}

const MiB = 1024 * 1024;
const SECTOR = 512;
const FIRST = 8192; // first partition at 4 MiB, as on Raspberry Pi OS images

export const STOCK_CMDLINE =
  'console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n';

const STOCK_BOOT: Record<string, string> = {
  'config.txt': '# stock config.txt\ndtparam=audio=on\ncamera_auto_detect=1\n[all]\n',
  'cmdline.txt': STOCK_CMDLINE,
  'user-data': '#cloud-config\n# stock user-data: everything commented out\n',
  'meta-data': 'dsmode: local\ninstance_id: rpios-image\n',
  'network-config':
    'network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      optional: true\n',
};

export function makePiImage(path: string, options: PiImageOptions = {}): PiImage {
  const bootMiB = options.bootMiB ?? 64;
  const rootMiB = options.rootMiB ?? 16;
  const bootSectors = (bootMiB * MiB) / SECTOR;
  const rootStart = FIRST + bootSectors;
  const size = (rootStart + (rootMiB * MiB) / SECTOR) * SECTOR;
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', String(size), path]);

  const parts = [];
  if (bootMiB > 0) {
    parts.push(`start=${FIRST}, size=${bootSectors}, type=${options.bootType ?? 'c'}, bootable`);
  }
  parts.push(`start=${rootStart}, size=${(rootMiB * MiB) / SECTOR}, type=83`);
  execFileSync('sfdisk', ['-q', path], { input: `label: dos\n${parts.join('\n')}\n` });

  // The bootloader gap: random bytes after the MBR, up to the first partition.
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, randomBytes((FIRST - 1) * SECTOR), 0, undefined, SECTOR);
  } finally {
    closeSync(fd);
  }

  const work = `${path}.parts`;
  mkdirSync(work, { recursive: true });
  writeRoot(path, work, rootStart * SECTOR, rootMiB);
  if (bootMiB === 0) {
    rmSync(work, { recursive: true, force: true });
    return { path, size };
  }

  const boot = { offset: FIRST * SECTOR, size: bootSectors * SECTOR };
  const fat = `${path}@@${boot.offset}`;
  const fat32 = bootMiB >= 33 ? ['-F', '-c', '1'] : [];
  execFileSync('mformat', ['-i', fat, ...fat32, '-T', String(bootSectors), '-v', 'bootfs', '::'], {
    env: mtoolsEnv(),
  });
  const files = { ...STOCK_BOOT, ...options.bootFiles };
  const local = Object.entries(files).map(([name, text]) => {
    const file = join(work, name);
    writeFileSync(file, text);
    return file;
  });
  if (options.fill) {
    const filler = join(work, 'filler.bin');
    writeFileSync(filler, randomBytes(options.fill));
    local.push(filler);
  }
  execFileSync('mcopy', ['-o', '-i', fat, ...local, '::/'], { env: mtoolsEnv() });
  rmSync(work, { recursive: true, force: true });
  return { path, size, boot };
}

function writeRoot(image: string, work: string, offset: number, mib: number): void {
  const tree = join(work, 'rootfs');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  mkdirSync(join(tree, 'usr', 'bin'), { recursive: true });
  writeFileSync(
    join(tree, 'etc', 'os-release'),
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\n',
  );
  writeFileSync(join(tree, 'usr', 'bin', 'cloud-init'), '#!/usr/bin/python3\n');
  const ext4 = join(work, 'root.ext4');
  execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'rootfs', '-d', tree, ext4, `${mib}M`]);
  const fd = openSync(image, 'r+');
  try {
    writeSync(fd, readFileSync(ext4), 0, undefined, offset);
  } finally {
    closeSync(fd);
  }
}

export function mtoolsEnv(): NodeJS.ProcessEnv {
  return { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' };
}

/** A file from the boot partition, as bytes. */
export function readBootFile(img: PiImage, name: string): Buffer {
  return execFileSync('mtype', ['-i', `${img.path}@@${img.boot!.offset}`, `::/${name}`], {
    env: mtoolsEnv(),
  });
}

/** Every path under `dir` on the boot partition (directories end in `/`). */
export function listBoot(img: PiImage, dir = '/'): string[] {
  const out = execFileSync(
    'mdir',
    ['-i', `${img.path}@@${img.boot!.offset}`, '-/', '-b', `::${dir}`],
    {
      env: mtoolsEnv(),
      encoding: 'utf8',
    },
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^::/, ''));
}

/** Copies a directory out of the boot partition into `to`. */
export function extractBootDir(img: PiImage, dir: string, to: string): void {
  mkdirSync(to, { recursive: true });
  execFileSync('mcopy', ['-s', '-n', '-i', `${img.path}@@${img.boot!.offset}`, `::${dir}`, to], {
    env: mtoolsEnv(),
  });
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash of every byte of the image outside the boot partition. */
export function outsideBootHash(path: string, boot: { offset: number; size: number }): string {
  const bytes = readFileSync(path);
  return createHash('sha256')
    .update(bytes.subarray(0, boot.offset))
    .update(bytes.subarray(boot.offset + boot.size))
    .digest('hex');
}

/**
 * A built earshot tree as build-image.sh and install.sh expect it, without running the
 * TypeScript build: the real package files, hardware/, systemd/ and scripts, and a
 * stand-in dist/cli/main.js whose `config` and `board` commands run the real CLI from
 * src/ (through tsx), so a bad config is refused and a board's lines are worked out
 * exactly as the built CLI would.
 */
export function makeBundle(dir: string): string {
  mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, f), join(dir, f));
  for (const d of ['hardware', 'systemd', 'models']) {
    cpSync(join(repoRoot, d), join(dir, d), { recursive: true });
  }
  for (const f of ['install.sh', 'config.template.yaml']) {
    cpSync(join(repoRoot, 'scripts', f), join(dir, 'scripts', f));
  }
  const tsx = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href;
  const cli = join(repoRoot, 'src', 'cli', 'main.ts');
  const main = [
    '#!/usr/bin/env node',
    "import { spawnSync } from 'node:child_process';",
    'const args = process.argv.slice(2);',
    '// The commands the image builder and the installer use run the real CLI from src/.',
    "if (args[0] === 'config' || args[0] === 'board') {",
    `  const r = spawnSync(process.execPath, ['--import', ${JSON.stringify(tsx)}, ${JSON.stringify(cli)}, ...args], { stdio: 'inherit' });`,
    '  process.exit(r.status ?? 1);',
    '}',
    "console.log('earshot test bundle');",
    '',
  ].join('\n');
  writeFileSync(join(dir, 'dist', 'cli', 'main.js'), main);
  chmodSync(join(dir, 'dist', 'cli', 'main.js'), 0o755);
  return dir;
}
