/** One LED as shown to a person: its role name and whether it is lit. */
export interface LedView {
  name: string;
  on: boolean;
}

const LIT = '●';
const DARK = '○';

/**
 * The LEDs as one terminal line, `● listening ○ mute ○ status`, for `earshot demo`
 * and `simulate`. Plain characters, so it reads the same in a log file.
 */
export function renderLeds(leds: readonly LedView[]): string {
  return leds.map((led) => `${led.on ? LIT : DARK} ${led.name}`).join(' ');
}
