import { FRAME_SAMPLES, SAMPLE_RATE } from '../../shared/audio-format.js';
import { envelopeDb, ENVELOPE_WINDOW, findSpeech } from '../wake/envelope.js';
import { mix, noiseRmsForSnr, PinkNoise, seededRandom } from '../wake/noise.js';
import { FLOOR_RMS, LEAD_FRAMES } from '../wake/streams.js';
import { fileSplit, TEXTS, textSplit, VOICES, type Split, type Voice } from './sources.js';

/**
 * Generated requests for the end-of-speech benchmark: a wake word, a pause, then one or
 * two phrases with pauses inside them, then the quiet of a room, as one microphone
 * stream. Everything is drawn from a seeded generator, so a seed and a count always give
 * the same requests; the layout (where each word ends) is known exactly, so the close
 * can be scored against the true end of the last word.
 */
export interface Range {
  min: number;
  max: number;
}

export interface PlanOptions {
  seed: number;
  count: number;
  split: Split;
  /** Corpus recordings of "alexa" and of other words; empty when there is no corpus. */
  alexaFiles: readonly string[];
  wordFiles: readonly string[];
  /** Seconds between the wake word and the command. */
  wakePause: Range;
  /** Seconds between the two phrases of a two-phrase request. */
  phrasePause: Range;
  /** Seconds between the words of a phrase made of corpus recordings. */
  wordGap: Range;
}

export type PhrasePlan =
  { kind: 'tts'; text: string } | { kind: 'corpus'; files: string[]; gaps: number[] };

export interface RequestPlan {
  id: string;
  voice: Voice;
  /** The voice's pace (1 = its own; 1.2 = 20 % slower). */
  rate: number;
  wake: { kind: 'tts' } | { kind: 'corpus'; file: string };
  wakePause: number;
  phrases: PhrasePlan[];
  phrasePause: number;
  /** Level of each part relative to the others, dB. */
  gainsDb: number[];
  noiseSeed: number;
}

export const DEFAULT_RANGES = {
  wakePause: { min: 0.3, max: 1.5 },
  phrasePause: { min: 0.2, max: 0.6 },
  wordGap: { min: 0.03, max: 0.25 },
} as const;

/** The requests of one half, drawn from that half's voices, people and texts only. */
export function planRequests(o: PlanOptions): RequestPlan[] {
  const random = seededRandom(o.seed * 7919 + (o.split === 'tune' ? 1 : 2));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const within = (r: Range): number => r.min + (r.max - r.min) * random();
  const voices = VOICES.filter((v) => v.split === o.split);
  const texts = TEXTS.filter((_, i) => textSplit(i) === o.split);
  const alexa = o.alexaFiles.filter((f) => fileSplit(f) === o.split);
  const words = o.wordFiles.filter((f) => fileSplit(f) === o.split);
  const plans: RequestPlan[] = [];
  for (let i = 0; i < o.count; i++) {
    const phrases: PhrasePlan[] = [];
    const count = random() < 0.5 ? 1 : 2;
    for (let p = 0; p < count; p++) {
      if (words.length > 0 && random() < 0.5) {
        const n = 1 + Math.floor(random() * 3);
        const files = Array.from({ length: n }, () => pick(words));
        phrases.push({ kind: 'corpus', files, gaps: files.slice(1).map(() => within(o.wordGap)) });
      } else {
        phrases.push({ kind: 'tts', text: pick(texts) });
      }
    }
    plans.push({
      id: `${o.split}-${o.seed}-${i}`,
      voice: pick(voices),
      // In steps of 1 %, so the synthesized clips repeat and the cache serves them.
      rate: Math.round((0.85 + 0.35 * random()) * 100) / 100,
      wake:
        alexa.length > 0 && random() < 0.5
          ? { kind: 'corpus', file: pick(alexa) }
          : { kind: 'tts' },
      wakePause: within(o.wakePause),
      phrases,
      phrasePause: within(o.phrasePause),
      gainsDb: Array.from({ length: 8 }, () => (random() - 0.5) * 6),
      noiseSeed: Math.floor(random() * 2 ** 31),
    });
  }
  return plans;
}

/** A part of a request, cut to its speech. */
export interface Clip {
  samples: Int16Array;
  /** Level of its speech (RMS over its speech windows, int16 units). */
  speechRms: number;
}

/** Where things are in a composed request, in samples. */
export interface Layout {
  wakeStart: number;
  wakeEnd: number;
  commandStart: number;
  /** End of the last word: the reference of the close delay. */
  lastWordEnd: number;
  /** Silences inside the command (between its first and last word), in ms. */
  innerPausesMs: number[];
}

/** What the bench measures a request by: generated (`composeRequest`) or recorded. */
export interface BenchRequest {
  id: string;
  /** Seeds the noise `withNoise` adds. */
  noiseSeed: number;
  /** Clean speech over the faint room floor; `withNoise` adds noise at an SNR. */
  clean: Int16Array;
  layout: Pick<Layout, 'commandStart' | 'lastWordEnd' | 'innerPausesMs'>;
  /** Level of the speech (RMS over its words, int16 units): the reference of the SNR. */
  speechRms: number;
}

export interface ComposedRequest extends BenchRequest {
  plan: RequestPlan;
  layout: Layout;
}

/** Cuts a recording to its spoken part (the energy envelope; bridging short dips). */
export function corpusClip(samples: Int16Array): Clip {
  const span = findSpeech(samples);
  return {
    samples: fade(samples.slice(span.startSample, span.endSample)),
    speechRms: span.speechRms,
  };
}

