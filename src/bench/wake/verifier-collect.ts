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
  /** Only the generated files, last first (a second process filling the cache). */
  generatedOnlyReversed?: boolean;
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
  for (const [i, file] of generated.entries()) {
    jobs.push(async () => {
      const data = await extractStream({
        file,
        index: i,
        set: 'negative',
        noiseDb: undefined,
        everyNth: 16,
        keywordModel: o.keywordModel,
        cacheDir: o.cacheDir,
      });
      const name = relative(o.generatedDir, file);
      return { ...data, role: 'generated-negative', fold: foldOf(name, o.folds), hash: '' };
    });
  }
  if (o.generatedOnlyReversed) jobs.splice(0, jobs.length - generated.length);
  if (o.generatedOnlyReversed) jobs.reverse();
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
