import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnergyVad } from '../../src/audio/energy-vad.js';
import {
  Endpointer,
  type EndpointerOptions,
  type EndpointReason,
} from '../../src/audio/endpointer.js';
import { FRAME_SAMPLES } from '../../src/shared/audio-format.js';

/** 80 ms frames; the timings in frames: hangover 4, wait 10, wake tail 2, min speech 2. */
const base: EndpointerOptions = {
  trailingSilenceMs: 320,
  commandWaitMs: 800,
  wakeTailMs: 160,
  minSpeechMs: 160,
  maxMs: 8000,
  noSpeechTimeoutMs: 2000,
};

/** Feeds `frames` ('1' speech, '0' not); returns the 1-based frame it ended on and why. */
function run(
  frames: string,
  options: Partial<EndpointerOptions> = {},
  afterWake = true,
  preRollMs = 500,
): { at: number; reason: EndpointReason } | 'continue' {
  const ep = new Endpointer({ ...base, ...options });
  ep.start(preRollMs, afterWake);
  for (let i = 0; i < frames.length; i++) {
    const d = ep.push(frames[i] === '1');
    if (d.state === 'ended') return { at: i + 1, reason: d.reason };
  }
  return 'continue';
}

const z = (n: number): string => '0'.repeat(n);
const s = (n: number): string => '1'.repeat(n);

