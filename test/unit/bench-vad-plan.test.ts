import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RANGES,
  planRequests,
  type PlanOptions,
} from '../../src/bench/endpoint/requests.js';
import { fileSplit, TEXTS, textSplit } from '../../src/bench/endpoint/sources.js';

// The generated requests of `npm run bench:vad`: reproducible from a seed, and split so
// that the held-out half shares no voice, recording or text with the tuning half.
const files = (dir: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `/corpus/${dir}/${i.toString(16).padStart(8, '0')}.flac`);

const options = (split: 'tune' | 'heldout', seed = 1): PlanOptions => ({
  seed,
  count: 300,
  split,
  alexaFiles: files('positive/alexa', 90),
  wordFiles: files('negative/words', 150),
  ...DEFAULT_RANGES,
});

describe('bench:vad request plans', () => {
  it('are the same for the same seed and differ for another', () => {
    expect(planRequests(options('tune'))).toEqual(planRequests(options('tune')));
    expect(planRequests(options('tune', 2))).not.toEqual(planRequests(options('tune')));
  });

  it('share no voice, corpus recording or text between the halves', () => {
    const used = (split: 'tune' | 'heldout') => {
      const plans = planRequests(options(split));
      const voices = new Set(plans.map((p) => `${p.voice.engine}:${p.voice.name}`));
      const recordings = new Set<string>();
      const texts = new Set<string>();
      for (const p of plans) {
        if (p.wake.kind === 'corpus') recordings.add(p.wake.file);
        for (const ph of p.phrases) {
          if (ph.kind === 'corpus') ph.files.forEach((f) => recordings.add(f));
          else texts.add(ph.text);
        }
      }
      return { voices, recordings, texts };
    };
    const tune = used('tune');
    const held = used('heldout');
    for (const key of ['voices', 'recordings', 'texts'] as const) {
      expect(tune[key].size).toBeGreaterThan(1);
      expect(held[key].size).toBeGreaterThan(1);
      expect([...tune[key]].filter((x) => held[key].has(x))).toEqual([]);
    }
    expect([...held.recordings].every((f) => fileSplit(f) === 'heldout')).toBe(true);
    expect([...held.texts].every((t) => textSplit(TEXTS.indexOf(t)) === 'heldout')).toBe(true);
  });

  it('draws the pauses from their ranges, and both one- and two-phrase requests', () => {
    const plans = planRequests(options('heldout'));
    const { wakePause, phrasePause, wordGap } = DEFAULT_RANGES;
    const within = (x: number, r: { min: number; max: number }) => x >= r.min && x <= r.max;
    expect(plans.every((p) => within(p.wakePause, wakePause))).toBe(true);
    expect(plans.every((p) => within(p.phrasePause, phrasePause))).toBe(true);
    const gaps = plans.flatMap((p) =>
      p.phrases.flatMap((ph) => (ph.kind === 'corpus' ? ph.gaps : [])),
    );
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => within(g, wordGap))).toBe(true);
    const counts = new Set(plans.map((p) => p.phrases.length));
    expect([...counts].sort()).toEqual([1, 2]);
  });

  it('without a corpus, uses synthesized voices only', () => {
    const plans = planRequests({ ...options('tune'), alexaFiles: [], wordFiles: [] });
    expect(plans.length).toBe(300);
    expect(
      plans.every((p) => p.wake.kind === 'tts' && p.phrases.every((ph) => ph.kind === 'tts')),
    ).toBe(true);
  });
});
