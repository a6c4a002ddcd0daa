/** Test references for the linear-algebra modules, written independently of src/core/linalg. */
import type { SymOperator } from '../../../src/core/linalg/operator';
import { makeRng } from '../../../src/core/rng';

/** A seeded random orthogonal matrix: Gram–Schmidt (twice) of Gaussian vectors, stored as rows. */
export function randomOrthonormalRows(n: number, seed: number): Float64Array[] {
  const rng = makeRng(seed);
  const rows: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const q of rows) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * q[i];
      }
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i] * v[i];
    s = Math.sqrt(s);
    for (let i = 0; i < n; i++) v[i] /= s;
    rows.push(v);
  }
  return rows;
}

/** Dense A = Σ_k λ_k q_k q_kᵀ with a seeded random orthonormal basis q_k (row-major n×n). */
export function matrixWithSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const Q = randomOrthonormalRows(n, seed);
  const A = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    if (lambda[k] === 0) continue;
    const q = Q[k];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += lambda[k] * q[i] * q[j];
  }
  return A;
}

/** The plain matrix–vector product of a dense symmetric A as an operator; `onApply` sees each input. */
export function denseOperator(A: Float64Array, n: number, onApply?: (v: Float64Array) => void): SymOperator {
  return {
    d: n,
    async apply(v) {
      onApply?.(v);
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i * n + j] * v[j];
        y[i] = s;
      }
      return y;
    },
  };
}
