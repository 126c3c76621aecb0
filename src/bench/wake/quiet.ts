import { SAMPLE_RATE } from '../../shared/audio-format.js';
import {
  OpenWakeWordDetector,
  type OpenWakeWordOptions,
} from '../../wake/openwakeword/detector.js';
import { PinkNoise, seededRandom } from './noise.js';
import { framesOf, FLOOR_RMS, type Segment } from './streams.js';

/**
 * A speaker's ordinary day in the benchmark: an hour (by default) that is 90 % silence
 * or steady room noise and 10 % speech, generated here from a seed, so that every run
 * hears the same hour. Each minute has one background (a quiet room's floor, pink noise
 * like distant traffic, brown noise like a fan, a mains hum with its harmonics, at
 * levels from -60 to -40 dBFS) under it from start to end, and 6 s of speech (the
 * negative recordings, one after another) at a random place in it.
 */
export const QUIET_SPEECH_SECONDS = 6;
const SEED = 90_000;

type Background = 'floor' | 'pink' | 'fan' | 'hum';
const BACKGROUNDS: readonly Background[] = ['floor', 'pink', 'fan', 'hum'];

export interface QuietMinute {
  samples: Int16Array;
  background: Background;
}

/** One minute of the quiet hour; `speech` supplies the talking, in turn. */
export function quietMinute(index: number, speech: readonly Segment[]): QuietMinute {
  const n = 60 * SAMPLE_RATE;
  const random = seededRandom(SEED + index);
  const background = BACKGROUNDS[index % BACKGROUNDS.length]!;
  const levelRms = 32768 * 10 ** ((-60 + random() * 20) / 20);
  const bed = new PinkNoise(SEED + 1000 + index).fill(new Float32Array(n), FLOOR_RMS);
  if (background === 'pink') {
    const extra = new PinkNoise(SEED + 2000 + index).fill(new Float32Array(n), levelRms);
    for (let i = 0; i < n; i++) bed[i]! += extra[i]!;
  } else if (background === 'fan') {
    // Brown noise (integrated white, leaking) with a slow beat, as a fan's.
    let b = 0;
    const brown = new Float32Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      b = 0.998 * b + (random() * 2 - 1);
      brown[i] = b * (1 + 0.2 * Math.sin((2 * Math.PI * 7 * i) / SAMPLE_RATE));
      sum += brown[i]! ** 2;
    }
    const gain = levelRms / Math.sqrt(sum / n);
    for (let i = 0; i < n; i++) bed[i]! += brown[i]! * gain;
  } else if (background === 'hum') {
    const amp = levelRms * Math.SQRT2 * 0.6;
    for (let i = 0; i < n; i++) {
      const t = (2 * Math.PI * 50 * i) / SAMPLE_RATE;
      bed[i]! += amp * (Math.sin(t) + 0.5 * Math.sin(2 * t) + 0.25 * Math.sin(3 * t));
    }
  }
  const talk = new Float32Array(QUIET_SPEECH_SECONDS * SAMPLE_RATE);
  let filled = 0;
  for (let k = 0; filled < talk.length && speech.length > 0; k++) {
    const s = speech[(index * 7 + k) % speech.length]!;
    const clip = s.samples.subarray(s.clipStart, s.clipEnd);
    const take = Math.min(clip.length, talk.length - filled);
    for (let i = 0; i < take; i++) talk[filled + i] = clip[i]!;
    filled += take;
  }
  const at = Math.floor(random() * (n - talk.length));
  for (let i = 0; i < talk.length; i++) bed[at + i]! += talk[i]!;
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const v = Math.round(bed[i]!);
    samples[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return { samples, background };
}

export interface QuietResult {
  audioSeconds: number;
  cpuSeconds: number;
  /** Frames on which the models ran, out of all frames. */
  modelFrames: number;
  frames: number;
  falseAccepts: number;
}

/**
 * Streams the quiet hour through a fresh detector, continuously, timing only its
 * `process` calls (each minute is made between calls, untimed).
 */
export async function runQuiet(
  detectorOptions: OpenWakeWordOptions,
  minutes: number,
  speech: readonly Segment[],
  onProgress?: (minutesDone: number) => void,
): Promise<QuietResult> {
  let modelFrames = 0;
  let lastFrame = -1;
  const detector = new OpenWakeWordDetector({
    ...detectorOptions,
    // A frame that was scored has a nonzero score somewhere; skipped frames score 0.
    onScores: (frame, s) => {
      if (frame !== lastFrame && s.keyword.some((x) => x !== 0)) modelFrames += 1;
      lastFrame = frame;
    },
  });
  await detector.start();
  const result: QuietResult = {
    audioSeconds: 0,
    cpuSeconds: 0,
    modelFrames: 0,
    frames: 0,
    falseAccepts: 0,
  };
  let index = 0;
  try {
    for (let m = 0; m < minutes; m++) {
      const { samples } = quietMinute(m, speech);
      for (const frame of framesOf(samples)) {
        const cpu0 = process.cpuUsage();
        const detections = await detector.process({ index, samples: frame });
        const cpu = process.cpuUsage(cpu0);
        result.cpuSeconds += (cpu.user + cpu.system) / 1e6;
        result.falseAccepts += detections.length;
        index += 1;
      }
      result.audioSeconds += samples.length / SAMPLE_RATE;
      onProgress?.(m + 1);
    }
  } finally {
    await detector.stop();
  }
  result.frames = index;
  result.modelFrames = modelFrames;
  return result;
}
