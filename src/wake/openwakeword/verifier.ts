import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EarshotError, errorMessage } from '../../shared/errors.js';
import { EMBEDDING_DIM } from './features.js';
import { BUNDLED_KEYWORD_MODELS } from './models.js';

/**
 * The second stage of a keyword: a small model over the same window of speech
 * embeddings the keyword model just scored, asked only when the keyword's gate fires
 * (and the speech check agreed). The first stage is tuned low so that quiet and
 * accented speakers pass; read-aloud prose then fires it a few times an hour, and the
 * verifier, trained against such prose (`scripts/train-wake-verifier.mjs`), vetoes it.
 *
 * The model is a two-layer perceptron (or, with no hidden layer, a logistic regression)
 * in plain TypeScript: on the rare frames it runs, a few thousand multiply-adds cost
 * microseconds, so no second onnxruntime session is worth its memory.
 *
 * File format (JSON, `format: 1`): `windowLength` embeddings of `EMBEDDING_DIM`; the
 * input is standardised by `mean`/`scale`; `hidden` (rows of weights + bias, ReLU)
 * may be empty; `output` weights + bias give a logit. The fold models (the same model
 * trained without some speakers, named by a hash of their recordings, so that the
 * benchmark scores each development speaker with a model that never heard them) are in
 * a file of their own beside it (`foldsPathOf`): the daemon never reads them.
 */
export interface VerifierLayer {
  /** rows × inputs, row-major. */
  weights: Float32Array;
  bias: Float32Array;
  rows: number;
}

export interface VerifierNet {
  mean: Float32Array;
  scale: Float32Array;
  hidden: VerifierLayer | undefined;
  output: VerifierLayer;
}

export interface VerifierFile {
  format: 1;
  keywordModel: string;
  windowLength: number;
  embeddingDim: number;
  description: string;
  /** What the training script chose on its tuning data; config may override. */
  suggestedThreshold: number;
  net: VerifierNet;
}

/** Models trained without some positives (recordings by content hash). */
export type VerifierFolds = Array<{ heldOut: string[]; net: VerifierNet }>;

/** The fold models' file beside a verifier file (`x.verifier.json` → `x.folds.json`). */
export function foldsPathOf(verifierPath: string): string {
  return verifierPath.replace(/(\.verifier)?\.json$/, '.folds.json');
}

/** Bundled verifiers, by bundled keyword model (`alexa_v0.1`). */
const BUNDLED: Record<string, string> = {
  'alexa_v0.1': 'alexa_v0.1.verifier.json',
};

/**
 * Where bundled verifiers live: `models/wake-verifier/` at the package root, the same
 * three levels up from `src/wake/openwakeword/` (tsx) and `dist/wake/openwakeword/`.
 */
export function bundledVerifierPath(keywordModel: string): string | undefined {
  const file = BUNDLED[keywordModel];
  if (!file) return undefined;
  return fileURLToPath(new URL(`../../../models/wake-verifier/${file}`, import.meta.url));
}

/**
 * The bundled verifier file of a keyword model given as in the config (`alexa`,
 * `alexa_v0.1`), or undefined: a path to an `.onnx` of one's own, or a bundled model
 * without one.
 */
export function verifierPathFor(model: string): string | undefined {
  const name = BUNDLED_KEYWORD_MODELS.includes(model)
    ? model
    : BUNDLED_KEYWORD_MODELS.filter((m) => m.startsWith(`${model}_v`))
        .sort()
        .pop();
  return name ? bundledVerifierPath(name) : undefined;
}

/** The bundled verifier of a keyword model (see `verifierPathFor`), loaded, or undefined. */
export async function openBundledVerifier(model: string): Promise<WakeVerifier | undefined> {
  const path = verifierPathFor(model);
  if (!path) return undefined;
  const file = await loadVerifierFile(path);
  return new WakeVerifier(file.net, file.windowLength);
}

export class WakeVerifier {
  private readonly hiddenOut: Float32Array;
  private readonly input: Float32Array;

  constructor(
    readonly net: VerifierNet,
    readonly windowLength: number,
  ) {
    this.input = new Float32Array(windowLength * EMBEDDING_DIM);
    this.hiddenOut = new Float32Array(net.hidden?.rows ?? 0);
  }

  /** The probability (0..1) that `window` (oldest embedding first) ends the keyword. */
  score(window: Float32Array): number {
    const n = this.input.length;
    if (window.length < n) {
      throw new EarshotError('E_WAKE_STATE', `verifier needs ${n} values, got ${window.length}`);
    }
    const x = this.input;
    const offset = window.length - n;
    const { mean, scale } = this.net;
    for (let i = 0; i < n; i++) x[i] = (window[offset + i]! - mean[i]!) * scale[i]!;
    let features = x;
    const h = this.net.hidden;
    if (h) {
      dense(h, x, this.hiddenOut);
      for (let r = 0; r < h.rows; r++) if (this.hiddenOut[r]! < 0) this.hiddenOut[r] = 0;
      features = this.hiddenOut;
    }
    const logit = dot(this.net.output.weights, 0, features) + this.net.output.bias[0]!;
    return 1 / (1 + Math.exp(-logit));
  }
}

