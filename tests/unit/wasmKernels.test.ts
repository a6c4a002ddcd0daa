import { afterEach, describe, expect, test } from 'vitest';
import { gemm, gemmJs } from '../../src/core/linalg/blas';
import { eighSync } from '../../src/core/linalg/eigh';
import { tridiagonalize } from '../../src/core/linalg/householder';
import { KrylovBasis } from '../../src/core/linalg/krylovBasis';
import { setWasmKernelsEnabled, wasmKernelsEnabled } from '../../src/core/linalg/wasmKernels';
import { makeRng } from '../../src/core/rng';

const EPS = Number.EPSILON;

function randomArray(len: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  return Float64Array.from({ length: len }, () => rng.normal());
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) { const x = rng.normal(); A[i * n + j] = x; A[j * n + i] = x; }
  return A;
}

function reduce(A: Float64Array, n: number): { a: Float64Array; d: Float64Array; e: Float64Array; tau: Float64Array } {
  const a = A.slice(), d = new Float64Array(n), e = new Float64Array(n), tau = new Float64Array(n);
  for (const _ of tridiagonalize(a, n, d, e, tau)) { /* synchronous */ }
  return { a, d, e, tau };
}

afterEach(() => setWasmKernelsEnabled(true));

describe('WebAssembly SIMD kernels (wasmKernels.ts) against the scalar JS paths', () => {
  test('the kernels are available in Node (WebAssembly SIMD)', () => {
    expect(wasmKernelsEnabled()).toBe(true);
  });

  test('gemm on wasm equals the JS gemm and a triple loop: odd shapes, offsets, leading dimensions, alpha, accumulation, K beyond one block', () => {
    for (const [M, N, K, acc, seed] of [[5, 7, 300, false, 1], [37, 41, 300, true, 2], [64, 64, 64, false, 3], [130, 67, 517, true, 4], [3, 200, 90, true, 5], [66, 3, 70, false, 6]] as const) {
      const lda = K + 3, ldb = N + 2, ldc = N + 5;
      const a = randomArray(M * lda + 2, seed), b = randomArray(K * ldb + 3, seed + 100), c0 = randomArray(M * ldc + 4, seed + 200);
      const cw = c0.slice(), cj = c0.slice();
      gemm(M, N, K, -0.7, a, 1, lda, b, 2, ldb, acc, cw, 3, ldc);
      gemmJs(M, N, K, -0.7, a, 1, lda, b, 2, ldb, acc, cj, 3, ldc);
      let worst = 0;
      for (let i = 0; i < c0.length; i++) worst = Math.max(worst, Math.abs(cw[i] - cj[i]));
      expect(worst).toBeLessThan(1e-12);
      // Entries outside the M×N window are untouched.
      for (let i = 0; i < 3; i++) expect(cw[i]).toBe(c0[i]);
      for (let r = 0; r < M; r++) for (let x = N; x < ldc && 3 + r * ldc + x < c0.length; x++) expect(cw[3 + r * ldc + x]).toBe(c0[3 + r * ldc + x]);
      // One entry by a plain loop.
      const i = M - 1, j = N - 1;
      let s = acc ? c0[3 + i * ldc + j] : 0;
      for (let p = 0; p < K; p++) s += -0.7 * a[1 + i * lda + p] * b[2 + p * ldb + j];
      expect(Math.abs(cw[3 + i * ldc + j] - s)).toBeLessThan(1e-12);
    }
  });

  test('tridiagonalize on wasm gives the JS reduction to rounding (n = 32, 61, 130: even and odd trailing sizes)', () => {
    for (const n of [32, 61, 130]) {
      const A = randomSymmetric(n, n);
      const w = reduce(A, n);
      setWasmKernelsEnabled(false);
      const j = reduce(A, n);
      setWasmKernelsEnabled(true);
      const tol = 64 * n * EPS * Math.sqrt(n);
      for (let k = 0; k < n; k++) expect(Math.abs(w.d[k] - j.d[k])).toBeLessThan(tol);
      for (let k = 0; k < n - 1; k++) expect(Math.abs(Math.abs(w.e[k]) - Math.abs(j.e[k]))).toBeLessThan(tol);
      for (let k = 0; k < n; k++) expect(Math.abs(w.tau[k] - j.tau[k])).toBeLessThan(1e-10);
      // The stored reflectors (strict upper triangle) agree too.
      let worst = 0;
      for (let r = 0; r < n; r++) for (let c = r + 1; c < n; c++) worst = Math.max(worst, Math.abs(w.a[r * n + c] - j.a[r * n + c]));
      expect(worst).toBeLessThan(1e-9);
    }
  });

  test('eigh with and without the wasm kernels: same eigenvalues, both satisfy A V = V D and VᵀV = I (n = 150)', () => {
    const n = 150;
    const A = randomSymmetric(n, 7);
    const on = eighSync(A, n);
    setWasmKernelsEnabled(false);
    const off = eighSync(A, n);
    setWasmKernelsEnabled(true);
    let norm = 0;
    for (const x of A) norm = Math.max(norm, Math.abs(x));
    for (let j = 0; j < n; j++) expect(Math.abs(on.values[j] - off.values[j])).toBeLessThan(8 * n * EPS * norm);
    for (const r of [on, off]) {
      const V = r.vectors!;
      let res = 0, orth = 0;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let p = 0; p < n; p++) s += A[i * n + p] * V[p * n + j];
          res = Math.max(res, Math.abs(s - r.values[j] * V[i * n + j]));
        }
        for (let l = j; l < n; l++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += V[i * n + j] * V[i * n + l];
          orth = Math.max(orth, Math.abs(s - (j === l ? 1 : 0)));
        }
      }
      expect(res).toBeLessThan(4 * n * EPS * norm);
      expect(orth).toBeLessThan(4 * n * EPS);
    }
  });
});

