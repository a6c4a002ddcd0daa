import { describe, expect, test } from 'vitest';
import { eigh, eighLastComponents, eighSync, tridiagEigen, tridiagonalForm } from '../../src/core/linalg/eigh';
import { gemm } from '../../src/core/linalg/blas';
import { symmetricFromMatvec, symmetryDefect, type SymOperator } from '../../src/core/linalg/operator';
import { CancelledError, createJobContext } from '../../src/core/jobs';
import { makeRng } from '../../src/core/rng';

const EPS = Number.EPSILON;

// ---- independent references -------------------------------------------------------------

/** A seeded random orthogonal matrix: the product of n Householder reflections I − 2 v vᵀ. */
function randomOrthogonal(n: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const Q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Q[i * n + i] = 1;
  const v = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) { v[i] = rng.normal(); s += v[i] * v[i]; }
    s = Math.sqrt(s);
    for (let i = 0; i < n; i++) v[i] /= s;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += Q[i * n + j] * v[j];
      for (let j = 0; j < n; j++) Q[i * n + j] -= 2 * dot * v[j];
    }
  }
  return Q;
}

/** A = Q diag(λ) Qᵀ with a seeded random orthogonal Q: a matrix with a known spectrum. */
function withSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const Q = randomOrthogonal(n, seed);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Q[i * n + k] * lambda[k] * Q[j * n + k];
      A[i * n + j] = s;
      A[j * n + i] = s;
    }
  }
  return A;
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) { const x = rng.normal(); A[i * n + j] = x; A[j * n + i] = x; }
  return A;
}

function tridiagonalMatrix(diag: number[], off: number[]): Float64Array {
  const n = diag.length;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) A[i * n + i] = diag[i];
  for (let i = 0; i + 1 < n; i++) { A[i * n + i + 1] = off[i]; A[(i + 1) * n + i] = off[i]; }
  return A;
}

function maxAbs(A: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < A.length; i++) m = Math.max(m, Math.abs(A[i]));
  return m;
}

/** max |A V − V D| and max |VᵀV − I| by plain triple loops. */
function properties(A: Float64Array, n: number, values: Float64Array, V: Float64Array): { residual: number; orthogonality: number } {
  let residual = 0, orthogonality = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += A[i * n + p] * V[p * n + j];
      residual = Math.max(residual, Math.abs(s - values[j] * V[i * n + j]));
    }
  }
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += V[i * n + a] * V[i * n + b];
      orthogonality = Math.max(orthogonality, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return { residual, orthogonality };
}

/** Full check of an eigh result: descending order, A V = V D and VᵀV = I to c·n·EPS·‖A‖. */
function expectEigenpairs(A: Float64Array, n: number, c = 4): Float64Array {
  const { values, vectors } = eighSync(A, n);
  expect(values).toHaveLength(n);
  expect(vectors).toHaveLength(n * n);
  for (let j = 1; j < n; j++) expect(values[j]).toBeLessThanOrEqual(values[j - 1]);
  const norm = Math.max(maxAbs(A), 1e-300);
  const { residual, orthogonality } = properties(A, n, values, vectors!);
  expect(residual).toBeLessThanOrEqual(c * Math.max(n, 4) * EPS * norm);
  expect(orthogonality).toBeLessThanOrEqual(c * Math.max(n, 4) * EPS);
  // The eigenvalue-only path (implicit QL instead of divide and conquer) agrees. Regression: QL
  // once stalled on the rounding-level block a big null space leaves in T.
  const only = eighSync(A, n, { vectors: false }).values;
  for (let j = 0; j < n; j++) expect(Math.abs(only[j] - values[j])).toBeLessThanOrEqual(c * Math.max(n, 4) * EPS * norm);
  return values;
}

// ---- tests -------------------------------------------------------------------------------

