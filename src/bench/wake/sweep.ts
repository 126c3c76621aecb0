import { KeywordGate, type GateOptions } from '../../wake/openwakeword/gate.js';
import type { Trace } from './run.js';

/**
 * The trade-off curve: recorded scores replayed through the detector's own gate (and the
 * same voice-activity veto) at other thresholds. Exact, because the gate is pure and the
 * traces hold every frame's score and, wherever a keyword could fire, the VAD.
 */
export const SWEEP_THRESHOLDS: readonly number[] = [
  0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95,
];

/** The grid of `--grid`: patience (frames) and speech-check thresholds (0: off). */
export const SWEEP_PATIENCES: readonly number[] = [1, 2, 3];
export const SWEEP_VAD_THRESHOLDS: readonly number[] = [0, 0.1, 0.2, 0.3, 0.5];
/** Verifier thresholds of the grid (0: off); only swept where the traces hold its scores. */
export const SWEEP_VERIFIER_THRESHOLDS: readonly number[] = [
  0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95,
];

export interface SweepPoint {
  threshold: number;
  /** Set on points of the grid (threshold × patience × speech check). */
  patience?: number;
  vadThreshold?: number;
  verifierThreshold?: number;
  detectionRate: number;
  falseAcceptsPerHour: number;
}

export interface SweepInput {
  positives: readonly Trace[];
  negative: Trace;
  negativeHours: number;
  gate: Omit<GateOptions, 'threshold'>;
  vadThreshold: number;
  /** 0 or absent: the verifier is not asked. */
  verifierThreshold?: number;
}

export function sweep(input: SweepInput, thresholds: readonly number[]): SweepPoint[] {
  return [...new Set(thresholds)]
    .sort((a, b) => a - b)
    .map((threshold) => {
      const options = { ...input.gate, threshold };
      const v = input.verifierThreshold ?? 0;
      const detected = input.positives.filter((t) => replay(t, options, input.vadThreshold, v) > 0);
      const falseAccepts = replay(input.negative, options, input.vadThreshold, v);
      return {
        threshold,
        detectionRate: input.positives.length ? detected.length / input.positives.length : 0,
        falseAcceptsPerHour: input.negativeHours > 0 ? falseAccepts / input.negativeHours : 0,
      };
    });
}

/**
 * How many detections the gate makes on a trace, counting from its first frame: the
 * gate, then the speech check, then the verifier, as the detector asks them.
 */
export function replay(
  trace: Trace,
  options: GateOptions,
  vadThreshold: number,
  verifierThreshold = 0,
): number {
  const gate = new KeywordGate(options);
  let count = 0;
  for (let f = 0; f < trace.scores.length; f++) {
    if (!gate.update(f, trace.scores[f]!)) continue;
    // NaN (never computed) can only occur below the trace's floor: it does not pass.
    const vad = trace.vad[f]!;
    if (vadThreshold > 0 && !(vad >= vadThreshold)) continue;
    if (verifierThreshold > 0 && !((trace.verifier?.[f] ?? NaN) >= verifierThreshold)) continue;
    gate.commit(f);
    if (f >= trace.firstFrame) count += 1;
  }
  return count;
}

/**
 * Every combination of threshold, patience and speech check, replayed from the same
 * traces (the models never run again). Exact for the speech check from the traces'
 * floor up: the traces hold the VAD wherever the score reached their lowest threshold.
 */
export function sweepGrid(
  input: SweepInput,
  thresholds: readonly number[],
  patiences: readonly number[] = SWEEP_PATIENCES,
  vadThresholds: readonly number[] = SWEEP_VAD_THRESHOLDS,
  verifierThresholds: readonly number[] = [0],
): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (const patience of patiences) {
    for (const vadThreshold of vadThresholds) {
      for (const verifierThreshold of verifierThresholds) {
        const points = sweep(
          { ...input, gate: { ...input.gate, patience }, vadThreshold, verifierThreshold },
          thresholds,
        );
        for (const p of points) out.push({ ...p, patience, vadThreshold, verifierThreshold });
      }
    }
  }
  return out;
}
