import type { Command } from 'commander';
import { registerBenchWake } from './bench-wake.js';

/** `earshot bench …`: benchmarks that are commands (the others are `npm run bench:*`). */
export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks on real recordings');
  registerBenchWake(bench);
}
