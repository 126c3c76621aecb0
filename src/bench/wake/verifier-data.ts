import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { FRAME_SAMPLES } from '../../shared/audio-format.js';
import { OpenWakeWordDetector, type FrameScores } from '../../wake/openwakeword/detector.js';
import { EMBEDDING_DIM } from '../../wake/openwakeword/features.js';
import { decodeAudio } from './audio-files.js';
import { buildSegment, framesOf, GAP_FRAMES, LEAD_FRAMES, TAIL_FRAMES } from './streams.js';

/**
 * The training data of the wake-word verifier, taken with the detector's own front end:
 * every file is streamed through the real openWakeWord engine (quiet gate and all, as the
 * daemon runs it), and at chosen frames the window of embeddings the verifier would see
 * is copied. Each stream keeps its whole score and speech-check trace too, so that the
 * training script can replay the detector's gate with the verifier's cross-validated
 * scores and choose the operating point the way the benchmark's sweep does.
 */
export const PROBE_FLOOR = 0.01;
/** Keyword windows read by the bundled models and the verifier: 16 embeddings (1.28 s). */
export const WINDOW = 16;
export const WINDOW_VALUES = WINDOW * EMBEDDING_DIM;

export interface StreamData {
  /** The audio file, and what else shapes this stream (added noise). */
  file: string;
  noiseDb: number | null;
  scores: Float32Array;
  vad: Float32Array;
  /** Frames from here on count (the recording, after its lead-in). */
  firstFrame: number;
  /** Frames whose window was kept, ascending, and the windows (WINDOW_VALUES each). */
  frames: Int32Array;
  windows: Float32Array;
}

export interface ExtractOptions {
  file: string;
  /** Which seed the added noise uses (the file's index in its set, offset per condition). */
  index: number;
  set: 'positive' | 'negative';
  noiseDb: number | undefined;
  /** Keep the window of every n-th frame the models ran on (besides the probe floor). */
  everyNth: number;
  keywordModel: string;
  cacheDir: string | undefined;
}

/** Streams one file through the engine and keeps its trace and windows (cached on disk). */
export async function extractStream(o: ExtractOptions): Promise<StreamData> {
  const info = await stat(o.file);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        v: 1,
        file: o.file,
        size: info.size,
        mtime: info.mtimeMs,
        index: o.index,
        set: o.set,
        noiseDb: o.noiseDb ?? null,
        everyNth: o.everyNth,
        model: o.keywordModel,
      }),
    )
    .digest('hex')
    .slice(0, 24);
  const cached = o.cacheDir ? join(o.cacheDir, `${key}.v8`) : undefined;
  if (cached) {
    try {
      return deserialize(await readFile(cached)) as StreamData;
    } catch {
      // Not there yet.
    }
  }
  const segment = buildSegment(o.file, await decodeAudio(o.file), {
    index: o.index,
    leadFrames: LEAD_FRAMES,
    tailFrames: o.set === 'positive' ? TAIL_FRAMES : GAP_FRAMES,
    noiseDb: o.noiseDb,
    set: o.set,
  });
  const scores: number[] = [];
  const vad: number[] = [];
  const frames: number[] = [];
  const windows: Float32Array[] = [];
  let ran = 0;
  const onScores = (frame: number, s: FrameScores): void => {
    const score = s.keyword[0] ?? 0;
    scores.push(score);
    vad.push(s.vad);
    if (!s.window) return;
    ran += 1;
    if (score >= PROBE_FLOOR || ran % o.everyNth === 0) {
      frames.push(frame);
      windows.push(s.window.slice(s.window.length - WINDOW_VALUES));
    }
  };
  const detector = await sharedDetector(o.keywordModel);
  listener = onScores;
  // As the benchmark does per recording: back to the rest state, a new warm-up.
  detector.reset();
  try {
    let index = 0;
    for (const samples of framesOf(segment.samples)) {
      await detector.process({ index: index++, samples });
    }
  } finally {
    listener = undefined;
  }
  const all = new Float32Array(windows.length * WINDOW_VALUES);
  windows.forEach((w, i) => all.set(w, i * WINDOW_VALUES));
  const data: StreamData = {
    file: o.file,
    noiseDb: o.noiseDb ?? null,
    scores: Float32Array.from(scores),
    vad: Float32Array.from(vad),
    firstFrame: Math.floor(segment.clipStart / FRAME_SAMPLES),
    frames: Int32Array.from(frames),
    windows: all,
  };
  if (cached) {
    await mkdir(o.cacheDir!, { recursive: true });
    await writeFile(cached, serialize(data));
  }
  return data;
}

let listener: ((frame: number, s: FrameScores) => void) | undefined;
let shared: { model: string; detector: Promise<OpenWakeWordDetector> } | undefined;

/** One engine for every stream (loading the models per file would cost more than the file). */
function sharedDetector(model: string): Promise<OpenWakeWordDetector> {
  if (shared?.model === model) return shared.detector;
  const detector = new OpenWakeWordDetector({
    // Nothing fires (threshold near 1, patience 20), so no refractory period hides a
    // frame from the trace; the gate is replayed later from the trace.
    keywords: [{ model, threshold: 0.999, patience: 20 }],
    refractoryMs: 0,
    warmupMs: 1000,
    vadThreshold: 0.2,
    quietGateDb: 6,
    onScores: (frame, s) => listener?.(frame, s),
    probeVadFrom: PROBE_FLOOR,
  });
  shared = { model, detector: detector.start().then(() => detector) };
  return shared.detector;
}

/** Releases the shared engine. */
export async function closeExtraction(): Promise<void> {
  const d = shared ? await shared.detector : undefined;
  shared = undefined;
  await d?.stop();
}

/** A short content hash of a recording: names a development speaker in the fold lists. */
export async function contentHash(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
    .slice(0, 16);
}

/** The fold (0..k-1) of a name: stable across runs and machines. */
export function foldOf(name: string, k: number): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0) % k;
}