describe('Endpointer', () => {
  // [what, frames, options, after a wake word, expected]
  const table: Array<
    [string, string, Partial<EndpointerOptions>, boolean, ReturnType<typeof run>]
  > = [
    [
      'a pause after the wake word longer than the hangover does not end it; the command then ends after the hangover',
      s(2) + z(8) + s(4) + z(4),
      {},
      true,
      { at: 18, reason: 'vad' },
    ],
    [
      'pauses inside the command shorter than the hangover do not end it',
      s(2) + z(5) + s(3) + z(3) + s(2) + z(3) + s(2) + z(4),
      {},
      true,
      { at: 24, reason: 'vad' },
    ],
    [
      'only the wake word, then silence: gives up after the command wait',
      s(2) + z(10),
      {},
      true,
      { at: 12, reason: 'noSpeech' },
    ],
    ['still waiting one frame before the command wait is over', s(2) + z(9), {}, true, 'continue'],
    [
      'speech running on past the wake tail is the command (no pause after the wake word)',
      s(6) + z(4),
      {},
      true,
      { at: 10, reason: 'vad' },
    ],
    [
      'one frame past the wake tail is not yet a command; one more speech frame makes it one',
      s(3) + z(1) + s(1) + z(4),
      {},
      true,
      { at: 9, reason: 'vad' },
    ],
    [
      'one frame past the wake tail and then silence: not a command',
      s(3) + z(10),
      {},
      true,
      { at: 13, reason: 'noSpeech' },
    ],
    [
      'a one-frame click after the wake word is not a command, and restarts the wait',
      s(2) + z(3) + s(1) + z(10),
      {},
      true,
      { at: 16, reason: 'noSpeech' },
    ],
    [
      'no wake word (button, follow-up): speech at once is the command',
      s(2) + z(4),
      {},
      false,
      { at: 6, reason: 'vad' },
    ],
    [
      'no wake word: the command wait does not apply, only the no-speech timeout',
      z(24),
      {},
      false,
      'continue',
    ],
    ['no wake word: the no-speech timeout', z(25), {}, false, { at: 25, reason: 'noSpeech' }],
    [
      'the no-speech timeout bounds a longer command wait',
      s(2) + z(30),
      { commandWaitMs: 30_000 },
      true,
      { at: 25, reason: 'noSpeech' },
    ],
    [
      'the hard cap counts the pre-roll, even during speech',
      s(20),
      { maxMs: 1000 },
      true,
      { at: 7, reason: 'maxLength' },
    ],
    [
      'a wake tail of 0: speech at the start is already the command',
      s(2) + z(4),
      { wakeTailMs: 0 },
      true,
      { at: 6, reason: 'vad' },
    ],
    [
      'the command has begun: the no-speech timeout (frame 25) no longer applies',
      z(1) + s(2) + z(3) + s(1) + z(3) + s(1) + z(3) + s(1) + z(3) + s(1) + z(3) + s(1) + z(4),
      {},
      false,
      { at: 27, reason: 'vad' },
    ],
  ];

  it.each(table)('%s', (_what, frames, options, afterWake, expected) => {
    expect(run(frames, options, afterWake)).toEqual(expected);
  });

  it('stays ended with the same reason, whatever comes after', () => {
    const ep = new Endpointer(base);
    ep.start(0, false);
    const seen = [...(s(2) + z(4) + s(3))].map((f) => ep.push(f === '1'));
    expect(seen.slice(5)).toEqual(Array(4).fill({ state: 'ended', reason: 'vad' }));
    expect(ep.heardCommand).toBe(true);
  });

  it('starts each utterance afresh', () => {
    const ep = new Endpointer(base);
    ep.start(500, true);
    for (const f of s(2) + z(4)) ep.push(f === '1');
    expect(ep.heardCommand).toBe(false);
    ep.start(0, false);
    expect([...(s(2) + z(3))].map((f) => ep.push(f === '1').state)).toEqual(
      Array(5).fill('continue'),
    );
    expect(ep.push(false)).toEqual({ state: 'ended', reason: 'vad' });
  });

  it('without a wake word it ends exactly where the fixed rule (any speech, then the trailing silence) ends', () => {
    const loud = new Int16Array(FRAME_SAMPLES).fill(8000);
    const quiet = new Int16Array(FRAME_SAMPLES);
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 2, max: 10 }),
        (speech, hangoverFrames) => {
          const trailingSilenceMs = hangoverFrames * 80;
          const fixed = new EnergyVad({ thresholdDb: -40, trailingSilenceMs });
          const ep = new Endpointer({ ...base, trailingSilenceMs, noSpeechTimeoutMs: 30_000 });
          ep.start(0, false);
          speech.forEach((sp, index) => {
            const old = fixed.process({ index, samples: sp ? loud : quiet }) === 'ended';
            expect(ep.push(sp).state === 'ended').toBe(old);
          });
        },
      ),
    );
  });

  describe('a dip inside the wake word', () => {
    const tail = { wakeTailMs: 480 };

    it('one silent frame at the start is still the wake word: its rest is not the command', () => {
      // "Ale" | the k's closure | "xa": the rest of the word, the pause, then the command.
      expect(run(z(1) + s(4) + z(6) + s(4) + z(4), tail)).toEqual({ at: 19, reason: 'vad' });
    });

    it('two silent frames end the word: what follows is the command', () => {
      expect(run(z(2) + s(4) + z(4), tail)).toEqual({ at: 10, reason: 'vad' });
    });

    it('a dip inside a run that goes on past the tail still starts the command on time', () => {
      // 3 frames, a dip, 5 more: 720 ms from the start, 240 past the tail of 480.
      expect(run(s(3) + z(1) + s(5) + z(4), tail)).toEqual({ at: 13, reason: 'vad' });
    });
  });

  describe("the hangover by room (the utterance's estimated SNR)", () => {
    const rooms: Partial<EndpointerOptions> = {
      quietRoomSnrDb: 30,
      quietRoomShorterByMs: 80,
      noisyRoomSnrDb: 16,
      noisyRoomLongerByMs: 160,
    };

    /** The frame a command of 3 frames, then silence, ends on with this SNR throughout. */
    function endsAt(snrDb: number | undefined, options = rooms): number | undefined {
      const ep = new Endpointer({ ...base, ...options });
      ep.start(0, false);
      const frames = s(3) + z(20);
      for (let i = 0; i < frames.length; i++) {
        if (ep.push(frames[i] === '1', snrDb).state === 'ended') return i + 1;
      }
      return undefined;
    }

    it.each([
      ['a quiet room: one frame shorter', 30, 3 + 3],
      ['in between: the hangover itself', 29.9, 3 + 4],
      ['in between, at the noisy bound', 16, 3 + 4],
      ['a noisy room: two frames longer', 15.9, 3 + 6],
      ['the SNR not known (energy VAD): the hangover itself', undefined, 3 + 4],
    ])('%s', (_what, snrDb, frame) => {
      expect(endsAt(snrDb)).toBe(frame);
    });

    it('0 turns a room off, and without the options every room has one hangover', () => {
      const off = { ...rooms, quietRoomShorterByMs: 0, noisyRoomLongerByMs: 0 };
      expect([40, 20, 5].map((snr) => endsAt(snr, off))).toEqual([7, 7, 7]);
      expect([40, 20, 5].map((snr) => endsAt(snr, {}))).toEqual([7, 7, 7]);
    });

    it('follows the room as the estimate changes during the silence', () => {
      const ep = new Endpointer({ ...base, ...rooms });
      ep.start(0, false);
      for (const f of s(3)) ep.push(f === '1', 20);
      // Two silent frames at 20 dB (hangover 320 ms), then the room turns out quiet:
      // the third silent frame reaches the quiet room's 240 ms.
      expect(ep.push(false, 20).state).toBe('continue');
      expect(ep.push(false, 20).state).toBe('continue');
      expect(ep.push(false, 35)).toEqual({ state: 'ended', reason: 'vad' });
    });

    it('never shortens the hangover below one frame', () => {
      expect(endsAt(40, { ...rooms, quietRoomShorterByMs: 2000 })).toBe(3 + 1);
    });

    it('only changes the hangover: the pause after the wake word still waits commandWaitMs', () => {
      const ep = new Endpointer({ ...base, ...rooms });
      ep.start(500, true);
      // Wake tail (2 frames), then 9 silent frames: under commandWaitMs (10 frames).
      const seen = [...(s(2) + z(9))].map((f) => ep.push(f === '1', 40).state);
      expect(seen).toEqual(Array(11).fill('continue'));
      expect(ep.push(false, 40)).toEqual({ state: 'ended', reason: 'noSpeech' });
    });
  });
});
