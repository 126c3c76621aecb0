/** The GPIO part: LEDs and buttons behind a small port, with onoff and simulated backends. */
export {
  Gpio,
  defaultBackendFactory,
  type ButtonEvent,
  type GpioEvents,
  type GpioOptions,
  type GpioStatus,
  type LedEvent,
} from './gpio.js';
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
  LedSpec,
} from './port.js';
export { renderLeds, type LedView } from './render.js';
export { SimulatedBackend } from './simulated-backend.js';
