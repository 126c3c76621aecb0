import type {
  DeviceSnapshot,
  DeviceStateName,
  LedState,
  LinkStatus,
  PartProblem,
} from '../shared/device-status.js';

/** What the Now page shows, sent whole on every change (a few hundred bytes). */
export interface NowView {
  state: DeviceStateName;
  stateText: string;
  muted: boolean;
  canUnmute: boolean;
  leds: LedState[];
  linkText: string;
  mqttText: string;
  countersText: string;
  problems: PartProblem[];
}

/** Each state in words, for someone who has never seen a state machine. */
export const STATE_WORDS: Record<DeviceStateName, string> = {
  booting: 'Starting up',
  idle: 'Waiting for the wake word (nothing is sent)',
  listening: 'Listening: sending what it hears to the cloud',
  thinking: 'Waiting for the answer',
  speaking: 'Speaking the answer',
  muted: 'Muted: the microphone is off',
  offline: 'Offline: cannot reach the cloud (nothing is sent)',
  error: 'Something is wrong (see the problems)',
};

function linkWords(link: LinkStatus, host: string | undefined): string {
  const to = host ? ` (${host})` : '';
  switch (link.status) {
    case 'up':
      return `connected${to}`;
    case 'connecting':
      return `connecting${to}`;
    case 'disabled':
      return 'no cloud configured: uploads stay on the device';
    case 'down':
      return `not connected${to}${link.cause ? `: ${link.cause}` : ''}`;
  }
}

export function nowView(
  snapshot: DeviceSnapshot,
  leds: LedState[],
  mqtt: LinkStatus | undefined,
  allowUnmute: boolean,
): NowView {
  const c = snapshot.counters;
  return {
    state: snapshot.state,
    stateText: STATE_WORDS[snapshot.state],
    muted: snapshot.muted,
    canUnmute: allowUnmute,
    leds,
    linkText: linkWords(snapshot.link, snapshot.destination?.host),
    mqttText: mqtt ? linkWords(mqtt, undefined) : 'not configured',
    countersText: `${c.wakes} wake(s), ${c.uploads} upload(s) sent, ${c.uploadFailures} failed since start`,
    problems: snapshot.problems,
  };
}
