import { describe, expect, it } from 'vitest';
import { resting, transition } from '../../src/device/machine.js';
import {
  initialModel,
  type DeviceEvent,
  type DeviceState,
  type Effect,
  type Model,
  type Utterance,
} from '../../src/device/states.js';

// The device's state machine, by table: every decision of the device is a row here,
// including which reply belongs to which utterance.

const FORMAT = { sampleRate: 16000, channels: 1, bitsPerSample: 16 };
const SHA = 'a'.repeat(64);
const wake: DeviceEvent = { type: 'wake', keyword: 'alexa', score: 0.9, frameIndex: 40 };
const u1: Utterance = {
  id: 'd-1',
  trigger: { kind: 'wake', keyword: 'alexa', score: 0.9, frameIndex: 40 },
};
const idle: DeviceState = { name: 'idle' };
const listening: DeviceState = { name: 'listening', utterance: u1 };
const thinking: DeviceState = { name: 'thinking', utterance: u1 };
const speaking: DeviceState = { name: 'speaking', utterance: u1 };
const spoke = (expectSpeech: boolean): DeviceState => ({
  name: 'speaking',
  utterance: u1,
  expectSpeech,
});
const offline: DeviceState = { name: 'offline', cause: 'x' };

function model(state: DeviceState, link: Model['link'] = 'up', extra: Partial<Model> = {}): Model {
  return { ...initialModel({ link, idPrefix: 'd' }), nextSeq: 2, state, ...extra };
}

/** Effects as short words: `show:idle`, `earcon:error`, `close:end:vad`, `ignore:reply` … */
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
        case 'ignore':
          return `ignore:${e.what}`;
        case 'reportWake':
          return `wake:${e.accepted ? 'taken' : 'not taken'}`;
        default:
          return e.type;
      }
    });

