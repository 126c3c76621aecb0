import { Endpointer, type EndpointerOptions, type EndpointReason } from '../../audio/endpointer.js';
import { FRAME_MS } from '../../shared/audio-format.js';

/**
 * Scoring a rule on recorded VAD decisions: the endpointer is pure, so one pass of the
 * model per request serves every candidate setting.
 */
export interface Close {
  /** Live frames up to and including the one the utterance ended on. */
  frames: number;
  reason: EndpointReason;
}

/**
 * Replays a rule over one request's live-frame decisions; undefined: never ended.
 * `snrDb`: the estimated SNR after each frame, for the hangover by room (without it, the
 * rule has one hangover, `trailingSilenceMs`).
 */
export function replay(
  options: EndpointerOptions,
  trace: readonly boolean[],
  preRollMs: number,
  afterWake: boolean,
  snrDb?: readonly number[],
): Close | undefined {
  const ep = new Endpointer(options);
  ep.start(preRollMs, afterWake);
  for (let i = 0; i < trace.length; i++) {
    const d = ep.push(trace[i]!, snrDb?.[i]);
    if (d.state === 'ended') return { frames: i + 1, reason: d.reason };
  }
  return undefined;
}

/** One request's outcome under a rule, on the request's own time line. */
export interface Outcome {
  /** When the upload closed, minus the end of the last word, ms (negative: cut off). */
  delayMs?: number;
  reason?: EndpointReason;
}

/** Scores a close against the true end of the last word. */
export function outcome(
  close: Close | undefined,
  liveStartMs: number,
  lastWordEndMs: number,
): Outcome {
  if (!close) return {};
  return { delayMs: liveStartMs + close.frames * FRAME_MS - lastWordEndMs, reason: close.reason };
}

export interface Summary {
  requests: number;
  /** Closed before the end of the last word. */
  cutPct: number;
  /** Never closed within the recording (would run on to a time-out). */
  missedPct: number;
  /** Close delay of the requests that were not cut, ms. */
  delayMedianMs: number;
  delayP90Ms: number;
}

export function summarize(outcomes: readonly Outcome[]): Summary {
  const delays = outcomes.flatMap((o) =>
    o.delayMs !== undefined && o.delayMs >= 0 ? [o.delayMs] : [],
  );
  const cut = outcomes.filter((o) => o.delayMs !== undefined && o.delayMs < 0).length;
  const missed = outcomes.filter((o) => o.delayMs === undefined).length;
  const pct = (n: number): number => Math.round((n / Math.max(1, outcomes.length)) * 1000) / 10;
  return {
    requests: outcomes.length,
    cutPct: pct(cut),
    missedPct: pct(missed),
    delayMedianMs: quantile(delays, 0.5),
    delayP90Ms: quantile(delays, 0.9),
  };
}

/** The `p` quantile (nearest rank), rounded to ms; NaN for no values. */
export function quantile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!);
}
