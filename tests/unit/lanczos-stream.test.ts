/**
 * Issue 13's additions to Lanczos: streaming checks (converged eigenvalues and projections on the
 * converged Ritz vectors while the run goes on) and stopping early with only what converged —
 * against the exact eigenpairs of a matrix built from a known spectrum and basis.
 */
import { describe, expect, test } from 'vitest';
import { lanczosTopK, type LanczosCheck } from '../../src/core/linalg/lanczos';
import { denseOperator, matrixWithSpectrum, randomOrthonormalRows } from './helpers/linalg';
import { continueCost, defaultSpectrumPlan, maxLanczosK, MODADD_K } from '../../src/core/spectrum/plan';
import { epsGuide, explainEps } from '../../src/core/spectrum/epsilon';
import { planBasis } from '../../src/core/linalg/krylovBasis';

const D = 300;
const SEED = 5;
const LAMBDA = Array.from({ length: D }, (_, i) => (i < 80 ? 10 * Math.exp(-i / 12) : 0));
const A = matrixWithSpectrum(LAMBDA, SEED);
const Q = randomOrthonormalRows(D, SEED); // Q[k] is the eigenvector of LAMBDA[k]

/** Σ_{i<j} (q_iᵀx) q_i, in Float64, from the known basis. */
function exactProjection(x: Float32Array, j: number): Float64Array {
  const out = new Float64Array(D);
  for (let i = 0; i < j; i++) {
    let c = 0;
    for (let t = 0; t < D; t++) c += Q[i][t] * x[t];
    for (let t = 0; t < D; t++) out[t] += c * Q[i][t];
  }
  return out;
}

describe('Lanczos streaming checks', () => {
  test('report converged leading eigenvalues and exact projections on their span while running', async () => {
    const checks: { converged: number; values: Float64Array; size: number }[] = [];
    const x = Float32Array.from({ length: D }, (_, i) => Math.sin(i + 1));
    let projErr = 0, projected = 0;
    const r = await lanczosTopK(denseOperator(A, D), 40, {
      seed: 2, tol: 1e-8, checkEveryMs: 0,
      onCheck: async (c: LanczosCheck) => {
        checks.push({ converged: c.converged, values: c.values.slice(), size: c.size });
        // Project only when the converged count moved (the calls are at every step with checkEveryMs: 0).
        if (checks.length > 1 && checks[checks.length - 2].converged === c.converged) return;
        const ks = [1, Math.max(1, Math.floor(c.converged / 2)), c.converged].filter((k, i, a) => k >= 1 && k <= c.converged && a.indexOf(k) === i);
        await c.projections(x, ks, async (k, xk) => {
          const ref = exactProjection(x, k);
          let e = 0, n = 0;
          for (let t = 0; t < D; t++) { e += (xk[t] - ref[t]) ** 2; n += ref[t] ** 2; }
          projErr = Math.max(projErr, Math.sqrt(e / Math.max(n, 1e-30)));
          projected++;
        });
      },
    });
    expect(r.converged).toBe(40);
    // Streamed before the basis reached k, and the converged count grows.
    const early = checks.filter((c) => c.size < 40 && c.converged > 0);
    expect(early.length).toBeGreaterThan(0);
    const counts = checks.map((c) => c.converged);
    expect(Math.max(...counts)).toBeGreaterThan(Math.min(...counts));
    // Every converged value reported is an eigenvalue (to the tolerance), in order.
    for (const c of checks) for (let i = 0; i < c.converged; i++) expect(Math.abs(c.values[i] - LAMBDA[i])).toBeLessThan(1e-6 * LAMBDA[0]);
    expect(projected).toBeGreaterThanOrEqual(3);
    expect(projErr).toBeLessThan(1e-4);
  });

  test('shouldStop ends the run early and keeps only the leading converged pairs, verified', async () => {
    let applies = 0;
    const op = denseOperator(A, D, () => { applies++; });
    const r = await lanczosTopK(op, 70, { seed: 2, tol: 1e-8, shouldStop: () => applies >= 45, wantVectors: true });
    expect(r.stopped).toBe(true);
    expect(r.values.length).toBeGreaterThan(0);
    expect(r.values.length).toBeLessThan(70);
    for (let i = 0; i < r.values.length; i++) {
      expect(Math.abs(r.values[i] - LAMBDA[i])).toBeLessThan(1e-6 * LAMBDA[0]);
      expect(r.residuals[i]).toBeLessThan(1e-6 * LAMBDA[0]);
    }
    expect(r.vectors!.length).toBe(r.values.length);
  });
});

describe('default spectrum plan and the cost of going on', () => {
  test('modadd asks for top 1,100 (seed 002: k* = 1,032), mnist-mlp for what the budget holds, matfac for the dense spectrum', () => {
    expect(defaultSpectrumPlan('modadd', 86197)).toMatchObject({ method: 'lanczos', k: MODADD_K });
    expect(defaultSpectrumPlan('matfac', 800)).toMatchObject({ method: 'dense', k: 800 });
    const mn = defaultSpectrumPlan('mnist-mlp', 42310);
    expect(mn.method).toBe('lanczos');
    // The plan fits the basis budget, one more does not (independently of maxLanczosK's search).
    expect(() => planBasis(42310, mn.k, {})).not.toThrow();
    expect(() => planBasis(42310, mn.k + 1, {})).toThrow();
    expect(maxLanczosK(42310)).toBe(mn.k);
  });
  test('continueCost extrapolates between k and k² and counts the Float32 basis', () => {
    const c = continueCost(1000, 100, 10, 400);
    expect(c.seconds).toBeGreaterThanOrEqual(40);
    expect(c.seconds).toBeLessThanOrEqual(160);
    expect(c.bytes).toBe(Math.ceil(1.4 * 400) * 1000 * 4);
  });
});

describe('ε guide', () => {
  const top = Array.from({ length: 40 }, (_, i) => 10 * 0.9 ** i);
  const noise = Array.from({ length: 60 }, (_, i) => 3e-7 * 0.99 ** i);
  const v = Float64Array.from([...top, ...noise]);
  test('the drop to the numerical floor counts as a gap; the default ε sits in it when k* is unknown', () => {
    const g = epsGuide({ eigenvalues: v, floor: { floor: 1e-6 } });
    expect(g.epsStar).toBeNull();
    expect(g.source).toBe('largest-gap');
    expect(g.gaps[0].index).toBe(39);
    expect(g.gaps[0].lower).toBe(1e-6);
    expect(v.filter((h) => h > g.defaultEps).length).toBe(40);
    expect(g.defaultEps).toBeGreaterThan(1e-6);
  });
  test('explains a collapsed interval and ε below the floor in words', () => {
    expect(explainEps({ d: 100, d1: 100, eps: 1e-9, floor: 1e-6, h1: 10 })).toMatch(/below the numerical floor.*d − d₁ = 0/s);
    expect(explainEps({ d: 100, d1: 0, eps: 100, floor: 1e-6, h1: 10 })).toMatch(/above the largest eigenvalue/);
    expect(explainEps({ d: 100, d1: 40, eps: 1e-3, floor: 1e-6, h1: 10 })).toBeNull();
  });
});
