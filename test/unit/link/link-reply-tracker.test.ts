import { describe, expect, it } from 'vitest';
import { ReplyTracker } from '../../../src/link/reply-tracker.js';

function setup(maxPending = 8) {
  const events: Array<[string, unknown]> = [];
  const answers: Array<[string, string | undefined]> = [];
  const tracker = new ReplyTracker({
    emit: (event, ...args) => events.push([event, args.length === 1 ? args[0] : args]),
    answer: (code, _message, id) => answers.push([code, id]),
    maxPending,
  });
  return { tracker, events, answers };
}

const pcm = { encoding: 'pcm_s16le' as const, sampleRate: 16000, channels: 1 };

describe('reply tracker', () => {
  it('passes one reply through in order', () => {
    const { tracker, events, answers } = setup();
    tracker.expect('a');
    tracker.start({ type: 'reply.start', id: 'a', format: pcm });
    tracker.audio(Buffer.alloc(4));
    tracker.end({ type: 'reply.end', id: 'a', expectSpeech: true });
    expect(events.map((e) => e[0])).toEqual(['replyStart', 'replyAudio', 'replyEnd']);
    expect(events[2]![1]).toEqual({ id: 'a', expectSpeech: true });
    expect(answers).toEqual([]);
    expect(tracker.isPending('a')).toBe(false);
  });

  it('forgets the oldest waiting utterance beyond its limit', () => {
    const { tracker } = setup(2);
    tracker.expect('a');
    tracker.expect('b');
    tracker.expect('c');
    expect(tracker.isPending('a')).toBe(false);
    expect(tracker.dropAll()).toEqual(['b', 'c']);
    expect(tracker.dropAll()).toEqual([]);
  });

  it('drops the audio of a reply whose utterance was forgotten mid-stream', () => {
    const { tracker, events } = setup();
    tracker.expect('a');
    tracker.start({ type: 'reply.start', id: 'a', format: pcm });
    tracker.forget('a');
    tracker.audio(Buffer.alloc(4));
    tracker.end({ type: 'reply.end', id: 'a' });
    expect(events.map((e) => e[0])).toEqual(['replyStart']);
  });

  it('refuses a second reply.start while one streams', () => {
    const { tracker, answers } = setup();
    tracker.expect('a');
    tracker.expect('b');
    tracker.start({ type: 'reply.start', id: 'a', format: pcm });
    tracker.start({ type: 'reply.start', id: 'b', format: pcm });
    expect(answers).toEqual([['E_UNEXPECTED', 'b']]);
  });

  it('lets a waited-for reply take over from a refused one that never ended', () => {
    const { tracker, events, answers } = setup();
    tracker.expect('b');
    // A reply nobody waits for: refused, its audio dropped; the cloud never ends it.
    tracker.start({ type: 'reply.start', id: 'stale', format: pcm });
    tracker.audio(Buffer.alloc(4));
    tracker.start({ type: 'reply.start', id: 'b', format: pcm });
    tracker.audio(Buffer.alloc(6));
    tracker.end({ type: 'reply.end', id: 'b' });
    // Every lapse answered, the takeover under the id of the reply it abandons.
    expect(answers).toEqual([
      ['E_UNKNOWN_UTTERANCE', 'stale'],
      ['E_UNEXPECTED', 'stale'],
    ]);
    expect(events.map((e) => e[0])).toEqual([
      'protocolError',
      'protocolError',
      'replyStart',
      'replyAudio',
      'replyEnd',
    ]);
    expect(events[3]![1]).toEqual([Buffer.alloc(6), 'b']);
  });

  it('still refuses a reply.start for an unknown id while a refused reply is open', () => {
    const { tracker, answers, events } = setup();
    tracker.start({ type: 'reply.start', id: 'stale', format: pcm });
    tracker.start({ type: 'reply.start', id: 'other', format: pcm });
    expect(answers).toEqual([
      ['E_UNKNOWN_UTTERANCE', 'stale'],
      ['E_UNEXPECTED', 'other'],
    ]);
    expect(events.some((e) => e[0] === 'replyStart')).toBe(false);
  });
});
