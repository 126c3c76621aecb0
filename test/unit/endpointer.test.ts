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
});
