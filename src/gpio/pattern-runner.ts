import type { LedPattern } from '../config/board-profile.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

/** One segment of a pattern: the LED is `on` (or off) for `ms`. */
export interface PatternStep {
  on: boolean;
  ms: number;
}

/**
 * A pattern as a loop of steps. A single step with `ms: Infinity` is a steady level
 * (off, solid), which needs no timer at all.
 */
export function patternSteps(pattern: LedPattern): PatternStep[] {
  switch (pattern.type) {
    case 'off':
      return [{ on: false, ms: Infinity }];
    case 'solid':
      return [{ on: true, ms: Infinity }];
    case 'blink':
    case 'pulse':
      return [
        { on: true, ms: pattern.onMs },
        { on: false, ms: pattern.offMs },
      ];
    case 'double-blink':
      return [
        { on: true, ms: pattern.onMs },
        { on: false, ms: pattern.gapMs },
        { on: true, ms: pattern.onMs },
        { on: false, ms: pattern.offMs },
      ];
  }
}

export function samePattern(a: LedPattern | undefined, b: LedPattern | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Plays one LED's pattern on Clock timers (never on the audio path). Each step is
 * scheduled from the time the previous one was due, not from when its timer ran, so
 * a late timer does not make the pattern drift.
 */
export class PatternRunner {
  private timer: TimerHandle | undefined;
  private pattern: LedPattern | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly set: (on: boolean) => void,
  ) {}

  get current(): LedPattern | undefined {
    return this.pattern;
  }

  /** Starts `pattern` from its first step; the same pattern again keeps its phase. */
  play(pattern: LedPattern): void {
    if (samePattern(pattern, this.pattern)) return;
    this.cancel();
    this.pattern = pattern;
    const steps = patternSteps(pattern);
    let index = 0;
    let dueAt = this.clock.now();
    const step = (): void => {
      const s = steps[index]!;
      this.set(s.on);
      if (!Number.isFinite(s.ms)) return;
      dueAt += s.ms;
      index = (index + 1) % steps.length;
      this.timer = this.clock.setTimeout(step, dueAt - this.clock.now());
    };
    step();
  }

  /** Stops the timer without touching the LED. */
  cancel(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pattern = undefined;
  }
}
