import { FRAME_SAMPLES, SAMPLE_RATE } from '../../shared/audio-format.js';
import {
  OpenWakeWordDetector,
  type FrameScores,
  type OpenWakeWordOptions,
} from '../../wake/openwakeword/detector.js';
import { decodeAudio } from './audio-files.js';
import {
  buildSegment,
  framesOf,
  GAP_FRAMES,
  LEAD_FRAMES,
  TAIL_FRAMES,
  type Segment,
} from './streams.js';

/**
 * One pass of the benchmark: every positive recording on its own (detector reset, noise
 * lead-in, the recording, a noise tail), then all negative recordings as one continuous
 * stream with pauses between them, as a speaker would hear a room. The detector is the
 * real engine; only its `process` calls are timed and their CPU time counted. All audio
 * is decoded and mixed before the pass (`prepareAudio`), so that neither sox nor the
 * garbage of decoding runs while the detector is being measured.
 */
export interface PreparedAudio {
  positives: Segment[];
  negatives: Segment[];
}

export async function prepareAudio(
  positives: readonly string[],
  negatives: readonly string[],
  noiseDb: number | undefined,
  onProgress?: (filesDone: number) => void,
): Promise<PreparedAudio> {
  const prepared: PreparedAudio = { positives: [], negatives: [] };
  let done = 0;
  for (const [index, file] of positives.entries()) {
    prepared.positives.push(
      buildSegment(file, await decodeAudio(file), {
        index,
        leadFrames: LEAD_FRAMES,
        tailFrames: TAIL_FRAMES,
        noiseDb,
        set: 'positive',
      }),
    );
    onProgress?.(++done);
  }
  for (const [index, file] of negatives.entries()) {
    prepared.negatives.push(
      buildSegment(file, await decodeAudio(file), {
        index,
        // Only the first negative needs a lead-in: the stream is continuous after it.
        leadFrames: index === 0 ? LEAD_FRAMES : 0,
        tailFrames: GAP_FRAMES,
        noiseDb,
        set: 'negative',
      }),
    );
    onProgress?.(++done);
  }
  return prepared;
}

export interface PassOptions {
  audio: PreparedAudio;
  /** Exactly one keyword: the one under test. */
  detector: OpenWakeWordOptions;
  /** Record every frame's score (and the VAD from this score up) for the threshold sweep. */
  traceFrom?: number;
  onProgress?: (filesDone: number) => void;
  /** Before each positive recording (its file) and once before the negatives. */
  beforeSegment?: (file: string | undefined, positive: boolean) => void;
}

export interface PositiveResult {
  file: string;
  detected: boolean;
  /** End of the firing frame minus end of the word; negative when it fired before. */
  latencyMs?: number;
}

export interface FalseAccept {
  file: string;
  /** Where in that file (seconds from its start; past its end: in the pause after it). */
  atSeconds: number;
  score: number;
}

/** Scores of one stream, frame by frame, for replaying the gate. */
export interface Trace {
  scores: Float32Array;
  vad: Float32Array;
  /** The verifier's probability, NaN where it was not asked; absent without a verifier. */
  verifier?: Float32Array | undefined;
  /** Frames to count from (the clip start for positives). */
  firstFrame: number;
}

export interface PassResult {
  loadMs: number;
  positives: PositiveResult[];
  falseAccepts: FalseAccept[];
  negativeSeconds: number;
  audioSeconds: number;
  cpuSeconds: number;
  /** Wall time of every `process` call, in ms. */
  chunkMs: Float64Array;
  /**
   * CPU time of every `process` call, in ms: unlike the wall time, it does not grow when
   * other processes take the CPU away in the middle of a call.
   */
  chunkCpuMs: Float64Array;
  positiveTraces: Trace[];
  negativeTrace: Trace | undefined;
  /** How often the verifier ran and its time (0 calls without one). */
  verifier: { calls: number; ms: number };
}

