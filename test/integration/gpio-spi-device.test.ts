import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSpiDevice } from '../../src/gpio/spi.js';
import { repoRoot } from '../helpers/paths.js';
import { sandboxUnavailable } from '../helpers/gpio-sandbox.js';

// The real spi-device module (native, optional) opening /dev/spidev0.1. This machine
// has no SPI controller, so in a private mount namespace /dev is a tmpfs in which
// spidev0.1 is a character device that is not SPI (the null device): spi-device's
// open() succeeds and its mode ioctl fails with ENOTTY, as on a Pi where the profile
// names the wrong device. The frames themselves are checked byte for byte through the
// part's own port (gpio-apa102.test.ts).
const tmp = mkdtempSync(join(tmpdir(), 'earshot-spi-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const skip = sandboxUnavailable();

describe('spidev through spi-device', () => {
  it('a missing device is named with the config.txt line that makes it', async () => {
    await expect(openSpiDevice({ device: '/dev/spidev9.7', speedHz: 1_000_000 })).rejects.toThrow(
      expect.objectContaining({
        code: 'E_SPI_UNAVAILABLE',
        message: '/dev/spidev9.7 does not exist',
        hint: expect.stringContaining('dtparam=spi=on'),
      }),
    );
  });

  it('a path that is not spidev is refused before anything is opened', async () => {
    await expect(openSpiDevice({ device: '/dev/null', speedHz: 1_000_000 })).rejects.toThrow(
      expect.objectContaining({
        code: 'E_SPI_UNAVAILABLE',
        message: expect.stringMatching(/not a spidev/),
      }),
    );
  });

  it.skipIf(skip)(
    `the native module reports a device that is not SPI (${skip ?? 'sandboxed'})`,
    () => {
      const script = join(tmp, 'probe.mjs');
      writeFileSync(
        script,
        `const { openSpiDevice } = await import(${JSON.stringify(join(repoRoot, 'dist/gpio/spi.js'))});
try {
  await openSpiDevice({ device: '/dev/spidev0.1', speedHz: 8000000 });
  console.log(JSON.stringify({ opened: true }));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
`,
      );
      const run = spawnSync(
        'unshare',
        [
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/spidev0.1 c 1 3 && exec "$0" "$1"',
          process.execPath,
          script,
        ],
        { encoding: 'utf8' },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        code: 'E_SPI_UNAVAILABLE',
        message: '/dev/spidev0.1 is not an SPI device (ENOTTY)',
      });
    },
  );
});
