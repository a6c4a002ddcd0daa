/**
 * The interaction basis (seed 000 §4, eq. 21–25 and appendix D; docs/science.md §7, (S20)) and the
 * interaction graph between adjacent layers.
 *
 * Per node layer f^l (with the constant-1 bias coordinate when the next transition has a bias,
 * footnote 6; the network outputs f^L have none and M^L = I):
 *
 *   G = Uᵀ D_G U                      (eq. 11; rows of U are eigenvectors)
 *   f̃ = (D_G^{-1/2})⁺ U f              whitening: G̃ = I on range(G) (eq. 44)
 *   M̃ = the Jacobian Gram M (eq. 25) in the f̃ coordinates. Jacobians transform covariantly
 *       (∂/∂f̃ = ∂/∂f · (∂f/∂f̃)), so M̃ = D_G^{1/2} U M Uᵀ D_G^{1/2} on range(G); M̃ = Vᵀ D_M V.
 *   C = (D_M^{-1/2})⁺ V (D_G^{-1/2})⁺ U,   f̂ = C f                 (the interaction basis)
 *
 * The pseudo-inverses drop directions whose eigenvalue is ≤ relTol × the largest (G: `relTolG`,
 * M̃: `relTolM`): dropped G directions are the activation rank drops of §3.1.1, dropped M̃
 * directions the Jacobian rank drops of §3.1.2. Rows of C are ordered by D_M descending.
 * Invariance (appendix D): under f → R f, W → W R⁻¹ (R invertible) G → R G Rᵀ and M → R⁻ᵀ M R⁻¹,
 * the whitened coordinates change by an orthogonal Q, M̃ → Q M̃ Qᵀ, so f̂ is unchanged up to the
 * sign of each row (and rotations inside repeated eigenvalues of M̃). Signs are fixed by making
 * E[f̂_i] ≥ 0 over the data (an invariant choice), falling back to the largest |C| entry when the
 * mean is ~0. In the f̂ coordinates, E[f̂ f̂ᵀ] = D_M⁻¹ and the Jacobian Gram is D_M², so the product
 * (variance × output sensitivity) of direction i is D_M,i.
 *
 * Interaction graph. The edge from node j of layer l to node i of layer l+1 (in either basis):
 *
 *   E_ij = sqrt( E_x[T_ij(x)²] · Ĝ^l_jj · M̂^{l+1}_ii ),    T(x) = ∂f^{l+1}/∂f^l at x,
 *
 * with Ĝ^l the activation Gram of layer l and M̂^{l+1} the Jacobian Gram (eq. 25) of layer l+1 in
 * that basis. Under the paper's presumption of independence (activations, Jacobians and the
 * layer's local slope independent) E_ij² is the mean square output variation carried along the
 * edge: ‖∂out/∂f^{l+1}_i‖² · (∂f^{l+1}_i/∂f^l_j)² · (f^l_j)². It is unchanged by rescaling any
 * node, so the two bases are compared on equal terms.
 * - Neuron basis: T_ij = σ'(p_i) W̄_ij, so E_x T_ij² = S_ii W̄_ij² with S = E[σ'σ'ᵀ] (S_ii is a
 *   ReLU neuron's firing fraction; σ' ≡ 1 for linear layers).
 * - Interaction basis: f̂^l = C^l f̄^l with right inverse X^l = U_+ D_G^{1/2} V_+ D_M^{1/2}
 *   (f̄ = X f̂ on the output-relevant part: the whitened-orthogonal projection that drops what
 *   C drops), so T̂(x) = C^{l+1} diag(σ'(p(x))) W̄ X^l and
 *   E_x T̂_ij² = Σ_{k,k'} Ĉ_ik Ĉ_ik' S_kk' B_kj B_k'j with Ĉ = C^{l+1} (neuron columns), B = W̄ X^l.
 *   This is the appendix-A picture (eq. 26–31) done with the invariant basis: W̃ = C^{l+1} W̄ X^l
 *   is the weight matrix between the two interaction bases for a linear layer.
 * Sparsity of a graph: the Gini coefficient of the |E_ij| (0 = all equal, → 1 = concentrated in
 * few edges) and the fraction of Σ E_ij carried by the largest 10 % of edges. The bias node of
 * layer l is one of its nodes in the neuron basis (it has edges to layer l+1, none from layer l−1).
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import type { JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { eighSync } from '../linalg/eigh';
import { congruence, layerGrams, type GramsResult } from './grams';

export interface InteractionOptions {
  /**
   * Relative tolerance of the G pseudo-inverse (default 1e-5). The Grams come from float32
   * activations and float32 matMuls (accumulated in Float64), good to ~1e-7–1e-6 of the largest
   * eigenvalue: directions below that are noise, and a layer whose activation Gram has a condition
   * number beyond ~1e5 loses its weakest directions to this cutoff (and its invariance to them).
   */
  relTolG?: number;
  /** Relative tolerance of the M̃ pseudo-inverse (default 1e-5). */
  relTolM?: number;
  /** Compute the interaction graph (default true). */
  edges?: boolean;
  ctx?: JobContext;
  /** Reuse Grams already computed for the same model and rows. */
  grams?: GramsResult;
}

