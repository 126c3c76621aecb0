import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBoard, alsaCards } from '../../src/cli/doctor/board-checks.js';
import { checkGpio } from '../../src/cli/doctor/part-checks.js';
import { loadConfig } from '../../src/config/load.js';
import { backendFactoryWithSpi, type BackendFactory } from '../../src/gpio/index.js';
import { EarshotError } from '../../src/shared/errors.js';
import { loadBoardProfile } from '../../src/config/board-profile.js';
import { applyConfigTxt } from '../../src/config/board-setup.js';
import { tempDir } from '../helpers/paths.js';

// `earshot doctor`'s board check reads config.txt, /proc/device-tree and
// /proc/asound/cards. This machine is no Pi, so each case is a directory laid out as a
// Pi's would be (the check takes the root, as `--system-root` does).
const tmp = tempDir('earshot-doctor-board-');
afterAll(() => tmp.cleanup());
const v1 = loadBoardProfile('respeaker-2mic');
const v2 = loadBoardProfile('respeaker-2mic-v2');
let n = 0;

function pi(
  profile = v1,
  parts: { configTxt?: boolean; codec?: string; card?: string; overlay?: boolean } = {},
): string {
  const root = join(tmp.dir, `pi-${++n}`);
  mkdirSync(join(root, 'boot/firmware/overlays'), { recursive: true });
  const stock = '# stock\ndtparam=audio=on\n';
  writeFileSync(
    join(root, 'boot/firmware/config.txt'),
    parts.configTxt === false ? stock : applyConfigTxt(stock, profile),
  );
  if (parts.overlay)
    writeFileSync(join(root, 'boot/firmware/overlays', profile.setup!.overlayFile!), '');
  const node = join(root, 'proc/device-tree/soc/i2c@7e804000/codec@1a');
  mkdirSync(node, { recursive: true });
  writeFileSync(join(node, 'compatible'), `${parts.codec ?? 'wlf,wm8960'}\0`);
  mkdirSync(join(root, 'proc/asound'), { recursive: true });
  writeFileSync(
    join(root, 'proc/asound/cards'),
    ` 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones\n` +
      (parts.card === ''
        ? ''
        : ` 1 [${parts.card ?? 'seeed2micvoicec'}]: simple-card - seeed2micvoicec\n`),
  );
  return root;
}

describe('earshot doctor: board', () => {
  it('passes when the lines are there, the overlay is active and the card is present', async () => {
    expect(await checkBoard(v1, pi())).toMatchObject({
      status: 'pass',
      detail: 'respeaker-2mic: overlay active (wlf,wm8960), card seeed2micvoicec present',
    });
  });

  it('names the config.txt lines that are missing', async () => {
    const r = await checkBoard(v1, pi(v1, { configTxt: false }));
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(
      /lacks dtparam=i2c_arm=on, dtparam=i2s=on, dtparam=spi=on, dtoverlay=wm8960-soundcard,alsaname=seeed2micvoicec, gpio=17=ip,pu$/,
    );
    expect(r.hint).toMatch(/install\.sh/);
  });

  it('says when the firmware did not apply the overlay', async () => {
    const r = await checkBoard(v1, pi(v1, { codec: 'something,else' }));
    expect(r).toMatchObject({
      status: 'fail',
      detail: 'the overlay is not active: no wlf,wm8960 codec in the device tree',
    });
    expect(r.hint).toMatch(/reboot/);
  });

  it('says when the overlay is active but there is no card', async () => {
    const r = await checkBoard(v1, pi(v1, { card: '' }));
    expect(r).toMatchObject({
      status: 'fail',
      detail: 'no sound card seeed2micvoicec (cards: Headphones)',
    });
    expect(r.hint).toMatch(/dmesg \| grep -i wm8960/);
  });

  it('v2.0: an overlay Raspberry Pi OS does not ship is named, with what to do', async () => {
    const r = await checkBoard(v2, pi(v2, { codec: 'ti,tlv320aic3104' }));
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/respeaker-2mic-v2_0-overlay\.dtbo is missing/);
    expect(r.hint).toMatch(/seeed-linux-dtoverlays/);
    const ok = await checkBoard(v2, pi(v2, { codec: 'ti,tlv320aic3104', overlay: true }));
    expect(ok.status).toBe('pass');
  });

  it('reads card ids from /proc/asound/cards', () => {
    expect(
      alsaCards(
        ' 0 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0\n                      vc4-hdmi-0\n 2 [seeed2micvoicec]: x - y\n',
      ),
    ).toEqual(['vc4hdmi0', 'seeed2micvoicec']);
  });
});

describe('earshot doctor: gpio on a board with SPI LEDs', () => {
  // Pins simulated (no GPIO here), the SPI device missing as on a Pi without
  // dtparam=spi=on: the part opens the button and reports the dark LEDs.
  it('warns that the LEDs are dark, with the code and what to do', async () => {
    const config = loadConfig({ overrides: ['board=respeaker-2mic', 'gpio.backend=onoff'] });
    const noSpi: BackendFactory = (_name, context) =>
      backendFactoryWithSpi(() => {
        throw new EarshotError('E_SPI_UNAVAILABLE', '/dev/spidev0.1 does not exist');
      }, true)('simulated', context);
    const r = await checkGpio(config, noSpi);
    expect(r).toMatchObject({
      status: 'warn',
      detail:
        'board respeaker-2mic: buttons open, LEDs dark: /dev/spidev0.1 does not exist [E_SPI_UNAVAILABLE]',
    });
    expect(r.hint).toMatch(/dtparam=spi=on/);
  });
});