describe('eigh: closed forms', () => {
  test('2×2: λ = (a+c)/2 ± √(((a−c)/2)² + b²), vector column j belongs to values[j]', () => {
    const a = 2, b = -3, c = 0.5;
    const { values, vectors } = eighSync(Float64Array.from([a, b, b, c]), 2);
    const mid = (a + c) / 2, r = Math.hypot((a - c) / 2, b);
    expect(values[0]).toBeCloseTo(mid + r, 14);
    expect(values[1]).toBeCloseTo(mid - r, 14);
    // (A − λ I) x = 0 ⇒ x ∝ (b, λ − a); compare up to sign.
    for (let j = 0; j < 2; j++) {
      const x0 = vectors![j], x1 = vectors![2 + j];
      const ex = [b, values[j] - a];
      const s = Math.hypot(ex[0], ex[1]);
      expect(Math.abs(x0 * ex[0] / s + x1 * ex[1] / s)).toBeCloseTo(1, 14);
    }
  });

  test('1×1 and 0×0', () => {
    expect(Array.from(eighSync(Float64Array.of(-7), 1).values)).toEqual([-7]);
    expect(Array.from(eighSync(Float64Array.of(-7), 1).vectors!)).toEqual([1]);
    expect(eighSync(new Float64Array(0), 0).values).toHaveLength(0);
  });

  test('tridiagonal Toeplitz: λ_k = a + 2b cos(kπ/(n+1)), x_k(i) ∝ sin(ikπ/(n+1))', () => {
    const n = 90, a = 2, b = -1;
    const A = tridiagonalMatrix(new Array(n).fill(a), new Array(n - 1).fill(b));
    const { values, vectors } = eighSync(A, n);
    // b < 0: the largest eigenvalue belongs to k = n.
    for (let j = 0; j < n; j++) {
      const kk = n - j;
      expect(values[j]).toBeCloseTo(a + 2 * b * Math.cos((kk * Math.PI) / (n + 1)), 13);
      const s = Math.sqrt(2 / (n + 1));
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors![i * n + j] * s * Math.sin(((i + 1) * kk * Math.PI) / (n + 1));
      expect(Math.abs(dot)).toBeCloseTo(1, 12);
    }
  });
});

describe('eigh: matrices with known spectra (A = Q diag(λ) Qᵀ)', () => {
  test('repeated, zero and negative eigenvalues (n = 120)', () => {
    const lambda = [9, 9, 9, 4, 4, 2.5, 1, 1, 1e-3, ...new Array(100).fill(0), -1, -1, -2, -3, -3, -3, -5, -6, -7, -8, -20];
    const n = lambda.length;
    const A = withSpectrum(lambda, 7);
    const values = expectEigenpairs(A, n);
    const want = [...lambda].sort((x, y) => y - x);
    for (let j = 0; j < n; j++) expect(Math.abs(values[j] - want[j])).toBeLessThanOrEqual(n * EPS * 20);
  });

  test('big null space: d = 300 with rank 60 gives 240 zeros to rounding', () => {
    const n = 300, r = 60;
    const lambda = Array.from({ length: n }, (_, i) => (i < r ? 10 * Math.exp(-i / 12) : 0));
    const A = withSpectrum(lambda, 11);
    const values = expectEigenpairs(A, n);
    for (let j = 0; j < r; j++) expect(Math.abs(values[j] - lambda[j])).toBeLessThanOrEqual(n * EPS * 10 * 4);
    for (let j = r; j < n; j++) expect(Math.abs(values[j])).toBeLessThanOrEqual(n * EPS * 10 * 4);
  });

  test.each([3, 5, 31, 32, 33, 64, 65, 130, 257])('random symmetric n = %i (crosses the divide-and-conquer leaf size)', (n) => {
    expectEigenpairs(randomSymmetric(n, n), n);
  });
});

