import { describe, expect, it } from 'vitest';
import { transition } from '../../src/device/machine.js';
import {
  initialModel,
  type DeviceEvent,
  type DeviceState,
  type Effect,
  type Model,
  type Utterance,
} from '../../src/device/states.js';

// Announcements (a text the cloud speaks) and the failures of a reply while it plays,
// by table: the announcement is the speaker's, never the microphone's (P1, P2).

const FORMAT = { sampleRate: 22050, channels: 1, bitsPerSample: 16 };
const u1: Utterance = {
  id: 'd-1',
  trigger: { kind: 'wake', keyword: 'alexa', score: 0.9, frameIndex: 40 },
};
const idle: DeviceState = { name: 'idle' };
const muted: DeviceState = { name: 'muted' };
const listening: DeviceState = { name: 'listening', utterance: u1 };
const thinking: DeviceState = { name: 'thinking', utterance: u1 };
const speaking: DeviceState = { name: 'speaking', utterance: u1 };
const wake: DeviceEvent = { type: 'wake', keyword: 'alexa', score: 0.9, frameIndex: 40 };
const say: DeviceEvent = { type: 'announce', text: 'Dinner is ready' };
const pending = { id: 'd-2', playing: false };
const playing = { id: 'd-2', playing: true };

function model(
  state: DeviceState,
  extra: Partial<Model> = {},
  canAnnounce = true,
  link: Model['link'] = 'up',
): Model {
  return { ...initialModel({ link, idPrefix: 'd', canAnnounce }), nextSeq: 2, state, ...extra };
}

const words = (effects: Effect[]): string[] =>
  effects
    .filter((e) => e.type !== 'changed')
    .map((e) => {
      switch (e.type) {
        case 'showState':
          return `show:${e.state}`;
        case 'earcon':
          return `earcon:${e.name}`;
        case 'closeUpload':
          return `close:${e.close.how}:${e.close.reason}`;
        case 'refuse':
          return `refuse:${e.code}`;
        case 'requestAnnouncement':
          return `announce:${e.id}`;
        case 'reportWake':
          return `wake:${e.accepted ? 'taken' : 'not taken'}`;
        default:
          return e.type;
      }
    });