// [name, from state, link, event, expected state, expected effects (in order)]
type Row = [string, DeviceState, Model['link'], DeviceEvent, DeviceState['name'], string[]];
const table: Row[] = [
  [
    'boots to idle',
    { name: 'booting' },
    'up',
    { type: 'booted', muted: false },
    'idle',
    ['show:idle', 'openCapture'],
  ],
  [
    'boots offline',
    { name: 'booting' },
    'down',
    { type: 'booted', muted: false },
    'offline',
    ['show:offline', 'openCapture'],
  ],
  [
    'boots muted: the microphone stays closed',
    { name: 'booting' },
    'up',
    { type: 'booted', muted: true },
    'muted',
    ['show:muted'],
  ],
  [
    'mute while booting',
    { name: 'booting' },
    'up',
    { type: 'mute', muted: true },
    'muted',
    ['show:muted', 'closeCapture'],
  ],
  ['no wake while booting', { name: 'booting' }, 'up', wake, 'booting', ['wake:not taken']],
  [
    'wake opens an utterance',
    idle,
    'up',
    wake,
    'listening',
    ['wake:taken', 'show:listening', 'openUpload'],
  ],
  [
    'wake without a cloud (simulate)',
    idle,
    'disabled',
    wake,
    'listening',
    ['wake:taken', 'show:listening', 'openUpload'],
  ],
  [
    'button talks',
    idle,
    'pending',
    { type: 'talk' },
    'listening',
    ['show:listening', 'openUpload'],
  ],
  [
    'link lost while idle',
    idle,
    'up',
    { type: 'linkDown', cause: 'ECONNREFUSED' },
    'offline',
    ['show:offline'],
  ],
  [
    'mute while idle',
    idle,
    'up',
    { type: 'mute' },
    'muted',
    ['show:muted', 'closeCapture', 'earcon:mute'],
  ],
  [
    'a reply while idle is stale',
    idle,
    'up',
    { type: 'replyStarted', id: 'd-1', format: FORMAT },
    'idle',
    [],
  ],
  [
    'capture fails',
    idle,
    'up',
    { type: 'partFailed', part: 'capture', cause: 'arecord died' },
    'error',
    ['show:error'],
  ],
  [
    'wake while offline: error sound',
    offline,
    'down',
    wake,
    'offline',
    ['wake:not taken', 'earcon:error'],
  ],
  [
    'talk while offline: error sound',
    offline,
    'down',
    { type: 'talk' },
    'offline',
    ['earcon:error'],
  ],
  ['link back', offline, 'down', { type: 'linkUp' }, 'idle', ['show:idle']],
  [
    'end of speech sends',
    listening,
    'up',
    { type: 'speechEnded', id: 'd-1', reason: 'vad' },
    'thinking',
    ['show:thinking', 'close:end:vad', 'armReplyTimer'],
  ],
  [
    'end of speech of another utterance',
    listening,
    'up',
    { type: 'speechEnded', id: 'd-0', reason: 'vad' },
    'listening',
    [],
  ],
  [
    'capture.stop',
    listening,
    'up',
    { type: 'captureStop', id: 'd-1' },
    'thinking',
    ['show:thinking', 'close:end:cloud', 'armReplyTimer'],
  ],
  [
    'capture.stop for another utterance',
    listening,
    'up',
    { type: 'captureStop', id: 'd-0' },
    'listening',
    ['ignore:captureStop'],
  ],
  [
    'the button ends the utterance',
    listening,
    'up',
    { type: 'talk' },
    'thinking',
    ['show:thinking', 'close:end:button', 'armReplyTimer'],
  ],
  ['a wake word while listening', listening, 'up', wake, 'listening', ['wake:not taken']],
  [
    'mute cuts the utterance',
    listening,
    'up',
    { type: 'mute' },
    'muted',
    ['show:muted', 'closeCapture', 'close:abort:muted', 'earcon:mute'],
  ],
  [
    'link lost while listening',
    listening,
    'up',
    { type: 'linkDown', cause: 'drop' },
    'offline',
    ['show:offline', 'close:fail:link down', 'earcon:error'],
  ],
  [
    'the cloud refuses the utterance',
    listening,
    'up',
    { type: 'utteranceFailed', id: 'd-1', code: 'E_BACKPRESSURE', message: 'slow' },
    'idle',
    ['close:fail:refused', 'show:idle', 'earcon:error'],
  ],
  [
    'a failure of another utterance',
    listening,
    'up',
    { type: 'utteranceFailed', id: 'd-0', code: 'E_X', message: 'x' },
    'listening',
    ['ignore:failure'],
  ],
  ['stop aborts', listening, 'up', { type: 'stop' }, 'idle', ['show:idle', 'close:abort:stopped']],
  [
    'capture fails while listening',
    listening,
    'up',
    { type: 'partFailed', part: 'capture', cause: 'died' },
    'error',
    ['show:error', 'close:fail:capture failed'],
  ],
  [
    'the reply to the utterance',
    thinking,
    'up',
    { type: 'replyStarted', id: 'd-1', format: FORMAT },
    'speaking',
    ['show:speaking', 'cancelReplyTimer', 'startPlayback'],
  ],
  [
    'a stale reply (an earlier utterance)',
    thinking,
    'up',
    { type: 'replyStarted', id: 'd-0', format: FORMAT },
    'thinking',
    ['ignore:reply'],
  ],
  [
    'a reply without audio',
    thinking,
    'up',
    { type: 'replyEnded', id: 'd-1', expectSpeech: false },
    'idle',
    ['show:idle', 'cancelReplyTimer'],
  ],
  [
    'a reply without audio asks for a follow-up',
    thinking,
    'up',
    { type: 'replyEnded', id: 'd-1', expectSpeech: true },
    'listening',
    ['show:listening', 'cancelReplyTimer', 'openUpload'],
  ],
  [
    'the end of a stale reply',
    thinking,
    'up',
    { type: 'replyEnded', id: 'd-0', expectSpeech: true },
    'thinking',
    ['ignore:replyEnd'],
  ],
  [
    'audio before reply.start',
    thinking,
    'up',
    { type: 'replyAudio', id: 'd-1', chunk: Buffer.alloc(4) },
    'thinking',
    [],
  ],
  [
    'no reply in time',
    thinking,
    'up',
    { type: 'replyTimeout', id: 'd-1' },
    'idle',
    ['show:idle', 'cancelReplyTimer', 'earcon:error'],
  ],
  [
    'the cloud fails the utterance',
    thinking,
    'up',
    { type: 'utteranceFailed', id: 'd-1', code: 'E_INTERNAL', message: 'x' },
    'idle',
    ['show:idle', 'cancelReplyTimer', 'recordFailure', 'earcon:error'],
  ],
  [
    'its ledger entry could not be written',
    thinking,
    'up',
    { type: 'uploadClosed', id: 'd-1', outcome: 'failed', bytes: 0, sha256: '' },
    'idle',
    ['show:idle', 'cancelReplyTimer', 'earcon:error'],
  ],
  [
    'link lost while thinking',
    thinking,
    'up',
    { type: 'linkDown', cause: 'drop' },
    'offline',
    ['show:offline', 'cancelReplyTimer', 'earcon:error'],
  ],
  [
    'a wake word while thinking asks again',
    thinking,
    'up',
    wake,
    'listening',
    ['wake:taken', 'show:listening', 'cancelReplyTimer', 'openUpload'],
  ],
  [
    'reply audio plays',
    speaking,
    'up',
    { type: 'replyAudio', id: 'd-1', chunk: Buffer.alloc(4) },
    'speaking',
    ['playReply'],
  ],
  [
    'reply audio without an id plays',
    speaking,
    'up',
    { type: 'replyAudio', chunk: Buffer.alloc(4) },
    'speaking',
    ['playReply'],
  ],
  [
    'audio of another reply is dropped',
    speaking,
    'up',
    { type: 'replyAudio', id: 'd-0', chunk: Buffer.alloc(4) },
    'speaking',
    [],
  ],
  [
    'the reply ends',
    speaking,
    'up',
    { type: 'replyEnded', id: 'd-1', expectSpeech: false },
    'speaking',
    ['endPlayback'],
  ],
  [
    'a second reply.end',
    spoke(false),
    'up',
    { type: 'replyEnded', id: 'd-1', expectSpeech: true },
    'speaking',
    ['ignore:replyEnd'],
  ],
  [
    'audio after reply.end is dropped',
    spoke(false),
    'up',
    { type: 'replyAudio', chunk: Buffer.alloc(4) },
    'speaking',
    [],
  ],
  [
    'a second reply.start',
    speaking,
    'up',
    { type: 'replyStarted', id: 'd-1', format: FORMAT },
    'speaking',
    ['ignore:reply'],
  ],
  ['played', spoke(false), 'up', { type: 'playbackDone' }, 'idle', ['show:idle']],
  [
    'played, follow-up',
    spoke(true),
    'up',
    { type: 'playbackDone' },
    'listening',
    ['show:listening', 'openUpload'],
  ],
  [
    'playback failed',
    spoke(false),
    'up',
    { type: 'playbackDone', error: 'no device' },
    'idle',
    ['show:idle', 'earcon:error'],
  ],
  [
    'barge-in',
    speaking,
    'up',
    wake,
    'listening',
    ['wake:taken', 'show:listening', 'stopPlayback', 'openUpload'],
  ],
  [
    'the button stops the reply',
    speaking,
    'up',
    { type: 'talk' },
    'idle',
    ['show:idle', 'stopPlayback'],
  ],
  [
    'mute stops the reply',
    speaking,
    'up',
    { type: 'mute' },
    'muted',
    ['show:muted', 'closeCapture', 'stopPlayback', 'earcon:mute'],
  ],
  [
    'link lost mid-reply: the rest will not come',
    speaking,
    'up',
    { type: 'linkDown', cause: 'x' },
    'offline',
    ['show:offline', 'stopPlayback', 'earcon:error'],
  ],
  [
    'link lost after the reply arrived: it plays out',
    spoke(false),
    'up',
    { type: 'linkDown', cause: 'x' },
    'speaking',
    [],
  ],
  [
    'follow-up without a link',
    spoke(true),
    'down',
    { type: 'playbackDone' },
    'offline',
    ['show:offline', 'stopPlayback', 'earcon:error'],
  ],
  ['no wake while muted', { name: 'muted' }, 'up', wake, 'muted', ['wake:not taken']],
  ['no talk while muted', { name: 'muted' }, 'up', { type: 'talk' }, 'muted', []],
  ['link lost while muted', { name: 'muted' }, 'up', { type: 'linkDown', cause: 'x' }, 'muted', []],
  ['mute again', { name: 'muted' }, 'up', { type: 'mute', muted: true }, 'muted', []],
  [
    'unmute',
    { name: 'muted' },
    'up',
    { type: 'mute' },
    'idle',
    ['show:idle', 'resetWake', 'openCapture', 'earcon:unmute'],
  ],
  [
    'unmute offline',
    { name: 'muted' },
    'down',
    { type: 'mute', muted: false },
    'offline',
    ['show:offline', 'resetWake', 'openCapture', 'earcon:unmute'],
  ],
];