function dense(layer: VerifierLayer, x: Float32Array, out: Float32Array): void {
  const cols = x.length;
  for (let r = 0; r < layer.rows; r++) out[r] = dot(layer.weights, r * cols, x) + layer.bias[r]!;
}

function dot(w: Float32Array, at: number, x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += w[at + i]! * x[i]!;
  return s;
}

/** Reads and checks a verifier file; errors name the file. */
export async function loadVerifierFile(path: string): Promise<VerifierFile> {
  return parsed(path, await readVerifierJson(path), parseVerifierFile);
}

/** Reads and checks the fold models beside a verifier file (only the benchmark does). */
export async function loadVerifierFolds(
  verifierPath: string,
  windowLength: number,
): Promise<VerifierFolds> {
  const path = foldsPathOf(verifierPath);
  return parsed(path, await readVerifierJson(path), (raw) => {
    const folds = (raw as { folds?: unknown }).folds;
    if (!Array.isArray(folds)) throw new Error('it holds no folds');
    return (folds as Array<{ heldOut: string[]; net: StoredNet }>).map((fold) => ({
      heldOut: fold.heldOut.map(String),
      net: parseNet(fold.net, windowLength * EMBEDDING_DIM),
    }));
  });
}

async function readVerifierJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EarshotError('E_WAKE_MODEL_MISSING', `wake-word verifier not found: ${path}`, {
      cause: err,
      hint: 'reinstall earshot, or set wake.verifier.enabled: false',
    });
  }
  return parsed(path, text, (t) => JSON.parse(t as string) as unknown);
}

/** Runs a parser; its error names the file. */
function parsed<T>(path: string, raw: unknown, parse: (raw: unknown) => T): T {
  try {
    return parse(raw);
  } catch (err) {
    throw new EarshotError(
      'E_WAKE_MODEL_LOAD',
      `cannot read wake-word verifier ${path}: ${errorMessage(err)}`,
      { cause: err, hint: 'regenerate it with scripts/train-wake-verifier.mjs' },
    );
  }
}

interface StoredNet {
  mean: number[];
  scale: number[];
  hidden: { weights: number[]; bias: number[] } | null;
  output: { weights: number[]; bias: number[] };
}

export function parseVerifierFile(raw: unknown): VerifierFile {
  const f = raw as Omit<VerifierFile, 'net'> & { net: StoredNet };
  if (f?.format !== 1) throw new Error('unknown format (expected format 1)');
  if (f.embeddingDim !== EMBEDDING_DIM) throw new Error(`embeddingDim must be ${EMBEDDING_DIM}`);
  const inputs = f.windowLength * EMBEDDING_DIM;
  if (!Number.isInteger(f.windowLength) || f.windowLength < 1) throw new Error('bad windowLength');
  return {
    format: 1,
    keywordModel: String(f.keywordModel),
    windowLength: f.windowLength,
    embeddingDim: f.embeddingDim,
    description: String(f.description ?? ''),
    suggestedThreshold: Number(f.suggestedThreshold),
    net: parseNet(f.net, inputs),
  };
}

function parseNet(n: StoredNet, inputs: number): VerifierNet {
  const vec = (a: number[], len: number, what: string): Float32Array => {
    if (!Array.isArray(a) || a.length !== len) throw new Error(`${what} must hold ${len} numbers`);
    return Float32Array.from(a);
  };
  const hiddenRows = n.hidden ? n.hidden.bias.length : 0;
  const hidden = n.hidden
    ? {
        weights: vec(n.hidden.weights, hiddenRows * inputs, 'hidden.weights'),
        bias: vec(n.hidden.bias, hiddenRows, 'hidden.bias'),
        rows: hiddenRows,
      }
    : undefined;
  return {
    mean: vec(n.mean, inputs, 'mean'),
    scale: vec(n.scale, inputs, 'scale'),
    hidden,
    output: {
      weights: vec(n.output.weights, hidden ? hiddenRows : inputs, 'output.weights'),
      bias: vec(n.output.bias, 1, 'output.bias'),
      rows: 1,
    },
  };
}

/** The stored form of a net (numbers rounded to 6 significant digits: a small file). */
export function storeNet(net: VerifierNet): StoredNet {
  const arr = (a: Float32Array) => Array.from(a, (v) => Number(v.toPrecision(6)));
  return {
    mean: arr(net.mean),
    scale: arr(net.scale),
    hidden: net.hidden ? { weights: arr(net.hidden.weights), bias: arr(net.hidden.bias) } : null,
    output: { weights: arr(net.output.weights), bias: arr(net.output.bias) },
  };
}