export interface InteractionLayer {
  /** Node layer name ("input", "hidden", "fc1", "logits", …). */
  name: string;
  /** Neurons d^l, and the coordinates the basis acts on (d^l + 1 with the bias coordinate). */
  width: number;
  bias: boolean;
  size: number;
  /** rank G (after the relative tolerance). */
  rankG: number;
  /** Interaction basis size r (≤ rankG): directions kept after both pseudo-inverses. */
  basisSize: number;
  /** Eigenvalues of G (descending) and of M̃ (descending, length rankG): D_G and D_M. */
  gEigen: Float64Array;
  mEigen: Float64Array;
  /** C, row-major [basisSize × size]: f̂ = C f̄. */
  C: Float64Array;
  /** Right inverse X, row-major [size × basisSize] (C X = I). */
  X: Float64Array;
  /** E[f̂] over the data. */
  mean: Float64Array;
}

export interface EdgeGraph {
  /** [rows × cols] row-major strength E_ij (rows: nodes of layer l+1, cols: nodes of layer l). */
  rows: number;
  cols: number;
  strength: Float64Array;
  gini: number;
  /** Fraction of Σ E carried by the top 10 % of edges. */
  top10: number;
}

export interface InteractionEdges {
  from: string;
  to: string;
  neuron: EdgeGraph;
  interaction: EdgeGraph;
}

export interface InteractionResult {
  n: number;
  layers: InteractionLayer[];
  edges: InteractionEdges[];
  timings: Record<string, number>;
}

/** Gini coefficient of nonnegative values (0 when all are equal or all zero). */
export function gini(v: ArrayLike<number>): number {
  const a = Float64Array.from(v, Math.abs).sort();
  const m = a.length;
  let s = 0, w = 0;
  for (let i = 0; i < m; i++) { s += a[i]; w += (2 * (i + 1) - m - 1) * a[i]; }
  return s > 0 && m > 0 ? w / (m * s) : 0;
}

/** Fraction of the total carried by the largest `frac` of the entries (at least one entry). */
export function topShare(v: ArrayLike<number>, frac = 0.1): number {
  const a = Float64Array.from(v, Math.abs).sort().reverse();
  const k = Math.max(1, Math.ceil(frac * a.length));
  let top = 0, all = 0;
  for (let i = 0; i < a.length; i++) { all += a[i]; if (i < k) top += a[i]; }
  return all > 0 ? top / all : 0;
}

function graph(strength: Float64Array, rows: number, cols: number): EdgeGraph {
  return { rows, cols, strength, gini: gini(strength), top10: topShare(strength, 0.1) };
}

/**
 * The interaction basis of one layer from its activation Gram G, Jacobian Gram M (both
 * size × size) and data mean E[f̄] (used only to fix signs). Pure Float64.
 */
