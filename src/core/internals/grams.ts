/**
 * Degeneracy from activations and Jacobians (seed 000 §3.1, eq. 7–13, 23–25; docs/science.md §6, (S16)–(S17)).
 *
 * A network is viewed as a chain of node layers f^0 → f^1 → … → f^L joined by transitions
 * p^{l+1} = W̄^l f̄^l, f^{l+1} = σ(p^{l+1}), where f̄^l = [f^l; 1] carries the constant-1 bias
 * coordinate when the transition has a bias (footnote 6: W̄ = [W | b]). Per transition l:
 *
 *   G^l = (1/n) Σ_x f̄^l f̄^lᵀ                                   (eq. 11/23, with the bias coordinate)
 *   K^l = (1/n) Σ_x Σ_k (∂f_k/∂p^{l+1})ᵀ (∂f_k/∂p^{l+1})         (eq. 12/24)
 *   M^l = (1/n) Σ_x Σ_k (∂f_k/∂f̄^l)ᵀ (∂f_k/∂f̄^l) = W̄ᵀ K^l W̄    (eq. 25; one more backprop step
 *          through p = W̄ f̄. Its bias row/column is formal: ∂f/∂f_0 = J_p·b, as if the constant were
 *          a variable multiplying the biases.)
 *
 * Every zero eigenvalue of G^l makes d^{l+1} Hessian zero directions (fan-out: ΔW̄ = a vᵀ with
 * v ∈ null G^l, since vᵀ f̄(x) = 0 on every row), every zero of K^l makes (d^l + 1) (fan-in:
 * ΔW̄ = u bᵀ with u ∈ null K^l, since J_p(x) u = 0 on every row). These are exact zeros of the
 * Gauss–Newton Hessian (docs/science.md §2), not only of its Kronecker approximation.
 *
 * Chains per architecture (the modadd token embedding is a tied lookup table, not a layer on an
 * activation vector; its p·e parameters are left out, as in spectrum/kronecker.ts):
 * - modadd:      [E a; E b] (2e) →hidden (ReLU, bias)→ h →out (bias)→ logits p
 * - modadd-gelu: [E a; E b] (2e) →left|right (GELU, no bias)→ h →out (bias)→ logits p. The two
 *                bias-free maps act as one [h × 2e] matrix [left | right] on [E a; E b] (exact:
 *                p = left·E a + right·E b), so they form one transition here.
 * - mnist-mlp:   x (784) →fc1 (ReLU)→ … →fc_last→ logits 10
 * - matfac:      x →layers.0→ … →layers.{L-1}→ y (all linear, no biases)
 *
 * Relation to spectrum/kronecker.ts: the G and K here are the same Grams (that file keeps only
 * their eigenvalues and splits modadd-gelu's left/right), computed the same way: float32 Grams of
 * chunks on the backend, accumulated in Float64 on the host. The last hidden layer's K uses the
 * exact shortcut K = (W_outᵀ W_out) ∘ E[σ'σ'ᵀ] instead of Jacobian rows.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import { gatherRows } from '../data/types';
import type { JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { layoutFor, outputDim } from '../models/config';
import { getArchSpec } from '../arch/registry';
import { gelu, inputTensor } from '../models/forward';
import { view } from '../params';
import { eighSync } from '../linalg/eigh';

export type Activation = 'relu' | 'gelu' | 'linear';

/** One transition p^{l+1} = W̄^l f̄^l, f^{l+1} = σ(p^{l+1}). */
export interface Transition {
  /** Weight name(s), e.g. "hidden.weight", "left.weight|right.weight", "fc2.weight". */
  name: string;
  /** Tensors whose parameters this block holds (weight, and bias when present). */
  params: string[];
  /** Node layers it joins (f^l and f^{l+1}), e.g. "embed(a)⊕embed(b)" → "hidden". */
  inName: string;
  outName: string;
  /** d^l and d^{l+1}. */
  inSize: number;
  outSize: number;
  bias: boolean;
  activation: Activation;
  /** W̄ = [W | b], row-major [outSize × (inSize + bias)], Float64 copy of θ. */
  W: Float64Array;
  /** The sync.ts layer name when σ is ReLU ("hidden", "fc1", …), else null. */
  reluLayer: string | null;
}

