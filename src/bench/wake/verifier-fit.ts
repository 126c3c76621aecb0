import type { VerifierNet } from '../../wake/openwakeword/verifier.js';
import { seededRandom } from './noise.js';

/**
 * Fits the verifier: logistic regression (`hidden: 0`) or a one-hidden-layer perceptron
 * (ReLU) over standardised embedding windows, by mini-batch Adam on the weighted
 * cross-entropy with an L2 penalty. Deterministic: the initial weights and the order of
 * the batches come from `seed`. Plain TypeScript: a few seconds per model on one core for
 * tens of thousands of windows, and no dependency.
 */
export interface FitOptions {
  hidden: number;
  epochs: number;
  l2: number;
  learningRate: number;
  batch: number;
  seed: number;
}

export interface Samples {
  /** n × dim, row-major. */
  x: Float32Array;
  dim: number;
  /** 1 for the keyword, 0 otherwise. */
  y: Uint8Array;
  /** Per-sample weight (classes balanced by the caller). */
  weight: Float32Array;
}

export function fit(s: Samples, rows: Int32Array, o: FitOptions): VerifierNet {
  const d = s.dim;
  const { mean, scale } = standardisation(s, rows);
  const h = o.hidden;
  const rand = seededRandom(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // Parameters: [w1 (h×d), b1 (h), w2 (h), b2] or, without a hidden layer, [w (d), b].
  const nIn = h > 0 ? h * d + h : 0;
  const nOut = (h > 0 ? h : d) + 1;
  const params = new Float32Array(nIn + nOut);
  if (h > 0) {
    const s1 = Math.sqrt(2 / d);
    for (let i = 0; i < h * d; i++) params[i] = gauss() * s1;
    const s2 = Math.sqrt(1 / h);
    for (let i = 0; i < h; i++) params[nIn + i] = gauss() * s2;
  }
  const grad = new Float64Array(params.length);
  const m = new Float64Array(params.length);
  const v = new Float64Array(params.length);
  const x = new Float32Array(d);
  const hid = new Float32Array(h);
  const order = Int32Array.from(rows);
  let step = 0;
  const meanWeight = rows.reduce((a, r) => a + s.weight[r]!, 0) / Math.max(1, rows.length);

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    shuffle(order, rand);
    for (let start = 0; start < order.length; start += o.batch) {
      grad.fill(0);
      const end = Math.min(order.length, start + o.batch);
      for (let k = start; k < end; k++) {
        const r = order[k]!;
        const base = r * d;
        for (let i = 0; i < d; i++) x[i] = (s.x[base + i]! - mean[i]!) * scale[i]!;
        const feats = h > 0 ? hidden(params, x, hid, h, d) : x;
        const out = nIn;
        let z = params[out + feats.length]!;
        for (let i = 0; i < feats.length; i++) z += params[out + i]! * feats[i]!;
        const p = 1 / (1 + Math.exp(-z));
        const g = ((p - s.y[r]!) * s.weight[r]!) / meanWeight;
        for (let i = 0; i < feats.length; i++) grad[out + i]! += g * feats[i]!;
        grad[out + feats.length]! += g;
        if (h > 0) {
          for (let j = 0; j < h; j++) {
            if (hid[j]! <= 0) continue;
            const gj = g * params[out + j]!;
            const row = j * d;
            for (let i = 0; i < d; i++) grad[row + i]! += gj * x[i]!;
            grad[h * d + j]! += gj;
          }
        }
      }
      const n = end - start;
      step += 1;
      adam(params, grad, m, v, n, step, o, h > 0 ? h * d : 0, nIn, d, h);
    }
  }
  return toNet(params, mean, scale, h, d);
}

function hidden(params: Float32Array, x: Float32Array, out: Float32Array, h: number, d: number) {
  for (let j = 0; j < h; j++) {
    let z = params[h * d + j]!;
    const row = j * d;
    for (let i = 0; i < d; i++) z += params[row + i]! * x[i]!;
    out[j] = z > 0 ? z : 0;
  }
  return out;
}

/** One Adam step; the L2 penalty applies to the weights, not to the biases. */
function adam(
  params: Float32Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  n: number,
  step: number,
  o: FitOptions,
  hiddenWeights: number,
  nIn: number,
  d: number,
  h: number,
): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const outWeights = h > 0 ? h : d;
  const c1 = 1 - b1 ** step;
  const c2 = 1 - b2 ** step;
  for (let i = 0; i < params.length; i++) {
    const isWeight = i < hiddenWeights || (i >= nIn && i < nIn + outWeights);
    const g = grad[i]! / n + (isWeight ? o.l2 * params[i]! : 0);
    m[i] = b1 * m[i]! + (1 - b1) * g;
    v[i] = b2 * v[i]! + (1 - b2) * g * g;
    params[i]! -= (o.learningRate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + 1e-8);
  }
}

function standardisation(s: Samples, rows: Int32Array) {
  const d = s.dim;
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const r of rows) {
    for (let i = 0; i < d; i++) {
      const val = s.x[r * d + i]!;
      sum[i]! += val;
      sq[i]! += val * val;
    }
  }
  const mean = new Float32Array(d);
  const scale = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    const mu = sum[i]! / rows.length;
    const variance = Math.max(0, sq[i]! / rows.length - mu * mu);
    mean[i] = mu;
    scale[i] = 1 / Math.max(1e-3, Math.sqrt(variance));
  }
  return { mean, scale };
}

function shuffle(a: Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

function toNet(
  params: Float32Array,
  mean: Float32Array,
  scale: Float32Array,
  h: number,
  d: number,
): VerifierNet {
  const nIn = h > 0 ? h * d + h : 0;
  const outLen = h > 0 ? h : d;
  return {
    mean,
    scale,
    hidden:
      h > 0
        ? { weights: params.slice(0, h * d), bias: params.slice(h * d, h * d + h), rows: h }
        : undefined,
    output: {
      weights: params.slice(nIn, nIn + outLen),
      bias: params.slice(nIn + outLen, nIn + outLen + 1),
      rows: 1,
    },
  };
}
