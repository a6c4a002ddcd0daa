/**
 * The per-layer Kronecker approximation of the behavioral-loss Hessian (seed 000 §4, eq. 21–24;
 * docs/science.md §3, (S8)): assuming activations and Jacobians independent and layers decoupled,
 *
 *   H_l ≈ 2 · K^l ⊗ G^l,   G^l = (1/n) Σ_x f^l fᵀ (with a constant-1 coordinate when the layer has
 *   a bias),  K^l = (1/n) Σ_x Σ_k (∂f_k/∂p^{l+1})ᵀ (∂f_k/∂p^{l+1}),
 *
 * so its eigenvalues are 2·κ_a·g_b. The factor 2 is our H = (2/n) Σ JᵀJ normalization (the paper
 * writes 1/2 for its own). G^l and K^l are the ones the Internals analysis computes
 * (internals/grams.ts): one definition of the per-layer Grams serves both. Covered: every linear
 * layer (weights and biases; modadd-gelu's left and right maps act as one layer on [E(a), E(b)]);
 * the token embedding of the modular-addition models is not a layer with a Gram-matrix input here
 * and is left out.
 */
import type { Dataset } from '../data/types';
import type { ModelBundle } from '../models/bundle';
import { layoutFor } from '../models/config';
import { layerGrams } from '../internals/grams';
import type { JobContext } from '../jobs';

export interface KroneckerLayer {
  /** The weight tensor(s) this block approximates, e.g. "hidden.weight" (+ its bias). */
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

export async function kroneckerSpectrum(model: ModelBundle, ds: Dataset, rows: Int32Array, ctx?: JobContext): Promise<KroneckerResult> {
  const grams = await layerGrams(model, ds, rows, { ctx });
  const layers: KroneckerLayer[] = grams.layers.map((l) => ({ name: l.name, gSize: l.gSize, kSize: l.outSize, gEigen: l.gEigen, kEigen: l.kEigen }));
  const all: number[] = [];
  for (const l of layers) for (const kv of l.kEigen) for (const gv of l.gEigen) all.push(2 * kv * gv);
  const covered = layers.reduce((s, l) => s + l.gSize * l.kSize, 0);
  return { layers, eigenvalues: Float64Array.from(all).sort().reverse(), covered, uncovered: layoutFor(model.config).size - covered };
}
