import { writeFile } from 'node:fs/promises';
import { FRAME_MS } from '../../shared/audio-format.js';
import type { OpenWakeWordOptions } from '../../wake/openwakeword/detector.js';
import { renderPlot } from './plot.js';
import { prepareAudio, runPass } from './run.js';
import {
  sweep,
  sweepGrid,
  SWEEP_THRESHOLDS,
  SWEEP_VERIFIER_THRESHOLDS,
  type SweepInput,
  type SweepPoint,
} from './sweep.js';
import type { CrossValidatedVerifier } from './verifier-cv.js';
import { loadTraces, saveTraces, traceKey, type CachedSet } from './trace-cache.js';

/**
 * `earshot bench wake --sweep-only`: the operating point chosen on evidence. One traced
 * pass per set (cached on disk with `--trace-cache`, so hours of negatives are scored
 * once), then threshold × patience × speech check replayed through the detector's own
 * gate. Positives and negatives may carry different noise: `--negatives-clean` keeps the
 * negatives as recorded (a generated living room brings its own noise), while
 * `--noise-db` buries the positives.
 */
export interface SweepRunOptions {
  positives: string[];
  negatives: string[];
  noiseDb: number | undefined;
  negativesNoiseDb: number | undefined;
  detector: OpenWakeWordOptions;
  keyword: { name: string; model: string; threshold: number; patience: number };
  vadThreshold: number;
  refractoryMs: number;
  warmupMs: number;
  traceCache?: string | undefined;
  plot?: string | undefined;
  /** The verifier (already in `detector`): traced too, and swept over its thresholds. */
  verifier?: { cv: CrossValidatedVerifier; threshold: number; id: string } | undefined;
  onProgress?: (stage: 'positives' | 'negatives', filesDone: number) => void;
}

export interface WakeSweepReport {
  keyword: string;
  model: string;
  noiseDb: number | null;
  negativesNoiseDb: number | null;
  positives: number;
  negatives: number;
  negativeHours: number;
  /** The configured threshold, patience and speech check. */
  configured: SweepPoint;
  grid: SweepPoint[];
  /** With the verifier: how many positives a fold model trained without their speaker scored. */
  verifierCrossValidated: { positives: number; crossValidated: number } | null;
  plot?: string;
}

const TRACE_FLOOR = Math.min(...SWEEP_THRESHOLDS);

