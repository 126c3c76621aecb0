import { EarshotError, errorMessage } from '../shared/errors.js';
import { Apa102Strip } from './apa102-strip.js';
import { GPIO_ERRORS } from './errors.js';
import { OnoffBackend } from './onoff-backend.js';
import type { BackendFactory } from './port.js';
import { SimulatedBackend } from './simulated-backend.js';
import { openSpiDevice, type SpiOpener } from './spi.js';
import { SpiLedBackend } from './spi-led-backend.js';

/**
 * Builds backends by name; a profile with APA102 LEDs gets its SPI chain next to the
 * pins, opened with `openSpi`. When the chain cannot be opened but the pins can, its
 * LEDs run in memory and the part is degraded: the mute button must keep working.
 * Simulated pins get simulated LEDs too, unless `spiWhenSimulated` (tests that record
 * the chain's frames while pressing simulated buttons).
 */
export function backendFactoryWithSpi(
  openSpi: SpiOpener,
  spiWhenSimulated = false,
): BackendFactory {
  return async (name, context) => {
    const { profile } = context;
    const pins =
      name === 'onoff'
        ? await OnoffBackend.create({ chip: profile.chip, logger: context.logger })
        : new SimulatedBackend();
    const chain = profile.apa102;
    const usesChain = Object.values(profile.leds).some((l) => l.driver === 'apa102');
    if (!chain || !usesChain || (name === 'simulated' && !spiWhenSimulated)) return pins;
    try {
      const spi = await openSpi({ device: chain.device, speedHz: chain.speedHz });
      return new SpiLedBackend(pins, new Apa102Strip(spi, chain, context.brightnessPercent));
    } catch (err) {
      const e =
        err instanceof EarshotError ? err : new EarshotError(GPIO_ERRORS.spiIo, errorMessage(err));
      context.logger.warn(
        { code: e.code, hint: e.hint },
        `the LEDs on ${chain.device} are dark (${e.message}); buttons still work`,
      );
      return new SpiLedBackend(pins, undefined, { code: e.code, message: e.message });
    }
  };
}

export const defaultBackendFactory: BackendFactory = backendFactoryWithSpi(openSpiDevice);
