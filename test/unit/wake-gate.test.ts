import { describe, expect, it } from 'vitest';
import { KeywordGate, type GateOptions } from '../../src/wake/openwakeword/gate.js';
import { replay } from '../../src/bench/wake/sweep.js';

const base: GateOptions = { threshold: 0.5, patience: 1, refractoryFrames: 10, warmupFrames: 3 };

/** Feeds scores from frame `start` on; returns the frames the gate fired on (committed). */
function fire(gate: KeywordGate, scores: number[], start = 0): number[] {
  const fired: number[] = [];
  scores.forEach((score, i) => {
    if (gate.update(start + i, score)) {
      gate.commit(start + i);
      fired.push(start + i);
    }
  });
  return fired;
}

describe('KeywordGate', () => {
  it('fires on the first frame at or above the threshold once warmed up', () => {
    expect(fire(new KeywordGate(base), [0, 0, 0, 0.1, 0.5, 0.9])).toEqual([4]);
  });

  it('ignores every score during the warm-up, however high', () => {
    expect(fire(new KeywordGate(base), [1, 1, 1, 0, 0])).toEqual([]);
  });

  it('needs `patience` consecutive frames over the threshold', () => {
    const gate = new KeywordGate({ ...base, patience: 3 });
    // A run of two is broken by a low frame; the run of three fires on its third frame.
    expect(fire(gate, [0, 0, 0, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9])).toEqual([8]);
  });

  it('does not fire again within the refractory period, and does after it', () => {
    const gate = new KeywordGate({ ...base, refractoryFrames: 4 });
    const scores = [0, 0, 0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
    // Fires on 3; 4..7 are within 4 frames of it; 8 is the first allowed.
    expect(fire(gate, scores)).toEqual([3, 8]);
  });

  it('a proposal that the engine vetoes (no commit) starts no refractory period', () => {
    const gate = new KeywordGate(base);
    for (let i = 0; i < 3; i++) gate.update(i, 0);
    expect(gate.update(3, 0.9)).toBe(true); // vetoed: no commit
    expect(gate.update(4, 0.9)).toBe(true);
  });

  it('reset starts a new warm-up but keeps the refractory period on the time line', () => {
    const gate = new KeywordGate({ ...base, refractoryFrames: 20 });
    expect(fire(gate, [0, 0, 0, 0.9])).toEqual([3]);
    gate.reset();
    // Warm-up (3 frames) then frames 7.. are still within 20 frames of frame 3.
    expect(fire(gate, [0.9, 0.9, 0.9, 0.9, 0.9], 4)).toEqual([]);
    gate.reset();
    expect(fire(gate, [0, 0, 0, 0.9], 30)).toEqual([33]);
  });
});

describe('replay (the sweep of the benchmark)', () => {
  it('applies the gate and the VAD veto to a recorded trace, counting from its first frame', () => {
    const scores = Float32Array.from([0, 0, 0, 0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.9, 0.6]);
    const vad = new Float32Array(scores.length).fill(NaN);
    vad[3] = 0.9;
    vad[15] = 0.1;
    vad[16] = 0.8;
    const trace = { scores, vad, firstFrame: 0 };
    const opts = { ...base, refractoryFrames: 2 };
    // Frame 15 is vetoed (VAD 0.1), frame 16 passes.
    expect(replay(trace, opts, 0.5)).toBe(2);
    // Without the veto, 15 fires and 16 falls in its refractory period.
    expect(replay(trace, opts, 0)).toBe(2);
    expect(replay(trace, { ...opts, threshold: 0.95 }, 0)).toBe(0);
    // Detections before `firstFrame` (the lead-in of a positive) do not count.
    expect(replay({ ...trace, firstFrame: 10 }, opts, 0.5)).toBe(1);
  });

  it('applies the verifier after the speech check, as the detector asks them', () => {
    const scores = Float32Array.from([0, 0, 0, 0.9, 0.8, 0, 0, 0, 0, 0.9]);
    const vad = new Float32Array(scores.length).fill(0.9);
    const verifier = new Float32Array(scores.length).fill(NaN);
    verifier[3] = 0.2; // turned down: no refractory period starts …
    verifier[4] = 0.97; // … so the next frame over the threshold is asked again, and passes
    // Frame 9: the verifier was never asked there (NaN): it cannot pass.
    const trace = { scores, vad, verifier, firstFrame: 0 };
    const opts = { ...base, refractoryFrames: 2 };
    expect(replay(trace, opts, 0.5, 0.95)).toBe(1);
    expect(replay(trace, opts, 0.5, 0.1)).toBe(1); // frame 3 passes; 4 is refractory
    expect(replay(trace, opts, 0.5, 0)).toBe(2); // off: frames 3 and 9
    // A trace without the verifier's scores passes nothing when a verifier is asked for.
    expect(replay({ scores, vad, firstFrame: 0 }, opts, 0.5, 0.5)).toBe(0);
  });
});
