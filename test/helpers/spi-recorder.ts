import {
  backendFactoryWithSpi,
  decodeApa102,
  type BackendFactory,
  type SpiDevice,
  type SpiSpec,
} from '../../src/gpio/index.js';
import type { Clock } from '../../src/shared/clock.js';

export interface SpiFrame {
  /** The part's clock when the frame was written (ms). */
  at: number;
  hex: string;
}

/**
 * Stands in for `/dev/spidev0.1`: this machine has no SPI controller, so the one thing
 * that cannot exist here, the device file and its ioctl, is replaced by a recorder of
 * the bytes that would be clocked out. Everything above it (the strip, the part, the
 * patterns) is the real code. The real spi-device module is exercised separately
 * against a device node that is not SPI (gpio-spi-device.test.ts).
 */
export class SpiRecorder {
  readonly frames: SpiFrame[] = [];
  opened: SpiSpec | undefined;
  closed = false;
  /** Set to make `open` fail as a Pi without `dtparam=spi=on` would. */
  failOpen: Error | undefined;

  device(spec: SpiSpec, clock: Clock): SpiDevice {
    this.opened = spec;
    return {
      path: spec.device,
      write: (frame) => {
        if (this.closed) throw new Error('write after close');
        this.frames.push({ at: clock.now(), hex: frame.toString('hex') });
      },
      close: () => {
        this.closed = true;
      },
    };
  }

  /** The part's backends by name, with the APA102 chain on this recorder. */
  factory(): BackendFactory {
    return (name, context) =>
      backendFactoryWithSpi((spec) => {
        if (this.failOpen) throw this.failOpen;
        return this.device(spec, context.clock);
      }, true)(name, context);
  }

  /**
   * When a pixel was lit, as [on, off] seconds on the part's clock, in write order; a
   * window still open at the end runs to Infinity. Nothing decoded here comes from the
   * part's own LED events: this is what the chain was sent.
   */
  litWindows(pixel: number, count: number): Array<[number, number]> {
    const windows: Array<[number, number]> = [];
    let onAt: number | undefined;
    for (const f of this.frames) {
      const p = decodeApa102(Buffer.from(f.hex, 'hex'), count)[pixel]!;
      const lit = p.brightness > 0 && p.r + p.g + p.b > 0;
      const t = Math.round(f.at) / 1000;
      if (lit && onAt === undefined) onAt = t;
      if (!lit && onAt !== undefined) {
        windows.push([onAt, t]);
        onAt = undefined;
      }
    }
    if (onAt !== undefined) windows.push([onAt, Infinity]);
    return windows;
  }

  get last(): string | undefined {
    return this.frames.at(-1)?.hex;
  }
}
