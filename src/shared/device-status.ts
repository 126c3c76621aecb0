/**
 * What the device is and does, as the parts that report it (MQTT, systemd STATUS,
 * doctor, the CLI) see it. Defined here, not in `device/`, so a reporting part can
 * use the types without importing the device.
 */
export const DEVICE_STATES = [
  'booting',
  'idle',
  'listening',
  'thinking',
  'speaking',
  'muted',
  'offline',
  'error',
] as const;

export type DeviceStateName = (typeof DEVICE_STATES)[number];

export type LinkStatusName = 'disabled' | 'connecting' | 'up' | 'down';

export interface LinkStatus {
  status: LinkStatusName;
  /** Why the link is not up, e.g. `ECONNREFUSED`, `heartbeat timeout`. */
  cause?: string;
}

export interface WakeInfo {
  /** Wall time, ISO 8601. */
  time: string;
  keyword: string;
  score: number;
}

/** A part that is degraded or failed: `gpio` running simulated, `wake` fell back … */
export interface PartProblem {
  part: string;
  code: string;
  message: string;
}

export interface DeviceSnapshot {
  state: DeviceStateName;
  muted: boolean;
  /** Output volume, percent. */
  volume: number;
  link: LinkStatus;
  lastWake?: WakeInfo;
  counters: {
    wakes: number;
    uploads: number;
    uploadFailures: number;
    falseWakes: number;
    droppedFrames: number;
  };
  /** "Don't save recordings" (P7). */
  dontSaveRecordings: boolean;
  problems: PartProblem[];
  /** The newest ledger entry: its sequence number and line hash (published as an anchor). */
  ledgerHead?: { seq: number; hash: string };
  /** The wake word listened for (a name from the wake-word choices). */
  wakeWord?: string;
  /** Where uploads go, and whether the retention choice travels with them (P7). */
  destination?: { protocol: string; host: string; retentionSent: boolean };
}

/** Commands from outside (MQTT, buttons mapped by the device), validated before use. */
export type DeviceCommand =
  | { type: 'mute'; muted: boolean }
  | { type: 'volume'; volume: number }
  | { type: 'listen' }
  | { type: 'stop' }
  | { type: 'retention'; dontSaveRecordings: boolean }
  | { type: 'falseWake' }
  /** Listen for this wake word from now on (a name from the wake-word choices). */
  | { type: 'wakeWord'; keyword: string }
  /** Speak this text (needs a cloud that speaks texts: Home Assistant). */
  | { type: 'announce'; text: string };

/** One LED as it is shown now: the pattern it plays (`off`, `solid`, `blink` …) and its colour. */
export interface LedState {
  name: string;
  pattern: string;
  /** `#rrggbb` for an LED with a colour. */
  color?: string;
}
