import type { Apa102Strip } from './apa102-strip.js';
import type { Button, ButtonSpec, GpioBackend, Led, LedSpec } from './port.js';

/**
 * A board whose LEDs sit on an SPI chain and whose buttons are pins (the ReSpeaker
 * HATs): APA102 LEDs go to the strip, pins and buttons to the pin backend (onoff, or
 * simulated in tests). When the chain could not be opened, `strip` is undefined and
 * its LEDs run in memory on the pin backend, so the mute button keeps working; the
 * part reports the cause as degraded.
 */
export class SpiLedBackend implements GpioBackend {
  private powerPin: Led | undefined;

  constructor(
    readonly pins: GpioBackend,
    readonly strip: Apa102Strip | undefined,
    readonly degraded: { code: string; message: string } | undefined = undefined,
  ) {
    const power = strip?.chain.powerPin;
    if (power !== undefined) {
      // Some HATs (4-Mic) switch the LEDs' supply with a pin: on while the chain is used.
      this.powerPin = pins.openLed({
        driver: 'gpio',
        name: 'apa102-power',
        pin: power,
        activeLow: false,
      });
      this.powerPin.set(true);
    }
  }

  get name(): GpioBackend['name'] {
    return this.pins.name;
  }

  openLed(spec: LedSpec): Led {
    if (spec.driver === 'apa102' && this.strip) return this.strip.openLed(spec);
    return this.pins.openLed(spec);
  }

  openButton(spec: ButtonSpec): Button {
    return this.pins.openButton(spec);
  }

  close(): void {
    try {
      this.strip?.close();
    } finally {
      this.powerPin?.close();
      this.powerPin = undefined;
      this.pins.close();
    }
  }
}
