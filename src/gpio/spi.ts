import { constants, accessSync, existsSync } from 'node:fs';
import { EarshotError, errorCode, errorMessage } from '../shared/errors.js';
import { GPIO_ERRORS } from './errors.js';

/**
 * The SPI port: one device file of the kernel's spidev interface (`/dev/spidevB.C`),
 * written a whole frame at a time. The real one goes through the `spi-device` module,
 * whose ioctl sets the clock: a plain write() would run at the device tree's maximum
 * (125 MHz on a Pi), far past what an APA102 chain takes.
 */
export interface SpiDevice {
  readonly path: string;
  /** Sends one frame; synchronous, so that an LED is lit before the caller goes on (P2). */
  write(frame: Buffer): void;
  close(): void;
}

export interface SpiSpec {
  device: string;
  speedHz: number;
}

export type SpiOpener = (spec: SpiSpec) => SpiDevice | Promise<SpiDevice>;

/** The part of spi-device's API used here, declared locally so the module stays optional. */
interface SpiDeviceModule {
  MODE0: number;
  openSync(
    bus: number,
    device: number,
    options?: { mode?: number; maxSpeedHz?: number },
  ): {
    transferSync(
      message: Array<{ sendBuffer: Buffer; byteLength: number; speedHz?: number }>,
    ): void;
    closeSync(): void;
  };
}

export const SPI_GROUP_HINT =
  'add the service user to the spi group (sudo usermod -aG spi earshot) and restart the service';

/** `/dev/spidev0.1` → bus 0, chip select 1. */
export function parseSpidevPath(path: string): { bus: number; chipSelect: number } {
  const m = /^\/dev\/spidev(\d+)\.(\d+)$/.exec(path);
  if (!m) {
    throw new EarshotError(GPIO_ERRORS.spiUnavailable, `not a spidev device path: ${path}`, {
      hint: 'the board profile names it as /dev/spidevB.C, e.g. /dev/spidev0.1',
    });
  }
  return { bus: Number(m[1]), chipSelect: Number(m[2]) };
}

/**
 * Opens a spidev device with spi-device (loaded only now: it is native and optional).
 * Every way it can fail becomes an EarshotError with a code and a hint.
 */
export async function openSpiDevice(
  spec: SpiSpec,
  load: () => Promise<SpiDeviceModule> = importSpiDevice,
): Promise<SpiDevice> {
  const { bus, chipSelect } = parseSpidevPath(spec.device);
  if (!existsSync(spec.device)) {
    throw new EarshotError(GPIO_ERRORS.spiUnavailable, `${spec.device} does not exist`, {
      hint: 'enable SPI: dtparam=spi=on in /boot/firmware/config.txt (the installer writes it for boards with SPI LEDs), then reboot',
    });
  }
  try {
    accessSync(spec.device, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new EarshotError(GPIO_ERRORS.spiPermission, `no permission to use ${spec.device}`, {
      cause: err,
      hint: SPI_GROUP_HINT,
    });
  }
  const spi = await load();
  let handle: ReturnType<SpiDeviceModule['openSync']>;
  try {
    handle = spi.openSync(bus, chipSelect, { mode: spi.MODE0, maxSpeedHz: spec.speedHz });
  } catch (err) {
    throw spiError(err, spec.device);
  }
  return {
    path: spec.device,
    write: (frame) =>
      handle.transferSync([{ sendBuffer: frame, byteLength: frame.length, speedHz: spec.speedHz }]),
    close: () => handle.closeSync(),
  };
}

export async function importSpiDevice(specifier = 'spi-device'): Promise<SpiDeviceModule> {
  try {
    const mod = (await import(specifier)) as SpiDeviceModule & { default?: SpiDeviceModule };
    const spi = typeof mod.openSync === 'function' ? mod : mod.default;
    if (!spi || typeof spi.openSync !== 'function') throw new Error('spi-device has no openSync');
    return spi;
  } catch (err) {
    throw new EarshotError(GPIO_ERRORS.spiModule, `cannot load spi-device: ${errorMessage(err)}`, {
      cause: err,
      hint: 'install or rebuild it on the device (npm rebuild spi-device); it is an optional dependency with a native part',
    });
  }
}

function spiError(err: unknown, device: string): EarshotError {
  const errno = errorCode(err);
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new EarshotError(GPIO_ERRORS.spiPermission, `no permission to use ${device}`, {
      cause: err,
      hint: SPI_GROUP_HINT,
    });
  }
  if (errno === 'ENOTTY' || errno === 'EINVAL') {
    return new EarshotError(
      GPIO_ERRORS.spiUnavailable,
      `${device} is not an SPI device (${errno})`,
      {
        cause: err,
        hint: 'check the device in the board profile and that SPI is enabled (dtparam=spi=on)',
      },
    );
  }
  return new EarshotError(GPIO_ERRORS.spiIo, `cannot open ${device}: ${errorMessage(err)}`, {
    cause: err,
    hint: 'check the kernel log (journalctl -k) and dtparam=spi=on in config.txt',
  });
}