export async function runSweep(o: SweepRunOptions): Promise<WakeSweepReport> {
  const set = async (
    which: 'positives' | 'negatives',
    files: string[],
    noiseDb: number | undefined,
  ): Promise<CachedSet> => {
    const key = traceKey({
      version: 3,
      which,
      files,
      noiseDb: noiseDb ?? null,
      model: o.keyword.model,
      quietGateDb: o.detector.quietGateDb ?? 0,
      traceFrom: TRACE_FLOOR,
      verifier: o.verifier?.id ?? null,
    });
    const cached = o.traceCache ? await loadTraces(o.traceCache, key) : undefined;
    if (cached) return cached;
    const progress = (n: number) => o.onProgress?.(which, n);
    const audio =
      which === 'positives'
        ? await prepareAudio(files, [], noiseDb)
        : await prepareAudio([], files, noiseDb);
    const pass = await runPass({
      audio,
      detector: o.detector,
      traceFrom: TRACE_FLOOR,
      onProgress: progress,
      beforeSegment: o.verifier
        ? (file, positive) => o.verifier!.cv.select(file, positive)
        : undefined,
    });
    const result: CachedSet =
      which === 'positives'
        ? { traces: pass.positiveTraces, seconds: pass.audioSeconds, files: files.length }
        : { traces: [pass.negativeTrace!], seconds: pass.negativeSeconds, files: files.length };
    if (o.traceCache) await saveTraces(o.traceCache, key, result);
    return result;
  };

  await o.verifier?.cv.learn(o.positives);
  const positives = await set('positives', o.positives, o.noiseDb);
  const negatives = await set('negatives', o.negatives, o.negativesNoiseDb);
  const input: SweepInput = {
    positives: positives.traces,
    negative: negatives.traces[0]!,
    negativeHours: negatives.seconds / 3600,
    gate: {
      patience: o.keyword.patience,
      refractoryFrames: Math.ceil(o.refractoryMs / FRAME_MS),
      warmupFrames: Math.ceil(o.warmupMs / FRAME_MS),
    },
    vadThreshold: o.vadThreshold,
    verifierThreshold: o.verifier?.threshold ?? 0,
  };
  const thresholds = [...SWEEP_THRESHOLDS, o.keyword.threshold];
  const configured = {
    ...sweep(input, [o.keyword.threshold])[0]!,
    patience: o.keyword.patience,
    vadThreshold: o.vadThreshold,
    verifierThreshold: o.verifier?.threshold ?? 0,
  };
  const verifierThresholds = o.verifier
    ? [...new Set([...SWEEP_VERIFIER_THRESHOLDS, o.verifier.threshold])].sort((a, b) => a - b)
    : [0];
  const report: WakeSweepReport = {
    keyword: o.keyword.name,
    model: o.keyword.model,
    noiseDb: o.noiseDb ?? null,
    negativesNoiseDb: o.negativesNoiseDb ?? null,
    positives: positives.files,
    negatives: negatives.files,
    negativeHours: Math.round((negatives.seconds / 3600) * 1000) / 1000,
    configured,
    grid: sweepGrid(input, thresholds, undefined, undefined, verifierThresholds),
    verifierCrossValidated: o.verifier ? o.verifier.cv.coverage(o.positives) : null,
  };
  if (o.plot) {
    const curve = sweep(input, thresholds);
    const title = `${o.keyword.name}: detection vs false accepts (positives ${o.noiseDb === undefined ? 'clean' : `${o.noiseDb} dB SNR`}, ${report.negativeHours} h of negatives)`;
    await writeFile(o.plot, renderPlot({ points: curve, configured: o.keyword.threshold, title }));
    report.plot = o.plot;
  }
  return report;
}

/**
 * The grid as text: per patience, speech check and verifier (off and as configured), the
 * points up to 2 false accepts/h.
 */
export function formatSweep(r: WakeSweepReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const lines = [
    `wake-word sweep: "${r.keyword}" (${r.model}), positives ${r.noiseDb === null ? 'clean' : `at ${r.noiseDb} dB SNR`} (${r.positives}), negatives ${r.negativesNoiseDb === null ? 'as recorded' : `at ${r.negativesNoiseDb} dB SNR`} (${r.negatives} files, ${r.negativeHours} h)`,
    '',
    `  configured: threshold ${r.configured.threshold}, patience ${r.configured.patience}, speech check ${r.configured.vadThreshold}, verifier ${r.configured.verifierThreshold || 'off'}: detection ${pct(r.configured.detectionRate)}, ${r.configured.falseAcceptsPerHour.toFixed(2)} false accepts/h`,
    ...(r.verifierCrossValidated
      ? [
          `  verifier: ${r.verifierCrossValidated.crossValidated} of ${r.verifierCrossValidated.positives} positives cross-validated (scored by a model trained without their speaker)`,
        ]
      : []),
    '',
    '  patience  speech check  verifier  threshold  detection  false accepts/h',
  ];
  const verifierShown = new Set([0, r.configured.verifierThreshold ?? 0]);
  for (const p of r.grid) {
    if (p.falseAcceptsPerHour > 2) continue;
    // The text shows the verifier off and at its configured threshold; --json has them all.
    if (!verifierShown.has(p.verifierThreshold ?? 0)) continue;
    lines.push(
      `  ${String(p.patience).padStart(8)}  ${String(p.vadThreshold).padStart(12)}  ${String(p.verifierThreshold ?? 0).padStart(8)}  ${p.threshold.toFixed(2).padStart(9)}  ${pct(p.detectionRate).padStart(9)}  ${p.falseAcceptsPerHour.toFixed(2).padStart(15)}`,
    );
  }
  if (r.plot) lines.push('', `  plot written to ${r.plot}`);
  return `${lines.join('\n')}\n`;
}