export interface LayerChain {
  /** Node layer names f^0 … f^L. */
  nodes: string[];
  transitions: Transition[];
  /** Parameters outside every transition (the modadd embeddings). */
  uncovered: { name: string; size: number }[];
}

export interface LayerGrams extends Transition {
  /** Size of G^l and M^l: d^l + 1 with a bias, else d^l. */
  gSize: number;
  /** Parameters of the block: outSize × gSize. */
  paramCount: number;
  G: Float64Array;
  K: Float64Array;
  M: Float64Array;
  /** Eigenvalues, descending (Float64). */
  gEigen: Float64Array;
  kEigen: Float64Array;
  mEigen: Float64Array;
  /** E[σ'(p) σ'(p)ᵀ] over the data (outSize²), null for a linear transition (σ' ≡ 1). For ReLU, the co-firing fractions. */
  S: Float64Array | null;
  /** E[f̄^l] (gSize). */
  mean: Float64Array;
}

export interface GramsResult {
  arch: ModelBundle['config']['arch'];
  n: number;
  layers: LayerGrams[];
  /** The network outputs f^L: their Gram (1/n) Σ f fᵀ, eigenvalues and mean (for the interaction basis of the last layer). */
  output: { name: string; size: number; G: Float64Array; gEigen: Float64Array; mean: Float64Array };
  covered: number;
  uncovered: { name: string; size: number }[];
  timings: Record<string, number>;
}

/** The transition chain of a model with Float64 copies of its weights (the architecture's layerChain). */
function layerChain(model: ModelBundle): LayerChain {
  const c = model.config;
  const spec = getArchSpec(c.arch);
  if (!spec.layerChain) throw new RangeError(`the Gram view has no layer chain for ${c.arch}`);
  const L = layoutFor(c);
  return spec.layerChain(c, (name) => view(L, model.theta, name));
}

function gramT(x: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(x), x);
}

function withOnes(x: tf.Tensor2D): tf.Tensor2D {
  return tf.concat([x, tf.ones([x.shape[0], 1])], 1) as tf.Tensor2D;
}

/** GELU'(z) = Φ(z) + z φ(z). */
function geluDeriv(z: tf.Tensor2D): tf.Tensor2D {
  const phi = tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  const Phi = tf.mul(tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))), 0.5);
  return tf.add(Phi, tf.mul(z, phi)) as tf.Tensor2D;
}

/** The node layer f^0 of a chunk: token embeddings [E a; E b] or the raw inputs. */
function firstActivations(x: tf.Tensor2D, E: tf.Tensor2D | null): tf.Tensor2D {
  if (!E) return x;
  const a = tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]);
  const b = tf.squeeze(tf.slice(x, [0, 1], [-1, 1]), [1]);
  return tf.concat([tf.gather(E, a), tf.gather(E, b)], 1) as tf.Tensor2D;
}

/** Aᵀ B A for A [r × c] (row-major) and symmetric B [r × r]: [c × c]. */
export function congruence(A: Float64Array, r: number, c: number, B: Float64Array): Float64Array {
  const BA = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let k = 0; k < r; k++) {
    const b = B[i * r + k];
    if (b === 0) continue;
    for (let j = 0; j < c; j++) BA[i * c + j] += b * A[k * c + j];
  }
  const out = new Float64Array(c * c);
  for (let i = 0; i < r; i++) for (let p = 0; p < c; p++) {
    const a = A[i * c + p];
    if (a === 0) continue;
    for (let q = 0; q < c; q++) out[p * c + q] += a * BA[i * c + q];
  }
  // Exactly symmetric (rounding makes the two triangles differ slightly).
  for (let p = 0; p < c; p++) for (let q = 0; q < p; q++) { const s = 0.5 * (out[p * c + q] + out[q * c + p]); out[p * c + q] = s; out[q * c + p] = s; }
  return out;
}


/** Eigenvalues (descending) of a small symmetric matrix. */
function eigenvalues(A: Float64Array, n: number): Float64Array {
  return eighSync(A, n, { vectors: false }).values;
}

