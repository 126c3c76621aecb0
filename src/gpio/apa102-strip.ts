import type { Apa102Profile } from '../config/board-profile.js';
import { DARK, encodeApa102, parseColor, type Pixel } from './apa102.js';
import type { Apa102LedSpec, Led, LedLook } from './port.js';
import type { SpiDevice } from './spi.js';

/**
 * One APA102 chain: keeps every pixel's value and writes the whole chain whenever an
 * LED on it changes (a chain has no per-pixel addressing). Each LED of the profile
 * owns some pixels; the rest stay dark. Writes are synchronous, so a lit listening
 * light is on the wire before the caller opens an upload (P2).
 */
export class Apa102Strip {
  private readonly pixels: Pixel[];
  private readonly leds = new Set<Led>();
  private closed = false;

  constructor(
    private readonly spi: SpiDevice,
    readonly chain: Apa102Profile,
    /** `gpio.brightness`, 1-100: scales every LED's level. */
    private readonly brightnessPercent = 100,
  ) {
    this.pixels = Array.from({ length: chain.count }, () => DARK);
    // A chain keeps what it was last sent (a crashed run may have left it lit).
    this.flush();
  }

  openLed(spec: Apa102LedSpec): Led {
    const level = Math.max(1, Math.round((spec.brightness * this.brightnessPercent) / 100));
    const fallback = parseColor(spec.color);
    const led: Led = {
      name: spec.name,
      set: (on: boolean, look?: LedLook) => {
        const rgb = look?.color ? parseColor(look.color) : fallback;
        const value: Pixel = on ? { ...rgb, brightness: level } : DARK;
        for (const i of spec.pixels) this.pixels[i] = value;
        this.flush();
      },
      close: () => {
        if (!this.leds.delete(led)) return;
        for (const i of spec.pixels) this.pixels[i] = DARK;
        this.flush();
      },
    };
    this.leds.add(led);
    return led;
  }

  /** The frame that is on the wire now. */
  frame(): Buffer {
    return encodeApa102(this.pixels);
  }

  /** Every pixel dark, then the device closed. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    for (const led of [...this.leds]) led.close();
    this.pixels.fill(DARK);
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.spi.close();
    }
  }

  private flush(): void {
    if (this.closed) return;
    this.spi.write(this.frame());
  }
}
