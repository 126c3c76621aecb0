import { readFile, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { z } from 'zod';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import { decodeAudio } from '../wake/audio-files.js';
import { envelopeDb } from '../wake/envelope.js';
import { mix, PinkNoise } from '../wake/noise.js';
import { FLOOR_RMS, LEAD_FRAMES } from '../wake/streams.js';
import { silences, type BenchRequest } from './requests.js';

/**
 * Recorded requests for `npm run bench:vad -- --recordings DIR`: people saying the wake
 * word and a request, one request a file, with where the command begins and where its
 * last word ends. The generated requests can only say how the device ends requests
 * that pause the way the generator pauses; recordings of people say how it ends theirs.
 *
 * DIR holds the audio files (anything sox reads; down-mixed and resampled to 16 kHz)
 * and `labels.json`:
 *
 *   [{ "file": "kitchen-1.wav", "commandStart": 2.10, "lastWordEnd": 4.85 }, …]
 *
 * in seconds from the start of the file. Each file must go on for at least
 * `MIN_TAIL_SECONDS` after the last word, as the room sounded (the close is scored
 * against it). The bench puts `LEAD_FRAMES` of a faint room floor before each
 * recording, as before the generated ones: the wake word engine needs a moment of audio
 * before it can fire.
 */
export const LABELS_FILE = 'labels.json';
/** Room after the last word that each recording must have: longer than any close. */
export const MIN_TAIL_SECONDS = 1.5;
/** At most this many recordings, each at most this long (read one at a time). */
export const MAX_RECORDINGS = 5000;
export const MAX_RECORDING_SECONDS = 60;
/** A file larger than this is not one request (60 s of 48 kHz stereo float is 22 MiB). */
export const MAX_FILE_BYTES = 64 * 2 ** 20;
/** `labels.json` larger than this is not a list of at most `MAX_RECORDINGS` labels. */
export const MAX_LABELS_BYTES = 2 ** 20;
const LABELS_HINT = 'a list of {"file", "commandStart", "lastWordEnd"} (seconds)';

const seconds = z.number().finite().min(0).max(MAX_RECORDING_SECONDS);
const Label = z
  .object({
    file: z
      .string()
      .min(1)
      .refine((f) => !f.includes('/') && !f.includes(sep) && f !== '..', {
        message: 'a file name in the same folder, without a path',
      }),
    commandStart: seconds,
    lastWordEnd: seconds,
  })
  .strict()
  .refine((l) => l.lastWordEnd > l.commandStart, {
    message: 'lastWordEnd must be after commandStart',
    path: ['lastWordEnd'],
  });
const Labels = z
  .array(Label)
  .min(1, 'no recordings listed')
  .max(MAX_RECORDINGS, `at most ${MAX_RECORDINGS} recordings`);
export type RecordingLabel = z.infer<typeof Label>;

/** Parses and checks `labels.json`; a bad entry is named by its index and key. */
export function parseLabels(text: string, source = LABELS_FILE): RecordingLabel[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EarshotError('E_BENCH_LABELS', `${source}: not JSON: ${(err as Error).message}`, {
      hint: LABELS_HINT,
    });
  }
  const parsed = Labels.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `[${issue.path.join('].[')}]` : 'the list';
    throw new EarshotError('E_BENCH_LABELS', `${source}: ${where}: ${issue.message}`, {
      hint: LABELS_HINT,
    });
  }
  const seen = new Set<string>();
  for (const label of parsed.data) {
    if (seen.has(label.file)) {
      throw new EarshotError('E_BENCH_LABELS', `${source}: ${label.file} is labelled twice`);
    }
    seen.add(label.file);
  }
  return parsed.data;
}

/** Labelled recordings, checked but not yet read. */
export interface RecordingSet {
  dir: string;
  labels: RecordingLabel[];
}

/**
 * Reads and checks `dir`'s labels, and that every file they name is there and not
 * larger than `MAX_FILE_BYTES`: a mistake is reported before the first recording is
 * measured, not an hour into a run.
 */