/**
 * G^l, K^l, M^l (and E[σ'σ'ᵀ], E[f̄]) for every transition of `model` over `rows`, plus their
 * Float64 spectra and the output Gram.
 */
export async function layerGrams(model: ModelBundle, dataset: Dataset, rows: Int32Array, opts: { ctx?: JobContext } = {}): Promise<GramsResult> {
  const ctx = opts.ctx;
  const chain = layerChain(model);
  const tr = chain.transitions;
  const Lt = tr.length;
  const Kout = outputDim(model.config);
  const n = rows.length;
  if (n === 0) throw new RangeError('layerGrams needs at least one data row');
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  const gSize = tr.map((t) => t.inSize + (t.bias ? 1 : 0));
  const G = gSize.map((s) => new Float64Array(s * s));
  const mean = gSize.map((s) => new Float64Array(s));
  const K = tr.map((t) => new Float64Array(t.outSize * t.outSize));
  const S = tr.map((t) => (t.activation === 'linear' ? null : new Float64Array(t.outSize * t.outSize)));
  const outG = new Float64Array(Kout * Kout);
  const outMean = new Float64Array(Kout);
  // Transitions below the last hidden one need Jacobian rows [c·Kout × d]; the last hidden one
  // (index Lt − 2) uses K = (W_outᵀ W_out) ∘ E[σ'σ'ᵀ]; the output transition has K = I.
  const needRows = Lt > 2;
  const maxW = Math.max(...tr.map((t) => t.outSize), ...gSize);
  const chunk = Math.max(16, Math.floor(4_000_000 / (needRows ? Kout * maxW : maxW)));

  const keep: tf.Tensor[] = [];
  const up = <T extends tf.Tensor>(t: T): T => { keep.push(t); return t; };
  const tokens = getArchSpec(model.config.arch).tokens;
  const E = tokens
    ? up(tf.tensor2d(view(layoutFor(model.config), model.theta, tokens.embed), [tokens.vocab(model.config), tokens.embedDim(model.config)]))
    : null;
  // W̄ᵀ [D × out] for the forward pass, and W (no bias column) [out × in] for backprop.
  const WbarT = tr.map((t, l) => {
    const D = gSize[l];
    const m = new Float32Array(D * t.outSize);
    for (let i = 0; i < t.outSize; i++) for (let j = 0; j < D; j++) m[j * t.outSize + i] = t.W[i * D + j];
    return up(tf.tensor2d(m, [D, t.outSize]));
  });
  const Wplain = tr.map((t, l) => {
    const D = gSize[l];
    const m = new Float32Array(t.outSize * t.inSize);
    for (let i = 0; i < t.outSize; i++) for (let j = 0; j < t.inSize; j++) m[i * t.inSize + j] = t.W[i * D + j];
    return up(tf.tensor2d(m, [t.outSize, t.inSize]));
  });
  try {
    for (let s = 0; s < n; s += chunk) {
      if (ctx) await ctx.checkpoint();
      const idx = rows.subarray(s, Math.min(n, s + chunk));
      const c = idx.length;
      const xs = gatherRows(dataset.x, dataset.inputDim, idx);
      // Tensors to read back, each with the accumulator it adds into.
      const targets: Float64Array[] = [];
      const outs = tf.tidy(() => {
        const list: tf.Tensor[] = [];
        const put = (t: tf.Tensor, acc: Float64Array) => { list.push(t); targets.push(acc); };
        const x = inputTensor(xs, c, dataset.inputDim);
        let f = firstActivations(x, E);
        const deriv: (tf.Tensor2D | null)[] = [];
        for (let l = 0; l < Lt; l++) {
          const fb = tr[l].bias ? withOnes(f) : f;
          put(gramT(fb), G[l]);
          put(tf.sum(fb, 0), mean[l]);
          const p = tf.matMul(fb, WbarT[l]) as tf.Tensor2D;
          const a = tr[l].activation;
          const d = a === 'relu' ? tf.cast(tf.greater(p, 0), 'float32') as tf.Tensor2D : a === 'gelu' ? geluDeriv(p) : null;
          deriv.push(d);
          const sl = S[l];
          if (d && sl) put(gramT(d), sl);
          f = a === 'relu' ? tf.relu(p) as tf.Tensor2D : a === 'gelu' ? gelu(p) as tf.Tensor2D : p;
        }
        put(gramT(f), outG);
        put(tf.sum(f, 0), outMean);
        // Jacobian rows wrt p^{l+1}, top-down: J^{Lt−2} = tile(W_out) ⊙ σ', J^l = (J^{l+1} W^{l+1}) ⊙ σ'.
        // Only l ≤ Lt − 3 are read (the last hidden layer has the exact shortcut below).
        if (needRows) {
          let J: tf.Tensor | null = null;
          for (let l = Lt - 2; l >= 0; l--) {
            const w = tr[l].outSize;
            const d = deriv[l];
            const wNext = Wplain[l + 1];
            const prod: tf.Tensor = J === null ? tf.tile(tf.expandDims(wNext, 0), [c, 1, 1]) : tf.reshape(tf.matMul(J as tf.Tensor2D, wNext), [c, Kout, w]);
            J = tf.reshape(d ? tf.mul(prod, tf.expandDims(d, 1)) : prod, [c * Kout, w]);
            if (l <= Lt - 3) put(gramT(J as tf.Tensor2D), K[l]);
          }
        }
        return list;
      });
      for (let i = 0; i < outs.length; i++) {
        const v = await outs[i].data();
        const acc = targets[i];
        for (let j = 0; j < acc.length; j++) acc[j] += v[j];
      }
      tf.dispose(outs);
      ctx?.progress(Math.min(1, (s + c) / n) * 0.7, 'activation and Jacobian Grams');
    }
  } finally {
    tf.dispose(keep);
  }
  const scale = (a: Float64Array | null) => { if (a) for (let i = 0; i < a.length; i++) a[i] /= n; };
  for (let l = 0; l < Lt; l++) { scale(G[l]); scale(mean[l]); scale(S[l]); scale(K[l]); }
  scale(outG); scale(outMean);
  // K of the output transition: Σ_k e_k e_kᵀ = I. K of the last hidden one: (W_outᵀ W_out) ∘ E[σ'σ'ᵀ]
  // (exact: ∂f/∂p = W_out diag(σ'(p)) per row).
  const last = Lt - 1;
  for (let i = 0; i < Kout; i++) K[last][i * Kout + i] = 1;
  if (Lt >= 2) {
    const h = tr[last - 1].outSize;
    const WtW = congruence(stripBias(tr[last].W, Kout, tr[last].inSize, tr[last].bias), Kout, h, identity(Kout));
    const Sl = S[last - 1];
    for (let i = 0; i < h * h; i++) K[last - 1][i] = WtW[i] * (Sl ? Sl[i] : 1);
  }
  timings.grams = performance.now() - t0;
  const t1 = performance.now();
  const layers: LayerGrams[] = tr.map((t, l) => {
    const M = congruence(t.W, t.outSize, gSize[l], K[l]);
    return {
      ...t, gSize: gSize[l], paramCount: t.outSize * gSize[l],
      G: G[l], K: K[l], M, S: S[l], mean: mean[l],
      gEigen: eigenvalues(G[l], gSize[l]), kEigen: eigenvalues(K[l], t.outSize), mEigen: eigenvalues(M, gSize[l]),
    };
  });
  timings.eigen = performance.now() - t1;
  ctx?.progress(1, 'Gram spectra');
  return {
    arch: model.config.arch,
    n,
    layers,
    output: { name: chain.nodes[chain.nodes.length - 1], size: Kout, G: outG, gEigen: eigenvalues(outG, Kout), mean: outMean },
    covered: layers.reduce((s, l) => s + l.paramCount, 0),
    uncovered: chain.uncovered,
    timings,
  };
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/** W from W̄ = [W | b] ([out × in]). */
function stripBias(Wbar: Float64Array, out: number, inn: number, bias: boolean): Float64Array {
  if (!bias) return Wbar;
  const W = new Float64Array(out * inn);
  for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) W[i * inn + j] = Wbar[i * (inn + 1) + j];
  return W;
}

