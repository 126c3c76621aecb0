import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { LogBudget } from '../../src/shared/log-budget.js';

function budget() {
  const clock = new ManualClock();
  const summaries: Array<[string, number]> = [];
  const b = new LogBudget({
    max: 3,
    windowMs: 1000,
    clock,
    summary: (key, n) => summaries.push([key, n]),
  });
  return { clock, summaries, b };
}

describe('LogBudget', () => {
  it('writes max lines per window and kind, then one summary with the rest', () => {
    const { clock, summaries, b } = budget();
    const taken = Array.from({ length: 10 }, () => b.take('ack E_UNKNOWN_UTTERANCE'));
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect(summaries).toEqual([]);
    clock.advanceTo(1000);
    expect(summaries).toEqual([['ack E_UNKNOWN_UTTERANCE', 7]]);
    // A new window: lines again.
    expect(b.take('ack E_UNKNOWN_UTTERANCE')).toBe(true);
  });

  it('keeps kinds apart: a flood of one kind does not hide another', () => {
    const { clock, summaries, b } = budget();
    for (let i = 0; i < 50; i++) b.take('ack E_UNKNOWN_UTTERANCE');
    expect(b.take('ack E_INTEGRITY')).toBe(true);
    clock.advanceTo(1000);
    expect(summaries).toEqual([['ack E_UNKNOWN_UTTERANCE', 47]]);
  });

  it('flush() writes what is pending at once and nothing twice', () => {
    const { clock, summaries, b } = budget();
    for (let i = 0; i < 5; i++) b.take('reply');
    b.flush();
    expect(summaries).toEqual([['reply', 2]]);
    clock.advanceTo(5000);
    expect(summaries).toHaveLength(1);
  });
});
