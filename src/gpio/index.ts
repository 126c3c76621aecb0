/** The GPIO part: LEDs and buttons behind a small port, with onoff and simulated backends. */
export {
  Gpio,
  type ButtonEvent,
  type GpioEvents,
  type GpioOptions,
  type GpioStatus,
  type LedEvent,
} from './gpio.js';
export { backendFactoryWithSpi, defaultBackendFactory } from './backends.js';
export type { ButtonKind } from './button-watcher.js';
export {
  DEFAULT_SYSFS_GPIO_ROOT,
  HEADER_CHIP_LABELS,
  listGpioChips,
  resolveHeaderChip,
  type GpioChip,
} from './chip.js';
export { GPIO_ERRORS } from './errors.js';
export { OnoffBackend, importOnoff, type OnoffBackendOptions } from './onoff-backend.js';
export type {
  BackendFactory,
  BackendName,
  Button,
  ButtonSpec,
  GpioBackend,
  Led,
  LedLook,
  LedSpec,
} from './port.js';
export { renderLeds, type LedView } from './render.js';
export { SimulatedBackend } from './simulated-backend.js';
export { Apa102Strip } from './apa102-strip.js';
export { SpiLedBackend } from './spi-led-backend.js';
export {
  openSpiDevice,
  SPI_GROUP_HINT,
  type SpiDevice,
  type SpiOpener,
  type SpiSpec,
} from './spi.js';
export { decodeApa102, encodeApa102, type Pixel } from './apa102.js';
