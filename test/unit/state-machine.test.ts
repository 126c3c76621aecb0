import { describe, expect, it } from 'vitest';
import { resting, transition } from '../../src/device/machine.js';
import {
  initialModel,
  type DeviceEvent,
  type DeviceState,
  type Effect,
  type Model,
} from '../../src/device/states.js';

const wake: DeviceEvent = { type: 'wake', keyword: 'alexa', score: 0.9, frameIndex: 40 };
const idle: DeviceState = { name: 'idle' };
const listening: DeviceState = {
  name: 'listening',
  trigger: { kind: 'wake', keyword: 'alexa', score: 0.9, frameIndex: 40 },
};

function model(state: DeviceState, link: Model['link'] = 'up', extra: Partial<Model> = {}): Model {
  return { ...initialModel(link), state, ...extra };
}

const types = (effects: Effect[]): string[] =>
  effects.map((e) =>
    e.type === 'showState' ? `show:${e.state}` : e.type === 'earcon' ? `earcon:${e.name}` : e.type,
  );

// [from state, link, event, expected state, expected effects (in order)]
const table: Array<[DeviceState, Model['link'], DeviceEvent, DeviceState['name'], string[]]> = [
  [{ name: 'booting' }, 'up', { type: 'booted' }, 'idle', ['show:idle']],
  [{ name: 'booting' }, 'down', { type: 'booted' }, 'offline', ['show:offline']],
  [
    { name: 'booting' },
    'up',
    { type: 'mute', muted: true },
    'muted',
    ['show:muted', 'closeCapture'],
  ],
  [{ name: 'booting' }, 'up', wake, 'booting', []],
  [idle, 'up', wake, 'listening', ['show:listening', 'openUpload']],
  [idle, 'disabled', wake, 'listening', ['show:listening', 'openUpload']],
  [idle, 'pending', { type: 'talk' }, 'listening', ['show:listening', 'openUpload']],
  [idle, 'up', { type: 'linkDown', cause: 'ECONNREFUSED' }, 'offline', ['show:offline']],
  [idle, 'up', { type: 'mute' }, 'muted', ['show:muted', 'closeCapture', 'earcon:mute']],
  [idle, 'up', { type: 'replyStarted' }, 'idle', []],
  [
    idle,
    'up',
    { type: 'partFailed', part: 'capture', cause: 'arecord died' },
    'error',
    ['show:error'],
  ],
  [{ name: 'offline', cause: 'x' }, 'down', wake, 'offline', ['earcon:error']],
  [{ name: 'offline', cause: 'x' }, 'down', { type: 'talk' }, 'offline', ['earcon:error']],
  [{ name: 'offline', cause: 'x' }, 'down', { type: 'linkUp' }, 'idle', ['show:idle']],
  [
    listening,
    'up',
    { type: 'speechEnded', reason: 'vad' },
    'thinking',
    ['show:thinking', 'endUpload', 'armReplyTimer'],
  ],
  [
    listening,
    'up',
    { type: 'speechEnded', reason: 'cloud' },
    'thinking',
    ['show:thinking', 'endUpload', 'armReplyTimer'],
  ],
  [listening, 'up', { type: 'talk' }, 'thinking', ['show:thinking', 'endUpload', 'armReplyTimer']],
  [listening, 'up', wake, 'listening', []],
  [
    listening,
    'up',
    { type: 'mute' },
    'muted',
    ['show:muted', 'closeCapture', 'abortUpload', 'earcon:mute'],
  ],
  [
    listening,
    'up',
    { type: 'linkDown', cause: 'drop' },
    'offline',
    ['show:offline', 'failUpload', 'earcon:error'],
  ],
  [
    listening,
    'up',
    { type: 'uploadFailed', code: 'E_BACKPRESSURE', cause: 'slow' },
    'idle',
    ['show:idle', 'earcon:error'],
  ],
  [listening, 'up', { type: 'stop' }, 'idle', ['show:idle', 'abortUpload']],
  [
    listening,
    'up',
    { type: 'partFailed', part: 'capture', cause: 'died' },
    'error',
    ['show:error', 'failUpload'],
  ],
  [
    { name: 'thinking' },
    'up',
    { type: 'replyStarted' },
    'speaking',
    ['show:speaking', 'cancelReplyTimer'],
  ],
  [
    { name: 'thinking' },
    'up',
    { type: 'replyEnded', expectSpeech: false, hadAudio: false },
    'idle',
    ['show:idle', 'cancelReplyTimer'],
  ],
  [
    { name: 'thinking' },
    'up',
    { type: 'replyEnded', expectSpeech: true, hadAudio: false },
    'listening',
    ['show:listening', 'cancelReplyTimer', 'openUpload'],
  ],
  [
    { name: 'thinking' },
    'up',
    { type: 'replyTimeout' },
    'idle',
    ['show:idle', 'cancelReplyTimer', 'earcon:error'],
  ],
  [
    { name: 'thinking' },
    'up',
    { type: 'linkDown', cause: 'drop' },
    'offline',
    ['show:offline', 'cancelReplyTimer', 'earcon:error'],
  ],
  [
    { name: 'thinking' },
    'up',
    wake,
    'listening',
    ['show:listening', 'cancelReplyTimer', 'openUpload'],
  ],
  [
    { name: 'speaking', expectSpeech: false },
    'up',
    { type: 'playbackDone' },
    'idle',
    ['show:idle'],
  ],
  [
    { name: 'speaking', expectSpeech: true },
    'up',
    { type: 'playbackDone' },
    'listening',
    ['show:listening', 'openUpload'],
  ],
  [
    { name: 'speaking', expectSpeech: false },
    'up',
    { type: 'playbackDone', error: 'no device' },
    'idle',
    ['show:idle', 'earcon:error'],
  ],
  [
    { name: 'speaking', expectSpeech: false },
    'up',
    wake,
    'listening',
    ['show:listening', 'stopPlayback', 'openUpload'],
  ],
  [
    { name: 'speaking', expectSpeech: false },
    'up',
    { type: 'talk' },
    'idle',
    ['show:idle', 'stopPlayback'],
  ],
  [
    { name: 'speaking', expectSpeech: false },
    'up',
    { type: 'mute' },
    'muted',
    ['show:muted', 'closeCapture', 'stopPlayback', 'earcon:mute'],
  ],
  [
    { name: 'speaking', expectSpeech: true },
    'down',
    { type: 'playbackDone' },
    'offline',
    ['show:offline', 'stopPlayback', 'earcon:error'],
  ],
  [{ name: 'muted' }, 'up', wake, 'muted', []],
  [{ name: 'muted' }, 'up', { type: 'talk' }, 'muted', []],
  [{ name: 'muted' }, 'up', { type: 'linkDown', cause: 'x' }, 'muted', []],
  [{ name: 'muted' }, 'up', { type: 'mute', muted: true }, 'muted', []],
  [
    { name: 'muted' },
    'up',
    { type: 'mute' },
    'idle',
    ['show:idle', 'resetWake', 'openCapture', 'earcon:unmute'],
  ],
  [
    { name: 'muted' },
    'down',
    { type: 'mute', muted: false },
    'offline',
    ['show:offline', 'resetWake', 'openCapture', 'earcon:unmute'],
  ],
];

