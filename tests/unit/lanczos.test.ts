import { describe, expect, test } from 'vitest';
import { eighSync } from '../../src/core/linalg/eigh';
import type { SymOperator } from '../../src/core/linalg/operator';
import { lanczosTopK } from '../../src/core/linalg/lanczos';
import { planBasis } from '../../src/core/linalg/krylovBasis';
import { BadInputError } from '../../src/core/errors';
import { CancelledError, createJobContext } from '../../src/core/jobs';
import { denseOperator, matrixWithSpectrum, randomOrthonormalRows } from './helpers/linalg';

// ---- independent references -------------------------------------------------------------

/** Dense A = Σ_k λ_k q_k q_kᵀ and its operator (plain matrix–vector product). */
function knownOperator(lambda: number[], seed: number): { A: Float64Array; op: SymOperator; applies: () => number } {
  const A = matrixWithSpectrum(lambda, seed);
  let count = 0;
  return { A, op: denseOperator(A, lambda.length, () => { count++; }), applies: () => count };
}

/** d = 300, rank 60, distinct decaying eigenvalues: the shape of a degenerate Hessian. */
const D = 300;
const RANK = 60;
const LAMBDA = Array.from({ length: D }, (_, i) => (i < RANK ? 10 * Math.exp(-i / 15) : 0));

function checkAgainstEigh(A: Float64Array, n: number, values: Float64Array, rel = 1e-8): void {
  const exact = eighSync(A, n, { vectors: false }).values;
  for (let j = 0; j < values.length; j++) expect(Math.abs(values[j] - exact[j])).toBeLessThanOrEqual(rel * exact[0]);
}

function residualOf(op: SymOperator, v: ArrayLike<number>, theta: number, A: Float64Array): number {
  const n = op.d;
  let s = 0, nv = 0;
  for (let i = 0; i < n; i++) nv += v[i] * v[i];
  for (let i = 0; i < n; i++) {
    let y = 0;
    for (let j = 0; j < n; j++) y += A[i * n + j] * v[j];
    s += (y - theta * v[i]) ** 2;
  }
  return Math.sqrt(s / nv);
}

// ---- tests -------------------------------------------------------------------------------

