import { writeFile } from 'node:fs/promises';
import type { Config } from '../../config/schema.js';
import { wakeSection } from '../../config/sections/wake.js';
import { FRAME_MS } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { OpenWakeWordOptions } from '../../wake/openwakeword/detector.js';
import { findAudioFiles } from './audio-files.js';
import { renderPlot } from './plot.js';
import { ProgressBar } from './progress.js';
import { summarize, type WakeBenchReport } from './report.js';
import { measureInFreshProcess } from './rss-probe.js';
import { runQuiet } from './quiet.js';
import { runSweep, type WakeSweepReport } from './sweep-run.js';
import { prepareAudio, runPass } from './run.js';
import { sweep, SWEEP_THRESHOLDS } from './sweep.js';
import { CrossValidatedVerifier } from './verifier-cv.js';

/**
 * `earshot bench wake`: how well and how cheaply the on-device wake word works, on
 * folders of real recordings. The detector under test is the openWakeWord engine exactly
 * as the daemon builds it from the configuration, with one keyword.
 */
export interface WakeBenchOptions {
  positivesDir: string;
  negativesDir: string;
  wake: Config['wake'];
  /** Keyword name: one from `wake.keywords`, else a bundled model of that name. */
  keyword: string;
  /** Overrides the keyword's threshold. */
  threshold?: number | undefined;
  noiseDb?: number | undefined;
  /** Write the threshold sweep as SVG here (costs a second, tracing pass). */
  plot?: string | undefined;
  /** Measure peak RSS in a fresh process (default true). */
  measureRss?: boolean;
  /** Minutes of the generated quiet day to measure CPU on (default 60; 0 skips it). */
  quietMinutes?: number;
  /** Draw a progress bar on stderr when it is a terminal. */
  progress?: boolean;
  /**
   * Only the sweep (threshold × patience × speech check) from traced passes, no timing
   * pass: for hours of negatives. With `traceCache`, traces are kept on disk.
   */
  sweepOnly?: boolean;
  traceCache?: string | undefined;
  /** Leave the negatives as recorded (no added noise) even with `noiseDb`. */
  negativesClean?: boolean;
}