export async function runPass(o: PassOptions): Promise<PassResult> {
  const recorder = o.traceFrom === undefined ? undefined : new TraceRecorder();
  const detector = new OpenWakeWordDetector({
    ...o.detector,
    ...(recorder ? { onScores: recorder.listener, probeVadFrom: o.traceFrom } : {}),
  });
  const t0 = performance.now();
  await detector.start();
  const loadMs = performance.now() - t0;

  const result: PassResult = {
    loadMs,
    positives: [],
    falseAccepts: [],
    negativeSeconds: 0,
    audioSeconds: 0,
    cpuSeconds: 0,
    chunkMs: new Float64Array(countFrames(o.audio)),
    chunkCpuMs: new Float64Array(countFrames(o.audio)),
    positiveTraces: [],
    negativeTrace: undefined,
    verifier: detector.verifierStats,
  };
  let frameIndex = 0;
  let filesDone = 0;

  /** Streams one segment; returns the detections as [frame offset in segment, score]. */
  const stream = async (segment: Segment): Promise<Array<[number, number]>> => {
    const fired: Array<[number, number]> = [];
    let offset = 0;
    for (const samples of framesOf(segment.samples)) {
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      const detections = await detector.process({ index: frameIndex, samples });
      result.chunkMs[frameIndex] = performance.now() - t;
      const cpu = process.cpuUsage(cpu0);
      result.chunkCpuMs[frameIndex] = (cpu.user + cpu.system) / 1000;
      result.cpuSeconds += (cpu.user + cpu.system) / 1e6;
      for (const d of detections) fired.push([offset, d.score]);
      frameIndex += 1;
      offset += 1;
    }
    result.audioSeconds += segment.samples.length / SAMPLE_RATE;
    return fired;
  };

  try {
    for (const segment of o.audio.positives) {
      o.beforeSegment?.(segment.file, true);
      detector.reset();
      recorder?.begin();
      const fired = await stream(segment);
      // A detection counts if its frame reaches into the recording; one in the lead-in
      // would be a false accept on noise, not a detection of the word.
      const hit = fired.find(([f]) => (f + 1) * FRAME_SAMPLES > segment.clipStart);
      result.positives.push({
        file: segment.file,
        detected: hit !== undefined,
        ...(hit
          ? { latencyMs: (((hit[0] + 1) * FRAME_SAMPLES - segment.speechEnd) / SAMPLE_RATE) * 1000 }
          : {}),
      });
      if (recorder) {
        result.positiveTraces.push(recorder.end(Math.floor(segment.clipStart / FRAME_SAMPLES)));
      }
      o.onProgress?.(++filesDone);
    }

    // Negatives: one stream, reset once; the lead-in before the first file is not counted.
    o.beforeSegment?.(undefined, false);
    detector.reset();
    recorder?.begin();
    for (const segment of o.audio.negatives) {
      const fired = await stream(segment);
      for (const [f, score] of fired) {
        const at = ((f + 1) * FRAME_SAMPLES - segment.clipStart) / SAMPLE_RATE;
        if (at > 0) result.falseAccepts.push({ file: segment.file, atSeconds: at, score });
      }
      result.negativeSeconds += (segment.samples.length - segment.clipStart) / SAMPLE_RATE;
      o.onProgress?.(++filesDone);
    }
    if (recorder) result.negativeTrace = recorder.end(LEAD_FRAMES);
  } finally {
    await detector.stop();
  }
  return result;
}

function countFrames(audio: PreparedAudio): number {
  let n = 0;
  for (const s of [...audio.positives, ...audio.negatives]) n += s.samples.length / FRAME_SAMPLES;
  return n;
}

/** Collects the detector's per-frame scores into growing arrays. */
class TraceRecorder {
  private scores: number[] = [];
  private vad: number[] = [];
  private verifier: number[] = [];

  readonly listener = (_frame: number, s: FrameScores): void => {
    this.scores.push(s.keyword[0] ?? 0);
    this.vad.push(s.vad);
    this.verifier.push(s.verifier[0] ?? NaN);
  };

  begin(): void {
    this.scores = [];
    this.vad = [];
    this.verifier = [];
  }

  end(firstFrame: number): Trace {
    return {
      scores: Float32Array.from(this.scores),
      vad: Float32Array.from(this.vad),
      verifier: Float32Array.from(this.verifier),
      firstFrame,
    };
  }
}
