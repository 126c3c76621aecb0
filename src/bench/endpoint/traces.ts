import { decodeAudio } from '../wake/audio-files.js';
import { frameDbfs } from '../../audio/energy-vad.js';
import { FrameSpeech, type FrameSpeechOptions, type SileroVad } from '../../audio/silero-vad.js';
import { FRAME_SAMPLES, type Frame } from '../../shared/audio-format.js';
import type { WakeDetector } from '../../wake/detector.js';
import {
  corpusClip,
  ttsClip,
  type Clip,
  type ClipSource,
  type PhrasePlan,
  type RequestPlan,
} from './requests.js';
import type { Synth } from './synth.js';

/** Clips from the synthesizer and the corpus, each decoded once. */
export function clipSource(synth: Synth): ClipSource {
  const decoded = new Map<string, Promise<Int16Array>>();
  const corpus = async (file: string): Promise<Clip> => {
    let samples = decoded.get(file);
    if (!samples) decoded.set(file, (samples = decodeAudio(file)));
    return corpusClip((await samples).slice());
  };
  return {
    wake: async (plan: RequestPlan) =>
      plan.wake.kind === 'corpus'
        ? corpus(plan.wake.file)
        : ttsClip(await synth.speak(plan.voice, 'Alexa', plan.rate)),
    phrase: async (plan: RequestPlan, phrase: PhrasePlan) =>
      phrase.kind === 'corpus'
        ? Promise.all(phrase.files.map(corpus))
        : [ttsClip(await synth.speak(plan.voice, phrase.text, plan.rate))],
  };
}

export function frameAt(audio: Int16Array, index: number): Frame {
  return { index, samples: audio.subarray(index * FRAME_SAMPLES, (index + 1) * FRAME_SAMPLES) };
}

export function frameCount(audio: Int16Array): number {
  return Math.floor(audio.length / FRAME_SAMPLES);
}

/**
 * The frame each request's wake word fires on (the detector's first detection), if any.
 * Requests go to the detector on one time line, far apart, so each starts afresh and
 * the refractory period of the one before (on that time line) is long over.
 */
export class WakeFinder {
  private base = 0;

  constructor(private readonly detector: WakeDetector) {}

  async find(audio: Int16Array): Promise<number | undefined> {
    this.base += frameCount(audio) + 1000;
    this.detector.reset();
    for (let f = 0; f < frameCount(audio); f++) {
      const { samples } = frameAt(audio, f);
      const hits = await this.detector.process({ index: this.base + f, samples });
      if (hits.length > 0) return f;
    }
    return undefined;
  }
}

/**
 * What the VAD heard, frame by frame: Silero's speech probability and the frame's level.
 * The first `primed` frames are the ones up to and including the wake frame that went
 * through the model first, as the device primes it; the rest are the live frames.
 */
export interface VadTrace {
  primed: number;
  p: number[];
  levelDb: number[];
}

/** `primeFrames` 0: a model that starts afresh on the live audio. */
export async function probabilityTrace(
  vad: SileroVad,
  audio: Int16Array,
  wake: number,
  primeFrames: number,
): Promise<VadTrace> {
  vad.reset();
  const first = Math.max(0, wake + 1 - primeFrames);
  const trace: VadTrace = { primed: wake + 1 - first, p: [], levelDb: [] };
  for (let f = first; f < frameCount(audio); f++) {
    const { samples } = frameAt(audio, f);
    trace.p.push(await vad.probability(samples));
    trace.levelDb.push(frameDbfs(samples));
  }
  return trace;
}

/** The live frames' speech decisions under `options`, the primed frames heard first. */
export function decisions(trace: VadTrace, options: FrameSpeechOptions): boolean[] {
  return liveDecisions(trace, options).speech;
}

/**
 * The live frames' speech decisions and, after each, the utterance's estimated SNR
 * (what the device's endpointer gets from Silero, `FrameSpeech.snrDb`).
 */
export function liveDecisions(
  trace: VadTrace,
  options: FrameSpeechOptions,
): { speech: boolean[]; snrDb: number[] } {
  const frames = new FrameSpeech(options);
  const speech: boolean[] = [];
  const snrDb: number[] = [];
  trace.p.forEach((p, i) => {
    const decision = frames.decide(p, trace.levelDb[i]!);
    if (i < trace.primed) return;
    speech.push(decision);
    snrDb.push(frames.snrDb!);
  });
  return { speech, snrDb };
}
