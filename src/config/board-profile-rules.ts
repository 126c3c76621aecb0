import type { z } from 'zod';
import type { DeviceStateName } from '../shared/device-status.js';
import type { RawBoardProfile } from './board-profile.js';

/**
 * The rules of a board profile that no single key's schema can state: they look across
 * keys (a pin used twice, a pattern for an LED that does not exist) or carry a privacy
 * promise (the listening and mute LEDs exist and are steadily lit). Each broken rule is
 * an issue on the key to fix, so the loader's error names them all at once.
 */

/** Rules across keys: the LEDs the privacy promises need, pins used once, known LEDs. */
export function checkProfileRules(p: RawBoardProfile, ctx: z.RefinementCtx): void {
  for (const required of ['listening', 'mute']) {
    if (!p.leds[required]) {
      ctx.addIssue({
        code: 'custom',
        path: ['leds', required],
        message: `required (the ${required} LED carries a privacy promise; use driver: virtual if the board has none)`,
      });
    }
  }
  const owners = new Map<number, string>();
  const pixelOwners = new Map<number, string>();
  const claim = (pin: number | undefined, key: string): void => {
    if (pin === undefined) return;
    const owner = owners.get(pin);
    if (owner) {
      ctx.addIssue({
        code: 'custom',
        path: key.split('.'),
        message: `pin ${pin} is already used by ${owner}`,
      });
    } else owners.set(pin, key);
  };
  for (const [ledName, led] of Object.entries(p.leds)) {
    if (led.driver === 'gpio' && led.pin === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['leds', ledName, 'pin'],
        message: 'required for driver: gpio',
      });
    }
    if (led.driver === 'gpio') claim(led.pin, `leds.${ledName}.pin`);
    if (led.driver === 'apa102') checkPixels(p, ledName, pixelOwners, ctx);
    else if (led.pixels !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['leds', ledName, 'pixels'],
        message: 'only for driver: apa102',
      });
    }
  }
  claim(p.apa102?.powerPin, 'apa102.powerPin');
  claim(p.buttons.mute.pin, 'buttons.mute.pin');
  claim(p.buttons.action?.pin, 'buttons.action.pin');
  if (p.buttons.action && p.buttons.action.edge !== 'both') {
    ctx.addIssue({
      code: 'custom',
      path: ['buttons', 'action', 'edge'],
      message: 'must be both: telling a long press from a short one needs the release',
    });
  }
  for (const [state, perLed] of Object.entries(p.patterns ?? {})) {
    for (const ledName of Object.keys(perLed ?? {})) {
      if (!p.leds[ledName]) {
        ctx.addIssue({
          code: 'custom',
          path: ['patterns', state, ledName],
          message: `no LED named ${ledName} in leds (have: ${Object.keys(p.leds).join(', ')})`,
        });
      }
    }
  }
  // P1 and P2 promise a steadily lit LED, not one that is dark half of the time.
  const promise = (state: DeviceStateName, led: string): void => {
    const pattern = p.patterns?.[state]?.[led];
    if (pattern && pattern.type !== 'solid') {
      ctx.addIssue({
        code: 'custom',
        path: ['patterns', state, led],
        message: `must be solid (privacy: the ${led} LED is steadily lit while ${state})`,
      });
    }
  };
  promise('listening', 'listening');
  promise('muted', 'mute');
}

/** An APA102 LED needs the chain, and pixels on it that no other LED uses. */
function checkPixels(
  p: RawBoardProfile,
  ledName: string,
  owners: Map<number, string>,
  ctx: z.RefinementCtx,
): void {
  const led = p.leds[ledName]!;
  if (!p.apa102) {
    ctx.addIssue({
      code: 'custom',
      path: ['apa102'],
      message: `required for driver: apa102 (LED ${ledName}): the SPI device and pixel count`,
    });
  }
  if (!led.pixels) {
    ctx.addIssue({
      code: 'custom',
      path: ['leds', ledName, 'pixels'],
      message: 'required for driver: apa102',
    });
    return;
  }
  for (const pixel of led.pixels) {
    if (p.apa102 && pixel >= p.apa102.count) {
      ctx.addIssue({
        code: 'custom',
        path: ['leds', ledName, 'pixels'],
        message: `pixel ${pixel} is past the end of the chain (apa102.count ${p.apa102.count})`,
      });
    }
    const owner = owners.get(pixel);
    if (owner) {
      ctx.addIssue({
        code: 'custom',
        path: ['leds', ledName, 'pixels'],
        message: `pixel ${pixel} is already used by LED ${owner}`,
      });
    } else owners.set(pixel, ledName);
  }
}
