import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/bench/wake/audio-files.js';
import { buildSegment, framesOf, LEAD_FRAMES, TAIL_FRAMES } from '../../src/bench/wake/streams.js';
import { loadConfig } from '../../src/config/load.js';
import { configProblems as problems } from '../helpers/config-problems.js';
import { OpenWakeWordDetector, type FrameScores } from '../../src/wake/openwakeword/detector.js';
import {
  bundledVerifierPath,
  loadVerifierFile,
  loadVerifierFolds,
  openBundledVerifier,
  parseVerifierFile,
} from '../../src/wake/openwakeword/verifier.js';
import { corpusDir, fixture, tempDir } from '../helpers/paths.js';

const tmp = tempDir('earshot-verifier-');
afterAll(() => tmp.cleanup());

/** The default threshold of `wake.verifier.threshold`. */
const THRESHOLD = loadConfig().wake.verifier.threshold;

interface Heard {
  detections: number;
  /** The verifier's probability on every frame where the gate fired. */
  asked: number[];
  /** The highest first-stage score. */
  peak: number;
}

/** Streams a recording (noise lead-in and tail, as the benchmark) through the real engine. */
async function hear(
  file: string,
  keyword: { model: string; threshold: number; verifier: boolean },
): Promise<Heard> {
  const segment = buildSegment(file, await decodeAudio(file), {
    index: 0,
    leadFrames: LEAD_FRAMES,
    tailFrames: TAIL_FRAMES,
    set: 'positive',
  });
  const heard: Heard = { detections: 0, asked: [], peak: 0 };
  const detector = new OpenWakeWordDetector({
    keywords: [
      {
        model: keyword.model,
        threshold: keyword.threshold,
        patience: 1,
        verifier: keyword.verifier ? { threshold: THRESHOLD } : undefined,
      },
    ],
    refractoryMs: 2000,
    warmupMs: 1000,
    vadThreshold: 0,
    quietGateDb: 6,
    onScores: (_f: number, s: FrameScores) => {
      heard.peak = Math.max(heard.peak, s.keyword[0]!);
      if (!Number.isNaN(s.verifier[0]!)) heard.asked.push(s.verifier[0]!);
    },
  });
  await detector.start();
  try {
    let index = 0;
    for (const samples of framesOf(segment.samples)) {
      heard.detections += (await detector.process({ index: index++, samples })).length;
    }
  } finally {
    await detector.stop();
  }
  return heard;
}

