import { basename } from 'node:path';
import type { QuietResult } from './quiet.js';
import type { FalseAccept, PassResult } from './run.js';
import type { SweepPoint } from './sweep.js';

/** The figures of one benchmark run; `--json` prints exactly this object. */
export interface WakeBenchReport {
  keyword: string;
  model: string;
  threshold: number;
  patience: number;
  vadThreshold: number;
  /** SNR of the added pink noise in dB; null for clean. */
  noiseDb: number | null;
  positives: number;
  detected: number;
  detectionRate: number;
  missed: string[];
  negatives: number;
  negativeHours: number;
  falseAccepts: FalseAccept[];
  falseAcceptsPerHour: number;
  /** From the end of the spoken word to the end of the firing frame; < 0: fired before. */
  latencyMedianMs: number | null;
  latencyP90Ms: number | null;
  /** CPU time of `process` per second of audio, one thread: on the recordings (all speech). */
  cpuPerAudioSecond: number;
  /**
   * The same on the generated quiet day (90 % silence or room noise, 10 % speech), with
   * the share of its frames the models ran on and its false accepts; null when skipped.
   */
  quiet: {
    cpuPerAudioSecond: number;
    minutes: number;
    modelFrameShare: number;
    falseAccepts: number;
  } | null;
  /** Frames below the room's noise floor skip the models (`wake.quietGateDb`, 0: off). */
  quietGateDb: number;
  /** Wall time per 80 ms chunk (includes time the OS gave to other processes). */
  chunkP50Ms: number;
  chunkP99Ms: number;
  /** CPU time per chunk, which other load does not inflate. */
  chunkCpuP50Ms: number;
  chunkCpuP99Ms: number;
  chunks: number;
  loadMs: number;
  /** Peak resident set of a fresh process running the detector; null if not measured. */
  peakRssMiB: number | null;
  /** How that process ran: `tsx` (from sources, loader included) or `node` (built). */
  peakRssLoader: 'node' | 'tsx' | null;
  audioSeconds: number;
  /**
   * The second stage, when on: its threshold, how many positives were scored by a fold
   * model trained without their speaker (cross-validated detection), how often it ran
   * and its CPU cost (included in the CPU figures above).
   */
  verifier: VerifierFigures | null;
  sweep?: SweepPoint[];
  plot?: string;
}

export interface VerifierFigures {
  threshold: number;
  crossValidatedPositives: number;
  positives: number;
  calls: number;
  msPerCall: number;
  /** Verifier CPU per second of audio (wall time of its calls; it runs synchronously). */
  secondsPerAudioSecond: number;
}

export interface ReportContext {
  keyword: string;
  model: string;
  threshold: number;
  patience: number;
  vadThreshold: number;
  noiseDb: number | undefined;
  negatives: number;
  peakRssMiB: number | null;
  peakRssLoader: 'node' | 'tsx' | null;
  quietGateDb?: number;
  quiet?: QuietResult | undefined;
  verifier?: { threshold: number; crossValidated: number; positives: number } | undefined;
}

export function summarize(pass: PassResult, ctx: ReportContext): WakeBenchReport {
  const detected = pass.positives.filter((p) => p.detected);
  const latencies = detected.map((p) => p.latencyMs!).sort((a, b) => a - b);
  const chunks = Float64Array.from(pass.chunkMs).sort();
  const chunkCpu = Float64Array.from(pass.chunkCpuMs).sort();
  const negativeHours = pass.negativeSeconds / 3600;
  return {
    keyword: ctx.keyword,
    model: ctx.model,
    threshold: ctx.threshold,
    patience: ctx.patience,
    vadThreshold: ctx.vadThreshold,
    noiseDb: ctx.noiseDb ?? null,
    positives: pass.positives.length,
    detected: detected.length,
    detectionRate: pass.positives.length ? detected.length / pass.positives.length : 0,
    missed: pass.positives.filter((p) => !p.detected).map((p) => p.file),
    negatives: ctx.negatives,
    negativeHours: round(negativeHours, 4),
    falseAccepts: pass.falseAccepts,
    falseAcceptsPerHour: negativeHours > 0 ? round(pass.falseAccepts.length / negativeHours, 3) : 0,
    latencyMedianMs: latencies.length ? round(percentile(latencies, 0.5), 1) : null,
    latencyP90Ms: latencies.length ? round(percentile(latencies, 0.9), 1) : null,
    cpuPerAudioSecond: pass.audioSeconds > 0 ? round(pass.cpuSeconds / pass.audioSeconds, 5) : 0,
    quiet: ctx.quiet
      ? {
          cpuPerAudioSecond: round(ctx.quiet.cpuSeconds / ctx.quiet.audioSeconds, 5),
          minutes: round(ctx.quiet.audioSeconds / 60, 1),
          modelFrameShare: round(ctx.quiet.modelFrames / Math.max(1, ctx.quiet.frames), 4),
          falseAccepts: ctx.quiet.falseAccepts,
        }
      : null,
    quietGateDb: ctx.quietGateDb ?? 0,
    chunkP50Ms: round(percentile(chunks, 0.5), 3),
    chunkP99Ms: round(percentile(chunks, 0.99), 3),
    chunkCpuP50Ms: round(percentile(chunkCpu, 0.5), 3),
    chunkCpuP99Ms: round(percentile(chunkCpu, 0.99), 3),
    chunks: chunks.length,
    loadMs: round(pass.loadMs, 1),
    peakRssMiB: ctx.peakRssMiB === null ? null : round(ctx.peakRssMiB, 1),
    peakRssLoader: ctx.peakRssLoader,
    audioSeconds: round(pass.audioSeconds, 1),
    verifier: ctx.verifier
      ? {
          threshold: ctx.verifier.threshold,
          crossValidatedPositives: ctx.verifier.crossValidated,
          positives: ctx.verifier.positives,
          calls: pass.verifier.calls,
          msPerCall: round(pass.verifier.ms / Math.max(1, pass.verifier.calls), 4),
          secondsPerAudioSecond: round(
            pass.verifier.ms / 1000 / Math.max(1e-9, pass.audioSeconds),
            8,
          ),
        }
      : null,
  };
}

