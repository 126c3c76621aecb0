import { EarshotError } from '../shared/errors.js';
import { GPIO_ERRORS } from './errors.js';
import type { Button, ButtonSpec, EdgeListener, GpioBackend, Led, LedSpec } from './port.js';
import { renderLeds, type LedView } from './render.js';

interface SimLed {
  spec: LedSpec;
  on: boolean;
  /** The colour it was last lit with, for LEDs that have one. */
  color?: string | undefined;
}

interface SimButton {
  spec: ButtonSpec;
  pressed: boolean;
  listener?: EdgeListener;
}

/**
 * Pins in memory, for tests, `earshot demo` and `simulate`, and as the fallback when
 * real GPIO is unavailable. Buttons are driven from outside with `press`/`release`
 * (one clean edge each) or `edge` (any raw edge, e.g. contact bounce); the part above
 * debounces them exactly as it would real edges, on its Clock.
 */
export class SimulatedBackend implements GpioBackend {
  readonly name = 'simulated' as const;
  private readonly leds = new Map<string, SimLed>();
  private readonly buttons = new Map<string, SimButton>();

  openLed(spec: LedSpec): Led {
    const led: SimLed = { spec, on: false };
    this.leds.set(spec.name, led);
    return {
      name: spec.name,
      set: (on, look) => {
        if (this.leds.get(spec.name) !== led) return;
        led.on = on;
        led.color = on && spec.driver === 'apa102' ? (look?.color ?? spec.color) : undefined;
      },
      close: () => {
        led.on = false;
        if (this.leds.get(spec.name) === led) this.leds.delete(spec.name);
      },
    };
  }

  openButton(spec: ButtonSpec): Button {
    const button: SimButton = { spec, pressed: false };
    this.buttons.set(spec.name, button);
    return {
      name: spec.name,
      read: () => button.pressed,
      watch: (onEdge) => {
        button.listener = onEdge;
      },
      close: () => {
        delete button.listener;
        if (this.buttons.get(spec.name) === button) this.buttons.delete(spec.name);
      },
    };
  }

  close(): void {
    for (const led of this.leds.values()) led.on = false;
    this.leds.clear();
    for (const button of this.buttons.values()) delete button.listener;
    this.buttons.clear();
  }

  /** A clean press: one edge to "pressed". Debounce and long press still apply above. */
  press(name: string): void {
    this.edge(name, true);
  }

  release(name: string): void {
    this.edge(name, false);
  }

  /** Injects one raw edge, as a bouncing contact would produce. */
  edge(name: string, pressed: boolean): void {
    const button = this.buttons.get(name);
    if (!button) {
      throw new EarshotError(
        GPIO_ERRORS.noSuchButton,
        `no simulated button named ${name} (have: ${[...this.buttons.keys()].join(', ') || 'none'})`,
      );
    }
    button.pressed = pressed;
    button.listener?.(pressed);
  }

  /** The colour a simulated colour LED is lit with; undefined when dark or plain. */
  colorOf(name: string): string | undefined {
    return this.leds.get(name)?.color;
  }

  /** Whether a simulated LED is lit; undefined for an LED that is not open. */
  isOn(name: string): boolean | undefined {
    return this.leds.get(name)?.on;
  }

  /** The open LEDs in the order they were opened. */
  ledViews(): LedView[] {
    return [...this.leds.values()].map((l) => ({ name: l.spec.name, on: l.on }));
  }

  /** The LEDs as one terminal line, e.g. `● listening ○ mute ○ status`. */
  render(): string {
    return renderLeds(this.ledViews());
  }

  /** BCM pins currently claimed, the way sysfs would list exported pins. */
  get claimedPins(): number[] {
    return [
      ...[...this.leds.values()].flatMap((l) => (l.spec.driver === 'gpio' ? [l.spec.pin] : [])),
      ...[...this.buttons.values()].map((b) => b.spec.pin),
    ].sort((a, b) => a - b);
  }

  get buttonNames(): string[] {
    return [...this.buttons.keys()];
  }
}