describe('eigh through the kernels on hard spectra (divide-and-conquer merges large enough for the wasm gemm)', () => {
  /** Wilkinson W⁺ₘ: diagonal |i − (m−1)/2|, off-diagonal 1 (nearly coincident pairs). */
  function wilkinson(m: number): Float64Array {
    const A = new Float64Array(m * m);
    for (let i = 0; i < m; i++) A[i * m + i] = Math.abs(i - (m - 1) / 2);
    for (let i = 0; i + 1 < m; i++) { A[i * m + i + 1] = 1; A[(i + 1) * m + i] = 1; }
    return A;
  }
  /** A dense matrix with three tight clusters and a repeated eigenvalue: Q diag(λ) Qᵀ, Q from Householder products. */
  function clustered(n: number): Float64Array {
    const rng = makeRng(11);
    const lam = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 + 1e-12 * i : i % 3 === 1 ? 2 : 5 + 1e-9 * i));
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) A[i * n + i] = lam[i];
    const v = new Float64Array(n), w = new Float64Array(n);
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let i = 0; i < n; i++) { v[i] = rng.normal(); s += v[i] * v[i]; }
      for (let i = 0; i < n; i++) v[i] /= Math.sqrt(s);
      // A ← H A H with H = I − 2 v vᵀ: w = A v, A ← A − 2 v wᵀ − 2 w vᵀ + 4 (vᵀw) v vᵀ.
      let vw = 0;
      for (let i = 0; i < n; i++) { let t = 0; for (let j = 0; j < n; j++) t += A[i * n + j] * v[j]; w[i] = t; vw += v[i] * t; }
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += -2 * v[i] * w[j] - 2 * w[i] * v[j] + 4 * vw * v[i] * v[j];
    }
    return A;
  }
  test.each([['Wilkinson W⁺₂₅₁', 251, wilkinson(251)], ['three clusters and a repeated value', 180, clustered(180)]] as const)('%s: kernels on and off agree with the QL eigenvalues; A V = V D, VᵀV = I', (_name, n, A) => {
    const ql = eighSync(A, n, { vectors: false }).values;
    let norm = 0;
    for (const x of A) norm = Math.max(norm, Math.abs(x));
    for (const on of [true, false]) {
      setWasmKernelsEnabled(on);
      const r = eighSync(A, n);
      for (let j = 0; j < n; j++) expect(Math.abs(r.values[j] - ql[j])).toBeLessThan(16 * n * EPS * norm);
      const V = r.vectors!;
      let res = 0, orth = 0;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let p = 0; p < n; p++) s += A[i * n + p] * V[p * n + j];
          res = Math.max(res, Math.abs(s - r.values[j] * V[i * n + j]));
        }
        for (let l = j; l < n; l++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += V[i * n + j] * V[i * n + l];
          orth = Math.max(orth, Math.abs(s - (j === l ? 1 : 0)));
        }
      }
      expect(res).toBeLessThan(4 * n * EPS * norm);
      expect(orth).toBeLessThan(4 * n * EPS);
    }
    setWasmKernelsEnabled(true);
  });
});

