import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { LEVEL, memoryLogger, runDevice } from './fault-harness.js';

/**
 * The device side of the "ledger disk full" fault, run by
 * test/integration/fault-ledger-full.test.ts inside `unshare -m` with a tiny tmpfs
 * mounted on `ledgerDir` (so filling a disk harms nothing else on the machine).
 * It fills that disk, runs the device on `wav` against the parent's cloud, and prints
 * one JSON line with what happened.
 *
 *   node --import tsx fault-ledger-child.ts '{"config": …, "ledgerDir": …, "wav": …}'
 */
interface Args {
  config: Config;
  ledgerDir: string;
  wav: string;
}

/** Writes until the filesystem says ENOSPC; returns the bytes written. */
function fill(dir: string): number {
  const fd = openSync(join(dir, 'filler'), 'w');
  let total = 0;
  try {
    for (const size of [4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          const n = writeSync(fd, chunk);
          total += n;
          if (n < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const config: Config = {
    ...args.config,
    privacy: { ...args.config.privacy, ledger: join(args.ledgerDir, 'ledger.jsonl') },
  };
  const filled = fill(args.ledgerDir);
  const { log, lines } = memoryLogger();
  let model: unknown;
  const run = await runDevice({
    wav: args.wav,
    config,
    log,
    onStarted: (runtime) => {
      // Read the machine's model at the end of the recording (before shutdown).
      runtime.loop.on('end', () => (model = runtime.device.model));
    },
  });
  const out = {
    filled,
    states: run.states,
    // simulate() prints a failed upload again when the cloud acknowledges its abort:
    // one line per upload id, the last one (with the acknowledgement) wins.
    uploads: [...new Map(run.uploads.map((u) => [u.id, u])).values()],
    wakes: run.events.filter((e) => e.event === 'wake'),
    finalState: run.summary.finalState,
    model,
    logs: lines.filter((l) => l.level >= LEVEL.warn),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`fault-ledger-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