// [name, from model, event, expected state, expected announcement, expected effects]
type Row = [string, Model, DeviceEvent, DeviceState['name'], Model['announcement'], string[]];
const table: Row[] = [
  [
    'idle: an announcement is asked for after its earcon',
    model(idle),
    say,
    'idle',
    pending,
    ['earcon:announce', 'announce:d-2'],
  ],
  [
    'muted: taken too (mute closes the microphone, not the speaker), capture stays closed',
    model(muted),
    say,
    'muted',
    pending,
    ['earcon:announce', 'announce:d-2'],
  ],
  [
    'earshot.v1 takes no text: refused with its code',
    model(idle, {}, false),
    say,
    'idle',
    undefined,
    ['refuse:E_TEXT_UNSUPPORTED'],
  ],
  [
    'refused while listening',
    model(listening),
    say,
    'listening',
    undefined,
    ['refuse:E_ANNOUNCE_BUSY'],
  ],
  [
    'refused while thinking',
    model(thinking),
    say,
    'thinking',
    undefined,
    ['refuse:E_ANNOUNCE_BUSY'],
  ],
  [
    'refused while speaking',
    model(speaking),
    say,
    'speaking',
    undefined,
    ['refuse:E_ANNOUNCE_BUSY'],
  ],
  [
    'refused while another plays',
    model(idle, { announcement: playing }),
    say,
    'idle',
    playing,
    ['refuse:E_ANNOUNCE_BUSY'],
  ],
  [
    'refused while offline',
    model({ name: 'offline', cause: 'x' }, {}, true, 'down'),
    say,
    'offline',
    undefined,
    ['refuse:E_ANNOUNCE_BUSY'],
  ],
  [
    'its audio starts: played in idle',
    model(idle, { announcement: pending }),
    { type: 'replyStarted', id: 'd-2', format: FORMAT },
    'idle',
    playing,
    ['startPlayback'],
  ],
  [
    'its audio starts while muted: played, nothing opens the microphone',
    model(muted, { announcement: pending }),
    { type: 'replyStarted', id: 'd-2', format: FORMAT },
    'muted',
    playing,
    ['startPlayback'],
  ],
  [
    'its audio plays',
    model(idle, { announcement: playing }),
    { type: 'replyAudio', id: 'd-2', chunk: Buffer.alloc(4) },
    'idle',
    playing,
    ['playReply'],
  ],
  [
    'another id’s audio is not played',
    model(idle, { announcement: playing }),
    { type: 'replyAudio', id: 'd-9', chunk: Buffer.alloc(4) },
    'idle',
    playing,
    [],
  ],
  [
    'its end ends the playback',
    model(idle, { announcement: playing }),
    { type: 'replyEnded', id: 'd-2', expectSpeech: false },
    'idle',
    playing,
    ['endPlayback'],
  ],
  [
    'played: the speaker is free again, nothing listens',
    model(muted, { announcement: playing }),
    { type: 'playbackDone' },
    'muted',
    undefined,
    [],
  ],
  [
    'the Player refuses it (longer than allowed): abandoned, error earcon',
    model(idle, { announcement: playing }),
    { type: 'playbackDone', refused: { code: 'E_REPLY_TOO_LONG', message: 'x' } },
    'idle',
    undefined,
    ['cancelAnnouncement', 'earcon:error'],
  ],
  [
    'an end without audio: over',
    model(idle, { announcement: pending }),
    { type: 'replyEnded', id: 'd-2', expectSpeech: true },
    'idle',
    undefined,
    [],
  ],
  [
    'the cloud fails it before audio: error earcon',
    model(idle, { announcement: pending }),
    { type: 'utteranceFailed', id: 'd-2', code: 'tts-failed', message: 'x' },
    'idle',
    undefined,
    ['cancelAnnouncement', 'earcon:error'],
  ],
  [
    'its stream breaks while playing: cut, error earcon',
    model(idle, { announcement: playing }),
    { type: 'utteranceFailed', id: 'd-2', code: 'E_ASSIST_TTS_HTTP', message: 'x' },
    'idle',
    undefined,
    ['cancelAnnouncement', 'stopPlayback', 'earcon:error'],
  ],
  [
    'a wake word stops it and listens',
    model(idle, { announcement: playing }),
    wake,
    'listening',
    undefined,
    ['wake:taken', 'show:listening', 'cancelAnnouncement', 'stopPlayback', 'openUpload'],
  ],
  [
    'the action button silences it (and does not start listening)',
    model(idle, { announcement: playing }),
    { type: 'talk' },
    'idle',
    undefined,
    ['cancelAnnouncement', 'stopPlayback'],
  ],
  [
    'mute ends it: the microphone closes first',
    model(idle, { announcement: playing }),
    { type: 'mute', muted: true },
    'muted',
    undefined,
    ['show:muted', 'closeCapture', 'cancelAnnouncement', 'stopPlayback', 'earcon:mute'],
  ],
  [
    'unmute ends it too, and opens the microphone',
    model(muted, { announcement: pending }),
    { type: 'mute', muted: false },
    'idle',
    undefined,
    ['show:idle', 'cancelAnnouncement', 'resetWake', 'openCapture', 'earcon:unmute'],
  ],
  [
    'the link drops before its audio: it will not come',
    model(idle, { announcement: pending }),
    { type: 'linkDown', cause: 'drop' },
    'offline',
    undefined,
    ['cancelAnnouncement', 'earcon:error', 'show:offline'],
  ],
  [
    'the link drops while it plays: it plays on (it came over HTTPS)',
    model(idle, { announcement: playing }),
    { type: 'linkDown', cause: 'drop' },
    'offline',
    playing,
    ['show:offline'],
  ],
  [
    'a reply’s stream breaks while it plays: cut, recorded, error earcon',
    model(speaking),
    { type: 'utteranceFailed', id: 'd-1', code: 'E_ASSIST_TTS_FORMAT', message: 'x' },
    'idle',
    undefined,
    ['show:idle', 'stopPlayback', 'recordFailure', 'earcon:error'],
  ],
  [
    'a failure of another id while speaking is ignored',
    model(speaking),
    { type: 'utteranceFailed', id: 'd-9', code: 'x', message: 'x' },
    'speaking',
    undefined,
    ['ignore'],
  ],
];

describe('announcements in the state machine', () => {
  it.each(table)('%s', (_name, from, event, to, announcement, effects) => {
    const t = transition(from, event);
    expect(t.model.state.name).toBe(to);
    expect(t.model.announcement).toEqual(announcement);
    expect(words(t.effects)).toEqual(effects);
  });

  it('never opens capture or an upload for an announcement (P1, P2)', () => {
    const steps: DeviceEvent[] = [
      say,
      { type: 'replyStarted', id: 'd-2', format: FORMAT },
      { type: 'replyAudio', id: 'd-2', chunk: Buffer.alloc(4) },
      { type: 'replyEnded', id: 'd-2', expectSpeech: true },
      { type: 'playbackDone' },
    ];
    for (const start of [idle, muted]) {
      let m = model(start);
      const all: string[] = [];
      for (const e of steps) {
        const t = transition(m, e);
        all.push(...words(t.effects));
        m = t.model;
      }
      expect(all.length).toBeGreaterThan(4);
      expect(all.filter((w) => w === 'openCapture' || w === 'openUpload')).toEqual([]);
      expect(m.state.name).toBe(start.name);
      expect(m.announcement).toBeUndefined();
    }
  });
});