describe('device state machine', () => {
  it.each(table)('%s', (_name, from, link, event, to, effects) => {
    const t = transition(model(from, link), event);
    expect(t.model.state.name).toBe(to);
    expect(words(t.effects)).toEqual(effects);
  });

  it('always lights the state before opening an upload (P2)', () => {
    let opened = 0;
    for (const [, from, link, event] of table) {
      const { effects } = transition(model(from, link), event);
      const open = effects.findIndex((e) => e.type === 'openUpload');
      if (open === -1) continue;
      opened += 1;
      const show = effects.findIndex((e) => e.type === 'showState' && e.state === 'listening');
      expect(show).toBeGreaterThanOrEqual(0);
      expect(show).toBeLessThan(open);
    }
    expect(opened).toBeGreaterThan(3);
  });

  it('opens uploads only on the way into listening, each with a new id', () => {
    for (const [, from, link, event] of table) {
      const m = model(from, link);
      const t = transition(m, event);
      const open = t.effects.find((e) => e.type === 'openUpload');
      if (!open) continue;
      expect(t.model.state.name).toBe('listening');
      expect(open.utterance.id).toBe('d-2');
      expect(t.model.nextSeq).toBe(3);
      expect(t.model.state).toMatchObject({ utterance: { id: 'd-2' } });
    }
  });

  it('closes an upload only for the utterance it opened', () => {
    for (const [, from, link, event] of table) {
      const t = transition(model(from, link), event);
      for (const e of t.effects) if (e.type === 'closeUpload') expect(e.id).toBe('d-1');
    }
  });

  it('leaves muted only by unmuting', () => {
    const events: DeviceEvent[] = [
      wake,
      { type: 'talk' },
      { type: 'stop' },
      { type: 'linkUp' },
      { type: 'linkDown', cause: 'x' },
      { type: 'replyStarted', id: 'd-1', format: FORMAT },
      { type: 'replyEnded', id: 'd-1', expectSpeech: true },
      { type: 'playbackDone' },
      { type: 'replyTimeout', id: 'd-1' },
      { type: 'speechEnded', id: 'd-1', reason: 'vad' },
      { type: 'captureStop', id: 'd-1' },
      { type: 'partFailed', part: 'capture', cause: 'x' },
      { type: 'partRecovered', part: 'capture' },
      { type: 'booted', muted: false },
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

  it('reports a change of facts by value, not by identity', () => {
    const m = model(idle);
    const failed = transition(m, { type: 'partFailed', part: 'capture', cause: 'died' });
    expect(failed.effects).toContainEqual({ type: 'changed', failedChanged: true });
    // The same failure again (a retry that fails the same way) changes nothing.
    const again = transition(failed.model, { type: 'partFailed', part: 'capture', cause: 'died' });
    expect(again.effects.filter((e) => e.type === 'changed')).toEqual([]);
    // Capture says "running" on every start: a recovery of a part that was not down is no change.
    const up = transition(m, { type: 'partRecovered', part: 'capture' });
    expect(up.effects).toEqual([]);
  });

  it('is pure: the input model is not changed', () => {
    const m = model(idle);
    const copy = structuredClone(m);
    transition(m, wake);
    transition(m, { type: 'mute' });
    expect(m).toEqual(copy);
  });
});

describe('replies and utterances, over several steps', () => {
  const run = (m: Model, events: DeviceEvent[]): { model: Model; effects: string[][] } => {
    const effects: string[][] = [];
    for (const e of events) {
      const t = transition(m, e);
      effects.push(words(t.effects));
      m = t.model;
    }
    return { model: m, effects };
  };
  const reply = (id: string): DeviceEvent[] => [
    { type: 'replyStarted', id, format: FORMAT },
    { type: 'replyAudio', id, chunk: Buffer.alloc(4) },
    { type: 'replyEnded', id, expectSpeech: false },
  ];

  it('a reply to an aborted utterance is not played, and the next request gets its own', () => {
    const r = run(model(idle), [
      wake, // d-2
      { type: 'stop' },
      ...reply('d-2'),
      wake, // d-3
      { type: 'speechEnded', id: 'd-3', reason: 'vad' },
      ...reply('d-2'),
      ...reply('d-3'),
    ]);
    expect(r.effects[2]).toEqual([]); // idle: the reply to d-2 is stale
    expect(r.effects[7]).toEqual(['ignore:reply']);
    expect(r.effects[8]).toEqual([]); // thinking: audio outside its reply
    expect(r.effects[9]).toEqual(['ignore:replyEnd']);
    expect(r.effects[10]).toEqual(['show:speaking', 'cancelReplyTimer', 'startPlayback']);
    expect(r.effects[11]).toEqual(['playReply']);
    expect(r.model.state).toMatchObject({ name: 'speaking', utterance: { id: 'd-3' } });
  });

  it('a reply that arrives after a link drop and reconnect is not played', () => {
    const r = run(model(idle), [
      wake,
      { type: 'speechEnded', id: 'd-2', reason: 'vad' },
      { type: 'linkDown', cause: 'drop' },
      { type: 'linkUp' },
      ...reply('d-2'),
    ]);
    expect(r.model.state.name).toBe('idle');
    expect(r.effects.slice(4).flat()).toEqual([]);
  });

  it('barge-in: the old reply stops, its late audio and end are dropped, the new one plays', () => {
    const r = run(model(idle), [
      wake,
      { type: 'speechEnded', id: 'd-2', reason: 'vad' },
      { type: 'replyStarted', id: 'd-2', format: FORMAT },
      wake, // barge-in: d-3
      { type: 'replyAudio', id: 'd-2', chunk: Buffer.alloc(4) },
      { type: 'replyEnded', id: 'd-2', expectSpeech: true },
      { type: 'speechEnded', id: 'd-3', reason: 'vad' },
      ...reply('d-3'),
    ]);
    expect(r.effects[3]).toEqual(['wake:taken', 'show:listening', 'stopPlayback', 'openUpload']);
    expect(r.effects[4]).toEqual([]);
    expect(r.effects[5]).toEqual([]); // listening: nothing to end
    expect(r.effects[8]).toEqual(['playReply']);
    expect(r.model.state).toMatchObject({ name: 'speaking', utterance: { id: 'd-3' } });
  });

  it('follow-up: the reply asks for speech, the device listens without a wake word', () => {
    const r = run(model(idle), [
      wake,
      { type: 'speechEnded', id: 'd-2', reason: 'vad' },
      { type: 'replyStarted', id: 'd-2', format: FORMAT },
      { type: 'replyEnded', id: 'd-2', expectSpeech: true },
      { type: 'playbackDone' },
    ]);
    expect(r.model.state).toEqual({
      name: 'listening',
      utterance: { id: 'd-3', trigger: { kind: 'followup' } },
    });
    expect(r.effects[4]).toEqual(['show:listening', 'openUpload']);
  });

  it('acknowledgements: once, only for an utterance this device closed', () => {
    const r = run(model(idle), [
      { type: 'ack', id: 'd-2', stored: true }, // nothing was sent yet
      wake,
      { type: 'speechEnded', id: 'd-2', reason: 'vad' },
      { type: 'uploadClosed', id: 'd-2', outcome: 'sent', bytes: 3200, sha256: SHA },
      { type: 'ack', id: 'forged-1', stored: true },
      { type: 'ack', id: 'd-2', stored: false },
      { type: 'ack', id: 'd-2', stored: true }, // a second one
    ]);
    expect(r.effects[0]).toEqual(['ignore:ack']);
    expect(r.effects[4]).toEqual(['ignore:ack']);
    expect(r.effects[5]).toEqual(['recordAck']);
    expect(r.effects[6]).toEqual(['ignore:ack']);
  });

  it('an acknowledgement of other bytes than were sent is refused, the right one taken', () => {
    const r = run(model(idle), [
      wake,
      { type: 'speechEnded', id: 'd-2', reason: 'vad' },
      { type: 'uploadClosed', id: 'd-2', outcome: 'sent', bytes: 3200, sha256: SHA },
      { type: 'ack', id: 'd-2', stored: true, bytes: 1, sha256: SHA },
      { type: 'ack', id: 'd-2', stored: true, bytes: 3200, sha256: 'b'.repeat(64) },
      { type: 'ack', id: 'd-2', stored: false, bytes: 3200, sha256: SHA },
    ]);
    const t = transition(r.model, { type: 'ack', id: 'd-2', stored: true });
    expect(r.effects[3]).toEqual(['ignore:ack']);
    expect(r.effects[4]).toEqual(['ignore:ack']);
    expect(r.effects[5]).toEqual(['recordAck']);
    expect(words(t.effects)).toEqual(['ignore:ack']);
    const refused = transition(
      transition(model(listening), { type: 'speechEnded', id: 'd-1', reason: 'vad' }).model,
      { type: 'uploadClosed', id: 'd-1', outcome: 'sent', bytes: 3200, sha256: SHA },
    ).model;
    expect(
      transition(refused, { type: 'ack', id: 'd-1', stored: true, bytes: 9, sha256: SHA }).effects,
    ).toContainEqual(expect.objectContaining({ type: 'ignore', what: 'ack', code: 'E_INTEGRITY' }));
  });

  it('an aborted utterance may be acknowledged; a failed one may not', () => {
    const r = run(model(idle), [
      wake,
      { type: 'stop' },
      { type: 'uploadClosed', id: 'd-2', outcome: 'aborted', bytes: 6400, sha256: SHA },
      { type: 'ack', id: 'd-2', stored: false },
      wake,
      { type: 'linkDown', cause: 'x' },
      { type: 'uploadClosed', id: 'd-3', outcome: 'failed', bytes: 0, sha256: '' },
      { type: 'ack', id: 'd-3', stored: false },
    ]);
    expect(r.effects[3]).toEqual(['recordAck']);
    expect(r.effects[7]).toEqual(['ignore:ack']);
  });

  it('a reply deadline for an earlier utterance does not end the current one', () => {
    const r = run(model(idle), [
      wake,
      { type: 'speechEnded', id: 'd-2', reason: 'vad' },
      wake, // d-3 while thinking
      { type: 'speechEnded', id: 'd-3', reason: 'vad' },
      { type: 'replyTimeout', id: 'd-2' },
    ]);
    expect(r.model.state).toMatchObject({ name: 'thinking', utterance: { id: 'd-3' } });
  });
});