describe('eigh: hard cases for divide and conquer (deflation, clusters, scaling)', () => {
  test('Wilkinson W⁺₂₀₁: nearly coincident pairs', () => {
    const n = 201;
    const A = tridiagonalMatrix(Array.from({ length: n }, (_, i) => Math.abs(i - 100)), new Array(n - 1).fill(1));
    const values = expectEigenpairs(A, n);
    // W⁺: the top pair agrees to many digits but the computed vectors must stay orthogonal.
    expect(values[0] - values[1]).toBeLessThan(1e-10);
  });

  test('glued Wilkinson matrices (tiny couplings between identical blocks)', () => {
    const n = 210;
    const diag = Array.from({ length: n }, (_, i) => Math.abs((i % 21) - 10));
    const off = Array.from({ length: n - 1 }, (_, i) => (i % 21 === 20 ? 1e-9 : 1));
    expectEigenpairs(tridiagonalMatrix(diag, off), n);
  });

  test('identity, zero, and a diagonal with repeats (full deflation)', () => {
    const n = 100;
    const I = new Float64Array(n * n);
    for (let i = 0; i < n; i++) I[i * n + i] = 1;
    expect(Array.from(expectEigenpairs(I, n))).toEqual(new Array(n).fill(1));
    const Z = new Float64Array(n * n);
    const z = eighSync(Z, n);
    expect(maxAbs(z.values)).toBe(0);
    expect(properties(Z, n, z.values, z.vectors!).orthogonality).toBeLessThanOrEqual(n * EPS);
    const D = new Float64Array(n * n);
    for (let i = 0; i < n; i++) D[i * n + i] = i % 7;
    const v = expectEigenpairs(D, n);
    expect(v[0]).toBe(6);
    expect(v[n - 1]).toBe(0);
  });

  test('graded spectrum over 20 orders of magnitude', () => {
    const lambda = Array.from({ length: 80 }, (_, i) => 10 ** (5 - i / 4));
    const A = withSpectrum(lambda, 3);
    const values = expectEigenpairs(A, 80);
    // Absolute accuracy is relative to ‖A‖ (backward stability), so only the large ones are compared.
    for (let j = 0; j < 80; j++) expect(Math.abs(values[j] - lambda[j])).toBeLessThanOrEqual(80 * 40 * EPS * 1e5);
  });

  test('extreme scales (1e±170: squares leave the double range) neither overflow nor underflow', () => {
    const n = 60;
    const A = randomSymmetric(n, 13);
    const ref = eighSync(A, n).values;
    for (const sc of [1e170, 1e-170]) {
      const B = A.map((x) => x * sc);
      const v = expectEigenpairs(B, n);
      for (let j = 0; j < n; j++) expect(v[j] / sc).toBeCloseTo(ref[j], 11);
    }
  });

  test('a spectrum of two tight clusters', () => {
    const lambda = Array.from({ length: 150 }, (_, i) => (i % 2 ? 1 + i * 1e-13 : -1 - i * 1e-13));
    expectEigenpairs(withSpectrum(lambda, 5), 150);
  });
});

describe('eigh: options and plumbing', () => {
  test('values only agree with the full solve; eigh agrees with eighSync; A is not modified', async () => {
    const n = 100;
    const A = randomSymmetric(n, 1);
    const copy = A.slice();
    const full = eighSync(A, n);
    const vals = eighSync(A, n, { vectors: false });
    expect(vals.vectors).toBeUndefined();
    for (let j = 0; j < n; j++) expect(vals.values[j]).toBeCloseTo(full.values[j], 12);
    const asyncRes = await eigh(A, n);
    expect(Array.from(asyncRes.values)).toEqual(Array.from(full.values));
    expect(Array.from(asyncRes.vectors!)).toEqual(Array.from(full.vectors!));
    expect(Array.from(A)).toEqual(Array.from(copy));
  });

  test('only the lower triangle is read', () => {
    const n = 40;
    const A = randomSymmetric(n, 2);
    const B = A.slice();
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) B[i * n + j] = 1e6;
    expect(Array.from(eighSync(B, n).values)).toEqual(Array.from(eighSync(A, n).values));
  });

  test('progress is monotone and reaches 1; a cancelled checkpoint stops the solve', async () => {
    const n = 200;
    const A = randomSymmetric(n, 3);
    const seen: number[] = [];
    await eigh(A, n, { onProgress: (f) => seen.push(f) });
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] - 1e-12);
    expect(seen[seen.length - 1]).toBeCloseTo(1, 6);

    const ac = new AbortController();
    const ctx = createJobContext({ signal: ac.signal });
    let calls = 0;
    const p = eigh(A, n, { checkpoint: () => ctx.checkpoint(), onProgress: () => { if (++calls === 50) ac.abort(); } });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(50);
  });

  test('non-finite input is refused', () => {
    const A = Float64Array.from([1, 0, NaN, 1]);
    expect(() => eighSync(A, 2)).toThrow(/non-finite/);
  });
});

