import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerCloud } from './cloud.js';
import { registerConfig } from './config.js';
import { registerDemo } from './demo.js';
import { registerDoctor } from './doctor.js';
import { registerLedger } from './ledger.js';
import { registerMqtt } from './mqtt.js';
import { registerRun } from './run.js';
import { registerSimulate } from './simulate.js';

/** Every `earshot` sub-command registers itself here, in the order of `--help`. */
export const commands: ReadonlyArray<(program: Command) => void> = [
  registerDemo,
  registerRun,
  registerSimulate,
  registerDoctor,
  registerLedger,
  registerMqtt,
  registerConfig,
  registerCloud,
  registerBench,
];