export function basisFromGrams(G: Float64Array, M: Float64Array, size: number, mean: ArrayLike<number>, relTolG = 1e-5, relTolM = 1e-5): Omit<InteractionLayer, 'name' | 'width' | 'bias'> {
  const eg = eighSync(G, size, { vectors: true });
  const gv = eg.vectors!;
  const gTop = Math.max(0, eg.values[0]);
  let rG = 0;
  while (rG < size && eg.values[rG] > relTolG * gTop && eg.values[rG] > 0) rG++;
  // A = D_G^{-1/2} U_+ (rows) and A⁻¹ = U_+ᵀ D_G^{1/2} (columns), on range(G).
  const sq = Float64Array.from({ length: rG }, (_, k) => Math.sqrt(eg.values[k]));
  // M̃ = D_G^{1/2} U M Uᵀ D_G^{1/2}: [rG × rG].
  const Up = new Float64Array(size * rG); // U_+ as columns: [size × rG]
  for (let i = 0; i < size; i++) for (let k = 0; k < rG; k++) Up[i * rG + k] = gv[i * size + k] * sq[k];
  const Mt = congruence(Up, size, rG, M);
  const em = eighSync(Mt, rG, { vectors: true });
  const mv = em.vectors!;
  const mTop = rG > 0 ? Math.max(0, em.values[0]) : 0;
  let r = 0;
  while (r < rG && em.values[r] > relTolM * mTop && em.values[r] > 0) r++;
  // C = D_M^{-1/2} V_+ D_G^{-1/2} U_+ : row i = D_M,i^{-1/2} Σ_k V[k, i] D_G,k^{-1/2} u_k.
  const C = new Float64Array(r * size);
  const X = new Float64Array(size * r);
  for (let i = 0; i < r; i++) {
    const dm = Math.sqrt(em.values[i]);
    for (let k = 0; k < rG; k++) {
      const v = mv[k * rG + i];
      if (v === 0) continue;
      const cf = v / (dm * sq[k]);
      const xf = v * dm * sq[k];
      for (let j = 0; j < size; j++) {
        const u = gv[j * size + k];
        C[i * size + j] += cf * u;
        X[j * r + i] += xf * u;
      }
    }
  }
  // Signs: E[f̂_i] ≥ 0; fall back to the largest-magnitude entry of the row being positive.
  const m = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0, big = 0, at = 0, rms = 0;
    for (let j = 0; j < size; j++) {
      const c = C[i * size + j];
      s += c * mean[j];
      if (Math.abs(c) > big) { big = Math.abs(c); at = j; }
    }
    rms = 1 / Math.sqrt(em.values[i]); // E[f̂_i²] = 1/D_M,i
    const flip = Math.abs(s) > 1e-6 * rms ? s < 0 : C[i * size + at] < 0;
    if (flip) {
      for (let j = 0; j < size; j++) { C[i * size + j] = -C[i * size + j]; X[j * r + i] = -X[j * r + i]; }
      s = -s;
    }
    m[i] = s;
  }
  return { size, rankG: rG, basisSize: r, gEigen: eg.values, mEigen: em.values.slice(0, rG), C, X, mean: m };
}

/** diag(Aᵀ... ) helpers. */
function diagCongruence(C: Float64Array, r: number, size: number, G: Float64Array): Float64Array {
  // diag(C G Cᵀ): r entries.
  const out = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let a = 0; a < size; a++) {
      const ca = C[i * size + a];
      if (ca === 0) continue;
      let t = 0;
      for (let b = 0; b < size; b++) t += G[a * size + b] * C[i * size + b];
      s += ca * t;
    }
    out[i] = s;
  }
  return out;
}

function diagXtMX(X: Float64Array, size: number, r: number, M: Float64Array): Float64Array {
  // diag(Xᵀ M X): r entries (X is [size × r]).
  const out = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let a = 0; a < size; a++) {
      const xa = X[a * r + i];
      if (xa === 0) continue;
      let t = 0;
      for (let b = 0; b < size; b++) t += M[a * size + b] * X[b * r + i];
      s += xa * t;
    }
    out[i] = s;
  }
  return out;
}

/**
 * E_x[T̂_ij²] = Σ_{k,k'} Ĉ_ik Ĉ_ik' S_kk' B_kj B_k'j for Ĉ [r1 × d], S [d × d] (null: all-ones,
 * a linear layer), B [d × r0]; float32 on the backend for the O(r1·d²·r0) part.
 */
async function meanSquareJacobian(Ch: Float64Array, r1: number, d: number, S: Float64Array | null, B: Float64Array, r0: number): Promise<Float64Array> {
  const out = new Float64Array(r1 * r0);
  if (S === null) {
    // (Ĉ B)² elementwise.
    for (let i = 0; i < r1; i++) for (let k = 0; k < d; k++) {
      const c = Ch[i * d + k];
      if (c === 0) continue;
      for (let j = 0; j < r0; j++) out[i * r0 + j] += c * B[k * r0 + j];
    }
    for (let i = 0; i < out.length; i++) out[i] *= out[i];
    return out;
  }
  const St = tf.tensor2d(Float32Array.from(S), [d, d]);
  const Bt = tf.tensor2d(Float32Array.from(B), [d, r0]);
  // Ĉᵀ [d × r1] so a chunk of targets is a column slice.
  const ChT = new Float32Array(d * r1);
  for (let i = 0; i < r1; i++) for (let k = 0; k < d; k++) ChT[k * r1 + i] = Ch[i * d + k];
  const CtT = tf.tensor2d(ChT, [d, r1]);
  const ci = Math.max(1, Math.floor(4_000_000 / Math.max(1, d * r0)));
  try {
    for (let s = 0; s < r1; s += ci) {
      const m = Math.min(ci, r1 - s);
      const e2 = tf.tidy(() => {
        const c = tf.slice(CtT, [0, s], [d, m]); // [d, m]
        const Y = tf.reshape(tf.mul(tf.expandDims(c, 2), tf.expandDims(Bt, 1)), [d, m * r0]); // Y[k, (i, j)] = Ĉ_ik B_kj
        const Z = tf.matMul(St, Y);
        return tf.sum(tf.mul(Y, Z), 0); // [m·r0]
      });
      const v = await e2.data();
      e2.dispose();
      for (let t = 0; t < m * r0; t++) out[s * r0 + t] = Math.max(0, v[t]);
    }
  } finally {
    tf.dispose([St, Bt, CtT]);
  }
  return out;
}

