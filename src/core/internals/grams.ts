/**
 * Degeneracy from activations and Jacobians (seed 000 §3.1, eq. 7–13, 23–25; SCIENCE.md §6).
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
 * Gauss–Newton Hessian (SCIENCE.md §2), not only of its Kronecker approximation.
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
import { gelu, inputTensor } from '../models/forward';
import { view } from '../params';
import { eighSync } from '../linalg/eigh';
import type { SyncResult } from './sync';

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

function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

/** The transition chain of a model with Float64 copies of its weights. */
export function layerChain(model: ModelBundle): LayerChain {
  const c = model.config;
  const L = layoutFor(c);
  const T = (name: string) => view(L, model.theta, name);
  /** W̄ = [W | b] from a PyTorch [out, in] weight and optional bias. */
  const bar = (w: ArrayLike<number>, out: number, inn: number, b?: ArrayLike<number>): Float64Array => {
    const D = inn + (b ? 1 : 0);
    const r = new Float64Array(out * D);
    for (let i = 0; i < out; i++) {
      for (let j = 0; j < inn; j++) r[i * D + j] = w[i * inn + j];
      if (b) r[i * D + inn] = b[i];
    }
    return r;
  };
  switch (c.arch) {
    case 'modadd':
    case 'modadd-gelu': {
      const emb = 'embed(a)⊕embed(b)';
      const first: Transition = c.arch === 'modadd'
        ? { name: 'hidden.weight', params: ['hidden.weight', 'hidden.bias'], inName: emb, outName: 'hidden', inSize: 2 * c.e, outSize: c.h, bias: true, activation: 'relu', W: bar(T('hidden.weight'), c.h, 2 * c.e, T('hidden.bias')), reluLayer: 'hidden' }
        : (() => {
          // [left | right]: row i = (left_i, right_i).
          const l = T('left.weight'), r = T('right.weight');
          const W = new Float64Array(c.h * 2 * c.e);
          for (let i = 0; i < c.h; i++) for (let j = 0; j < c.e; j++) { W[i * 2 * c.e + j] = l[i * c.e + j]; W[i * 2 * c.e + c.e + j] = r[i * c.e + j]; }
          return { name: 'left.weight|right.weight', params: ['left.weight', 'right.weight'], inName: emb, outName: 'hidden', inSize: 2 * c.e, outSize: c.h, bias: false, activation: 'gelu' as const, W, reluLayer: null };
        })();
      const out: Transition = { name: 'out.weight', params: ['out.weight', 'out.bias'], inName: 'hidden', outName: 'logits', inSize: c.h, outSize: c.p, bias: true, activation: 'linear', W: bar(T('out.weight'), c.p, c.h, T('out.bias')), reluLayer: null };
      return { nodes: [emb, 'hidden', 'logits'], transitions: [first, out], uncovered: [{ name: 'embed.weight', size: c.p * c.e }] };
    }
    case 'mnist-mlp': {
      const widths = [784, ...c.hidden, 10];
      const nodes = ['input', ...c.hidden.map((_, i) => `fc${i + 1}`), 'logits'];
      const transitions: Transition[] = [];
      for (let i = 0; i + 1 < widths.length; i++) {
        const last = i + 2 === widths.length;
        transitions.push({
          name: `fc${i + 1}.weight`, params: [`fc${i + 1}.weight`, `fc${i + 1}.bias`], inName: nodes[i], outName: nodes[i + 1],
          inSize: widths[i], outSize: widths[i + 1], bias: true, activation: last ? 'linear' : 'relu',
          W: bar(T(`fc${i + 1}.weight`), widths[i + 1], widths[i], T(`fc${i + 1}.bias`)), reluLayer: last ? null : `fc${i + 1}`,
        });
      }
      return { nodes, transitions, uncovered: [] };
    }
    case 'matfac': {
      const w = c.widths;
      const nodes = w.map((_, i) => (i === 0 ? 'input' : i === w.length - 1 ? 'output' : `layers.${i - 1}`));
      const transitions: Transition[] = [];
      for (let i = 0; i + 1 < w.length; i++) {
        transitions.push({
          name: `layers.${i}.weight`, params: [`layers.${i}.weight`], inName: nodes[i], outName: nodes[i + 1],
          inSize: w[i], outSize: w[i + 1], bias: false, activation: 'linear', W: f64(T(`layers.${i}.weight`)), reluLayer: null,
        });
      }
      return { nodes, transitions, uncovered: [] };
    }
  }
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

/** y = M·x for a row-major [r × c] matrix. */
export function matVec(M: Float64Array, r: number, c: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(r);
  for (let i = 0; i < r; i++) { let s = 0; for (let j = 0; j < c; j++) s += M[i * c + j] * x[j]; y[i] = s; }
  return y;
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
  const E = model.config.arch === 'modadd' || model.config.arch === 'modadd-gelu'
    ? up(tf.tensor2d(view(layoutFor(model.config), model.theta, 'embed.weight'), [model.config.p, model.config.e]))
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
export function stripBias(Wbar: Float64Array, out: number, inn: number, bias: boolean): Float64Array {
  if (!bias) return Wbar;
  const W = new Float64Array(out * inn);
  for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) W[i * inn + j] = Wbar[i * (inn + 1) + j];
  return W;
}

// ---------------------------------------------------------------------------------------------
// Predicted Hessian zero directions.

export interface ZeroRow {
  /** The transition (parameter block), e.g. "hidden.weight". */
  name: string;
  /** Parameters in the block (outSize × gSize). */
  params: number;
  gSize: number;
  kSize: number;
  /** Eigenvalues of G^l (resp. K^l) counted as zero at ε (see predictedZeroCount). */
  gZeros: number;
  kZeros: number;
  /** gZeros · d^{l+1}. */
  fanOut: number;
  /** kZeros · (d^l + 1). */
  fanIn: number;
  /** gZeros · kZeros: directions null(K) ⊗ null(G) counted in both fanOut and fanIn. */
  overlap: number;
  /** #{(a, b) : 2 κ_a g_b ≤ ε}: the block's zero count under the Kronecker approximation (eq. 22), for comparison. */
  kronecker: number;
  /** The synchronization count of the layer this transition feeds (eq. 20, N = Σ s_a²), or null (no ReLU / linear layer). */
  sync: number | null;
  /** Σ_a s_a·ρ_a with ρ_a the rank of K^l on block a: sync directions not already among the fan-in/fan-out zeros (see notes). */
  syncDedup: number | null;
  /** Dead / always-on neurons of that layer (from the sync analysis). */
  dead: number;
  alwaysOn: number;
  /** fanOut + fanIn + sync (the paper's counts added as they stand). */
  total: number;
  /** fanOut + fanIn − overlap + syncDedup. */
  dedup: number;
  notes: string;
}

export interface ZeroPrediction {
  /** ε in Hessian eigenvalue units (H = (2/n) Σ JᵀJ, SCIENCE.md §2), the same ε as d1(ε). */
  eps: number;
  rows: ZeroRow[];
  /** Σ rows.total and Σ rows.dedup. */
  total: number;
  dedupTotal: number;
  /** Parameters covered by the rows, and those no row speaks for (modadd embeddings). */
  covered: number;
  uncovered: number;
  notes: string;
}

function countWhere(a: ArrayLike<number>, pred: (v: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (pred(a[i])) c++;
  return c;
}

function subBlock(A: Float64Array, n: number, idx: readonly number[]): Float64Array {
  const m = idx.length;
  const s = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) s[a * m + b] = A[idx[a] * n + idx[b]];
  return s;
}

/**
 * The Hessian zero directions that G, K and synchronized neurons predict at a shared ε.
 *
 * ε is in Hessian eigenvalue units, so the prediction sits beside the measured d − d1(ε). Under
 * eq. 22 (H_l ≈ 2 K^l ⊗ G^l with our H = (2/n) Σ JᵀJ) the directions u ⊗ v_b that a G-eigenvector
 * v_b spawns have eigenvalues 2 κ_a g_b ≤ 2 κ_max g_b; an eigenvalue g_b counts as a zero of G^l
 * when even the largest of them is ≤ ε: 2 g_b κ_max(K^l) ≤ ε (then all d^{l+1} fan-out directions
 * are below ε). Likewise κ_a is a zero of K^l when 2 κ_a g_max(G^l) ≤ ε. Exact zeros (g = 0)
 * count at every ε ≥ 0; `kronecker` gives the block's finer count #{2 κ_a g_b ≤ ε}.
 *
 * Synchronization (eq. 20) is attached to the transition that produces the ReLU layer (its
 * reparametrisation W^l → C W^l, W^{l+1} → W^{l+1} C⁻¹ mixes this block and the next). Linear
 * hidden layers (matfac) are the all-synchronized case of §3.2: one block of every neuron with
 * s = rank of the layer's activations — for a generic n×n deep linear net this gives the d² = 400
 * zeros of SCIENCE.md §9.
 */
export function predictedZeroCount(grams: GramsResult, sync: SyncResult | null, eps: number): ZeroPrediction {
  if (!(eps >= 0)) throw new RangeError(`eps must be ≥ 0 (got ${eps})`);
  const L = grams.layers;
  const maxOf = (a: Float64Array) => (a.length ? Math.max(0, a[0]) : 0);
  const zerosG = L.map((l) => countWhere(l.gEigen, (g) => 2 * Math.max(0, g) * maxOf(l.kEigen) <= eps));
  const zerosK = L.map((l) => countWhere(l.kEigen, (k) => 2 * Math.max(0, k) * maxOf(l.gEigen) <= eps));
  const rows: ZeroRow[] = L.map((l, i) => {
    const gZeros = zerosG[i], kZeros = zerosK[i];
    const fanOut = gZeros * l.outSize, fanIn = kZeros * l.gSize, overlap = gZeros * kZeros;
    let kron = 0;
    for (const k of l.kEigen) for (const g of l.gEigen) if (2 * Math.max(0, k) * Math.max(0, g) <= eps) kron++;
    const notes: string[] = [];
    notes.push(`${gZeros} zero(s) of G (${l.gSize}×${l.gSize}) → ${gZeros}×${l.outSize} fan-out; ${kZeros} zero(s) of K (${l.outSize}×${l.outSize}) → ${kZeros}×${l.gSize} fan-in.`);
    if (overlap > 0) notes.push(`The ${overlap} directions u⊗v with u ∈ null K, v ∈ null G lie in both sets: subtracted once in the de-duplicated count.`);
    let syncN: number | null = null, syncDedup: number | null = null, dead = 0, alwaysOn = 0;
    const next = L[i + 1];
    const sl = l.reluLayer && sync ? sync.layers.find((s) => s.name === l.reluLayer) : undefined;
    const gMax = maxOf(l.gEigen);
    const rankK = (idx: readonly number[]) => {
      const sub = subBlock(l.K, l.outSize, idx);
      const ev = idx.length === 1 ? Float64Array.of(sub[0]) : eigenvalues(sub, idx.length);
      return countWhere(ev, (k) => 2 * Math.max(0, k) * gMax > eps);
    };
    if (sl) {
      syncN = sl.freeDirections;
      dead = sl.dead.length;
      alwaysOn = sl.alwaysOn.length;
      syncDedup = sl.blocks.reduce((s, b, a) => s + sl.blockRanks[a] * rankK(b), 0);
      notes.push(`Synchronized blocks of "${sl.name}" (tol ${sync!.tol}, ${sync!.measure}): ${sl.blocks.length} blocks, N = Σ s_a² = ${syncN}; with ρ_a = rank of K on the block, Σ s_a·ρ_a = ${syncDedup}.`);
      if (dead > 0) {
        notes.push(`${dead} dead neuron(s): each is a zero of K here (its incoming weights and bias: fan-in) and a zero of G of the next block (its outgoing weights: fan-out). Those are different parameters, so both counts stand — together they free every parameter of the neuron. The dead block's own s_a² directions lie inside them (double counting): ρ_a = 0 removes them from Σ s_a·ρ_a.`);
      }
      notes.push('Why s_a·ρ_a: mixings C = I + εA of a block that vanish on span{p_S} are fan-out zeros (G), those whose range lies in null(K restricted to S) are fan-in zeros (K) — exactly so when the next block is the output layer, approximately deeper down — so A contributes new directions only as a map from span{p_S} (dim s_a) to the block modulo null K (dim ρ_a). Eq. 20 assumes ρ_a = s_a; they differ e.g. for duplicated neurons (s = 1, ρ = 2).');
    } else if (l.activation === 'linear' && next) {
      // All-synchronized linear layer: one block of all neurons, s = rank of its activations
      // (from the zeros of the next block's G), ρ = rank K.
      const sEff = Math.max(0, Math.min(l.outSize, next.gSize - zerosG[i + 1]));
      const rho = l.outSize - kZeros;
      syncN = sEff * sEff;
      syncDedup = sEff * rho;
      notes.push(`Linear layer "${l.outName}": the all-synchronized case of §3.2 (eq. 15–16, any invertible C), one block with s = ${sEff} (rank of its activations), N = s² = ${syncN}; de-duplicated s·ρ = ${syncDedup} (ρ = rank K = ${rho}).`);
    } else if (l.activation === 'gelu') {
      notes.push('GELU layer: no firing patterns, no synchronization count (§3.2 needs piecewise-linear activations).');
    } else if (l.activation === 'relu' && !sync) {
      notes.push('ReLU layer: no sync analysis given, synchronization not counted.');
    }
    const total = fanOut + fanIn + (syncN ?? 0);
    const dedup = fanOut + fanIn - overlap + (syncDedup ?? 0);
    return {
      name: l.name, params: l.paramCount, gSize: l.gSize, kSize: l.outSize, gZeros, kZeros, fanOut, fanIn, overlap, kronecker: kron,
      sync: syncN, syncDedup, dead, alwaysOn, total, dedup, notes: notes.join(' '),
    };
  });
  const uncovered = grams.uncovered.reduce((s, u) => s + u.size, 0);
  const notes = [
    'Zeros in different blocks are different parameters and add up. The de-duplicated total removes the overlaps that are exact (null K ⊗ null G inside a block; sync directions that are fan-in/fan-out zeros); it can still exceed the true nullity where predictions overlap in other ways, and it misses degeneracies of other kinds.',
    uncovered > 0 ? `${uncovered} parameters (${grams.uncovered.map((u) => u.name).join(', ')}) belong to no layer here: their zero directions are not predicted.` : '',
  ].filter(Boolean).join(' ');
  return {
    eps, rows,
    total: rows.reduce((s, r) => s + r.total, 0),
    dedupTotal: rows.reduce((s, r) => s + r.dedup, 0),
    covered: grams.covered, uncovered, notes,
  };
}
