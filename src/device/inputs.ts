import type { DeviceCommand } from '../shared/device-status.js';
import type { DeviceEvent } from './states.js';

/** A press on one of the device's buttons, as the GPIO part reports it. */
export interface ButtonInput {
  name: string;
  kind: 'press' | 'long';
}

/**
 * What a button means to the device: the mute button mutes and unmutes, the action
 * button talks (or ends the utterance, or stops a reply). Long presses have no meaning
 * yet: `undefined`.
 */
export function buttonEvent(button: ButtonInput): DeviceEvent | undefined {
  if (button.kind !== 'press') return undefined;
  if (button.name === 'mute') return { type: 'mute' };
  if (button.name === 'action') return { type: 'talk' };
  return undefined;
}

/** What a validated command from outside (MQTT) means to the device. */
export function commandEvent(cmd: DeviceCommand): DeviceEvent {
  switch (cmd.type) {
    case 'mute':
      return { type: 'mute', muted: cmd.muted };
    case 'listen':
      return { type: 'talk' };
    case 'stop':
      return { type: 'stop' };
    case 'volume':
      return { type: 'volume', volume: cmd.volume };
    case 'retention':
      return { type: 'retention', dontSaveRecordings: cmd.dontSaveRecordings };
    case 'falseWake':
      return { type: 'falseWake' };
    case 'announce':
      return { type: 'announce', text: cmd.text };
    case 'wakeWord':
      return { type: 'wakeWord', keyword: cmd.keyword };
  }
}
