import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NoiseFloor } from '../../src/audio/noise-floor.js';
import {
  FrameSpeech,
  sileroOptions,
  speechDecision,
  type FrameSpeechOptions,
} from '../../src/audio/silero-vad.js';

describe('NoiseFloor', () => {
  it('is the quietest fifth of the levels heard, in whole dB', () => {
    const floor = new NoiseFloor();
    expect(floor.db).toBeUndefined();
    // 2 quiet frames of 10: the floor is the quiet level; one more loud one does not move it.
    for (const db of [-60, -61, -20, -22, -25, -20, -21, -30, -24, -23]) floor.add(db);
    expect(floor.db).toBe(-60);
    floor.reset();
    floor.add(-40.4);
    expect(floor.db).toBe(-40);
  });

  it('agrees with the sorted list it stands for, whatever the levels', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -96, max: 0 }), { minLength: 1, maxLength: 200 }),
        (levels) => {
          const floor = new NoiseFloor(0.2);
          for (const db of levels) floor.add(db);
          const sorted = [...levels].sort((a, b) => a - b);
          expect(floor.db).toBe(sorted[Math.floor(0.2 * (sorted.length - 1))]);
        },
      ),
    );
  });
});

describe('NoiseFloor.quantile', () => {
  it('is any level of the frames heard, as the sorted list gives it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -96, max: 0 }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (levels, q) => {
          const floor = new NoiseFloor();
          for (const db of levels) floor.add(db);
          const sorted = [...levels].sort((a, b) => a - b);
          expect(floor.quantile(q)).toBe(sorted[Math.floor(q * (sorted.length - 1))]);
        },
      ),
    );
    expect(new NoiseFloor().quantile(0.9)).toBeUndefined();
  });
});

describe('FrameSpeech.snrDb', () => {
  it('is the level a tenth of the frames reach over the quietest fifth', () => {
    const speech = new FrameSpeech({ noiseMarginDb: 6 });
    expect(speech.snrDb).toBeUndefined();
    // 3 frames of a -60 dBFS room, 7 of -20 dBFS speech: 40 dB.
    for (const db of [-60, -60, -60, -20, -20, -20, -20, -20, -20, -20]) speech.decide(0.9, db);
    expect(speech.snrDb).toBe(40);
    // The same speech over a -32 dBFS noise bed: 12 dB.
    speech.reset();
    for (const db of [-32, -32, -32, -20, -20, -20, -20, -20, -20, -20]) speech.decide(0.9, db);
    expect(speech.snrDb).toBe(12);
  });

  it('one loud click does not make a noisy room quiet', () => {
    const speech = new FrameSpeech({ noiseMarginDb: 6 });
    for (let i = 0; i < 20; i++) speech.decide(0.9, i % 2 ? -20 : -32);
    speech.decide(0.05, -1);
    expect(speech.snrDb).toBe(12);
  });
});

describe('FrameSpeech', () => {
  const device = sileroOptions({
    trailingSilenceMs: 720,
    speechEndThreshold: 0.5,
    noiseMarginDb: 6,
  });

  /** Feeds [probability, level] pairs; returns the decisions as '1'/'0'. */
  function run(frames: Array<[number, number]>, options: FrameSpeechOptions = device): string {
    const speech = new FrameSpeech(options);
    return frames.map(([p, db]) => (speech.decide(p, db) ? '1' : '0')).join('');
  }

  // The noise bed at -40 dBFS: a floor of -40 once enough quiet frames are heard.
  const bed = (n: number, p = 0.02): Array<[number, number]> => Array(n).fill([p, -40]);

  // [what, frames, options, expected]
  const table: Array<[string, Array<[number, number]>, Parameters<typeof run>[1], string]> = [
    [
      'the model alone: speech from 0.5; with the device’s threshold it ends below 0.5',
      [...bed(4), [0.9, -40], [0.45, -40], [0.3, -40]],
      device,
      '0000100',
    ],
    [
      'with the model’s usual hysteresis (0.35) a lingering 0.45 is still speech',
      [...bed(4), [0.9, -40], [0.45, -40], [0.3, -40]],
      { speechThreshold: 0.5, silenceThreshold: 0.35 },
      '0000110',
    ],
    [
      'a quiet word the model misses: louder than the floor by the margin, it is speech',
      [...bed(5), [0.2, -33], [0.2, -33.5], [0.2, -36]],
      device,
      '00000110',
    ],
    [
      'but not when the model is sure it is not speech (a door, a pan)',
      [...bed(5), [0.05, -20]],
      device,
      '000000',
    ],
    [
      'without a noise margin the level does not count',
      [...bed(5), [0.2, -20]],
      { speechThreshold: 0.5, silenceThreshold: 0.5 },
      '000000',
    ],
  ];

  it.each(table)('%s', (_what, frames, options, expected) => {
    expect(run(frames, options)).toBe(expected);
  });

  it('without a noise margin it is speechDecision, frame by frame', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }), (ps) => {
        const options = { speechThreshold: 0.5, silenceThreshold: 0.35 };
        const speech = new FrameSpeech(options);
        let was = false;
        for (const p of ps) {
          was = speechDecision(p, was, options);
          expect(speech.decide(p, -30)).toBe(was);
        }
      }),
    );
  });

  it('starts afresh: the floor and the hysteresis are forgotten', () => {
    const speech = new FrameSpeech(device);
    for (const [p, db] of bed(10)) speech.decide(p, db);
    expect(speech.decide(0.3, -30)).toBe(true);
    speech.reset();
    // The first frame is its own floor: not louder than it by the margin.
    expect(speech.decide(0.3, -30)).toBe(false);
  });
});