describe('device state machine', () => {
  it.each(table)('%j (link %s) + %j → %s', (from, link, event, to, effects) => {
    const t = transition(model(from, link), event);
    expect(t.model.state.name).toBe(to);
    expect(types(t.effects)).toEqual(effects);
  });

  it('always lights the state before opening an upload (P2)', () => {
    for (const [from, link, event] of table) {
      const { effects } = transition(model(from, link), event);
      const open = effects.findIndex((e) => e.type === 'openUpload');
      if (open === -1) continue;
      const show = effects.findIndex((e) => e.type === 'showState' && e.state === 'listening');
      expect(show).toBeGreaterThanOrEqual(0);
      expect(show).toBeLessThan(open);
    }
  });

  it('opens uploads only on the way into listening', () => {
    for (const [from, link, event] of table) {
      const t = transition(model(from, link), event);
      if (t.effects.some((e) => e.type === 'openUpload'))
        expect(t.model.state.name).toBe('listening');
    }
  });

  it('leaves muted only by unmuting', () => {
    const events: DeviceEvent[] = [
      wake,
      { type: 'talk' },
      { type: 'stop' },
      { type: 'linkUp' },
      { type: 'linkDown', cause: 'x' },
      { type: 'replyStarted' },
      { type: 'replyEnded', expectSpeech: true, hadAudio: false },
      { type: 'playbackDone' },
      { type: 'replyTimeout' },
      { type: 'speechEnded', reason: 'vad' },
      { type: 'partFailed', part: 'capture', cause: 'x' },
      { type: 'partRecovered', part: 'capture' },
      { type: 'booted' },
    ];
    let m = model({ name: 'muted' });
    for (const e of events) {
      const t = transition(m, e);
      expect(t.model.state.name).toBe('muted');
      expect(t.effects.some((x) => x.type === 'openCapture' || x.type === 'openUpload')).toBe(
        false,
      );
      m = t.model;
    }
  });

  it('remembers link and failed parts across mute', () => {
    let m = model({ name: 'muted' }, 'up');
    m = transition(m, { type: 'linkDown', cause: 'ECONNRESET' }).model;
    m = transition(m, { type: 'partFailed', part: 'ledger', cause: 'disk full' }).model;
    expect(transition(m, { type: 'mute' }).model.state).toEqual({
      name: 'error',
      part: 'ledger',
      cause: 'disk full',
    });
    m = transition(m, { type: 'partRecovered', part: 'ledger' }).model;
    expect(transition(m, { type: 'mute' }).model.state).toEqual({
      name: 'offline',
      cause: 'ECONNRESET',
    });
  });

  it('returns to the resting state when a failed part recovers', () => {
    let m = model(idle);
    m = transition(m, { type: 'partFailed', part: 'capture', cause: 'died' }).model;
    expect(m.state.name).toBe('error');
    const t = transition(m, { type: 'partRecovered', part: 'capture' });
    expect(t.model.state.name).toBe('idle');
    expect(resting(t.model)).toEqual({ name: 'idle' });
  });

  it('is pure: the input model is not changed', () => {
    const m = model(idle);
    const copy = structuredClone(m);
    transition(m, wake);
    transition(m, { type: 'mute' });
    expect(m).toEqual(copy);
  });
});
