/**
 * The per-layer Kronecker approximation of the behavioral-loss Hessian (seed 000 §4, eq. 21–24;
 * SCIENCE.md §3): assuming activations and Jacobians independent and layers decoupled,
 *
 *   H_l ≈ 2 · K^l ⊗ G^l,   G^l = (1/n) Σ_x f^l fᵀ (with a constant-1 coordinate when the layer has
 *   a bias),  K^l = (1/n) Σ_x Σ_k (∂f_k/∂p^{l+1})ᵀ (∂f_k/∂p^{l+1}),
 *
 * so its eigenvalues are 2·κ_a·g_b. The factor 2 is our H = (2/n) Σ JᵀJ normalization (the paper
 * writes 1/2 for its own). Covered: every linear layer (weights and biases); the token embedding
 * of the modular-addition models is not a layer with a Gram-matrix input here and is left out.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import { gatherRows } from '../data/types';
import type { ModelBundle } from '../models/bundle';
import { layoutFor, outputDim } from '../models/config';
import { forwardTrace, gelu, inputTensor, unflatten } from '../models/forward';
import { eighSync } from '../linalg/eigh';
import type { JobContext } from '../jobs';

export interface KroneckerLayer {
  /** The weight tensor this block approximates, e.g. "hidden.weight" (+ its bias). */
  name: string;
  /** Size of G (inputs, +1 with a bias) and of K (outputs). */
  gSize: number;
  kSize: number;
  gEigen: Float64Array;
  kEigen: Float64Array;
}

export interface KroneckerResult {
  layers: KroneckerLayer[];
  /** All products 2·κ_a·g_b over the covered layers, descending. */
  eigenvalues: Float64Array;
  /** Parameters covered (Σ gSize·kSize) and not covered (embeddings). */
  covered: number;
  uncovered: number;
}

interface Acc { g: Float64Array; k: Float64Array; gSize: number; kSize: number; name: string }

function addGram(acc: Float64Array, m: Float32Array | Float64Array, size: number, scale: number): void {
  for (let i = 0; i < size * size; i++) acc[i] += scale * m[i];
}

/** Gram XᵀX of a [rows, w] tensor (explicit transpose: wasm's transposed matMul is slow). */
function gram(x: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(x), x);
}

/** With a constant-1 column appended. */
function withOnes(x: tf.Tensor2D): tf.Tensor2D {
  return tf.concat([x, tf.ones([x.shape[0], 1])], 1) as tf.Tensor2D;
}

/** Rows of J_p = (W_next ⊙ deriv) per data row, stacked: [c·K, w] (W_next: [K, w], deriv: [c, w]). */
function jacRows(wNext: tf.Tensor2D, deriv: tf.Tensor2D): tf.Tensor2D {
  const [K, w] = wNext.shape;
  const c = deriv.shape[0];
  return tf.reshape(tf.mul(tf.expandDims(wNext, 0), tf.expandDims(deriv, 1)), [c * K, w]) as tf.Tensor2D;
}

