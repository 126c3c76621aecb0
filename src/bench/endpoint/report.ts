import type { EndpointerOptions } from '../../audio/endpointer.js';
import { FRAME_MS } from '../../shared/audio-format.js';
import type { FrameSpeechOptions } from '../../audio/silero-vad.js';
import type { Measurement } from './measure.js';
import { outcome, quantile, replay, summarize, type Summary } from './score.js';
import { decisions } from './traces.js';

/**
 * What `npm run bench:vad` prints: the old and the new rule side by side per noise
 * level, and, on the tuning half, the evidence the timings are chosen from.
 */
export type ByNoise = Record<string, Measurement[]>;

export interface RuleRow {
  snr: string;
  requests: number;
  /** Requests whose wake word fired (the others have no utterance to end). */
  woken: number;
  old: Summary;
  /** The endpointer as it first shipped: the model's decisions alone, 720 ms. */
  first: Summary;
  new: Summary;
  /** The new rule with a VAD that does not hear the pre-roll first. */
  newUnprimed: Summary;
  energy: Summary;
  /** The bench's replay closes where the device's session did, on this many. */
  replayAgrees: number;
}

export function ruleTable(byNoise: ByNoise): RuleRow[] {
  return Object.entries(byNoise).map(([snr, all]) => {
    const woken = all.filter((m) => m.woken);
    return {
      snr,
      requests: all.length,
      woken: woken.length,
      old: summarize(woken.map((m) => m.old!)),
      first: summarize(woken.map((m) => m.first!)),
      new: summarize(woken.map((m) => m.session!)),
      newUnprimed: summarize(woken.map((m) => m.unprimed!)),
      energy: summarize(woken.map((m) => m.energy!)),
      replayAgrees: woken.filter((m) => m.replayAgrees).length,
    };
  });
}

/** Quantiles of a list of durations, ms. */
export interface Spread {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return {
    n: xs.length,
    p50: quantile(xs, 0.5),
    p90: quantile(xs, 0.9),
    p99: quantile(xs, 0.99),
    max: xs.length ? Math.round(Math.max(...xs)) : NaN,
  };
}

