import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildOrtModels } from '../../src/models/build-ort-models.js';
import {
  forgetManifests,
  modelFallbacks,
  MANIFEST,
  openModel,
  packageModelDir,
  prebuiltDir,
  type PrebuiltManifest,
} from '../../src/models/prebuilt.js';
import { tempDir } from '../helpers/paths.js';

// The bundled models, converted to ORT format by `npm run build` (the suite runs after
// it), opened with the real onnxruntime: from their ORT bytes, with the same outputs as
// from the .onnx, and from the .onnx whenever the ORT file does not match.
const tmp = tempDir();
afterAll(() => tmp.cleanup());
afterEach(() => forgetManifests());

const OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
};

/** Deterministic inputs for every input of `session`: symbolic dims 1, but 1280 samples of audio. */
function feedsFor(session: ort.InferenceSession): Record<string, ort.Tensor> {
  let seed = 7;
  const next = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const feeds: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`${meta.name} is not a tensor`);
    const audio = meta.name === 'input';
    const shape = meta.shape.map((d, i) =>
      typeof d === 'number' ? d : audio && i === 1 ? 1280 : 1,
    );
    const size = shape.reduce((a, b) => a * b, 1);
    feeds[meta.name] =
      meta.type === 'int64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from({ length: size }, () => 16000n),
            shape,
          )
        : new ort.Tensor('float32', Float32Array.from({ length: size }, next), shape);
  }
  return feeds;
}

async function outputsOf(session: ort.InferenceSession): Promise<Float32Array[]> {
  const out = await session.run(feedsFor(session));
  return session.outputNames.map((n) => out[n]!.data as Float32Array);
}

const manifest = (): PrebuiltManifest =>
  JSON.parse(readFileSync(join(prebuiltDir(), MANIFEST), 'utf8')) as PrebuiltManifest;

/** A copy of the built set in its own folder, with `edit` applied to the manifest. */
function variant(name: string, edit: (m: PrebuiltManifest) => void): string {
  const dir = join(tmp.dir, name);
  const m = manifest();
  edit(m);
  mkdirSync(dir, { recursive: true });
  for (const e of Object.values(m.models))
    copyFileSync(join(prebuiltDir(), e.ort), join(dir, e.ort));
  writeFileSync(join(dir, MANIFEST), JSON.stringify(m));
  return dir;
}

const mel = (): string => join(packageModelDir(), 'melspectrogram.onnx');