describe('the Krylov basis (Lanczos, SLQ) on the wasm kernels', () => {
  test('Krylov basis sweeps on wasm (dots, project, combine) equal a Float64 loop over the stored vectors: odd d, Float32 and Float64, sizes across the 8-row groups, the 32-vector chunks and memory growth', async () => {
    for (const [d, n, storage, seed] of [[37, 5, 'f32', 1], [1003, 45, 'f32', 2], [1003, 45, 'f64', 3], [64, 71, 'f64', 4], [130, 9, 'f32', 5]] as const) {
      const basis = new KrylovBasis(d, storage, n + 3);
      expect(basis.simd).toBe(true);
      for (let i = 0; i < n; i++) basis.push(randomArray(d, seed * 1000 + i));
      const stored = basis.vectors(n) as ArrayLike<number>[]; // copies of what the basis holds (rounded for f32)
      expect(stored).toHaveLength(n);
      const x = randomArray(d, seed + 77);
      const ref = stored.map((v) => { let s = 0; for (let j = 0; j < d; j++) s += v[j] * x[j]; return s; });
      const scale = (i: number): number => { let s = 0; for (let j = 0; j < d; j++) s += Math.abs(stored[i][j] * x[j]); return s; };
      const h = new Float64Array(n + 3);
      await basis.dots(x, h);
      for (let i = 0; i < n; i++) expect(Math.abs(h[i] - ref[i])).toBeLessThanOrEqual(8 * d * EPS * scale(i));
      // project: w − Σ h_i v_i with h = Vᵀ w; x is unchanged by dots.
      const w = x.slice();
      await basis.project(w, h);
      for (let i = 0; i < n; i++) expect(Math.abs(h[i] - ref[i])).toBeLessThanOrEqual(8 * d * EPS * scale(i));
      for (let j = 0; j < d; j++) {
        let e = x[j], mag = Math.abs(x[j]);
        for (let i = 0; i < n; i++) { e -= h[i] * stored[i][j]; mag += Math.abs(h[i] * stored[i][j]); }
        expect(Math.abs(w[j] - e)).toBeLessThanOrEqual(8 * n * EPS * mag);
      }
      // combine: Σ z_i v_i.
      const z = randomArray(n, seed + 99), out = new Float64Array(d);
      await basis.combine(z, out);
      for (let j = 0; j < d; j++) {
        let e = 0, mag = 0;
        for (let i = 0; i < n; i++) { e += z[i] * stored[i][j]; mag += Math.abs(z[i] * stored[i][j]); }
        expect(Math.abs(out[j] - e)).toBeLessThanOrEqual(8 * n * EPS * mag);
      }
      // The JS path on the same vectors gives the same coefficients to rounding.
      setWasmKernelsEnabled(false);
      const js = new KrylovBasis(d, storage, n + 3);
      expect(js.simd).toBe(false);
      for (let i = 0; i < n; i++) js.push(randomArray(d, seed * 1000 + i));
      const hj = new Float64Array(n + 3);
      await js.dots(x, hj);
      for (let i = 0; i < n; i++) expect(Math.abs(hj[i] - h[i])).toBeLessThanOrEqual(16 * d * EPS * scale(i));
      setWasmKernelsEnabled(true);
    }
  });
});
