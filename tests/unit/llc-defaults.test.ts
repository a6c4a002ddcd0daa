/**
 * The LLC estimator with its defaults (no per-case options): the exactness of the
 * Metropolis-adjusted chains, the health verdict on bad and on calibrated settings, and normal
 * crossings against an independent quadrature of the posterior the chains sample.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { estimateLlc, estimateOnTarget, polynomialTarget, type SgldPartial } from '../../src/core/llc/sgld';
import { createJobContext } from '../../src/core/jobs';
import { makeRng } from '../../src/core/rng';
import { aoyagiRrr, rrrProblem } from './helpers/rrr';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);
const ctx = () => createJobContext<SgldPartial>();

/**
 * E[nβ K] under the density ∝ exp(−nβ K(w) − (γ/2)‖w‖²) on ℝ², K = w1^{2k1} w2^{2k2}, by a
 * trapezoid rule on log-spaced |w_i| = e^s (dw = w ds) over the positive quadrant (the integrand is
 * even in each coordinate). The mass piles up near the axes, at widths down to nβ^{-1/(2k)}: the
 * log grid resolves every scale from e^{-45} to 12 prior standard deviations.
 */
function crossingReference(k1: number, k2: number, nBeta: number, gamma: number): number {
  const lo = -45, hi = Math.log(12 / Math.sqrt(gamma)), m = 3000, ds = (hi - lo) / (m - 1);
  const w = Float64Array.from({ length: m }, (_, i) => Math.exp(lo + i * ds));
  const prior = Float64Array.from(w, (v) => Math.exp(-0.5 * gamma * v * v) * v); // includes the Jacobian w
  const p1 = Float64Array.from(w, (v) => v ** (2 * k1)), p2 = Float64Array.from(w, (v) => v ** (2 * k2));
  let z = 0, e = 0;
  for (let i = 0; i < m; i++) {
    const wi = i === 0 || i === m - 1 ? 0.5 : 1;
    for (let j = 0; j < m; j++) {
      const wj = j === 0 || j === m - 1 ? 0.5 : 1;
      const bk = nBeta * p1[i] * p2[j];
      const f = wi * wj * prior[i] * prior[j] * Math.exp(-bk);
      z += f;
      e += f * bk;
    }
  }
  return e / z;
}

describe('Metropolis-adjusted Langevin on a Gaussian posterior', () => {
  /** One linear unit on orthonormal rows: L(w) = ½‖w − w*‖²_S per row mean with known Hessian. */
  function gaussianTarget(h: number[]) {
    const m = h.length;
    // Rows x_i = √(h_i · m) e_i with y = 0 at w* = 0: the Gaussian NLL ½ (w·x)² averaged over m rows
    // has Hessian diag(h).
    const x = new Float32Array(m * m);
    for (let i = 0; i < m; i++) x[i * m + i] = Math.sqrt(h[i] * m);
    const ds = {
      kind: 'matfac' as const, label: 'gaussian', n: m, inputDim: m, x, y: new Float32Array(m), outDim: 1,
      trainIdx: Int32Array.from({ length: m }, (_, i) => i), testIdx: new Int32Array(0),
    };
    const model = { name: 'g', config: { arch: 'matfac' as const, widths: [m, 1] }, theta: new Float32Array(m), data: { kind: 'matfac' as const, inDim: m, outDim: 1, nTrain: m, seed: 0 } };
    return { ds, model };
  }

  test('a step far too large for the unadjusted chain still gives the exact E[nβ(L − L*)] = Σ ½·nβh/(nβh + γ), and the acceptance matches a Float64 MALA', async () => {
    const h = [4, 1, 0.25, 0.0625], nBeta = 50, gamma = 2, eps = 0.018;
    const { ds, model } = gaussianTarget(h);
    const exact = h.reduce((s, v) => s + (0.5 * nBeta * v) / (nBeta * v + gamma), 0); // 1.793…
    const o = { nBeta, gamma, stepSize: eps, chains: 4, burnin: 300, draws: 3000, batchSize: 'full' as const, seed: 5, calibrate: false };
    const before = tf.memory().numTensors;
    const adjusted = await estimateLlc(model, ds, o, ctx());
    const unadjusted = await estimateLlc(model, ds, { ...o, metropolis: false }, ctx());
    expect(tf.memory().numTensors).toBe(before);
    // The unadjusted chain at this step: each direction's variance is inflated by 1/(1 − a/2), a = ε(nβh + γ)/2
    // (for the stiffest direction a = 1.82): the bias is large and positive.
    const ulaBias = h.reduce((s, v) => { const a = (eps * (nBeta * v + gamma)) / 2; const q = (nBeta * v) / (nBeta * v + gamma); return s + 0.5 * q * (1 / (1 - a / 2) - 1); }, 0);
    expect(ulaBias).toBeGreaterThan(0.5);
    expect(unadjusted.llc.mean - exact).toBeGreaterThan(0.25);
    expect(Math.abs(adjusted.llc.mean - exact)).toBeLessThan(Math.max(3 * adjusted.llc.stderr, 0.06 * exact));
    expect(adjusted.notes.join(' ')).toContain('Metropolis-adjusted');
    // Reference acceptance: textbook MALA with rejection in Float64 on U(v) = Σ ½(nβh_i + γ)v_i².
    const c = h.map((v) => nBeta * v + gamma);
    const U = (v: number[]) => v.reduce((s, x, i) => s + 0.5 * c[i] * x * x, 0);
    const logQ = (to: number[], from: number[]) => -to.reduce((s, t, i) => s + (t - from[i] + (eps / 2) * c[i] * from[i]) ** 2, 0) / (2 * eps);
    const rng = makeRng(17);
    let v = h.map(() => 0), acc = 0, count = 0;
    for (let t = 0; t < 60_000; t++) {
      const y = v.map((x, i) => x - (eps / 2) * c[i] * x + Math.sqrt(eps) * rng.normal());
      const a = Math.min(1, Math.exp(-U(y) + U(v) + logQ(v, y) - logQ(y, v)));
      if (t >= 500) { acc += a; count++; }
      if (rng.next() < a) v = y;
    }
    expect(acc / count).toBeLessThan(0.85);
    expect(Math.abs((adjusted.meanAcceptance as number) - acc / count)).toBeLessThan(0.04);
  }, 180_000);
});

