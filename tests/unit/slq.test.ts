import { describe, expect, test } from 'vitest';
import { eighSync } from '../../src/core/linalg/eigh';
import type { SymOperator } from '../../src/core/linalg/operator';
import { countAbove, densityOnGrid, hutchinsonTrace, slqDensity } from '../../src/core/linalg/slq';
import { CancelledError, createJobContext } from '../../src/core/jobs';
import { BadInputError } from '../../src/core/errors';
import { denseOperator, matrixWithSpectrum } from './helpers/linalg';

// ---- independent references -------------------------------------------------------------

/** Dense A = Σ λ_k q_k q_kᵀ; the operator records every vector it is applied to. */
function knownOperator(lambda: number[], seed: number): { A: Float64Array; op: SymOperator; inputs: Float64Array[] } {
  const A = matrixWithSpectrum(lambda, seed);
  const inputs: Float64Array[] = [];
  return { A, op: denseOperator(A, lambda.length, (v) => inputs.push(v.slice())), inputs };
}

/** A spectrum with a clear gap: 100 eigenvalues in [1, 10], 300 exact zeros (d = 400). */
const D = 400;
const LAMBDA = Array.from({ length: D }, (_, i) => (i < 100 ? 1 + 9 * ((i * 37) % 100) / 99 : 0));

function trapezoid(grid: Float64Array, f: Float64Array): number {
  let s = 0;
  for (let i = 1; i < grid.length; i++) s += 0.5 * (f[i] + f[i - 1]) * (grid[i] - grid[i - 1]);
  return s;
}

// ---- tests -------------------------------------------------------------------------------

