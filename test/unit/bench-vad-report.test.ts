import { describe, expect, it } from 'vitest';
import type { EndpointerOptions } from '../../src/audio/endpointer.js';
import type { Measurement } from '../../src/bench/endpoint/measure.js';
import { idealVadBound } from '../../src/bench/endpoint/report.js';
import { endThresholdSweep, roomSweep } from '../../src/bench/endpoint/room-sweep.js';

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

  it('sweeps each room in turn, and chooses the quiet room that cuts off no one', () => {
    // A quiet room (40 dB) with a 240 ms pause, a noisy room (8 dB) with a 400 ms pause.
    const byNoise = { clean: [spoken(-60, 3)], '10 dB': [spoken(-28, 5)] };
    const { rows, chosenQuiet } = roomSweep(
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
    expect(chosenQuiet).toMatchObject({ room: 'quiet', byMs: 0, underOnePct: true });
    // Noisy: a 400 ms pause needs 320 + 160 = 480 ms.
    const noisy = (byMs: number) => rows.find((r) => r.room === 'noisy' && r.byMs === byMs)!;
    expect(noisy(160).bySnr['10 dB']).toMatchObject({ cutPct: 0, delayMedianMs: 480 });
    expect(noisy(0).bySnr['10 dB']!.cutPct).toBe(100);
    expect(noisy(0).underOnePct).toBe(false);
  });

  it('of equal quiet rooms chooses the one that changes fewest requests', () => {
    // A quiet room (40 dB) with a 160 ms pause: 240 ms is safe, and both bounds catch it.
    const byNoise = { clean: [spoken(-60, 2)] };
    const { chosenQuiet } = roomSweep(
      byNoise,
      { ...timings, quietRoomSnrDb: 30 },
      { noiseMarginDb: 6 },
      0,
      { quiet: { snrDb: [30, 35], byMs: [0, 80] }, noisy: { snrDb: [16], byMs: [0] } },
    );
    expect(chosenQuiet).toMatchObject({ snrDb: 35, byMs: 80 });
    expect(chosenQuiet!.bySnr.clean).toMatchObject({ cutPct: 0, delayMedianMs: 240 });
  });

  it('a higher end threshold closes sooner in noise, and the noisy room keeps what it half hears', () => {
    const speech = (n: number): Array<[number, number]> => Array(n).fill([0.9, -20]);
    const half = (n: number, floorDb: number): Array<[number, number]> =>
      Array(n).fill([0.6, floorDb]);
    const quiet = (n: number, floorDb: number): Array<[number, number]> =>
      Array(n).fill([0.02, floorDb]);
    const request = (frames: Array<[number, number]>, lastWordEndFrame: number): Measurement => ({
      id: 'r',
      woken: true,
      liveStartMs: 0,
      commandStartMs: 320,
      lastWordEndMs: lastWordEndFrame * 80,
      innerPausesMs: [],
      primed: { primed: 0, p: frames.map(([p]) => p), levelDb: frames.map(([, db]) => db) },
    });
    // 20 dB: the model's probability lingers (0.6) for two frames after the last word.
    const lingering = [...quiet(4, -40), ...speech(4), ...half(2, -40), ...quiet(20, -40)];
    // 10 dB: a quiet word the model half hears (0.6, at the floor) between two phrases.
    const halfHeard = [
      ...quiet(4, -30),
      ...speech(4),
      ...half(4, -30),
      ...speech(4),
      ...quiet(20, -30),
    ];
    const byNoise = { '20 dB': [request(lingering, 8)], '10 dB': [request(halfHeard, 16)] };
    const { rows, chosen } = endThresholdSweep(byNoise, timings, { noiseMarginDb: 6 }, 0, {
      thresholds: [0.5, 0.65],
      noisySnrDb: [15],
      noisyByMs: [0, 160],
    });
    const row = (t: number, byMs: number) =>
      rows.find((r) => r.speechEndThreshold === t && r.noisyRoomLongerByMs === byMs)!;
    // 0.5: the lingering frames are speech, the close comes 2 frames later.
    expect(row(0.5, 0).bySnr['20 dB']!.delayMedianMs).toBe(480);
    expect(row(0.65, 0).bySnr['20 dB']!.delayMedianMs).toBe(320);
    // 0.65 hears a pause of 4 frames in the 10 dB request: 320 ms cuts it off, 480 not.
    expect(row(0.65, 0).bySnr['10 dB']!.cutPct).toBe(100);
    expect(row(0.65, 160).bySnr['10 dB']).toMatchObject({ cutPct: 0, delayMedianMs: 480 });
    expect(chosen).toMatchObject({ speechEndThreshold: 0.65, noisyRoomLongerByMs: 160 });
  });
});