/**
 * Interaction basis of every node layer and the interaction graph between adjacent layers, in the
 * neuron basis and in the interaction basis. See the module comment for definitions.
 */
export async function interactionBasis(model: ModelBundle, dataset: Dataset, rows: Int32Array, opts: InteractionOptions = {}): Promise<InteractionResult> {
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const grams = opts.grams ?? await layerGrams(model, dataset, rows, { ctx: opts.ctx });
  timings.grams = performance.now() - t0;
  t0 = performance.now();
  const relTolG = opts.relTolG ?? 1e-5, relTolM = opts.relTolM ?? 1e-5;
  const T = grams.layers;
  const layers: InteractionLayer[] = [];
  // Node layers f^0 … f^{L−1}: inputs of the transitions; f^L: the outputs with M = I.
  for (const l of T) {
    if (opts.ctx) await opts.ctx.checkpoint();
    layers.push({ name: l.inName, width: l.inSize, bias: l.bias, ...basisFromGrams(l.G, l.M, l.gSize, l.mean, relTolG, relTolM) });
  }
  const o = grams.output;
  const I = new Float64Array(o.size * o.size);
  for (let i = 0; i < o.size; i++) I[i * o.size + i] = 1;
  layers.push({ name: o.name, width: o.size, bias: false, ...basisFromGrams(o.G, I, o.size, o.mean, relTolG, relTolM) });
  timings.basis = performance.now() - t0;
  const edges: InteractionEdges[] = [];
  if (opts.edges !== false) {
    t0 = performance.now();
    const Ms = [...T.map((l) => l.M), I];
    const Gs = [...T.map((l) => l.G), o.G];
    for (let t = 0; t < T.length; t++) {
      if (opts.ctx) await opts.ctx.checkpoint();
      const tr = T[t];
      const A = layers[t], Bn = layers[t + 1];
      const d = tr.outSize, D0 = tr.gSize, D1 = Bn.size;
      // Neuron basis: E_ij² = S_ii W̄_ij² G_jj M_ii (i over the d neurons of layer t+1).
      const nE = new Float64Array(d * D0);
      for (let i = 0; i < d; i++) {
        const sii = tr.S ? tr.S[i * d + i] : 1;
        const mii = Math.max(0, Ms[t + 1][i * D1 + i]);
        for (let j = 0; j < D0; j++) {
          const w = tr.W[i * D0 + j];
          nE[i * D0 + j] = Math.sqrt(sii * w * w * Math.max(0, Gs[t][j * D0 + j]) * mii);
        }
      }
      // Interaction basis: Ĉ = C^{t+1}[:, :d], B = W̄ X^t.
      const r0 = A.basisSize, r1 = Bn.basisSize;
      const Ch = new Float64Array(r1 * d);
      for (let i = 0; i < r1; i++) for (let k = 0; k < d; k++) Ch[i * d + k] = Bn.C[i * D1 + k];
      const B = new Float64Array(d * r0);
      for (let k = 0; k < d; k++) for (let a = 0; a < D0; a++) {
        const w = tr.W[k * D0 + a];
        if (w === 0) continue;
        for (let j = 0; j < r0; j++) B[k * r0 + j] += w * A.X[a * r0 + j];
      }
      const ms = await meanSquareJacobian(Ch, r1, d, tr.S, B, r0);
      const gHat = diagCongruence(A.C, r0, D0, Gs[t]);
      const mHat = diagXtMX(Bn.X, D1, r1, Ms[t + 1]);
      const iE = new Float64Array(r1 * r0);
      for (let i = 0; i < r1; i++) for (let j = 0; j < r0; j++) iE[i * r0 + j] = Math.sqrt(ms[i * r0 + j] * Math.max(0, gHat[j]) * Math.max(0, mHat[i]));
      edges.push({ from: A.name, to: Bn.name, neuron: graph(nE, d, D0), interaction: graph(iE, r1, r0) });
    }
    timings.edges = performance.now() - t0;
  }
  return { n: grams.n, layers, edges, timings };
}

/** f̂ = C f̄ for data rows: `acts` row-major [n × size] (with the bias coordinate when the layer has one). */
export function toInteractionBasis(layer: InteractionLayer, acts: ArrayLike<number>, n: number): Float64Array {
  const { size, basisSize: r, C } = layer;
  const out = new Float64Array(n * r);
  for (let x = 0; x < n; x++) for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < size; j++) s += C[i * size + j] * acts[x * size + j];
    out[x * r + i] = s;
  }
  return out;
}
