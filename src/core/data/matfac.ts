/**
 * Matrix factorization data (seed 002, A.3): a seeded full-rank target A (out × in), n
 * linearly independent inputs x_i, targets y_i = A x_i; the test split holds extra Gaussian inputs.
 *
 * Both are built well-conditioned on purpose: A = U diag(s) Vᵀ with random orthonormal U, V and
 * singular values s spread over [0.5, 1.5], and the training inputs are √in times orthonormal
 * vectors. With plain Gaussian A and X the Gauss–Newton Hessian at a trained minimum had nonzero
 * eigenvalues down to ~1e-9·λ_max — below float32 noise — so its 400 true nonzero directions
 * (docs/science.md §9) could not be told from the 400 zero ones. Here the gap is clear.
 */
import { makeRng, type Rng } from '../rng';
import type { Dataset } from './types';

export interface MatfacDataOptions {
  inDim: number;
  outDim: number;
  /** Number of training inputs (default inDim: a basis). */
  nTrain?: number;
  nTest?: number;
  seed: number;
}

/** k orthonormal vectors of length m (rows, Float64), by Gram–Schmidt (twice) of Gaussian vectors. */
export function orthonormalRows(k: number, m: number, rng: Rng): Float64Array[] {
  const rows: Float64Array[] = [];
  while (rows.length < k) {
    const v = Float64Array.from({ length: m }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const q of rows) {
        let d = 0;
        for (let i = 0; i < m; i++) d += q[i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= d * q[i];
      }
    }
    const norm = Math.hypot(...v);
    if (norm < 1e-8) continue; // (only possible when k > m; callers keep k ≤ m)
    for (let i = 0; i < m; i++) v[i] /= norm;
    rows.push(v);
  }
  return rows;
}

export function matfacTarget(inDim: number, outDim: number, seed: number): Float32Array {
  const rng = makeRng(seed ^ 0x7a26e7);
  const r = Math.min(inDim, outDim);
  const U = orthonormalRows(r, outDim, rng);
  const V = orthonormalRows(r, inDim, rng);
  const sv = Array.from({ length: r }, (_, i) => 0.5 + (r === 1 ? 0.5 : i / (r - 1)));
  const a = new Float32Array(outDim * inDim);
  for (let i = 0; i < outDim; i++) {
    for (let j = 0; j < inDim; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += U[k][i] * sv[k] * V[k][j];
      a[i * inDim + j] = s;
    }
  }
  return a;
}

export function matfacDataset(o: MatfacDataOptions): Dataset {
  const nTrain = o.nTrain ?? o.inDim;
  const nTest = o.nTest ?? o.inDim;
  const n = nTrain + nTest;
  const A = matfacTarget(o.inDim, o.outDim, o.seed);
  const rng = makeRng(o.seed ^ 0x1b9a7);
  const x = new Float32Array(n * o.inDim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  // The first min(nTrain, in) training inputs: √in · orthonormal (linearly independent, well-conditioned).
  const basis = orthonormalRows(Math.min(nTrain, o.inDim), o.inDim, rng);
  basis.forEach((q, r) => { for (let j = 0; j < o.inDim; j++) x[r * o.inDim + j] = q[j] * Math.sqrt(o.inDim); });
  const y = new Float32Array(n * o.outDim);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < o.outDim; i++) {
      let s = 0;
      for (let j = 0; j < o.inDim; j++) s += A[i * o.inDim + j] * x[r * o.inDim + j];
      y[r * o.outDim + i] = s;
    }
  }
  const trainIdx = new Int32Array(nTrain).map((_, i) => i);
  const testIdx = new Int32Array(nTest).map((_, i) => nTrain + i);
  return {
    kind: 'matfac',
    label: `matrix factorization ${o.outDim}×${o.inDim}, ${nTrain} train inputs (seed ${o.seed})`,
    n, inputDim: o.inDim, x, y, outDim: o.outDim, trainIdx, testIdx,
  };
}