export async function openRecordings(dir: string): Promise<RecordingSet> {
  const labelsPath = join(dir, LABELS_FILE);
  const cannotRead = (err: NodeJS.ErrnoException): never => {
    throw new EarshotError(
      'E_BENCH_LABELS',
      `cannot read ${labelsPath}: ${err.code ?? err.message}`,
      { hint: `put ${LABELS_FILE} beside the recordings (README, "End of an utterance")` },
    );
  };
  const { size } = await stat(labelsPath).catch(cannotRead);
  if (size > MAX_LABELS_BYTES) {
    throw new EarshotError(
      'E_BENCH_LABELS',
      `${labelsPath}: ${size} bytes, more than ${MAX_LABELS_BYTES}`,
      { hint: LABELS_HINT },
    );
  }
  const text = await readFile(labelsPath, 'utf8').catch(cannotRead);
  const labels = parseLabels(text, labelsPath);
  for (const label of labels) {
    const size = await stat(join(dir, label.file)).then(
      (s) => (s.isFile() ? s.size : -1),
      () => -1,
    );
    if (size < 0) {
      throw new EarshotError(
        'E_BENCH_LABELS',
        `${labelsPath}: ${label.file} is not a file in ${dir}`,
      );
    }
    if (size > MAX_FILE_BYTES) {
      throw new EarshotError(
        'E_BENCH_LABELS',
        `${label.file}: ${(size / 2 ** 20).toFixed(1)} MiB, more than ${MAX_FILE_BYTES / 2 ** 20} MiB`,
        { hint: `one request a file, at most ${MAX_RECORDING_SECONDS} s` },
      );
    }
  }
  return { dir, labels };
}

/** The recordings as requests, one at a time: only the one being measured is held. */
export async function* readRecordings(set: RecordingSet): AsyncGenerator<BenchRequest> {
  for (const [i, label] of set.labels.entries()) {
    yield recordedRequest(label, await decodeAudio(join(set.dir, label.file)), i);
  }
}

/** One recording (16 kHz mono) as a request: a lead of room floor, then the recording. */
export function recordedRequest(
  label: RecordingLabel,
  samples: Int16Array,
  index: number,
): BenchRequest {
  const name = basename(label.file);
  const length = samples.length / SAMPLE_RATE;
  if (length > MAX_RECORDING_SECONDS) {
    throw new EarshotError(
      'E_BENCH_LABELS',
      `${name}: ${length.toFixed(1)} s long, more than ${MAX_RECORDING_SECONDS} s`,
    );
  }
  if (label.lastWordEnd + MIN_TAIL_SECONDS > length) {
    throw new EarshotError(
      'E_BENCH_LABELS',
      `${name}: lastWordEnd ${label.lastWordEnd} s leaves ${Math.max(0, length - label.lastWordEnd).toFixed(2)} s of room; at least ${MIN_TAIL_SECONDS} s are needed`,
      { hint: 'record on after the request, or check the label' },
    );
  }
  const lead = LEAD_FRAMES * FRAME_SAMPLES;
  const at = (s: number): number => lead + Math.round(s * SAMPLE_RATE);
  const noiseSeed = 7_000_003 + index * 101;
  const floor = new PinkNoise(noiseSeed).fill(new Float32Array(lead), FLOOR_RMS);
  const clean = new Int16Array(lead + samples.length);
  clean.set(mix(new Int16Array(lead), floor));
  clean.set(samples, lead);
  const commandStart = at(label.commandStart);
  const lastWordEnd = at(label.lastWordEnd);
  const speechRms = speechLevel(clean.subarray(commandStart, lastWordEnd));
  if (speechRms === undefined) {
    throw new EarshotError(
      'E_BENCH_LABELS',
      `${name}: no speech between commandStart and lastWordEnd (${label.commandStart}–${label.lastWordEnd} s)`,
    );
  }
  return {
    id: name,
    noiseSeed,
    clean,
    speechRms,
    layout: {
      commandStart,
      lastWordEnd,
      innerPausesMs: silences(clean.subarray(commandStart, lastWordEnd)),
    },
  };
}

/**
 * The level of the speech in a stretch, int16 RMS: over its 10 ms windows within 25 dB
 * of the loudest (the words, not the pauses between them), as the generated requests'
 * level is measured over their words. Undefined: nothing there.
 */
export function speechLevel(samples: Int16Array): number | undefined {
  const env = envelopeDb(samples);
  if (env.length === 0) return undefined;
  const peak = Math.max(...env);
  if (peak < -80) return undefined;
  let energy = 0;
  let count = 0;
  for (const db of env) {
    if (db < peak - 25) continue;
    energy += 10 ** (db / 10);
    count += 1;
  }
  return Math.sqrt(energy / count) * 32768;
}