describe('prebuilt ORT-format models', () => {
  it('the build converted every bundled model for this onnxruntime', () => {
    const m = manifest();
    expect(m.onnxruntime).toBe(ort.env.versions.common);
    expect(Object.keys(m.models)).toEqual(
      expect.arrayContaining([
        'melspectrogram.onnx',
        'silero_vad.onnx',
        'alexa_v0.1.onnx',
        'hey_jarvis_v0.1.onnx',
        'hey_mycroft_v0.1.onnx',
        'hey_rhasspy_v0.1.onnx',
      ]),
    );
    // Kept as .onnx on purpose (slower from an ORT file).
    expect(Object.keys(m.models)).not.toContain('embedding_model.onnx');
  });

  it('opens the speech embedding from its .onnx, as it is kept', async () => {
    const opened = await openModel(join(packageModelDir(), 'embedding_model.onnx'), OPTIONS);
    expect(opened.format).toBe('onnx');
    expect(opened.fallback).toBeUndefined();
    await opened.session.release();
  });

  it.each(['melspectrogram', 'alexa_v0.1', 'silero_vad'])(
    '%s opens from its ORT bytes and computes what the .onnx computes',
    async (name) => {
      const path = join(packageModelDir(), `${name}.onnx`);
      const fromOrt = await openModel(path, OPTIONS);
      const fromOnnx = await ort.InferenceSession.create(path, OPTIONS);
      try {
        expect(fromOrt).toMatchObject({ format: 'ort' });
        expect(fromOrt.fallback).toBeUndefined();
        const [a, b] = [await outputsOf(fromOrt.session), await outputsOf(fromOnnx)];
        expect(a.length).toBe(b.length);
        a.forEach((out, i) => {
          expect(out.length).toBe(b[i]!.length);
          const worst = out.reduce((w, v, j) => Math.max(w, Math.abs(v - b[i]![j]!)), 0);
          expect(worst).toBeLessThan(1e-4);
        });
      } finally {
        await fromOrt.session.release();
        await fromOnnx.release();
      }
    },
  );

  it('opens the .onnx, and says why, when the ORT file is for another onnxruntime', async () => {
    const dir = variant('other-version', (m) => (m.onnxruntime = '0.0.1'));
    const opened = await openModel(mel(), OPTIONS, dir);
    expect(opened.format).toBe('onnx');
    expect(opened.fallback).toMatch(/onnxruntime 0\.0\.1/);
    await opened.session.release();
  });

  it('keeps a list of the bundled models running from their .onnx, for the log and doctor', async () => {
    const stale = variant('listed', (m) => (m.onnxruntime = '0.0.1'));
    const fell = await openModel(mel(), OPTIONS, stale);
    expect(modelFallbacks()).toContainEqual({
      model: 'melspectrogram.onnx',
      reason: expect.stringMatching(/onnxruntime 0\.0\.1/),
    });
    // Opened again from a good ORT file: off the list.
    const good = await openModel(mel(), OPTIONS);
    expect(good.format).toBe('ort');
    expect(modelFallbacks().map((f) => f.model)).not.toContain('melspectrogram.onnx');
    await fell.session.release();
    await good.session.release();
  });

  it('opens the .onnx when the model file is not the one converted', async () => {
    const dir = variant('other-size', (m) => (m.models['melspectrogram.onnx']!.sourceBytes += 1));
    const opened = await openModel(mel(), OPTIONS, dir);
    expect(opened).toMatchObject({ format: 'onnx', fallback: expect.stringMatching(/changed/) });
    await opened.session.release();
  });

  it('opens the .onnx when the ORT file is damaged', async () => {
    const dir = variant('damaged', () => undefined);
    const file = join(dir, 'melspectrogram.ort');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, 4096));
    const opened = await openModel(mel(), OPTIONS, dir);
    expect(opened).toMatchObject({
      format: 'onnx',
      fallback: expect.stringMatching(/^melspectrogram\.ort: /),
    });
    await opened.session.release();
  });

  it('opens a custom model, and any model without a manifest, from its .onnx', async () => {
    const custom = join(tmp.dir, 'alexa_v0.1.onnx');
    copyFileSync(join(packageModelDir(), 'alexa_v0.1.onnx'), custom);
    const a = await openModel(custom, OPTIONS);
    expect(a).toMatchObject({ format: 'onnx' });
    expect(a.fallback).toBeUndefined();
    const b = await openModel(mel(), OPTIONS, join(tmp.dir, 'no-such-dir'));
    expect(b).toMatchObject({ format: 'onnx' });
    await a.session.release();
    await b.session.release();
  });

  it('the build leaves out a file that is not a model, and keeps the rest', async () => {
    const source = join(tmp.dir, 'source');
    mkdirSync(source);
    copyFileSync(
      join(packageModelDir(), 'hey_rhasspy_v0.1.onnx'),
      join(source, 'hey_rhasspy_v0.1.onnx'),
    );
    writeFileSync(join(source, 'broken.onnx'), 'not a model');
    const out = join(tmp.dir, 'built');
    const built = await buildOrtModels(out, source);
    expect(Object.keys(built.models)).toEqual(['hey_rhasspy_v0.1.onnx']);
    expect(JSON.parse(readFileSync(join(out, MANIFEST), 'utf8'))).toEqual(built);
    const session = await ort.InferenceSession.create(
      readFileSync(join(out, 'hey_rhasspy_v0.1.ort')),
    );
    expect(session.inputNames.length).toBeGreaterThan(0);
    await session.release();
  });
});
