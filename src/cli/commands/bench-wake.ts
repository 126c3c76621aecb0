import { InvalidArgumentError, type Command } from 'commander';
import { runWakeBench } from '../../bench/wake/bench.js';
import { formatReport } from '../../bench/wake/report.js';
import { formatSweep } from '../../bench/wake/sweep-run.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

interface BenchWakeOptions extends ConfigOptions {
  positives: string;
  negatives: string;
  keyword?: string;
  quietMinutes?: number;
  sweepOnly?: boolean;
  traceCache?: string;
  negativesClean?: boolean;
  json?: boolean;
  noiseDb?: number;
  plot?: string;
  threshold?: number;
  rss: boolean;
}

/**
 * `earshot bench wake`: detection rate, false accepts per hour, latency, CPU and memory
 * of the on-device wake word on folders of recordings. Registered under `earshot bench`.
 */
export function registerBenchWake(bench: Command): void {
  addConfigOptions(
    bench
      .command('wake')
      .description(
        'measure the openWakeWord detector on folders of WAV/FLAC recordings (decoded with sox)',
      )
      .requiredOption('--positives <dir>', 'recordings of the keyword (searched recursively)')
      .requiredOption('--negatives <dir>', 'recordings of other speech (searched recursively)')
      .option('--keyword <name>', 'keyword to test (default: the first configured one)')
      .option('--threshold <x>', "override the keyword's score threshold (0..1)", unitInterval)
      .option('--noise-db <n>', 'mix in pink noise at this SNR in dB (deterministic)', finite)
      .option('--plot <file.svg>', 'draw detection rate against false accepts per hour')
      .option(
        '--quiet-minutes <n>',
        'minutes of the generated quiet day (90 % silence or room noise) for the quiet CPU figure; 0 skips it',
        finite,
      )
      .option(
        '--sweep-only',
        'only the threshold × patience × speech-check sweep, from traced passes (no timing pass)',
      )
      .option('--trace-cache <dir>', 'keep the traced scores here, so a sweep scores each set once')
      .option('--negatives-clean', 'add no noise to the negatives (with --noise-db)')
      .option('--json', 'print one JSON object instead of the report')
      .option('--no-rss', 'skip the peak-memory measurement in a fresh process'),
  ).action(async (opts: BenchWakeOptions) => {
    const config = configFromOptions(opts);
    if (opts.sweepOnly) {
      const sweepReport = await runWakeBench({
        positivesDir: opts.positives,
        negativesDir: opts.negatives,
        wake: config.wake,
        keyword: opts.keyword ?? config.wake.keywords[0]!.name,
        threshold: opts.threshold,
        noiseDb: opts.noiseDb,
        plot: opts.plot,
        sweepOnly: true,
        traceCache: opts.traceCache,
        negativesClean: opts.negativesClean ?? false,
      });
      process.stdout.write(
        opts.json ? `${JSON.stringify(sweepReport)}\n` : formatSweep(sweepReport),
      );
      return;
    }
    const report = await runWakeBench({
      positivesDir: opts.positives,
      negativesDir: opts.negatives,
      wake: config.wake,
      keyword: opts.keyword ?? config.wake.keywords[0]!.name,
      threshold: opts.threshold,
      noiseDb: opts.noiseDb,
      plot: opts.plot,
      measureRss: opts.rss,
      ...(opts.quietMinutes !== undefined ? { quietMinutes: opts.quietMinutes } : {}),
    });
    process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  });
}

function finite(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function unitInterval(value: string): number {
  const n = finite(value);
  if (n <= 0 || n >= 1) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}