describe('health verdicts with the defaults and on deliberately bad settings', () => {
  const pr = rrrProblem({ inDim: 5, hidden: 3, outDim: 5, rank: 0, n: 1000, seed: 7 });

  test('calibrated defaults on reduced-rank regression 5→3→5: ok, with a reason for every setting', async () => {
    const r = await estimateLlc(pr.model, pr.ds, {}, ctx());
    expect(r.health.verdict).toBe('ok');
    expect(r.calibration).toBeDefined();
    for (const k of ['gamma', 'stepSize', 'burnin', 'draws'] as const) expect(r.calibration!.reasons[k].length).toBeGreaterThan(10);
    expect(r.loss).toBe('nll');
    // Aoyagi's λ = 6.5; see the README's table for how close the defaults come over settings.
    expect(r.llc.mean).toBeGreaterThan(0.75 * pr.lambda);
    expect(r.llc.mean).toBeLessThan(1.3 * pr.lambda);
  }, 240_000);

  test('γ = 1e4: the localization dominates → doubtful', async () => {
    const r = await estimateLlc(pr.model, pr.ds, { gamma: 1e4 }, ctx());
    expect(r.health.verdict).not.toBe('ok');
    expect(r.health.reasons.join(' ')).toMatch(/localization dominates/);
  }, 240_000);

  test('ε_s = 0.1: the step is far too large → not ok, and the reason names the acceptance or the divergence', async () => {
    const r = await estimateLlc(pr.model, pr.ds, { stepSize: 0.1, burnin: 200, draws: 200 }, ctx());
    expect(r.health.verdict).not.toBe('ok');
    expect(r.health.reasons.join(' ')).toMatch(/acceptance|diverged|effective draws/);
  }, 240_000);

  test('10 draws: too few effective draws → not ok', async () => {
    const r = await estimateLlc(pr.model, pr.ds, { draws: 10 }, ctx());
    expect(r.health.verdict).not.toBe('ok');
    expect(r.health.reasons.join(' ')).toMatch(/effective draws|drift|disagree/);
  }, 240_000);
});

describe('normal crossings (w1^k1 w2^k2)² with the defaults', () => {
  test('the quadrature reference reproduces SCIENCE §9 for (1,1): ½ − 1/(2 − ln ε) at large nβ, roughly', () => {
    // Not the same object (box [−1,1]² volume vs a Gaussian-localized Gibbs mean), but both approach
    // ½ from below as 1/log: at nβ = 1e8 both lie between 0.40 and 0.47.
    const v = crossingReference(1, 1, 1e8, 1);
    expect(v).toBeGreaterThan(0.4);
    expect(v).toBeLessThan(0.47);
    // A regular direction pair (k = 1 in a quadratic) would give 1; the flat axes pull it to ≈ ½.
  });

  test.each([[1, 1], [2, 2], [1, 3]])('(%i,%i): no divergence, and λ̂ within 10 percent (or 2.5 s.e., an s.e. under 8 %) of the exact posterior mean at the chosen γ', async (k1, k2) => {
    const target = polynomialTarget({ powers: [k1, k2], n: 1e6 });
    try {
      const r = await estimateOnTarget(target, {}, ctx(), 1e-3, null);
      expect(r.diverged).toBeUndefined();
      expect(r.health.verdict).not.toBe('failed');
      const ref = crossingReference(k1, k2, r.options.nBeta, r.options.gamma);
      // nβK is heavy-tailed along the crossing's arms: with the work budget the standard error is
      // 2–6 % of λ̂ (2026-12-07, seeds 0–3; the calibration aims for 3 % and the budget stops it),
      // so a 10 % band alone would fail now and then for an exact sampler. The s.e. itself is
      // bounded, so an imprecise estimate cannot pass on its width.
      expect(r.llc.stderr / ref).toBeLessThan(0.08);
      expect(Math.abs(r.llc.mean - ref) / ref).toBeLessThan(Math.max(0.1, 2.5 * r.llc.stderr / ref));
    } finally {
      target.dispose();
    }
  }, 240_000);
});