describe('wake-word verifier', () => {
  it('ships real weights for alexa only, with their folds and licence', async () => {
    const path = bundledVerifierPath('alexa_v0.1')!;
    expect(existsSync(path)).toBe(true);
    expect(bundledVerifierPath('hey_jarvis_v0.1')).toBeUndefined();
    const file = await loadVerifierFile(path);
    expect(file.windowLength).toBe(16);
    // The fold models live beside it, for the benchmark only: the daemon reads 1 file.
    expect(file).not.toHaveProperty('folds');
    const folds = await loadVerifierFolds(path, file.windowLength);
    expect(folds.length).toBeGreaterThanOrEqual(2);
    // Every development speaker is held out by exactly one fold.
    const held = folds.flatMap((f) => f.heldOut);
    expect(new Set(held).size).toBe(held.length);
    expect(file.description).toMatch(/CC BY-NC-SA 4\.0/);
    expect(await openBundledVerifier('alexa')).toBeDefined();
    expect(await openBundledVerifier('hey_jarvis')).toBeUndefined();
    expect(await openBundledVerifier('/somewhere/mine.onnx')).toBeUndefined();
  });

  it('accepts a real "Alexa" that the first stage fires on', async () => {
    const heard = await hear(fixture('alexa-what-time.wav'), {
      model: 'alexa_v0.1',
      threshold: 0.1,
      verifier: true,
    });
    expect(heard.asked.length).toBeGreaterThan(0);
    expect(Math.max(...heard.asked)).toBeGreaterThanOrEqual(THRESHOLD);
    expect(heard.detections).toBe(1);
  });

  const realSpeaker = join(corpusDir, 'positive', 'alexa', '0.flac');
  it.skipIf(!existsSync(realSpeaker))(
    `accepts a real speaker of the corpus (skipped when ${corpusDir} is absent)`,
    async () => {
      const heard = await hear(realSpeaker, { model: 'alexa', threshold: 0.1, verifier: true });
      expect(heard.detections).toBe(1);
    },
  );

  // A real speaker saying "view glass": the corpus' one other word that the first stage
  // scores above 0.01 (0.10 at its peak).
  const realNegative = join(
    corpusDir,
    'negative',
    'view_glass',
    '29ee2256-01d4-4788-a231-24090769d88b.flac',
  );
  it.skipIf(!existsSync(realNegative))(
    `rejects a real negative window that the first stage passes (skipped when ${corpusDir} is absent)`,
    async () => {
      const file = realNegative;
      const first = await hear(file, { model: 'alexa_v0.1', threshold: 0.01, verifier: false });
      // Without the verifier a low first-stage threshold fires on this speech …
      expect(first.detections).toBeGreaterThan(0);
      const both = await hear(file, { model: 'alexa_v0.1', threshold: 0.01, verifier: true });
      // … and the verifier, asked on those same windows, turns every one down.
      expect(both.asked.length).toBeGreaterThan(0);
      expect(Math.max(...both.asked)).toBeLessThan(THRESHOLD);
      expect(both.detections).toBe(0);
    },
  );

  it('leaves a keyword without a bundled verifier working as before', async () => {
    const heard = await hear(fixture('alexa-what-time.wav'), {
      model: 'hey_jarvis_v0.1',
      threshold: 0.5,
      verifier: true,
    });
    expect(heard.asked).toEqual([]);
  });

  it('a keyword switched to at run time brings its verifier', async () => {
    const detector = new OpenWakeWordDetector({
      keywords: [{ model: 'hey_jarvis_v0.1', threshold: 0.5, patience: 1 }],
      refractoryMs: 2000,
      warmupMs: 1000,
      vadThreshold: 0,
    });
    await detector.start();
    try {
      await detector.setKeywords([
        { model: 'alexa', threshold: 0.1, patience: 1, verifier: { threshold: THRESHOLD } },
      ]);
      const file = fixture('alexa-what-time.wav');
      const segment = buildSegment(file, await decodeAudio(file), {
        index: 0,
        leadFrames: LEAD_FRAMES,
        tailFrames: TAIL_FRAMES,
        set: 'positive',
      });
      let detections = 0;
      let index = 0;
      for (const samples of framesOf(segment.samples)) {
        detections += (await detector.process({ index: index++, samples })).length;
      }
      expect(detections).toBe(1);
      expect(detector.verifierStats.calls).toBeGreaterThan(0);
    } finally {
      await detector.stop();
    }
  });

  it('refuses a broken verifier file and names it', async () => {
    expect(() => parseVerifierFile({ format: 2 })).toThrow(/format/);
    const good = JSON.parse(readFileSync(bundledVerifierPath('alexa_v0.1')!, 'utf8')) as {
      net: { output: { weights: number[] } };
    };
    good.net.output.weights = good.net.output.weights.slice(1);
    expect(() => parseVerifierFile(good)).toThrow(/output\.weights/);
    const path = join(tmp.dir, 'broken.json');
    writeFileSync(path, '{ not json');
    await expect(loadVerifierFile(path)).rejects.toMatchObject({
      code: 'E_WAKE_MODEL_LOAD',
      message: expect.stringContaining(path),
    });
    await expect(loadVerifierFile(join(tmp.dir, 'absent.json'))).rejects.toMatchObject({
      code: 'E_WAKE_MODEL_MISSING',
    });
  });

  it('validates wake.verifier and names the key', () => {
    expect(loadConfig().wake.verifier.enabled).toBe(true);
    expect(loadConfig({ overrides: ['wake.verifier.enabled=false'] }).wake.verifier.enabled).toBe(
      false,
    );
    expect(problems(() => loadConfig({ overrides: ['wake.verifier.threshold=1.5'] }))[0]?.key).toBe(
      'wake.verifier.threshold',
    );
    expect(problems(() => loadConfig({ overrides: ['wake.verifier.threshold=0'] }))[0]?.key).toBe(
      'wake.verifier.threshold',
    );
    expect(problems(() => loadConfig({ overrides: ['wake.verifier.enabled=maybe'] }))[0]?.key).toBe(
      'wake.verifier.enabled',
    );
    expect(problems(() => loadConfig({ overrides: ['wake.verifier.treshold=0.5'] }))[0]?.key).toBe(
      'wake.verifier.treshold',
    );
  });
});
