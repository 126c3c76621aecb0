import { parseArgs } from 'node:util';
import { formatProgress, formatReport, judge } from './soak/report.js';
import { runSoak } from './soak/run.js';

/**
 * `npm run bench:soak -- --hours N [--seed S] [--json]`: N simulated hours of mixed
 * audio (wake words, other speech, noise, silence) through the real pipeline against
 * the reference cloud over TLS, with cloud drops, stalls and mute presses at random
 * (seeded) moments. Reports requests, failures by cause, memory growth per simulated
 * hour, event-loop lag, file descriptors, the ledger's verification, and uploads
 * outside the listening LED. `--samples FILE` keeps every memory sample as CSV;
 * `--fault-every` / `--mute-every` set the mean simulated minutes between faults
 * (default 12) and between mute presses (default 40).
 * Exits 1 when a target is missed.
 */
class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hours: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      warmup: { type: 'string' },
      samples: { type: 'string' },
      'fault-every': { type: 'string' },
      'mute-every': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const hours = Number(values.hours);
  const seed = Number(values.seed);
  // A mean of 0 minutes between faults would schedule them forever at the same instant.
  const rates = [values['fault-every'], values['mute-every']];
  const bad =
    rates.some((v) => v !== undefined && !(Number(v) > 0)) ||
    (values.warmup !== undefined && !(Number(values.warmup) >= 0));
  if (!(hours > 0) || !Number.isInteger(seed) || bad) {
    throw new UsageError(
      'usage: bench:soak -- --hours N [--seed INT] [--warmup HOURS] [--samples CSV] [--fault-every MIN] [--mute-every MIN] [--json]',
    );
  }
  const tty = Boolean(process.stderr.isTTY);
  const report = await runSoak({
    hours,
    seed,
    ...(values.warmup !== undefined ? { warmupHours: Number(values.warmup) } : {}),
    ...(values.samples !== undefined ? { samplesFile: values.samples } : {}),
    ...(values['fault-every'] !== undefined
      ? { faultEveryMin: Number(values['fault-every']) }
      : {}),
    ...(values['mute-every'] !== undefined ? { muteEveryMin: Number(values['mute-every']) } : {}),
    ...(tty ? { onProgress: (p) => process.stderr.write(`\r\x1b[K${formatProgress(p)}`) } : {}),
  });
  if (tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  if (!judge(report).ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  const text = err instanceof UsageError ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`bench:soak: ${text}\n`);
  process.exitCode = 1;
});
