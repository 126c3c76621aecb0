import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every `earshot` sub-command, in the order of `--help`, loaded only when needed: the
 * daemon (`earshot run`) should not carry the reference cloud, the benchmarks or the
 * doctor in memory (about 5 MiB of modules on a board where every MiB counts).
 */
export const commandLoaders: ReadonlyArray<{ name: string; load: () => Promise<Register> }> = [
  { name: 'demo', load: async () => (await import('./demo.js')).registerDemo },
  { name: 'run', load: async () => (await import('./run.js')).registerRun },
  { name: 'simulate', load: async () => (await import('./simulate.js')).registerSimulate },
  { name: 'ask', load: async () => (await import('./ask.js')).registerAsk },
  { name: 'doctor', load: async () => (await import('./doctor.js')).registerDoctor },
  { name: 'ledger', load: async () => (await import('./ledger.js')).registerLedger },
  { name: 'mqtt', load: async () => (await import('./mqtt.js')).registerMqtt },
  { name: 'config', load: async () => (await import('./config.js')).registerConfig },
  { name: 'board', load: async () => (await import('./board.js')).registerBoard },
  { name: 'cloud', load: async () => (await import('./cloud.js')).registerCloud },
  { name: 'dashboard', load: async () => (await import('./dashboard.js')).registerDashboard },
  { name: 'certs', load: async () => (await import('./certs.js')).registerCerts },
  { name: 'bench', load: async () => (await import('./bench.js')).registerBench },
  { name: 'errors', load: async () => (await import('./errors.js')).registerErrors },
];

/**
 * The commands to register for these arguments: only the one named first, or all of
 * them (for `--help`, a bare `earshot`, or a name that needs commander's suggestions).
 */
export async function commandsFor(args: readonly string[]): Promise<Register[]> {
  const first = args.find((a) => !a.startsWith('-'));
  const named = commandLoaders.find((c) => c.name === first);
  const wanted = named ? [named] : commandLoaders;
  return Promise.all(wanted.map((c) => c.load()));
}