describe('slqDensity', () => {
  const { A, op, inputs } = knownOperator(LAMBDA, 1);
  const exact = eighSync(A, D, { vectors: false }).values;

  test('per probe: weights sum to 1, nodes lie in [λmin, λmax], and the quadrature is exact to degree 2m−1', async () => {
    inputs.length = 0;
    const steps = 6, probes = 3;
    const slq = await slqDensity(op, { probes, steps, seed: 2 });
    expect(slq.nodes).toHaveLength(probes);
    expect(slq.matvecs).toBe(probes * steps);
    for (let p = 0; p < probes; p++) {
      const th = slq.nodes[p], w = slq.weights[p];
      expect(th).toHaveLength(steps);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 13);
      for (let i = 0; i < th.length; i++) {
        expect(th[i]).toBeLessThanOrEqual(exact[0] + 1e-10);
        expect(th[i]).toBeGreaterThanOrEqual(exact[D - 1] - 1e-10);
        expect(w[i]).toBeGreaterThanOrEqual(0);
      }
      // Gauss quadrature with m nodes integrates polynomials of degree ≤ 2m − 1 exactly:
      // Σ τ_i θ_i^j = vᵀ A^j v for the probe v (the first vector the probe's run applied A to).
      const v = inputs[p * steps];
      let x = v.slice();
      for (let j = 1; j <= 2 * steps - 1; j++) {
        const y = new Float64Array(D);
        for (let r = 0; r < D; r++) { let s = 0; for (let c = 0; c < D; c++) s += A[r * D + c] * x[c]; y[r] = s; }
        x = y;
        let moment = 0;
        for (let r = 0; r < D; r++) moment += v[r] * x[r];
        let quad = 0;
        for (let i = 0; i < th.length; i++) quad += w[i] * th[i] ** j;
        expect(Math.abs(quad - moment)).toBeLessThanOrEqual(1e-11 * 10 ** j);
      }
      // The probe is Rademacher: all entries ±1/√d.
      for (let r = 0; r < D; r++) expect(Math.abs(v[r])).toBeCloseTo(1 / Math.sqrt(D), 15);
    }
  });

  test('the density integrates to d (linear and log10 space)', async () => {
    const slq = await slqDensity(op, { probes: 4, steps: 30, seed: 3 });
    const sigma = 0.2;
    const grid = Float64Array.from({ length: 4001 }, (_, i) => -3 + (i * 16) / 4000);
    const rho = densityOnGrid(slq, grid, sigma, D);
    expect(trapezoid(grid, rho)).toBeCloseTo(D, 6);
    // In log10 space the nodes at or below the floor drop out; what remains integrates to their complement.
    const floor = 1e-6;
    const lgrid = Float64Array.from({ length: 4001 }, (_, i) => -8 + (i * 10) / 4000);
    const lrho = densityOnGrid(slq, lgrid, 0.05, D, { space: 'log10', floor });
    const above = countAbove(slq, floor, D).mean;
    expect(trapezoid(lgrid, lrho)).toBeCloseTo(above, 6);
    expect(above).toBeGreaterThan(50);
    expect(above).toBeLessThan(150);
  });

  test('countAbove matches the exact d1(ε) from eigh within its error band (clear spectral gap)', async () => {
    const slq = await slqDensity(op, { probes: 30, steps: 25, seed: 4 });
    const eps = 0.5;
    let exactCount = 0;
    for (const h of exact) if (h > eps) exactCount++;
    expect(exactCount).toBe(100);
    const c = countAbove(slq, eps, D);
    expect(Math.abs(c.mean - exactCount)).toBeLessThanOrEqual(3 * c.stderr);
    expect(c.min).toBeLessThanOrEqual(exactCount);
    expect(c.max).toBeGreaterThanOrEqual(exactCount);
    // The band is informative, not vacuous: Rademacher probes give a few-percent spread.
    expect(c.stderr).toBeLessThan(5);
    expect(c.stderr).toBeGreaterThan(0);
    // Every node sits on one side of the gap, so the count is flat across it.
    expect(countAbove(slq, 0.1, D).mean).toBeCloseTo(c.mean, 6);
    expect(countAbove(slq, 0.9, D).mean).toBeCloseTo(c.mean, 6);
    expect(countAbove(slq, 11, D).mean).toBe(0);
    expect(countAbove(slq, -1, D).mean).toBeCloseTo(D, 9);
  });

  test('steps = d on a small operator recovers the exact spectrum as nodes', async () => {
    const lambda = [3, 2, 2, 1, 0, 0, 0, 0.5];
    const small = knownOperator(lambda, 5);
    const slq = await slqDensity(small.op, { probes: 2, steps: 8, seed: 6 });
    const distinct = [3, 2, 1, 0.5, 0];
    for (let p = 0; p < 2; p++) {
      // Invariant after as many steps as distinct eigenvalues: the run stops early, quadrature exact.
      expect(slq.nodes[p]).toHaveLength(distinct.length);
      for (let i = 0; i < distinct.length; i++) expect(slq.nodes[p][i]).toBeCloseTo(distinct[i], 10);
    }
  });

  test('a basis that does not fit the memory budget is refused with the bytes needed', async () => {
    const err = await slqDensity(op, { probes: 1, steps: 100, seed: 1, memoryBudgetBytes: 100_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toContain((100 * D * 4).toLocaleString('en-US'));
    // Float64 does not fit but Float32 does: the basis switches precision.
    const f32 = await slqDensity(op, { probes: 1, steps: 10, seed: 1, memoryBudgetBytes: 10 * D * 6 });
    expect(f32.storage).toBe('f32');
    expect(f32.weights[0].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  test('deterministic for a seed; progress and cancellation', async () => {
    const a = await slqDensity(op, { probes: 2, steps: 10, seed: 9 });
    const b = await slqDensity(op, { probes: 2, steps: 10, seed: 9 });
    expect(Array.from(b.nodes[1])).toEqual(Array.from(a.nodes[1]));
    const seen: string[] = [];
    await slqDensity(op, { probes: 2, steps: 5, seed: 9, ctx: createJobContext({ onProgress: (_f, p) => seen.push(p) }) });
    expect(seen[seen.length - 1]).toBe('SLQ probe 2/2, step 5/5');

    const ac = new AbortController();
    const ctx = createJobContext({ signal: ac.signal });
    let n = 0;
    const run = slqDensity(op, { probes: 50, steps: 40, seed: 1, ctx: { ...ctx, progress: () => { if (++n === 30) ac.abort(); } } });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(n).toBeLessThan(40);
  });
});

describe('hutchinsonTrace', () => {
  test('within 3 standard errors of the exact trace', async () => {
    const lambda = Array.from({ length: 200 }, (_, i) => (i < 50 ? 1 + i / 10 : 0));
    const { op } = knownOperator(lambda, 7);
    const exact = lambda.reduce((a, b) => a + b, 0);
    const t = await hutchinsonTrace(op, { probes: 60, seed: 8 });
    expect(t.samples).toHaveLength(60);
    expect(t.stderr).toBeGreaterThan(0);
    expect(Math.abs(t.mean - exact)).toBeLessThanOrEqual(3 * t.stderr);
    // The standard error is the sample standard deviation over √P.
    const m = t.samples.reduce((a, b) => a + b, 0) / 60;
    const sd = Math.sqrt(t.samples.reduce((a, b) => a + (b - m) ** 2, 0) / 59);
    expect(t.stderr).toBeCloseTo(sd / Math.sqrt(60), 12);
  });

  test('exact for a diagonal operator (zᵀ D z = tr D for ±1 entries)', async () => {
    const diag = Float64Array.from({ length: 30 }, (_, i) => i * 0.5);
    const op: SymOperator = { d: 30, apply: async (v) => v.map((x, i) => x * diag[i]) };
    const t = await hutchinsonTrace(op, { probes: 5, seed: 1 });
    expect(t.mean).toBeCloseTo(diag.reduce((a, b) => a + b, 0), 12);
    expect(t.stderr).toBeCloseTo(0, 12);
  });
});
