import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/bench/wake/audio-files.js';
import { mix, PinkNoise } from '../../src/bench/wake/noise.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../src/shared/audio-format.js';
import type { Detection } from '../../src/wake/detector.js';
import {
  OpenWakeWordDetector,
  type OpenWakeWordOptions,
} from '../../src/wake/openwakeword/detector.js';
import { SpeechCheck } from '../../src/wake/openwakeword/vad.js';
import { SileroVad } from '../../src/audio/silero-vad.js';
import { sileroModelPath } from '../../src/models/silero-stream.js';
import { modelSessions } from '../../src/models/sessions.js';
import { tempDir } from '../helpers/paths.js';

/**
 * The openWakeWord engine with its real ONNX models, no mocks: speech is synthesised with
 * flite (installed by scripts/setup.sh) and streamed frame by frame over a faint noise
 * floor, as the capture loop would deliver it. Assertions are on what was detected and
 * on which frame, never on time.
 */
const tmp = tempDir('earshot-wake-');
const speech: Record<string, Int16Array> = {};

function say(name: string, text: string): void {
  const raw = join(tmp.dir, `${name}.raw.wav`);
  const wav = join(tmp.dir, `${name}.wav`);
  execFileSync('flite', ['-t', text, '-o', raw]);
  execFileSync('sox', [raw, '-r', String(SAMPLE_RATE), '-c', '1', '-b', '16', wav]);
}

beforeAll(async () => {
  say('alexa', 'Alexa');
  say('jarvis', 'hey jarvis');
  say('other', 'what is the weather like today');
  for (const name of ['alexa', 'jarvis', 'other']) {
    speech[name] = await decodeAudio(join(tmp.dir, `${name}.wav`));
  }
});
afterAll(() => tmp.cleanup());

type Piece = number | Int16Array;

/** Audio of pieces (seconds of quiet, or speech) over a faint pink floor, in whole frames. */
function compose(pieces: Piece[], seed = 1): { audio: Int16Array; clips: Array<[number, number]> } {
  const lengths = pieces.map((p) =>
    typeof p === 'number' ? Math.round(p * SAMPLE_RATE) : p.length,
  );
  const total = Math.ceil(lengths.reduce((a, b) => a + b, 0) / FRAME_SAMPLES) * FRAME_SAMPLES;
  const audio = new Int16Array(total);
  const clips: Array<[number, number]> = [];
  let at = 0;
  pieces.forEach((p, i) => {
    if (typeof p !== 'number') {
      audio.set(p, at);
      // First and last frame that hold part of the clip.
      clips.push([Math.floor(at / FRAME_SAMPLES), Math.floor((at + p.length - 1) / FRAME_SAMPLES)]);
    }
    at += lengths[i]!;
  });
  return { audio: mix(audio, new PinkNoise(seed).fill(new Float32Array(total), 30)), clips };
}

async function feed(det: OpenWakeWordDetector, audio: Int16Array, first = 0): Promise<Detection[]> {
  const found: Detection[] = [];
  for (let f = 0; f * FRAME_SAMPLES < audio.length; f++) {
    const samples = audio.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES);
    found.push(...(await det.process({ index: first + f, samples })));
  }
  return found;
}

const alexaKeyword = { name: 'alexa', model: 'alexa_v0.1', threshold: 0.1, patience: 1 };
const defaults: OpenWakeWordOptions = {
  keywords: [alexaKeyword],
  refractoryMs: 2000,
  warmupMs: 1000,
  vadThreshold: 0.2,
};

async function detector(
  overrides: Partial<OpenWakeWordOptions> = {},
): Promise<OpenWakeWordDetector> {
  const det = new OpenWakeWordDetector({ ...defaults, ...overrides });
  await det.start();
  return det;
}