describe('lanczosTopK against eigh on the same matrix', () => {
  const { A, op } = knownOperator(LAMBDA, 1);

  test.each([10, 40])('top %i in Float64: values to 1e-8, verified residuals ≤ tol·λmax, orthonormal vectors', async (k) => {
    const r = await lanczosTopK(op, k, { seed: 3, wantVectors: true });
    expect(r.storage).toBe('f64');
    expect(r.values).toHaveLength(k);
    expect(r.converged).toBe(k);
    checkAgainstEigh(A, D, r.values);
    for (let j = 0; j < k; j++) {
      expect(r.residuals[j]).toBeLessThanOrEqual(1e-6 * LAMBDA[0]);
      // The reported residual is the true one, recomputed here independently.
      expect(r.residuals[j]).toBeCloseTo(residualOf(op, r.vectors![j], r.values[j], A), 12);
      // The recurrence estimate and the verified residual agree to rounding.
      expect(Math.abs(r.residuals[j] - r.residualEstimates[j])).toBeLessThan(1e-9 * LAMBDA[0]);
    }
    const V = r.vectors!;
    for (let a = 0; a < k; a++) {
      for (let b = a; b < k; b++) {
        let s = 0;
        for (let i = 0; i < D; i++) s += V[a][i] * V[b][i];
        expect(Math.abs(s - (a === b ? 1 : 0))).toBeLessThan(1e-10);
      }
    }
  });

  test('one Gram–Schmidt sweep per step (DGKS) stays ghost-free on a hard spectrum: a tight cluster, a wide range, long runs', async () => {
    // Five eigenvalues within 1e-6 of each other at the top, then a decay over 12 decades: the
    // converged top pairs are exactly where plain Lanczos would produce ghost copies.
    const lambda = Array.from({ length: 240 }, (_, i) => (i < 5 ? 50 * (1 - 2e-7 * i) : 40 * 10 ** (-(12 * (i - 5)) / 235)));
    const hard = knownOperator(lambda, 7);
    const r = await lanczosTopK(hard.op, 30, { seed: 5, wantVectors: true, tol: 1e-9 });
    checkAgainstEigh(hard.A, 240, r.values, 1e-10);
    // No value repeated beyond the true cluster (a ghost would show as a sixth copy of 50).
    expect(Array.from(r.values).filter((v) => v > 49.99).length).toBe(5);
    const V = r.vectors!;
    let worst = 0;
    for (let a = 0; a < 30; a++) for (let b = a; b < 30; b++) {
      let dot = 0;
      for (let i = 0; i < 240; i++) dot += V[a][i] * V[b][i];
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
    expect(worst).toBeLessThan(1e-10);
    // The second sweep is the exception, not the rule.
    expect(r.secondSweeps).toBeLessThan(r.iterations / 4);
  });

  test('Float32 basis storage keeps the Float64 accuracy of the values', async () => {
    const r = await lanczosTopK(op, 20, { seed: 4, storage: 'f32', wantVectors: true });
    expect(r.storage).toBe('f32');
    expect(r.vectors![0]).toBeInstanceOf(Float32Array);
    expect(r.converged).toBe(20);
    checkAgainstEigh(A, D, r.values);
    for (let j = 0; j < 20; j++) expect(r.residuals[j]).toBeLessThanOrEqual(1e-6 * LAMBDA[0]);
  });

  test('a memory budget too small for Float64 switches to Float32; smaller still, to thick restarts', async () => {
    const k = 20;
    const want = Math.max(2 * k + 1, k + 32); // default basis size
    const f32Only = await lanczosTopK(op, k, { seed: 5, memoryBudgetBytes: want * D * 6 });
    expect(f32Only.storage).toBe('f32');
    expect(f32Only.basisSize).toBe(want);
    expect(f32Only.basisBytes).toBe(want * D * 4);
    checkAgainstEigh(A, D, f32Only.values);

    const tight = await lanczosTopK(op, k, { seed: 5, memoryBudgetBytes: (k + 8) * D * 4 });
    expect(tight.storage).toBe('f32');
    expect(tight.basisSize).toBe(k + 8);
    expect(tight.restarts).toBeGreaterThan(0);
    expect(tight.converged).toBe(k);
    checkAgainstEigh(A, D, tight.values);
  });

  test('thick restarts in Float64 (maxBasis) converge to the same pairs', async () => {
    const r = await lanczosTopK(op, 15, { seed: 6, maxBasis: 24 });
    expect(r.restarts).toBeGreaterThan(1);
    expect(r.converged).toBe(15);
    checkAgainstEigh(A, D, r.values);
  });

  test('a budget that cannot hold k + a few vectors is refused with the bytes needed', async () => {
    const k = 1100, d = 86_197;
    const plan = planBasis(d, k, {});
    expect(plan.storage).toBe('f32');
    expect(plan.capacity).toBeGreaterThan(k);
    expect(plan.capacity * d * 4).toBeLessThanOrEqual(512 * 1024 * 1024);
    const big: SymOperator = { d, apply: async (v) => v.slice() };
    const err = await lanczosTopK(big, k, { seed: 1, memoryBudgetBytes: 100e6 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    const need = (k + 55) * d * 4; // k + max(8, ⌈k/20⌉) Float32 vectors
    expect((err as Error).message).toContain(need.toLocaleString('en-US'));
  });
});

describe('accuracy against the known eigenpairs the test matrix was built from', () => {
  // A = Σ λ_k q_k q_kᵀ with the q_k from the seeded orthonormal rows: the eigenpairs are known
  // by construction (to the rounding of forming A), independently of any solver in src/.
  const n = 120;
  const lambda = Array.from({ length: n }, (_, i) => (i < 40 ? 20 * 0.85 ** i : 0));
  const seed = 21;
  const A = matrixWithSpectrum(lambda, seed);
  const Q = randomOrthonormalRows(n, seed);
  const op = denseOperator(A, n);

  /** Each Ritz value within 1e-10·λ₁ of λ_j and each Ritz vector equal to ±q_j (‖v ∓ q_j‖ < tolVec). */
  function checkPairs(values: Float64Array, vectors: ArrayLike<number>[], k: number, tolVec: number): void {
    for (let j = 0; j < k; j++) {
      expect(Math.abs(values[j] - lambda[j])).toBeLessThan(1e-10 * lambda[0]);
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[j][i] * Q[j][i];
      const s = Math.sign(dot);
      let e = 0;
      for (let i = 0; i < n; i++) e += (vectors[j][i] - s * Q[j][i]) ** 2;
      expect(Math.sqrt(e)).toBeLessThan(tolVec);
    }
  }

  test('one Krylov sequence (no restart): values and vectors of the top 12', async () => {
    const r = await lanczosTopK(op, 12, { seed: 2, wantVectors: true, tol: 1e-10 });
    expect(r.restarts).toBe(0);
    checkPairs(r.values, r.vectors!, 12, 1e-7);
  });

  test('thick restarts (maxBasis 20, k 12): the same values and vectors', async () => {
    const r = await lanczosTopK(op, 12, { seed: 2, wantVectors: true, tol: 1e-10, maxBasis: 20 });
    expect(r.restarts).toBeGreaterThan(0);
    checkPairs(r.values, r.vectors!, 12, 1e-7);
  });

  test('a noisy operator whose Krylov space runs out keeps the Lanczos vectors orthonormal (DGKS second sweep)', async () => {
    // H·v rounded to 1e-3 of its largest entry (a stand-in for low-precision accumulation): once
    // the rank-20 range is spanned, each new w is mostly noise along the basis, and one classical
    // Gram–Schmidt sweep leaves ~eps·‖w before‖/‖w after‖ of it behind. The DGKS second sweep
    // restores orthogonality to rounding level (1e-15 here; a single sweep leaves ~1e-8).
    const m = 60;
    const B = matrixWithSpectrum(Array.from({ length: m }, (_, i) => (i < 20 ? 10 * Math.exp(-i / 4) : 0)), 11);
    const exact = denseOperator(B, m);
    const noisy: SymOperator = {
      d: m,
      async apply(v) {
        const y = await exact.apply(v);
        let mx = 0;
        for (let i = 0; i < m; i++) mx = Math.max(mx, Math.abs(y[i]));
        const u = 1e-3 * mx;
        if (u > 0) for (let i = 0; i < m; i++) y[i] = Math.round(y[i] / u) * u;
        return y;
      },
    };
    const r = await lanczosTopK(noisy, 50, { seed: 1, wantVectors: true });
    expect(r.secondSweeps).toBeGreaterThan(0);
    const V = r.vectors!;
    let worst = 0;
    for (let a = 0; a < V.length; a++) for (let b = a; b < V.length; b++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += V[a][i] * V[b][i];
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
    expect(worst).toBeLessThan(1e-12);
  });
});

describe('null spaces and invariant subspaces', () => {
  test('rank-3 operator, k = 5: three eigenvalues and two exact zeros, via random restarts', async () => {
    const lambda = [5, 3, 1, ...new Array(47).fill(0)];
    const { A, op } = knownOperator(lambda, 2);
    const r = await lanczosTopK(op, 5, { seed: 7, wantVectors: true });
    expect(r.values[0]).toBeCloseTo(5, 12);
    expect(r.values[1]).toBeCloseTo(3, 12);
    expect(r.values[2]).toBeCloseTo(1, 12);
    expect(Math.abs(r.values[3])).toBeLessThan(1e-12);
    expect(Math.abs(r.values[4])).toBeLessThan(1e-12);
    expect(r.converged).toBe(5);
    for (let j = 0; j < 5; j++) expect(residualOf(op, r.vectors![j], r.values[j], A)).toBeLessThan(1e-12);
    // A Krylov space of a rank-3 operator is invariant after 4 vectors; the rest are restarts.
    expect(r.iterations).toBeLessThanOrEqual(6);
  });

  test('k beyond the rank (d = 300, rank 60, k = 70): 60 values then zeros', async () => {
    const { A, op } = knownOperator(LAMBDA, 1);
    const r = await lanczosTopK(op, 70, { seed: 8 });
    checkAgainstEigh(A, D, r.values);
    for (let j = RANK; j < 70; j++) expect(Math.abs(r.values[j])).toBeLessThan(1e-10);
    expect(r.converged).toBe(70);
  });

  test('k = d on a small operator returns the whole spectrum', async () => {
    const lambda = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 0 : 1 + i));
    const { A, op } = knownOperator(lambda, 3);
    const r = await lanczosTopK(op, 24, { seed: 9 });
    checkAgainstEigh(A, 24, r.values, 1e-12);
  });

  test('the zero operator', async () => {
    const op: SymOperator = { d: 30, apply: async () => new Float64Array(30) };
    const r = await lanczosTopK(op, 4, { seed: 1 });
    expect(Array.from(r.values)).toEqual([0, 0, 0, 0]);
    expect(r.converged).toBe(4);
  });
});

describe('determinism, progress and cancellation', () => {
  const { op, applies } = knownOperator(LAMBDA, 1);

  test('the same seed reproduces the run; matvecs counts every application', async () => {
    const before = applies();
    const a = await lanczosTopK(op, 8, { seed: 42 });
    expect(applies() - before).toBe(a.matvecs);
    expect(a.matvecs).toBe(a.iterations + 8);
    const b = await lanczosTopK(op, 8, { seed: 42 });
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
  });

  test('progress says "Lanczos step i/m" and only grows', async () => {
    const seen: [number, string][] = [];
    const ctx = createJobContext({ onProgress: (f, p) => seen.push([f, p]) });
    await lanczosTopK(op, 5, { seed: 1, ctx, maxIter: 200 });
    expect(seen.some(([, p]) => /^Lanczos step \d+\/200$/.test(p))).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    expect(seen[seen.length - 1][0]).toBe(1);
  });

  test('an abort mid-run surfaces as CancelledError within a few steps', async () => {
    // A slow operator (≈2 ms per apply) so the run is still going when the abort arrives.
    const slow: SymOperator = {
      d: D,
      async apply(v) {
        const until = Date.now() + 2;
        while (Date.now() < until) { /* work */ }
        return op.apply(v);
      },
    };
    const ac = new AbortController();
    const ctx = createJobContext({ signal: ac.signal, yieldEveryMs: 5 });
    let abortedAt = 0;
    let steps = 0;
    const run = lanczosTopK(slow, 50, {
      seed: 1,
      ctx: {
        ...ctx,
        progress: (f, p) => {
          ctx.progress(f, p);
          if (p.startsWith('Lanczos step') && ++steps === 20) { abortedAt = Date.now(); ac.abort(); }
        },
      },
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(Date.now() - abortedAt).toBeLessThan(200);
  });

  test('bad k is refused', async () => {
    await expect(lanczosTopK(op, 0, { seed: 1 })).rejects.toBeInstanceOf(BadInputError);
    await expect(lanczosTopK(op, D + 1, { seed: 1 })).rejects.toBeInstanceOf(BadInputError);
  });
});