export async function runWakeBench(
  o: WakeBenchOptions & { sweepOnly: true },
): Promise<WakeSweepReport>;
export async function runWakeBench(o: WakeBenchOptions): Promise<WakeBenchReport>;
export async function runWakeBench(
  o: WakeBenchOptions,
): Promise<WakeBenchReport | WakeSweepReport> {
  const keyword = pickKeyword(o.wake, o.keyword);
  if (o.threshold !== undefined) keyword.threshold = o.threshold;
  const [positives, negatives] = await Promise.all([
    findAudioFiles(o.positivesDir),
    findAudioFiles(o.negativesDir),
  ]);
  for (const [what, list, dir] of [
    ['positive', positives, o.positivesDir],
    ['negative', negatives, o.negativesDir],
  ] as const) {
    if (list.length === 0) {
      throw new EarshotError('E_BENCH_INPUT', `no .wav or .flac files under ${dir}`, {
        hint: `--${what}s needs a folder of recordings`,
      });
    }
  }
  // The verifier as configured; on the development speakers, each scored by the fold
  // model that never heard them.
  const cv = o.wake.verifier.enabled ? await CrossValidatedVerifier.open(keyword.model) : undefined;
  await cv?.learn(positives);
  const verifier = cv ? { model: cv, threshold: o.wake.verifier.threshold } : undefined;
  const beforeSegment = cv
    ? (file: string | undefined, positive: boolean) => cv.select(file, positive)
    : undefined;
  const detector: OpenWakeWordOptions = {
    keywords: [{ ...keyword, verifier }],
    refractoryMs: o.wake.refractoryMs,
    warmupMs: o.wake.warmupMs,
    vadThreshold: o.wake.vadThreshold,
    quietGateDb: o.wake.quietGateDb,
  };
  if (o.sweepOnly) {
    const bar = new ProgressBar(positives.length + negatives.length, 'wake sweep', process.stderr);
    try {
      return await runSweep({
        positives,
        negatives,
        noiseDb: o.noiseDb,
        negativesNoiseDb: o.negativesClean ? undefined : o.noiseDb,
        detector,
        keyword,
        vadThreshold: o.wake.vadThreshold,
        refractoryMs: o.wake.refractoryMs,
        warmupMs: o.wake.warmupMs,
        traceCache: o.traceCache,
        plot: o.plot,
        verifier:
          cv && verifier ? { cv, threshold: verifier.threshold, id: await cv.id() } : undefined,
        onProgress: (which, n) =>
          o.progress === false
            ? undefined
            : bar.update(which === 'positives' ? n : positives.length + n),
      });
    } finally {
      bar.done();
    }
  }

  const files = positives.length + negatives.length;
  const stages = o.plot ? 3 : 2;
  const quietMinutes = o.quietMinutes ?? 60;
  const bar = new ProgressBar(files * stages + quietMinutes, 'wake bench', process.stderr);
  const progress = (stage: number) =>
    o.progress === false ? undefined : (n: number) => bar.update(stage * files + n);
  let pass;
  let traced;
  let quiet;
  try {
    const audio = await prepareAudio(positives, negatives, o.noiseDb, progress(0));
    pass = await runPass({ audio, detector, onProgress: progress(1), beforeSegment });
    if (o.plot) {
      // A separate pass records complete traces, so that the figures above are of the
      // detector alone, not of the tracing.
      traced = await runPass({
        audio,
        detector,
        traceFrom: Math.min(...SWEEP_THRESHOLDS),
        onProgress: progress(2),
        beforeSegment,
      });
    }
    if (quietMinutes > 0) {
      // Clean speech for the quiet hour's talking: its backgrounds are its own noise.
      const speech = o.noiseDb === undefined ? audio.negatives : undefined;
      const talk = speech ?? (await prepareAudio([], negatives.slice(0, 60), undefined)).negatives;
      quiet = await runQuiet(detector, quietMinutes, talk, (m) =>
        o.progress === false ? undefined : bar.update(files * stages + m),
      );
    }
  } finally {
    bar.done();
  }

  const rss =
    o.measureRss === false
      ? null
      : await measureInFreshProcess(
          {
            ...detector,
            // The fresh process loads the bundled verifier itself (a model does not travel).
            keywords: [
              { ...keyword, verifier: verifier ? { threshold: verifier.threshold } : undefined },
            ],
          },
          positives[0],
        );
  const report = summarize(pass, {
    keyword: keyword.name,
    model: keyword.model,
    threshold: keyword.threshold,
    patience: keyword.patience,
    vadThreshold: o.wake.vadThreshold,
    quietGateDb: o.wake.quietGateDb,
    noiseDb: o.noiseDb,
    negatives: negatives.length,
    peakRssMiB: rss?.peakRssMiB ?? null,
    peakRssLoader: rss?.loader ?? null,
    quiet,
    verifier:
      verifier && cv ? { threshold: verifier.threshold, ...cv.coverage(positives) } : undefined,
  });

  if (o.plot && traced?.negativeTrace) {
    report.sweep = sweep(
      {
        positives: traced.positiveTraces,
        negative: traced.negativeTrace,
        negativeHours: traced.negativeSeconds / 3600,
        gate: {
          patience: keyword.patience,
          refractoryFrames: Math.ceil(o.wake.refractoryMs / FRAME_MS),
          warmupFrames: Math.ceil(o.wake.warmupMs / FRAME_MS),
        },
        vadThreshold: o.wake.vadThreshold,
        verifierThreshold: verifier?.threshold ?? 0,
      },
      [...SWEEP_THRESHOLDS, keyword.threshold],
    );
    const title = `${keyword.name}: detection vs false accepts (${o.noiseDb === undefined ? 'clean' : `${o.noiseDb} dB SNR`})`;
    await writeFile(
      o.plot,
      renderPlot({ points: report.sweep, configured: keyword.threshold, title }),
    );
    report.plot = o.plot;
  }
  return report;
}

interface BenchKeyword {
  name: string;
  model: string;
  threshold: number;
  patience: number;
}

/** The configured keyword (or choice) of that name, or the schema defaults for a bundled model. */
function pickKeyword(wake: Config['wake'], name: string): BenchKeyword {
  const configured = [...wake.keywords, ...wake.choices].find((k) => k.name === name);
  const k = configured ?? wakeSection.parse({ keywords: [{ name }] }).keywords[0]!;
  return { name: k.name, model: k.model ?? k.name, threshold: k.threshold, patience: k.patience };
}