describe('openWakeWord engine', () => {
  it('detects a spoken "Alexa" once, on a frame at the end of the word', async () => {
    const det = await detector();
    const { audio, clips } = compose([2, speech.alexa!, 1.5]);
    const found = await feed(det, audio);
    expect(found).toHaveLength(1);
    const [start, end] = clips[0]!;
    expect(found[0]!.keyword).toBe('alexa');
    expect(found[0]!.score).toBeGreaterThanOrEqual(0.1);
    // The model fires once it has heard the word: not before it starts, at most 0.4 s after.
    expect(found[0]!.frameIndex).toBeGreaterThan(start);
    expect(found[0]!.frameIndex).toBeLessThanOrEqual(end + 5);
    await det.stop();
  });

  it('stays silent on noise and on other speech', async () => {
    const det = await detector();
    const loud = new PinkNoise(9).fill(new Float32Array(5 * SAMPLE_RATE), 3000);
    const noise = Int16Array.from(loud, (v) => Math.max(-32768, Math.min(32767, Math.round(v))));
    const { audio } = compose([2, noise, 1, speech.other!, 1, speech.jarvis!, 1]);
    expect(await feed(det, audio)).toEqual([]);
    await det.stop();
  });

  it('fires once per "Alexa" however long the score stays high: the refractory period', async () => {
    const once = await detector();
    const { audio } = compose([2, speech.alexa!, 0.3, speech.alexa!, 3, speech.alexa!, 1]);
    // The second word ends within 2 s of the first: one detection for the pair, one for the third.
    expect((await feed(once, audio)).map((d) => d.keyword)).toEqual(['alexa', 'alexa']);
    await once.stop();
    // Without a refractory period the same single word fires on several frames.
    const every = await detector({ refractoryMs: 0 });
    expect((await feed(every, compose([2, speech.alexa!, 1]).audio)).length).toBeGreaterThan(1);
    await every.stop();
  });

  it('patience N fires N - 1 frames later, and not at all when the word is too short', async () => {
    const { audio } = compose([2, speech.alexa!, 1.5]);
    const frameWith = async (patience: number) => {
      const det = await detector({ keywords: [{ ...alexaKeyword, patience }] });
      const found = await feed(det, audio);
      await det.stop();
      return found.map((d) => d.frameIndex);
    };
    const [one] = await frameWith(1);
    expect(await frameWith(3)).toEqual([one! + 2]);
    expect(await frameWith(20)).toEqual([]);
  });

  it('ignores the warm-up after a reset, and listens after it', async () => {
    const early = compose([0.2, speech.alexa!, 1.5]).audio;
    const warm = await detector({ warmupMs: 2000 });
    expect(await feed(warm, early)).toEqual([]);
    await warm.stop();
    // Proof that the word itself is detectable right away once the warm-up is off.
    const cold = await detector({ warmupMs: 0 });
    expect(await feed(cold, early)).toHaveLength(1);
    await cold.stop();
  });

  it('reset (or a gap in frame indexes) forgets the audio heard before it', async () => {
    const { audio } = compose([2, speech.alexa!, 1.5]);
    const det = await detector({ warmupMs: 0 });
    const cut =
      Math.floor((2 * SAMPLE_RATE + speech.alexa!.length * 0.8) / FRAME_SAMPLES) * FRAME_SAMPLES;
    // Most of the word, then a reset, then the rest: the tail alone is not "Alexa".
    expect(await feed(det, audio.subarray(0, cut))).toEqual([]);
    det.reset();
    expect(await feed(det, audio.subarray(cut), cut / FRAME_SAMPLES)).toEqual([]);
    // Same with a jump in the frame index instead of an explicit reset.
    const det2 = await detector({ warmupMs: 0 });
    await feed(det2, audio.subarray(0, cut));
    expect(await feed(det2, audio.subarray(cut), cut / FRAME_SAMPLES + 100)).toEqual([]);
    // And without either, the same frames do fire.
    const det3 = await detector({ warmupMs: 0 });
    await feed(det3, audio.subarray(0, cut));
    expect(await feed(det3, audio.subarray(cut), cut / FRAME_SAMPLES)).toHaveLength(1);
    for (const d of [det, det2, det3]) await d.stop();
  });

  it('listens for several keywords at once and names each', async () => {
    const det = await detector({
      keywords: [
        alexaKeyword,
        { name: 'jarvis', model: 'hey_jarvis', threshold: 0.5, patience: 1 },
      ],
    });
    expect(det.keywords).toEqual(['alexa', 'jarvis']);
    const { audio } = compose([2, speech.jarvis!, 1, speech.alexa!, 1, speech.other!, 1]);
    expect((await feed(det, audio)).map((d) => d.keyword)).toEqual(['jarvis', 'alexa']);
    await det.stop();
  });

  it('the voice-activity check vetoes detections without speech before them', async () => {
    const { audio } = compose([2, speech.alexa!, 1.5]);
    // No probability reaches 1: with that threshold every detection is vetoed.
    const strict = await detector({ vadThreshold: 1 });
    expect(await feed(strict, audio)).toEqual([]);
    await strict.stop();
    const vad = await SpeechCheck.open();
    const quiet = compose([2]).audio;
    for (let f = 0; f < quiet.length / FRAME_SAMPLES; f++) {
      vad.remember(quiet.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
    }
    expect(await vad.recentSpeech()).toBeLessThan(0.2);
    // Frames 5-7 before the last one are inside the word.
    const word = compose([1, speech.alexa!]).audio;
    vad.clear();
    for (let f = 0; f < word.length / FRAME_SAMPLES - 1; f++) {
      vad.remember(word.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
    }
    for (let f = 0; f < 4; f++) vad.remember(quiet.subarray(0, FRAME_SAMPLES));
    expect(await vad.recentSpeech()).toBeGreaterThan(0.5);
    await vad.close();
  });

  it('the speech check and the end-of-speech VAD share one Silero session, each with its own state', async () => {
    const key = resolve(sileroModelPath());
    const check = await SpeechCheck.open();
    const vad = await SileroVad.open({ trailingSilenceMs: 700 });
    expect(modelSessions.users(key)).toBe(2);
    // Interleaved on the one session, each keeps its own recurrent state: the VAD's
    // probabilities over a word are the same as those of a VAD used alone.
    const word = compose([0.5, speech.alexa!, 0.5]).audio;
    const frames = word.length / FRAME_SAMPLES;
    const shared: number[] = [];
    for (let f = 0; f < frames; f++) {
      const samples = word.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES);
      check.remember(samples);
      const [p] = await Promise.all([vad.probability(samples), check.recentSpeech()]);
      shared.push(p);
    }
    await check.close();
    await check.close(); // twice: must not take the VAD's session away
    expect(modelSessions.users(key)).toBe(1);
    vad.reset();
    const alone: number[] = [];
    for (let f = 0; f < frames; f++) {
      alone.push(await vad.probability(word.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES)));
    }
    expect(Math.max(...shared)).toBeGreaterThan(0.5);
    shared.forEach((p, i) => expect(p).toBeCloseTo(alone[i]!, 5));
    await vad.close();
    expect(modelSessions.users(key)).toBe(0);
  });

  it('refuses frames of the wrong size and use before start', async () => {
    const det = new OpenWakeWordDetector(defaults);
    await expect(
      det.process({ index: 0, samples: new Int16Array(FRAME_SAMPLES) }),
    ).rejects.toMatchObject({
      code: 'E_WAKE_STATE',
    });
    await det.start();
    await expect(det.process({ index: 0, samples: new Int16Array(512) })).rejects.toMatchObject({
      code: 'E_WAKE_FRAME',
    });
    await det.stop();
  });
});