/** Cuts synthesized speech (exact silence around it) to its first and last sound. */
export function ttsClip(samples: Int16Array): Clip {
  const env = envelopeDb(samples);
  const peak = Math.max(...env);
  const cut = peak - 40;
  let first = env.findIndex((e) => e >= cut);
  let last = env.length - 1;
  while (last > 0 && env[last]! < cut) last--;
  if (first < 0) first = 0;
  let energy = 0;
  let count = 0;
  for (let w = first; w <= last; w++) {
    if (env[w]! < peak - 25) continue;
    energy += 10 ** (env[w]! / 10);
    count += 1;
  }
  const part = samples.slice(first * ENVELOPE_WINDOW, (last + 1) * ENVELOPE_WINDOW);
  return { samples: fade(part), speechRms: Math.sqrt(energy / Math.max(1, count)) * 32768 };
}

/** 5 ms ramps, so a cut does not click. */
function fade(samples: Int16Array): Int16Array {
  const n = Math.min(80, samples.length >> 1);
  for (let i = 0; i < n; i++) {
    samples[i] = Math.round((samples[i]! * i) / n);
    samples[samples.length - 1 - i] = Math.round((samples[samples.length - 1 - i]! * i) / n);
  }
  return samples;
}

/** Speech of every request at this level (about -23 dBFS), give or take its gains. */
const SPEECH_RMS = 2300;
/** Room after the last word: longer than any close. */
const TAIL_SECONDS = 3;
/** A request longer than this (wake word to last word) keeps only its first phrase. */
const MAX_SPOKEN_SECONDS = 6.5;

export interface ClipSource {
  wake(plan: RequestPlan): Promise<Clip>;
  phrase(plan: RequestPlan, phrase: PhrasePlan): Promise<Clip[]>;
}

/** Lays a planned request out as audio, with its exact layout. */
export async function composeRequest(
  plan: RequestPlan,
  source: ClipSource,
): Promise<ComposedRequest> {
  const seconds = (s: number): number => Math.round(s * SAMPLE_RATE);
  const wake = await source.wake(plan);
  const phrases = [];
  for (const p of plan.phrases) phrases.push(await source.phrase(plan, p));
  const phraseLength = (clips: Clip[], p: PhrasePlan): number =>
    clips.reduce((n, c) => n + c.samples.length, 0) +
    (p.kind === 'corpus' ? p.gaps.reduce((n, g) => n + seconds(g), 0) : 0);
  let spoken = wake.samples.length + seconds(plan.wakePause);
  let kept = 0;
  for (const [i, clips] of phrases.entries()) {
    const extra = phraseLength(clips, plan.phrases[i]!) + (i > 0 ? seconds(plan.phrasePause) : 0);
    if (i > 0 && spoken + extra > seconds(MAX_SPOKEN_SECONDS)) break;
    spoken += extra;
    kept += 1;
  }

  const lead = LEAD_FRAMES * FRAME_SAMPLES;
  const total = Math.ceil((lead + spoken + seconds(TAIL_SECONDS)) / FRAME_SAMPLES) * FRAME_SAMPLES;
  const track = new Float32Array(total);
  let at = lead;
  let gain = 0;
  const place = (clip: Clip): [number, number] => {
    const g = (SPEECH_RMS / Math.max(1, clip.speechRms)) * 10 ** (plan.gainsDb[gain++ % 8]! / 20);
    for (let i = 0; i < clip.samples.length; i++) track[at + i] = clip.samples[i]! * g;
    const span: [number, number] = [at, at + clip.samples.length];
    at += clip.samples.length;
    return span;
  };
  const [wakeStart, wakeEnd] = place(wake);
  at += seconds(plan.wakePause);
  const commandStart = at;
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < kept; i++) {
    if (i > 0) at += seconds(plan.phrasePause);
    const p = plan.phrases[i]!;
    for (const [j, clip] of phrases[i]!.entries()) {
      if (j > 0 && p.kind === 'corpus') at += seconds(p.gaps[j - 1]!);
      spans.push(place(clip));
    }
  }
  const lastWordEnd = at;
  const clean = new Int16Array(total);
  for (let i = 0; i < total; i++)
    clean[i] = Math.max(-32768, Math.min(32767, Math.round(track[i]!)));
  const floor = new PinkNoise(plan.noiseSeed).fill(new Float32Array(total), FLOOR_RMS);
  return {
    id: plan.id,
    noiseSeed: plan.noiseSeed,
    plan: kept === plan.phrases.length ? plan : { ...plan, phrases: plan.phrases.slice(0, kept) },
    clean: mix(clean, floor),
    layout: {
      wakeStart,
      wakeEnd,
      commandStart,
      lastWordEnd,
      innerPausesMs: silences(clean.subarray(commandStart, lastWordEnd)),
    },
    speechRms: SPEECH_RMS,
  };
}

/** The request with pink noise at `snrDb` below its speech (undefined: as composed). */
export function withNoise(request: BenchRequest, snrDb: number | undefined): Int16Array {
  if (snrDb === undefined) return request.clean;
  const noise = new PinkNoise(request.noiseSeed + 1 + snrDb).fill(
    new Float32Array(request.clean.length),
    noiseRmsForSnr(request.speechRms, snrDb),
  );
  return mix(request.clean, noise);
}

/** Silences of at least 50 ms inside speech (10 ms windows 35 dB below its peak). */
export function silences(samples: Int16Array): number[] {
  const env = envelopeDb(samples);
  const cut = Math.max(...env) - 35;
  const out: number[] = [];
  let run = 0;
  for (const e of env) {
    if (e < cut) run += 1;
    else {
      if (run >= 5) out.push(run * 10);
      run = 0;
    }
  }
  return out;
}
