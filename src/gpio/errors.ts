import type { ErrorCode } from '../shared/error-codes.js';
import { EarshotError, errorCode, errorMessage } from '../shared/errors.js';

/**
 * Stable codes for every way real GPIO can be unavailable, each with a hint a person
 * can act on. The part falls back to simulated pins on any of them when
 * `gpio.onUnavailable` is `simulate`, and reports the code.
 */
export const GPIO_ERRORS = {
  /** No sysfs GPIO here (not a Pi, or a kernel without CONFIG_GPIO_SYSFS). */
  unavailable: 'E_GPIO_UNAVAILABLE',
  /** The service user may not write the sysfs files. */
  permission: 'E_GPIO_PERMISSION',
  /** The pin is claimed by a kernel driver or another program. */
  busy: 'E_GPIO_BUSY',
  /** The chip has no such line. */
  invalidPin: 'E_GPIO_PIN_INVALID',
  /** No gpiochip with a known label: cannot map BCM numbers to sysfs numbers. */
  chipNotFound: 'E_GPIO_CHIP_NOT_FOUND',
  /** The optional `onoff` module (native `epoll`) is missing or built for another CPU. */
  module: 'E_GPIO_MODULE',
  /** Any other failure while configuring a pin. */
  io: 'E_GPIO_IO',
  /** No spidev device (SPI not enabled, or not an SPI device). */
  spiUnavailable: 'E_SPI_UNAVAILABLE',
  /** The service user may not open the spidev device. */
  spiPermission: 'E_SPI_PERMISSION',
  /** The optional `spi-device` module is missing or built for another CPU. */
  spiModule: 'E_SPI_MODULE',
  /** Any other failure opening or writing the SPI device. */
  spiIo: 'E_SPI_IO',
  /** A simulated press for a button the profile does not have. */
  noSuchButton: 'E_GPIO_NO_SUCH_BUTTON',
} as const satisfies Record<string, ErrorCode>;

export const GPIO_GROUP_HINT =
  'add the service user to the gpio group (sudo usermod -aG gpio earshot) and restart the service';

/** Says which pin (and its sysfs number) a failure is about. */
export interface PinRef {
  role: string;
  bcm: number;
  sysfs: number;
}

/** Turns an errno from exporting or configuring a pin into an EarshotError with a hint. */
export function pinError(err: unknown, pin: PinRef): EarshotError {
  if (err instanceof EarshotError) return err;
  const errno = errorCode(err);
  const which = `GPIO ${pin.bcm} (sysfs ${pin.sysfs}) for ${pin.role}`;
  const options = (hint: string) => ({ cause: err, hint });
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return new EarshotError(
        GPIO_ERRORS.permission,
        `no permission to use ${which}: ${errno}`,
        options(GPIO_GROUP_HINT),
      );
    case 'EBUSY':
      return new EarshotError(
        GPIO_ERRORS.busy,
        `${which} is busy: claimed by a kernel driver or another program`,
        options(
          `check dtoverlay/dtparam lines in /boot/firmware/config.txt (SPI, I2S, 1-wire use pins) and \`pinctrl get ${pin.bcm}\`, stop other GPIO programs, or choose another pin in the board profile`,
        ),
      );
    case 'EINVAL':
      return new EarshotError(
        GPIO_ERRORS.invalidPin,
        `${which} does not exist on this GPIO chip`,
        options(
          'check the pin numbers (BCM, not header positions) and the chip in the board profile',
        ),
      );
    case 'ENOENT':
      return new EarshotError(
        GPIO_ERRORS.unavailable,
        `sysfs GPIO files for ${which} are missing`,
        options(
          'is this a Raspberry Pi with sysfs GPIO (/sys/class/gpio)? otherwise set gpio.backend: simulated',
        ),
      );
    default:
      return new EarshotError(
        GPIO_ERRORS.io,
        `cannot set up ${which}: ${errorMessage(err)}`,
        options('check the kernel log (journalctl -k) and the wiring of this pin'),
      );
  }
}
