/**
 * Inverse iteration for selected eigenvectors of a symmetric tridiagonal (tridiagVectors.ts),
 * against the divide-and-conquer eigenvectors of tridiagEigen and against the definition
 * (residual ‖T y − λ y‖, orthonormality), including Wilkinson's W₂₁⁺, whose largest eigenvalues
 * come in pairs that agree to ~10⁻¹⁴.
 */
import { describe, expect, it } from 'vitest';
import { tridiagEigen } from '../../src/core/linalg/eigh';
import { tridiagInverseIteration } from '../../src/core/linalg/tridiagVectors';
import { makeRng } from '../../src/core/rng';

function check(alpha: Float64Array, beta: Float64Array, count: number, refVectors: boolean): { resid: number; ortho: number; match: number } {
  const m = alpha.length;
  const ref = tridiagEigen(alpha, beta, refVectors);
  const lam = ref.values.slice(0, count);
  const ys: Float64Array[] = [];
  tridiagInverseIteration(alpha, beta, lam, (_, y) => { ys.push(y.slice()); }, { seed: 1 });
  let tn = 0;
  for (let j = 0; j < m; j++) tn = Math.max(tn, Math.abs(alpha[j]) + Math.abs(beta[j - 1] ?? 0) + Math.abs(beta[j] ?? 0));
  let resid = 0, ortho = 0, match = 0;
  for (let i = 0; i < count; i++) {
    const y = ys[i];
    for (let j = 0; j < m; j++) {
      const ty = alpha[j] * y[j] + (j > 0 ? beta[j - 1] * y[j - 1] : 0) + (j < m - 1 ? beta[j] * y[j + 1] : 0);
      resid = Math.max(resid, Math.abs(ty - lam[i] * y[j]) / tn);
    }
    for (let k = Math.max(0, i - 40); k <= i; k++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += y[j] * ys[k][j];
      ortho = Math.max(ortho, Math.abs(s - (k === i ? 1 : 0)));
    }
    if (refVectors) {
      let s = 0;
      for (let j = 0; j < m; j++) s += y[j] * ref.vectors![j * m + i];
      match = Math.max(match, 1 - Math.abs(s));
    }
  }
  return { resid, ortho, match };
}

describe('tridiagInverseIteration', () => {
  it('random tridiagonal: the eigenvectors of divide and conquer, orthonormal, residual at rounding level', () => {
    const rng = makeRng(11);
    const m = 400;
    const alpha = Float64Array.from({ length: m }, () => rng.normal());
    const beta = Float64Array.from({ length: m - 1 }, () => rng.normal());
    const r = check(alpha, beta, m, true);
    expect(r.resid).toBeLessThan(1e-13);
    expect(r.ortho).toBeLessThan(1e-9);
    expect(r.match).toBeLessThan(1e-9);
  });

  it("Wilkinson's W21+ (pairs of eigenvalues equal to 1e-14): each pair comes out orthogonal", () => {
    const m = 21;
    const alpha = Float64Array.from({ length: m }, (_, i) => Math.abs(10 - i));
    const beta = new Float64Array(m - 1).fill(1);
    const vals = tridiagEigen(alpha, beta).values;
    expect(vals[0] - vals[1]).toBeLessThan(1e-12); // the test is about this near-degenerate pair
    const r = check(alpha, beta, m, false);
    expect(r.resid).toBeLessThan(1e-13);
    expect(r.ortho).toBeLessThan(1e-10);
  });

  it('a Lanczos-like T (graded, a wide spread of eigenvalues, gaps down to 1e-9): the top 600 of 900', () => {
    // T of Lanczos on diag(1/i^1.5), i = 1..1500, from a random start: what the top-k solve sees.
    const n = 1500, m = 900;
    const rng = makeRng(3);
    const dg = Float64Array.from({ length: n }, (_, i) => 1 / (1 + i) ** 1.5);
    const V: Float64Array[] = [];
    let v = Float64Array.from({ length: n }, () => rng.normal());
    let nv = Math.hypot(...v); v = v.map((x) => x / nv);
    const alpha = new Float64Array(m), beta = new Float64Array(m - 1);
    for (let j = 0; j < m; j++) {
      V.push(v);
      const w = v.map((x, i) => dg[i] * x);
      for (let pass = 0; pass < 2; pass++) for (const u of V) { let s = 0; for (let i = 0; i < n; i++) s += u[i] * w[i]; for (let i = 0; i < n; i++) w[i] -= s * u[i]; if (pass === 0 && u === v) alpha[j] = s; }
      if (j === m - 1) break;
      nv = 0; for (let i = 0; i < n; i++) nv += w[i] * w[i]; nv = Math.sqrt(nv);
      beta[j] = nv;
      v = w.map((x) => x / nv);
    }
    // alpha from the first pass misses the second pass' rounding-level part: fine for a test matrix.
    const r = check(alpha, beta, 600, false);
    expect(r.resid).toBeLessThan(1e-13);
    expect(r.ortho).toBeLessThan(1e-8);
  });
});
