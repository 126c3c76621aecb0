import type { DeviceStateName } from '../shared/device-status.js';

/** Why an utterance was opened. */
export type Trigger =
  | { kind: 'wake'; keyword: string; score: number; frameIndex: number }
  | { kind: 'button' }
  | { kind: 'followup' };

/** Why the device stopped capturing an utterance. */
export type EndReason = 'vad' | 'maxLength' | 'noSpeech' | 'cloud' | 'button';

/**
 * The one device state. Each variant carries only what that state needs; there are
 * no flags elsewhere that together mean a state.
 */
export type DeviceState =
  | { name: 'booting' }
  | { name: 'idle' }
  | { name: 'listening'; trigger: Trigger }
  | { name: 'thinking' }
  | { name: 'speaking'; expectSpeech: boolean }
  | { name: 'muted' }
  | { name: 'offline'; cause: string }
  | { name: 'error'; part: string; cause: string };

/** Facts the machine remembers across states: the link and failed critical parts. */
export interface Model {
  state: DeviceState;
  /** `pending`: not yet connected once; `disabled`: no cloud configured (local sink). */
  link: 'pending' | 'up' | 'down' | 'disabled';
  linkCause: string;
  /** Critical parts that are down (capture, ledger …), oldest first. */
  failed: ReadonlyArray<{ part: string; cause: string }>;
}

export type DeviceEvent =
  | { type: 'booted' }
  | { type: 'wake'; keyword: string; score: number; frameIndex: number }
  | { type: 'talk' }
  | { type: 'stop' }
  | { type: 'mute'; muted?: boolean }
  | { type: 'speechEnded'; reason: EndReason }
  | { type: 'uploadFailed'; code: string; cause: string }
  | { type: 'replyStarted' }
  | { type: 'replyEnded'; expectSpeech: boolean; hadAudio: boolean }
  | { type: 'playbackDone'; error?: string }
  | { type: 'replyTimeout' }
  | { type: 'linkUp' }
  | { type: 'linkDown'; cause: string }
  | { type: 'partFailed'; part: string; cause: string }
  | { type: 'partRecovered'; part: string };

export type Effect =
  /** Show the state on the LEDs. Always the first effect of a state change (P2). */
  | { type: 'showState'; state: DeviceStateName }
  | { type: 'openCapture' }
  | { type: 'closeCapture' }
  /** Reset the wake detector's context (after mute, so stale audio cannot fire). */
  | { type: 'resetWake' }
  | { type: 'openUpload'; trigger: Trigger }
  | { type: 'endUpload'; reason: EndReason }
  | { type: 'abortUpload'; reason: string }
  /** The upload cannot go on (link down, a part failed): reported as failed, never resent. */
  | { type: 'failUpload'; reason: string }
  | { type: 'armReplyTimer' }
  | { type: 'cancelReplyTimer' }
  | { type: 'stopPlayback' }
  | { type: 'earcon'; name: 'wake' | 'error' | 'mute' | 'unmute' };

export interface Transition {
  model: Model;
  effects: Effect[];
}

export const initialModel = (link: Model['link'] = 'pending'): Model => ({
  state: { name: 'booting' },
  link,
  linkCause: '',
  failed: [],
});
