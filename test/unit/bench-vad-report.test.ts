import { describe, expect, it } from 'vitest';
import type { EndpointerOptions } from '../../src/audio/endpointer.js';
import type { Measurement } from '../../src/bench/endpoint/measure.js';
import { idealVadBound, roomSweep } from '../../src/bench/endpoint/report.js';

// The bench's evidence tables from hand-made measurements, where the answer is known.

const timings: EndpointerOptions = {
  trailingSilenceMs: 320,
  commandWaitMs: 3000,
  wakeTailMs: 0,
  minSpeechMs: 160,
  maxMs: 30_000,
  noSpeechTimeoutMs: 30_000,
};

/** A request whose longest composed pause inside the command is `pauseMs`. */
function withPause(pauseMs: number): Measurement {
  return {
    id: `p${pauseMs}`,
    woken: false,
    liveStartMs: NaN,
    commandStartMs: 0,
    lastWordEndMs: 0,
    innerPausesMs: [50, pauseMs],
  };
}

/**
 * A woken request at one level: the model's probability and the frame's level per
 * frame (80 ms). Speech is at -20 dBFS; the room at `floorDb`. The command: 4 frames,
 * a pause of `pauseFrames`, 4 frames; then silence. Its last word ends with frame 8 +
 * pauseFrames.
 */
function spoken(floorDb: number, pauseFrames: number): Measurement {
  const speech = (n: number): Array<[number, number]> => Array(n).fill([0.9, -20]);
  const quiet = (n: number): Array<[number, number]> => Array(n).fill([0.02, floorDb]);
  const frames = [...quiet(4), ...speech(4), ...quiet(pauseFrames), ...speech(4), ...quiet(20)];
  return {
    id: `f${floorDb}`,
    woken: true,
    liveStartMs: 0,
    commandStartMs: 320,
    lastWordEndMs: (12 + pauseFrames) * 80,
    innerPausesMs: [pauseFrames * 80],
    primed: { primed: 0, p: frames.map(([p]) => p), levelDb: frames.map(([, db]) => db) },
  };
}

describe('bench:vad evidence', () => {
  it('the ideal VAD needs a hangover longer than all but 1 % of the longest pauses', () => {
    // 200 requests: 199 with a longest pause of 300 ms, 1 (0.5 %) of 600 ms.
    const ms = [...Array(199).fill(300), 600].map(withPause);
    expect(idealVadBound(ms)).toEqual({ hangoverMs: 320, cutPct: 0.5 });
    // 2 of 200 (1 %, not under 1 %) at 600 ms: the bound passes them.
    const more = [...Array(198).fill(300), 600, 600].map(withPause);
    expect(idealVadBound(more)).toEqual({ hangoverMs: 620, cutPct: 0 });
    expect(idealVadBound([])).toEqual({ hangoverMs: 100, cutPct: 0 });
  });

  it('sweeps each room in turn and chooses the shortest hangover that cuts off no one', () => {
    // A quiet room (40 dB) with a 240 ms pause, a noisy room (8 dB) with a 400 ms pause.
    const byNoise = { clean: [spoken(-60, 3)], '10 dB': [spoken(-28, 5)] };
    const { rows, chosen } = roomSweep(
      byNoise,
      // Each room's sweep leaves the other as configured: these are safe for both.
      {
        ...timings,
        quietRoomSnrDb: 30,
        quietRoomShorterByMs: 0,
        noisyRoomSnrDb: 16,
        noisyRoomLongerByMs: 160,
      },
      { noiseMarginDb: 6 },
      0,
      { quiet: { snrDb: [30], byMs: [0, 80, 160] }, noisy: { snrDb: [16], byMs: [0, 80, 160] } },
    );
    expect(rows).toHaveLength(6);
    // Quiet: 320 - 80 = 240 ms cuts in the 240 ms pause; 320 (by 0) is the shortest safe.
    expect(chosen.quiet).toMatchObject({ room: 'quiet', byMs: 0, underOnePct: true });
    // Noisy: a 400 ms pause needs 320 + 160 = 480 ms.
    expect(chosen.noisy).toMatchObject({ room: 'noisy', byMs: 160, underOnePct: true });
    expect(chosen.noisy!.bySnr['10 dB']).toMatchObject({ cutPct: 0, delayMedianMs: 480 });
    const cutting = rows.find((r) => r.room === 'noisy' && r.byMs === 0)!;
    expect(cutting.bySnr['10 dB']!.cutPct).toBe(100);
    expect(cutting.underOnePct).toBe(false);
  });
});