describe('tridiagEigen', () => {
  const n = 60, a = 3, b = 0.5;
  const alpha = new Array(n).fill(a), beta = new Array(n - 1).fill(b);
  const exact = Array.from({ length: n }, (_, j) => a + 2 * b * Math.cos(((j + 1) * Math.PI) / (n + 1))); // descending for b > 0

  test('values, first-component weights and last components of the Toeplitz case', () => {
    const r = tridiagEigen(alpha, beta, { weights: true, last: true, first: true });
    for (let j = 0; j < n; j++) {
      expect(r.values[j]).toBeCloseTo(exact[j], 13);
      // x_k(1) = √(2/(n+1)) sin(kπ/(n+1)), x_k(n) = √(2/(n+1)) sin(nkπ/(n+1)).
      const s = 2 / (n + 1);
      expect(r.weights![j]).toBeCloseTo(s * Math.sin(((j + 1) * Math.PI) / (n + 1)) ** 2, 13);
      expect(r.last![j] ** 2).toBeCloseTo(s * Math.sin((n * (j + 1) * Math.PI) / (n + 1)) ** 2, 13);
      expect(r.first![j] ** 2).toBeCloseTo(r.weights![j], 15);
    }
    expect(r.weights!.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 13);
  });

  test('full vectors (divide and conquer) satisfy T V = V D and match the QL components', () => {
    const rng = makeRng(9);
    const m = 150;
    const al = Array.from({ length: m }, () => rng.normal());
    const be = Array.from({ length: m - 1 }, () => rng.normal());
    const full = tridiagEigen(al, be, true);
    const T = tridiagonalMatrix(al, be);
    const { residual, orthogonality } = properties(T, m, full.values, full.vectors!);
    expect(residual).toBeLessThan(4 * m * EPS * 4);
    expect(orthogonality).toBeLessThan(4 * m * EPS);
    const ql = tridiagEigen(al, be, { first: true, last: true });
    for (let j = 0; j < m; j++) {
      expect(ql.values[j]).toBeCloseTo(full.values[j], 12);
      expect(Math.abs(ql.first![j])).toBeCloseTo(Math.abs(full.vectors![j]), 10);
      expect(Math.abs(ql.last![j])).toBeCloseTo(Math.abs(full.vectors![(m - 1) * m + j]), 10);
    }
  });

  test('tridiagonalForm keeps the spectrum and leaves the first coordinate fixed (first components unchanged)', () => {
    const n = 50;
    const A = randomSymmetric(n, 12);
    const full = eighSync(A, n);
    const { d, e } = tridiagonalForm(A, n);
    expect(d).toHaveLength(n);
    expect(e).toHaveLength(n - 1);
    const t = tridiagEigen(d, e, { first: true });
    for (let j = 0; j < n; j++) {
      expect(t.values[j]).toBeCloseTo(full.values[j], 11);
      expect(Math.abs(t.first![j])).toBeCloseTo(Math.abs(full.vectors![j]), 9);
    }
  });

  test('eighLastComponents: last components of a dense matrix without accumulating vectors', () => {
    const n = 70;
    const A = randomSymmetric(n, 4);
    const full = eighSync(A, n);
    const r = eighLastComponents(A, n);
    for (let j = 0; j < n; j++) {
      expect(r.values[j]).toBeCloseTo(full.values[j], 11);
      expect(Math.abs(r.last[j])).toBeCloseTo(Math.abs(full.vectors![(n - 1) * n + j]), 9);
    }
  });
});

describe('gemm and operators', () => {
  test('gemm matches a triple loop with offsets, leading dimensions, alpha and accumulation', () => {
    const rng = makeRng(5);
    const M = 7, N = 11, K = 9, lda = 13, ldb = 12, ldc = 15;
    const a = Float64Array.from({ length: 3 + M * lda }, () => rng.normal());
    const b = Float64Array.from({ length: 2 + K * ldb }, () => rng.normal());
    const c = Float64Array.from({ length: 4 + M * ldc }, () => rng.normal());
    const c0 = c.slice();
    gemm(M, N, K, -0.5, a, 3, lda, b, 2, ldb, true, c, 4, ldc);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let p = 0; p < K; p++) s += a[3 + i * lda + p] * b[2 + p * ldb + j];
        expect(c[4 + i * ldc + j]).toBeCloseTo(c0[4 + i * ldc + j] - 0.5 * s, 12);
      }
      // Columns beyond N untouched.
      for (let j = N; j < ldc && 4 + i * ldc + j < c.length; j++) expect(c[4 + i * ldc + j]).toBe(c0[4 + i * ldc + j]);
    }
  });

  test('symmetricFromMatvec rebuilds the matrix and symmetrizes a float32-like operator', async () => {
    const n = 25;
    const A = randomSymmetric(n, 6);
    const skew = (i: number, j: number): number => (i - j) * 1e-7;
    const op: SymOperator = {
      d: n,
      async apply(v) {
        const y = new Float64Array(n);
        for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n; j++) s += (A[i * n + j] + skew(i, j)) * v[j]; y[i] = s; }
        return y;
      },
    };
    const raw = await symmetricFromMatvec(op, { symmetrize: false });
    expect(symmetryDefect(raw, n)).toBeGreaterThan(1e-8);
    const seen: string[] = [];
    const B = await symmetricFromMatvec(op, { ctx: createJobContext({ onProgress: (_f, p) => seen.push(p) }) });
    expect(symmetryDefect(B, n)).toBe(0);
    for (let i = 0; i < n * n; i++) expect(B[i]).toBeCloseTo(A[i], 12);
    expect(seen[seen.length - 1]).toBe(`matrix column ${n}/${n}`);
  });
});
