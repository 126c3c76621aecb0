import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { findAudioFiles } from './audio-files.js';
import {
  closeExtraction,
  contentHash,
  extractStream,
  foldOf,
  type StreamData,
} from './verifier-data.js';

/**
 * Which recordings the verifier learns from, under which conditions, and in which fold:
 *
 * - positives: the development corpus' speakers, clean and under pink noise at 20, 10
 *   and 5 dB SNR; a speaker's fold is a hash of the recording's content, so that every
 *   condition of one speaker is held out together (the benchmark finds it by the same
 *   hash);
 * - corpus negatives: the corpus' other words (real speakers), clean and at 10 dB, so
 *   that "a real human voice" alone is never what tells a positive;
 * - generated negatives: the `tune/` part of the living-room set as generated (its own
 *   noise), only the files its manifest lists (a file is listed once it is complete).
 */
export const POSITIVE_SNRS: readonly (number | undefined)[] = [undefined, 20, 10, 5];
export const CORPUS_NEGATIVE_SNRS: readonly (number | undefined)[] = [undefined, 10];

export type Role = 'positive' | 'corpus-negative' | 'generated-negative';

export interface LabelledStream extends StreamData {
  role: Role;
  fold: number;
  /** Content hash (positives): the name of the speaker in the fold lists. */
  hash: string;
}

export interface CollectOptions {
  positivesDir: string;
  corpusNegativesDir: string;
  generatedDir: string;
  folds: number;
  keywordModel: string;
  cacheDir: string | undefined;
  /** Only the generated files of this share (`i/n`): processes filling the cache together. */
  generatedShard?: { index: number; of: number } | undefined;
  /** Called after every stream, for progress. */
  onStream?: (done: number, total: number, file: string) => void;
}

export async function generatedTuneFiles(generatedDir: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(generatedDir, 'manifest.json'), 'utf8')) as {
    files: Record<string, { part: string }>;
  };
  const listed = Object.entries(manifest.files)
    .filter(([, f]) => f.part === 'tune')
    .map(([rel]) => join(generatedDir, rel));
  const present = new Set(await findAudioFiles(join(generatedDir, 'tune')));
  return listed.filter((f) => present.has(f)).sort();
}

export async function collect(o: CollectOptions): Promise<LabelledStream[]> {
  const positives = await findAudioFiles(o.positivesDir);
  const corpusNegatives = await findAudioFiles(o.corpusNegativesDir);
  const generated = await generatedTuneFiles(o.generatedDir);
  const jobs: Array<() => Promise<LabelledStream>> = [];
  for (const [c, snr] of POSITIVE_SNRS.entries()) {
    for (const [i, file] of positives.entries()) {
      jobs.push(async () => {
        const hash = await contentHash(file);
        const data = await extractStream({
          file,
          // Other seeds than the benchmark's noise (which uses the index alone).
          index: i + 1000 * (c + 1),
          set: 'positive',
          noiseDb: snr,
          everyNth: 1_000_000,
          keywordModel: o.keywordModel,
          cacheDir: o.cacheDir,
        });
        return { ...data, role: 'positive', fold: foldOf(hash, o.folds), hash };
      });
    }
  }
  for (const [c, snr] of CORPUS_NEGATIVE_SNRS.entries()) {
    for (const [i, file] of corpusNegatives.entries()) {
      jobs.push(async () => {
        const data = await extractStream({
          file,
          index: i + 1000 * (c + 1),
          set: 'negative',
          noiseDb: snr,
          everyNth: 2,
          keywordModel: o.keywordModel,
          cacheDir: o.cacheDir,
        });
        const name = relative(o.corpusNegativesDir, file);
        return { ...data, role: 'corpus-negative', fold: foldOf(name, o.folds), hash: '' };
      });
    }
  }
  const shard = o.generatedShard;
  if (shard) jobs.length = 0;
  for (const [i, file] of generated.entries()) {
    if (shard && i % shard.of !== shard.index) continue;
    const name = relative(o.generatedDir, file);
    jobs.push(async () => {
      const data = await extractStream({
        file,
        // The seed of the file's faint noise floor comes from its name, not its place in
        // the list, so a set that grows keeps the features of the files it had.
        index: foldOf(name, 1_000_000),
        set: 'negative',
        noiseDb: undefined,
        everyNth: 16,
        keywordModel: o.keywordModel,
        cacheDir: o.cacheDir,
      });
      return { ...data, role: 'generated-negative', fold: foldOf(name, o.folds), hash: '' };
    });
  }
  const out: LabelledStream[] = [];
  try {
    for (const [n, job] of jobs.entries()) {
      const s = await job();
      out.push(s);
      o.onStream?.(n + 1, jobs.length, s.file);
    }
  } finally {
    await closeExtraction();
  }
  return out;
}
