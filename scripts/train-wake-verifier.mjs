#!/usr/bin/env node
// Trains the second stage of the "alexa" wake word: a small classifier over the
// openWakeWord embeddings (src/wake/openwakeword/verifier.ts), from the development
// corpus against the generated living-room negatives, with speakers held out.
//
//   npm run build
//   nice -n 10 node scripts/train-wake-verifier.mjs \
//     --positives ../shared/corpus/positive/alexa --corpus-negatives ../shared/corpus/negative \
//     --generated ~/.cache/earshot/negatives [--out models/wake-verifier/alexa_v0.1.verifier.json]
//
// Deterministic: the same files give the same weights (seeded initialisation and order).
// Features are cached under ~/.cache/earshot/verifier-features (--cache DIR), so a second
// run only trains. Prints the cross-validated report as JSON on stdout.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trainVerifier } from '../dist/bench/wake/verifier-train.js';

const { values } = parseArgs({
  options: {
    positives: { type: 'string', default: '../shared/corpus/positive/alexa' },
    'corpus-negatives': { type: 'string', default: '../shared/corpus/negative' },
    generated: { type: 'string', default: join(homedir(), '.cache/earshot/negatives') },
    cache: { type: 'string', default: join(homedir(), '.cache/earshot/verifier-features') },
    out: { type: 'string', default: 'models/wake-verifier/alexa_v0.1.verifier.json' },
    folds: { type: 'string', default: '5' },
    hidden: { type: 'string', default: '0' },
    epochs: { type: 'string', default: '20' },
    l2: { type: 'string', default: '0.001' },
    'max-fa': { type: 'string', default: '0.25' },
    'extract-only': { type: 'boolean', default: false },
    // I/N: only every N-th generated file from the I-th (several processes filling the
    // feature cache at once; implies --extract-only).
    shard: { type: 'string' },
  },
});

const report = await trainVerifier({
  positivesDir: values.positives,
  corpusNegativesDir: values['corpus-negatives'],
  generatedDir: values.generated,
  cacheDir: values.cache,
  out: values.out,
  folds: Number(values.folds),
  hidden: Number(values.hidden),
  epochs: Number(values.epochs),
  l2: Number(values.l2),
  maxFalseAcceptsPerHour: Number(values['max-fa']),
  extractOnly: values['extract-only'] || values.shard !== undefined,
  generatedShard: values.shard
    ? { index: Number(values.shard.split('/')[0]), of: Number(values.shard.split('/')[1]) }
    : undefined,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