export async function kroneckerSpectrum(model: ModelBundle, ds: Dataset, rows: Int32Array, ctx?: JobContext): Promise<KroneckerResult> {
  const { config, theta } = model;
  const layout = layoutFor(config);
  const K = outputDim(config);
  const n = rows.length;
  const accs = new Map<string, Acc>();
  const acc = (name: string, gSize: number, kSize: number): Acc => {
    let a = accs.get(name);
    if (!a) { a = { name, gSize, kSize, g: new Float64Array(gSize * gSize), k: new Float64Array(kSize * kSize) }; accs.set(name, a); }
    return a;
  };
  const thetaT = tf.tensor1d(theta);
  const chunk = Math.max(8, Math.floor(2_000_000 / Math.max(1, K * 512)));
  try {
    for (let start = 0; start < n; start += chunk) {
      if (ctx) await ctx.checkpoint();
      const idx = rows.subarray(start, Math.min(n, start + chunk));
      const c = idx.length;
      const xs = gatherRows(ds.x, ds.inputDim, idx);
      // Each entry: [layer name, G input (with ones if biased), Jacobian rows or null for K = I].
      const names: string[] = [];
      const grams = tf.tidy(() => {
        const P = unflatten(layout, thetaT);
        const x = inputTensor(xs, c, ds.inputDim);
        const out: [string, tf.Tensor2D, tf.Tensor2D | null][] = [];
        switch (config.arch) {
          case 'modadd':
          case 'modadd-gelu': {
            const tr = forwardTrace(config, thetaT, x, layout);
            const pre = tr.pre[0];
            const a = tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]);
            const b = tf.squeeze(tf.slice(x, [0, 1], [-1, 1]), [1]);
            const ea = tf.gather(P['embed.weight'], a) as tf.Tensor2D;
            const eb = tf.gather(P['embed.weight'], b) as tf.Tensor2D;
            const wOut = P['out.weight'] as tf.Tensor2D;
            if (config.arch === 'modadd') {
              const mask = tf.cast(tf.greater(pre, 0), 'float32') as tf.Tensor2D;
              out.push(['hidden.weight', withOnes(tf.concat([ea, eb], 1) as tf.Tensor2D), jacRows(wOut, mask)]);
              out.push(['out.weight', withOnes(tf.relu(pre)), null]);
            } else {
              // GELU'(z) = Φ(z) + z φ(z).
              const phi = tf.mul(tf.exp(tf.mul(tf.square(pre), -0.5)), 1 / Math.sqrt(2 * Math.PI));
              const Phi = tf.mul(tf.add(1, tf.erf(tf.mul(pre, Math.SQRT1_2))), 0.5);
              const j = jacRows(wOut, tf.add(Phi, tf.mul(pre, phi)) as tf.Tensor2D);
              out.push(['left.weight', ea, j]);
              out.push(['right.weight', eb, j]);
              out.push(['out.weight', withOnes(gelu(pre) as tf.Tensor2D), null]);
            }
            break;
          }
          case 'mnist-mlp': {
            const tr = forwardTrace(config, thetaT, x, layout);
            const L = config.hidden.length + 1;
            const inputs: tf.Tensor2D[] = [x, ...tr.pre.map((p) => tf.relu(p) as tf.Tensor2D)];
            // Jacobian rows wrt each hidden pre-activation, from the top down.
            let J: tf.Tensor2D | null = null;
            const js: (tf.Tensor2D | null)[] = new Array(L).fill(null);
            for (let l = L - 1; l >= 1; l--) {
              const wNext = P[`fc${l + 1}.weight`] as tf.Tensor2D;
              const mask = tf.cast(tf.greater(tr.pre[l - 1], 0), 'float32') as tf.Tensor2D;
              if (J === null) J = jacRows(wNext, mask);
              else {
                const w = mask.shape[1];
                J = tf.mul(tf.reshape(tf.matMul(J, wNext), [c, K, w]), tf.expandDims(mask, 1)).reshape([c * K, w]) as tf.Tensor2D;
              }
              js[l - 1] = J;
            }
            for (let l = 1; l <= L; l++) out.push([`fc${l}.weight`, withOnes(inputs[l - 1]), js[l - 1]]);
            break;
          }
          case 'matfac': {
            // Deep linear: inputs are the partial products; Jacobians are constant (added on the host).
            let h: tf.Tensor2D = x;
            for (let i = 0; i + 1 < config.widths.length; i++) {
              out.push([`layers.${i}.weight`, h, null]);
              h = tf.matMul(h, tf.transpose(P[`layers.${i}.weight`] as tf.Tensor2D));
            }
            break;
          }
        }
        for (const o of out) names.push(o[0]);
        return { gs: out.map((o) => gram(o[1])), ks: out.map((o) => (o[2] ? gram(o[2]) : undefined)) };
      });
      for (let li = 0; li < names.length; li++) {
        const name = names[li];
        const gT = grams.gs[li];
        const kT = grams.ks[li];
        const gSize = gT.shape[0];
        const kSize = kT ? kT.shape[0] : name === 'out.weight' || name.startsWith('fc') ? K : 0;
        const a = acc(name, gSize, kSize || 1);
        addGram(a.g, (await gT.data()) as Float32Array, gSize, 1 / n);
        if (kT) addGram(a.k, (await kT.data()) as Float32Array, kSize, 1 / n);
        tf.dispose(kT ? [gT, kT] : [gT]);
      }
      ctx?.progress(Math.min(1, (start + c) / n) * 0.8, 'Kronecker factors');
    }
  } finally {
    thetaT.dispose();
  }
  // K of the output layer is the identity (Σ_k e_k e_kᵀ); matfac's K^l = JᵀJ with the constant
  // J = W_L ⋯ W_{l+1} (Float64 on the host).
  for (const a of accs.values()) {
    if (a.name === 'out.weight' || (config.arch === 'mnist-mlp' && a.name === `fc${config.hidden.length + 1}.weight`)) {
      a.kSize = K; a.k = new Float64Array(K * K);
      for (let i = 0; i < K; i++) a.k[i * K + i] = 1;
    }
  }
  if (config.arch === 'matfac') {
    const W = config.widths;
    const L = W.length - 1;
    const weights = Array.from({ length: L }, (_, i) => {
      const t = layout.tensors.find((s) => s.name === `layers.${i}.weight`)!;
      return theta.subarray(t.offset, t.offset + t.size);
    });
    for (let i = 0; i < L; i++) {
      // J = W_{L-1} ⋯ W_{i+1}: [K, W[i+1]], built top-down.
      let J = new Float64Array(K * K);
      for (let r = 0; r < K; r++) J[r * K + r] = 1;
      let cols = K;
      for (let l = L - 1; l > i; l--) {
        const w = weights[l]; // [W[l+1], W[l]]
        const inW = W[l];
        const next = new Float64Array(K * inW);
        for (let r = 0; r < K; r++) for (let m = 0; m < cols; m++) {
          const v = J[r * cols + m];
          if (v === 0) continue;
          for (let q = 0; q < inW; q++) next[r * inW + q] += v * w[m * inW + q];
        }
        J = next; cols = inW;
      }
      const a = accs.get(`layers.${i}.weight`)!;
      a.kSize = cols; a.k = new Float64Array(cols * cols);
      for (let p = 0; p < cols; p++) for (let q = 0; q < cols; q++) {
        let s = 0;
        for (let r = 0; r < K; r++) s += J[r * cols + p] * J[r * cols + q];
        a.k[p * cols + q] = s;
      }
    }
  }
  const layers: KroneckerLayer[] = [];
  const all: number[] = [];
  for (const a of accs.values()) {
    const gEigen = eighSync(a.g, a.gSize, { vectors: false }).values;
    const kEigen = eighSync(a.k, a.kSize, { vectors: false }).values;
    layers.push({ name: a.name, gSize: a.gSize, kSize: a.kSize, gEigen, kEigen });
    for (const kv of kEigen) for (const gv of gEigen) all.push(2 * kv * gv);
  }
  ctx?.progress(1, 'Kronecker factors');
  const covered = layers.reduce((s, l) => s + l.gSize * l.kSize, 0);
  return { layers, eigenvalues: Float64Array.from(all).sort().reverse(), covered, uncovered: layout.size - covered };
}
