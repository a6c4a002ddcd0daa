/**
 * Lanczos' lean end (LanczosOptions.lean: no restarts, T's eigenvectors by inverse iteration,
 * a verified sample of residuals, Ritz vectors formed only on demand), against a diagonal operator
 * with a known spectrum: exact eigenvalues, exact projections (the top-k eigenvectors of a diagonal
 * are coordinate vectors), and against the ordinary end of the same run.
 */
import { describe, expect, it } from 'vitest';
import { lanczosTopK } from '../../src/core/linalg/lanczos';
import type { SymOperator } from '../../src/core/linalg/operator';
import { makeRng } from '../../src/core/rng';

const d = 2500;
// A decaying spectrum with a shuffled order, so eigenvectors are not the first coordinates.
const rng = makeRng(21);
const perm = Array.from({ length: d }, (_, i) => i).sort(() => rng.next() - 0.5);
const diag = new Float64Array(d);
perm.forEach((p, i) => { diag[p] = 10 / (1 + i) ** 1.2 + 1e-3 * Math.sin(i); });
const op: SymOperator = { d, apply: async (x) => { const y = new Float64Array(d); for (let i = 0; i < d; i++) y[i] = diag[i] * x[i]; return y; } };
const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => diag[b] - diag[a]);

describe('Lanczos lean end', () => {
  it('exact eigenvalues, verified residuals, projections and single Ritz vectors of a diagonal operator', async () => {
    const k = 120, tol = 1e-8;
    const r = await lanczosTopK(op, k, { seed: 4, tol, lean: true, maxBasis: 600, verifySample: 20 });
    expect(r.lean).toBeDefined();
    expect(r.vectors).toBeUndefined();
    expect(r.restarts).toBe(0);
    expect(r.values.length).toBe(k);
    expect(r.converged).toBe(k);
    for (let i = 0; i < k; i++) expect(Math.abs(r.values[i] - diag[order[i]])).toBeLessThan(1e-9 * r.scale);
    const lean = r.lean!;
    expect(lean.verified.length).toBeGreaterThanOrEqual(20);
    for (const i of lean.verified) expect(r.residuals[i]).toBeLessThan(tol * r.scale);
    expect(lean.orthogonality).toBeLessThan(1e-9);
    // P_j x keeps x's coordinates on the top j eigenvalues and zeroes the rest.
    const x = Float32Array.from({ length: d }, () => rng.normal());
    const ks = [1, 7, 50, 120];
    await lean.projections(x, ks, async (j, xj) => {
      const keep = new Set(order.slice(0, j));
      let err = 0;
      for (let i = 0; i < d; i++) err = Math.max(err, Math.abs(xj[i] - (keep.has(i) ? x[i] : 0)));
      expect(err).toBeLessThan(1e-5);
    });
    const vs = await lean.vectors(5);
    expect(vs.length).toBe(5);
    for (let i = 0; i < 5; i++) expect(Math.abs(Math.abs(vs[i][order[i]]) - 1)).toBeLessThan(1e-8);
  });

  it("gives the ordinary end's eigenvalues", async () => {
    const a = await lanczosTopK(op, 60, { seed: 9, tol: 1e-8, lean: true, maxBasis: 400 });
    const b = await lanczosTopK(op, 60, { seed: 9, tol: 1e-8, maxBasis: 400 });
    expect(b.restarts).toBe(0);
    // The same recurrence; the lean run checks convergence on its own cadence, spaced by measured
    // time (5× a check's time in steps), so it may stop some steps apart: on a loaded machine (another
    // test file beside it) a slow check spaced them 60 apart once.
    expect(Math.abs(a.iterations - b.iterations)).toBeLessThan(150);
    for (let i = 0; i < 60; i++) expect(Math.abs(a.values[i] - b.values[i])).toBeLessThan(1e-9 * a.scale);
  });

  it('a full basis ends the run (no restart), keeping the leading converged pairs', async () => {
    const r = await lanczosTopK(op, 400, { seed: 2, tol: 1e-10, lean: true, maxBasis: 430 });
    expect(r.basisFull).toBe(true);
    expect(r.stopped).toBe(true);
    expect(r.restarts).toBe(0);
    expect(r.values.length).toBeLessThan(400);
    expect(r.values.length).toBeGreaterThan(0);
    for (let i = 0; i < r.values.length; i++) expect(Math.abs(r.values[i] - diag[order[i]])).toBeLessThan(1e-9 * r.scale);
  });
});
