import type { EndpointerOptions } from '../../audio/endpointer.js';
import type { FrameSpeechOptions } from '../../audio/silero-vad.js';
import type { Measurement } from './measure.js';
import type { ByNoise } from './report.js';
import { outcome, replay, summarize, type Summary } from './score.js';
import { liveDecisions } from './traces.js';

/**
 * The evidence for the hangover by room and for the speech decisions that go with it:
 * every setting replayed on the device's own decisions, with the estimated SNR after
 * each frame, as `UtteranceAudio` feeds them to the endpointer.
 */
type Traces = Map<Measurement, ReturnType<typeof liveDecisions>>;

function traceAll(byNoise: ByNoise, vad: FrameSpeechOptions): Traces {
  const traces: Traces = new Map();
  for (const all of Object.values(byNoise)) {
    for (const m of all) if (m.woken && m.primed) traces.set(m, liveDecisions(m.primed, vad));
  }
  return traces;
}

function measureAll(
  byNoise: ByNoise,
  traces: Traces,
  options: EndpointerOptions,
  preRollMs: number,
): Record<string, Summary> {
  const bySnr: Record<string, Summary> = {};
  for (const [snr, all] of Object.entries(byNoise)) {
    const outcomes = all
      .filter((m) => traces.has(m))
      .map((m) => {
        const t = traces.get(m)!;
        const close = replay(options, t.speech, preRollMs, true, t.snrDb);
        return outcome(close, m.liveStartMs, m.lastWordEndMs);
      });
    bySnr[snr] = summarize(outcomes);
  }
  return bySnr;
}

export interface RoomSweepRow {
  room: 'quiet' | 'noisy';
  snrDb: number;
  /** Shorter (quiet room) or longer (noisy room) than `trailingSilenceMs` by this much. */
  byMs: number;
  bySnr: Record<string, Summary>;
  /** Cut-offs under 1 % at every noise level. */
  underOnePct: boolean;
}

/**
 * The hangover by room swept: each room's estimated-SNR bound and hangover in turn, the
 * other room as configured, on the device's decisions (with the SNR after each frame).
 * The quiet room's setting the defaults come from: under 1 % cut-offs at every noise
 * level, then the lowest median in the clean requests; of equal medians, the highest
 * bound (the one that changes fewest requests). The noisy room is chosen together with
 * the speech decisions (`endThresholdSweep`); its rows here are at the configured ones.
 */
export function roomSweep(
  byNoise: ByNoise,
  timings: EndpointerOptions,
  vad: FrameSpeechOptions,
  preRollMs: number,
  grid: {
    quiet: { snrDb: readonly number[]; byMs: readonly number[] };
    noisy: { snrDb: readonly number[]; byMs: readonly number[] };
  },
): { rows: RoomSweepRow[]; chosenQuiet: RoomSweepRow | null } {
  const traces = traceAll(byNoise, vad);
  const rows: RoomSweepRow[] = [];
  let chosen: RoomSweepRow | null = null;
  const measure = (options: EndpointerOptions): Record<string, Summary> =>
    measureAll(byNoise, traces, options, preRollMs);
  for (const room of ['quiet', 'noisy'] as const) {
    const setting = (snrDb: number, byMs: number): EndpointerOptions =>
      room === 'quiet'
        ? { ...timings, quietRoomSnrDb: snrDb, quietRoomShorterByMs: byMs }
        : { ...timings, noisyRoomSnrDb: snrDb, noisyRoomLongerByMs: byMs };
    const median = (r: RoomSweepRow): number => r.bySnr.clean?.delayMedianMs ?? Infinity;
    for (const snrDb of grid[room].snrDb) {
      for (const byMs of grid[room].byMs) {
        const bySnr = measure(setting(snrDb, byMs));
        const row = {
          room,
          snrDb,
          byMs,
          bySnr,
          underOnePct: Object.values(bySnr).every((s) => s.cutPct < 1),
        };
        rows.push(row);
        if (room !== 'quiet' || !row.underOnePct) continue;
        // The bounds come in rising order: of equal medians, the later is the higher.
        const better = !chosen || median(row) <= median(chosen);
        if (better) chosen = row;
      }
    }
  }
  return { rows, chosenQuiet: chosen };
}

export interface EndSweepRow {
  speechEndThreshold: number;
  noisyRoomSnrDb: number;
  noisyRoomLongerByMs: number;
  bySnr: Record<string, Summary>;
}

/** Cut-offs allowed on the tuning half: half the target's 1 %, for the data not seen. */
export const TUNING_CUT_PCT = 0.5;

/**
 * Silero's end threshold swept with the noisy room (the quiet room and the hangover as
 * configured). A higher threshold ends speech sooner in noise, where the probability
 * lingers after the last word, and misses more quiet words, which the noisy room's
 * longer hangover then outlasts. The choice: at most `TUNING_CUT_PCT` cut-offs at every
 * noise level, then the lowest median at 20 dB, then at 10 dB, then the lowest bound.
 */
export function endThresholdSweep(
  byNoise: ByNoise,
  timings: EndpointerOptions,
  vad: FrameSpeechOptions,
  preRollMs: number,
  grid: {
    thresholds: readonly number[];
    noisySnrDb: readonly number[];
    noisyByMs: readonly number[];
  },
): { rows: EndSweepRow[]; chosen: EndSweepRow | null } {
  const rows: EndSweepRow[] = [];
  let chosen: EndSweepRow | null = null;
  const median = (r: EndSweepRow, snr: string): number => r.bySnr[snr]?.delayMedianMs ?? Infinity;
  for (const speechEndThreshold of grid.thresholds) {
    const traces = traceAll(byNoise, {
      ...vad,
      speechThreshold: Math.max(0.5, speechEndThreshold),
      silenceThreshold: speechEndThreshold,
    });
    for (const noisyRoomSnrDb of grid.noisySnrDb) {
      for (const noisyRoomLongerByMs of grid.noisyByMs) {
        const options = { ...timings, noisyRoomSnrDb, noisyRoomLongerByMs };
        const row = {
          speechEndThreshold,
          noisyRoomSnrDb,
          noisyRoomLongerByMs,
          bySnr: measureAll(byNoise, traces, options, preRollMs),
        };
        rows.push(row);
        if (!Object.values(row.bySnr).every((s) => s.cutPct <= TUNING_CUT_PCT)) continue;
        const better =
          !chosen ||
          median(row, '20 dB') < median(chosen, '20 dB') ||
          (median(row, '20 dB') === median(chosen, '20 dB') &&
            median(row, '10 dB') < median(chosen, '10 dB'));
        if (better) chosen = row;
      }
    }
  }
  return { rows, chosen };
}