describe('reduced-rank regression with the defaults (Aoyagi)', () => {
  // y = A x + N(0, I) with rank-r A on n = 1,000 Gaussian rows; w* the exact rank-H least-squares
  // fit (helpers/rrr.ts, Float64 Jacobi, independent of src/core); no SGLD option given.
  //
  // Which settings: λ̂ = nβ(E[L(w)] − L(w*)) is taken at the fit w*, not at the true map w₀, and the
  // fit sits below w₀ by the noise its extra directions absorb: nβ(L(w₀) − L(w*)) ≈ k/(2 log n), k the
  // dimension of rank-min(H, M, N) maps minus that of rank-r maps. Where the chains reach w₀'s
  // singular set (small γ) λ̂ carries that offset (README: the rank-0 settings read +13–21 %, 5→3→4
  // with rank 1 +13 %, each close to its offset). The settings here are chosen before running, by
  // that offset being under 8 % of λ; the issue asks for six within 10 % and we run eight.
  const dims = (M: number, k: number, N: number): number => { const q = Math.min(k, M, N); return q * (M + N - q); };
  const cases: [number, number, number, number][] = [[5, 3, 5, 2], [6, 4, 5, 2], [6, 5, 6, 3], [4, 2, 4, 1], [6, 3, 6, 2], [7, 3, 7, 3], [6, 4, 6, 3], [5, 2, 6, 2]];
  test('eight settings of nonzero true rank (noise-fit offset under 8 %): λ̂ within 10 % of Aoyagi λ in at least six, within 20 % in all, none failed', async () => {
    const errors: string[] = [];
    let within = 0;
    for (const [M, H, N, r] of cases) {
      expect(dims(M, H, N) - dims(M, r, N)).toBeLessThan(0.08 * aoyagiRrr(M, H, N, r) * 2 * Math.log(1000));
      const pr = rrrProblem({ inDim: M, hidden: H, outDim: N, rank: r, n: 1000, seed: 7 });
      const res = await estimateLlc(pr.model, pr.ds, {}, ctx());
      const err = (res.llc.mean - pr.lambda) / pr.lambda;
      errors.push(`${M}→${H}→${N} rank ${r}: ${(100 * err).toFixed(1)} % (${res.health.verdict})`);
      expect(res.health.verdict, errors.join('; ')).not.toBe('failed');
      expect(Math.abs(err), errors.join('; ')).toBeLessThan(0.2);
      if (Math.abs(err) < 0.1) within++;
    }
    expect(within, errors.join('; ')).toBeGreaterThanOrEqual(6);
  }, 900_000);

  test('Aoyagi formula: the §9 values', () => {
    expect(aoyagiRrr(5, 3, 5, 0)).toBe(6.5);
    expect(aoyagiRrr(5, 4, 5, 0)).toBe(8);
    expect(aoyagiRrr(4, 3, 8, 0)).toBe(6);
    expect(aoyagiRrr(8, 3, 4, 0)).toBe(6);
    expect(aoyagiRrr(3, 8, 4, 0)).toBe(6);
    expect([0, 1, 5, 10, 20].map((r) => aoyagiRrr(20, 20, 20, r))).toEqual([150, 155, 172, 187.5, 200]);
  });

  test('the fit is the rank-H least-squares solution: no rank-H perturbation lowers the NLL', () => {
    const pr = rrrProblem({ inDim: 4, hidden: 2, outDim: 4, rank: 1, n: 300, seed: 3 });
    const { x, y } = pr.ds as { x: Float32Array; y: Float32Array };
    const M = 4, N = 4, H = 2;
    const nll = (th: Float32Array) => {
      let s = 0;
      for (let t = 0; t < 300; t++) for (let i = 0; i < N; i++) {
        let f = 0;
        for (let k = 0; k < H; k++) { let h = 0; for (let j = 0; j < M; j++) h += th[k * M + j] * x[t * M + j]; f += th[H * M + i * H + k] * h; }
        s += 0.5 * (y[t * N + i] - f) ** 2;
      }
      return s / 300;
    };
    const base = nll(pr.model.theta);
    const rng = makeRng(1);
    for (let trial = 0; trial < 20; trial++) {
      const th = Float32Array.from(pr.model.theta, (v) => v + 1e-2 * rng.normal());
      expect(nll(th)).toBeGreaterThan(base - 1e-9);
    }
  });
});