/** Where speech runs are in a request's live frames, in ms from the start of the live audio. */
function runs(speech: readonly boolean[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from: number | undefined;
  speech.forEach((s, i) => {
    if (s && from === undefined) from = i;
    if (!s && from !== undefined) {
      out.push([from * FRAME_MS, i * FRAME_MS]);
      from = undefined;
    }
  });
  if (from !== undefined) out.push([from * FRAME_MS, speech.length * FRAME_MS]);
  return out;
}

/**
 * The pauses as the VAD (primed, as in the device) sees them: the speech run the wake
 * word fired in, the silence between the wake word and the command, the silences
 * inside the command (what a hangover must outlast), and the final silence's onset
 * (the VAD's end of speech minus the true end of the last word: the part of the close
 * delay that is not the hangover).
 */
export function pauseStats(measurements: readonly Measurement[], vad: FrameSpeechOptions) {
  const wakeRun: number[] = [];
  const afterWake: number[] = [];
  const inner: number[] = [];
  const vadEndLag: number[] = [];
  const trueInner: number[] = [];
  for (const m of measurements) {
    trueInner.push(...m.innerPausesMs);
    if (!m.woken || !m.primed) continue;
    const r = runs(decisions(m.primed, vad));
    const commandAt = m.commandStartMs - m.liveStartMs;
    const lastAt = m.lastWordEndMs - m.liveStartMs;
    wakeRun.push(r[0] && r[0][0] === 0 ? r[0][1] : 0);
    const command = r.filter(([from, to]) => to > commandAt && from < lastAt);
    if (command.length === 0) continue;
    const before = r.filter(([, to]) => to <= command[0]![0]).at(-1);
    afterWake.push(command[0]![0] - (before ? before[1] : 0));
    for (let i = 1; i < command.length; i++) inner.push(command[i]![0] - command[i - 1]![1]);
    vadEndLag.push(command.at(-1)![1] - lastAt);
  }
  return {
    wakeRunMs: spread(wakeRun),
    silenceAfterWakeMs: spread(afterWake),
    innerPausesMs: { composed: spread(trueInner), asTheVadSees: spread(inner) },
    vadEndMinusWordEndMs: spread(vadEndLag),
  };
}

/**
 * The floor under any silence rule on these requests: a VAD that heard every word
 * exactly, deciding continuously, closes one hangover after the last word and cuts off
 * every request with a pause inside it at least that long (the composed pauses, the
 * truth). The shortest hangover, in 20 ms steps, that cuts off under 1 %: no rule that
 * waits for a silence closes sooner for the same cut-offs.
 */
export function idealVadBound(
  measurements: readonly Measurement[],
): { hangoverMs: number; cutPct: number } | null {
  const longest = measurements.map((m) => Math.max(0, ...m.innerPausesMs));
  for (let hangoverMs = 100; hangoverMs <= 3000; hangoverMs += 20) {
    const cut = longest.filter((p) => p >= hangoverMs).length;
    const cutPct = Math.round((cut / Math.max(1, longest.length)) * 1000) / 10;
    if (cutPct < 1) return { hangoverMs, cutPct };
  }
  return null;
}

export type SweptKey = 'trailingSilenceMs' | 'wakeTailMs';

export interface SweepRow {
  value: number;
  bySnr: Record<string, Summary>;
  /** Cut-offs over the clean and 20 dB requests together. */
  cutPctClean20: number;
}

/**
 * Replays the primed decisions (under `vad`) with each value of one timing (the others
 * as given).
 */
export function sweep(
  byNoise: ByNoise,
  timings: EndpointerOptions,
  vad: FrameSpeechOptions,
  preRollMs: number,
  key: SweptKey,
  values: readonly number[],
): SweepRow[] {
  // The decisions do not depend on the timings: once per request.
  const traces = new Map<Measurement, boolean[]>();
  for (const all of Object.values(byNoise)) {
    for (const m of all) if (m.woken && m.primed) traces.set(m, decisions(m.primed, vad));
  }
  return values.map((value) => {
    const options = { ...timings, [key]: value };
    const bySnr: Record<string, Summary> = {};
    const pooled = [];
    for (const [snr, all] of Object.entries(byNoise)) {
      const outcomes = all
        .filter((m) => traces.has(m))
        .map((m) =>
          outcome(replay(options, traces.get(m)!, preRollMs, true), m.liveStartMs, m.lastWordEndMs),
        );
      bySnr[snr] = summarize(outcomes);
      if (snr === 'clean' || snr === '20 dB') pooled.push(...outcomes);
    }
    return { value, bySnr, cutPctClean20: summarize(pooled).cutPct };
  });
}

/** The shortest hangover that cuts off under 1 % of the clean and of the 20 dB requests. */
export function chooseHangover(rows: readonly SweepRow[]): number | undefined {
  return rows.find(underOnePct)?.value;
}

function underOnePct(row: SweepRow): boolean {
  return ['clean', '20 dB'].every((snr) => (row.bySnr[snr]?.cutPct ?? Infinity) < 1);
}

export interface VadSweepRow {
  speechEndThreshold: number;
  noiseMarginDb: number;
  /** The shortest hangover under 1 % cut-offs (clean, 20 dB) with these decisions. */
  hangoverMs: number | null;
  bySnr: Record<string, Summary> | null;
}

/**
 * The speech decisions swept: for each end threshold and noise margin, the hangover the
 * rule picks and what it gives at every noise level.
 */
export function vadSweep(
  byNoise: ByNoise,
  timings: EndpointerOptions,
  preRollMs: number,
  grid: {
    thresholds: readonly number[];
    marginsDb: readonly number[];
    hangovers: readonly number[];
  },
): VadSweepRow[] {
  const rows: VadSweepRow[] = [];
  for (const speechEndThreshold of grid.thresholds) {
    for (const noiseMarginDb of grid.marginsDb) {
      const vad: FrameSpeechOptions = {
        speechThreshold: Math.max(0.5, speechEndThreshold),
        silenceThreshold: speechEndThreshold,
        ...(noiseMarginDb < 60 ? { noiseMarginDb } : {}),
      };
      const swept = sweep(byNoise, timings, vad, preRollMs, 'trailingSilenceMs', grid.hangovers);
      const chosen = swept.find(underOnePct);
      rows.push({
        speechEndThreshold,
        noiseMarginDb,
        hangoverMs: chosen?.value ?? null,
        bySnr: chosen?.bySnr ?? null,
      });
    }
  }
  return rows;
}