/** Linear interpolation between closest ranks, on sorted input. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The human-readable report. */
export function formatReport(r: WakeBenchReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const ms = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(0)} ms`);
  const lines = [
    `wake-word benchmark: "${r.keyword}" (${r.model}), threshold ${r.threshold}, patience ${r.patience}, VAD ${r.vadThreshold || 'off'}, ${r.noiseDb === null ? 'clean' : `pink noise at ${r.noiseDb} dB SNR`}`,
    '',
    `  detection rate       ${pct(r.detectionRate)}  (${r.detected} of ${r.positives})`,
    `  false accepts        ${r.falseAccepts.length} in ${(r.negativeHours * 60).toFixed(1)} min of ${r.negatives} negatives = ${r.falseAcceptsPerHour.toFixed(2)} per hour`,
    `  latency after word   median ${ms(r.latencyMedianMs)}, p90 ${ms(r.latencyP90Ms)}`,
    `  CPU, speech          ${r.cpuPerAudioSecond.toFixed(4)} s per audio second (one thread; the recordings)`,
    r.quiet
      ? `  CPU, quiet day       ${r.quiet.cpuPerAudioSecond.toFixed(4)} s per audio second (${r.quiet.minutes} min, 90 % silence or room noise; models on ${(r.quiet.modelFrameShare * 100).toFixed(1)} % of frames; ${r.quiet.falseAccepts} false accepts)`
      : '  CPU, quiet day       not measured',
    `  time per 80 ms chunk p50 ${r.chunkP50Ms.toFixed(2)} ms, p99 ${r.chunkP99Ms.toFixed(2)} ms (CPU p50 ${r.chunkCpuP50Ms.toFixed(2)} ms, p99 ${r.chunkCpuP99Ms.toFixed(2)} ms)`,
    r.verifier
      ? `  verifier             threshold ${r.verifier.threshold}; ${r.verifier.crossValidatedPositives} of ${r.verifier.positives} positives cross-validated (scored by a model trained without their speaker); ran ${r.verifier.calls} times, ${(r.verifier.msPerCall * 1000).toFixed(1)} µs each, ${r.verifier.secondsPerAudioSecond.toExponential(2)} s per audio second`
      : '  verifier             off',
    `  model load           ${r.loadMs.toFixed(0)} ms`,
    `  peak RSS             ${r.peakRssMiB === null ? 'not measured' : `${r.peakRssMiB.toFixed(1)} MiB (fresh process${r.peakRssLoader === 'tsx' ? ', with the TypeScript loader' : ''})`}`,
  ];
  if (r.falseAccepts.length > 0) {
    lines.push('', '  false accepts:');
    for (const fa of r.falseAccepts) {
      lines.push(`    ${fa.file} at ${fa.atSeconds.toFixed(2)} s (score ${fa.score.toFixed(3)})`);
    }
  }
  if (r.missed.length > 0) {
    const shown = r.missed.slice(0, 20).map((f) => basename(f));
    const more = r.missed.length > 20 ? ` … and ${r.missed.length - 20} more` : '';
    lines.push('', `  missed: ${shown.join(', ')}${more}`);
  }
  if (r.sweep) {
    lines.push('', '  threshold  detection  false accepts/h');
    for (const p of r.sweep) {
      const mark = p.threshold === r.threshold ? '  <- configured' : '';
      lines.push(
        `  ${p.threshold.toFixed(2).padStart(9)}  ${pct(p.detectionRate).padStart(9)}  ${p.falseAcceptsPerHour.toFixed(2).padStart(15)}${mark}`,
      );
    }
  }
  if (r.plot) lines.push('', `  plot written to ${r.plot}`);
  return `${lines.join('\n')}\n`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
