import { describe, expect, test } from 'vitest';
import {
  boundsBand, hessianCutoff, lossScaleFromNBeta, nBetaFromLossScale, quadraticCurve, quadraticLlc, quadraticPrediction, quadraticTerm, slqTrace,
} from '../../src/core/llc/quadratic';
import { makeRng } from '../../src/core/rng';

/**
 * E[nβ (L − L*)] under ∝ exp(−nβ L(w) − (γ/2)‖w‖²), L = ½ wᵀHw, by brute-force 2-D quadrature
 * (trapezoid on a box of ±12 standard deviations of the widest direction; the integrand is a
 * Gaussian, for which the trapezoid rule converges spectrally).
 */
function gaussianAverage2d(H: [[number, number], [number, number]], nBeta: number, gamma: number): number {
  const L = (x: number, y: number) => 0.5 * (H[0][0] * x * x + 2 * H[0][1] * x * y + H[1][1] * y * y);
  const sd = 1 / Math.sqrt(gamma); // the widest the posterior can be in any direction
  const R = 12 * sd, N = 801, h = (2 * R) / (N - 1);
  let z = 0, m = 0;
  for (let i = 0; i < N; i++) {
    const x = -R + i * h;
    for (let j = 0; j < N; j++) {
      const y = -R + j * h;
      const l = L(x, y);
      const p = Math.exp(-nBeta * l - 0.5 * gamma * (x * x + y * y));
      z += p;
      m += nBeta * l * p;
    }
  }
  return m / z;
}

describe('quadratic prediction λ_quad = Σ ½ nβh/(nβh + γ)', () => {
  test('equals direct numerical integration of the Gaussian-localised quadratic in 2-D', () => {
    // H rotated by 30°, eigenvalues 3 and 0.02: with nβ = 50 and γ = 2 one direction is stiff
    // (nβh = 150 ≫ γ), the other soft (nβh = 1 < γ).
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
    const [h1, h2] = [3, 0.02];
    const H: [[number, number], [number, number]] = [
      [c * c * h1 + s * s * h2, c * s * (h1 - h2)],
      [c * s * (h1 - h2), s * s * h1 + c * c * h2],
    ];
    for (const [nBeta, gamma] of [[50, 2], [1000, 5], [5, 40]]) {
      const brute = gaussianAverage2d(H, nBeta, gamma);
      expect(quadraticLlc([h1, h2], nBeta, gamma)).toBeCloseTo(brute, 8);
    }
  });

  test('limits: nβh ≫ γ counts ½ per direction, nβh ≪ γ counts 0; negative h counts 0', () => {
    const h = [1, 2, 5, 10];
    expect(quadraticLlc(h, 1e9, 1)).toBeCloseTo(2, 6);
    expect(quadraticLlc(h, 1e-9, 1)).toBeCloseTo(0, 6);
    expect(quadraticTerm(1, 7, 7)).toBe(0.25); // nβh = γ: half of ½
    expect(quadraticTerm(-1, 100, 1)).toBe(0);
    expect(quadraticTerm(1, 100, 0)).toBe(0.5);
  });

  test('the loss-scale axis: ε = 1/(nβ), cutoff h = γε where each term is ¼', () => {
    expect(lossScaleFromNBeta(200)).toBe(0.005);
    expect(nBetaFromLossScale(0.005)).toBe(200);
    const eps = 1e-3, gamma = 10;
    expect(quadraticTerm(hessianCutoff(eps, gamma), nBetaFromLossScale(eps), gamma)).toBeCloseTo(0.25, 14);
  });

  test('exact vs SLQ-based agree on a synthetic spectrum (exact quadrature, and with the top k exact)', () => {
    // A spectrum spread over 8 decades: d = 400, h_i = 10^(2 − 8 i/d).
    const d = 400;
    const h = Float64Array.from({ length: d }, (_, i) => 10 ** (2 - (8 * i) / d));
    const nBeta = 1e3, gamma = 10;
    const exact = quadraticLlc(h, nBeta, gamma);
    // (1) A "probe" whose measure is the exact counting measure / d: SLQ reproduces it exactly.
    const uniform = { nodes: [h], weights: [new Float64Array(d).fill(1 / d)] };
    expect(quadraticPrediction({ d, slq: uniform }, nBeta, gamma).value).toBeCloseTo(exact, 10);
    // (2) Random probe measures: each probe puts Dirichlet-like random mass on coarse groups of
    // eigenvalues (mean = the counting measure), like Gauss quadrature of a random unit vector.
    const rng = makeRng(3);
    const P = 40, G = 50;
    const nodes: Float64Array[] = [], weights: Float64Array[] = [];
    for (let p = 0; p < P; p++) {
      const nd = new Float64Array(G), wt = new Float64Array(G);
      let tot = 0;
      for (let g = 0; g < G; g++) {
        // group g = eigenvalues g·8 … g·8 + 7: node at a random member, weight ~ χ²₈ mass
        nd[g] = h[g * 8 + rng.int(8)];
        let m = 0;
        for (let k = 0; k < 8; k++) m += rng.normal() ** 2;
        wt[g] = m;
        tot += m;
      }
      for (let g = 0; g < G; g++) wt[g] /= tot;
      nodes.push(nd); weights.push(wt);
    }
    const slqOnly = quadraticPrediction({ d, slq: { nodes, weights } }, nBeta, gamma);
    expect(slqOnly.source).toBe('slq');
    expect(Math.abs(slqOnly.value - exact)).toBeLessThan(4 * slqOnly.stderr + 0.02 * exact);
    // With the top 60 exact: removing the probes' top mass and adding the exact values keeps the
    // agreement and shrinks the error bar (the stiff, ½-each part is now exact).
    const top = h.subarray(0, 60);
    const combined = quadraticPrediction({ d, eigenvalues: top, slq: { nodes, weights } }, nBeta, gamma);
    expect(combined.source).toBe('top-k+slq');
    expect(Math.abs(combined.value - exact)).toBeLessThan(4 * combined.stderr + 0.02 * exact);
    expect(combined.stderr).toBeLessThan(slqOnly.stderr);
    // All d exact: the exact formula.
    expect(quadraticPrediction({ d, eigenvalues: h }, nBeta, gamma)).toEqual({ value: exact, stderr: 0, source: 'exact' });
  });

  test('slqTrace removes the top mass from each probe before adding the exact eigenvalues', () => {
    // One probe, d = 4, measure 4·(¼δ₈ + ¼δ₄ + ¼δ₂ + ¼δ₁) = the spectrum itself; f = identity.
    const slq = { nodes: [Float64Array.from([8, 4, 2, 1])], weights: [Float64Array.from([0.25, 0.25, 0.25, 0.25])] };
    expect(slqTrace(slq, 4, (x) => x).mean).toBe(15);
    // Top 2 exact as 9 and 5 (pretend SLQ misplaced them): 9 + 5 + 2 + 1.
    expect(slqTrace(slq, 4, (x) => x, [9, 5]).mean).toBe(17);
    // Top 1.5 of mass is not a thing, but partial node removal is: weights ⅜ on 8 removes all of it and ⅛ of 4.
    const skew = { nodes: [Float64Array.from([8, 4, 1])], weights: [Float64Array.from([0.125, 0.375, 0.5])] };
    // counting measure: 0.5·δ8 + 1.5·δ4 + 2·δ1; remove mass 1 from the top → 1·δ4 + 2·δ1; add exact [8].
    expect(slqTrace(skew, 4, (x) => x, [8]).mean).toBe(8 + 4 + 2);
  });

  test('the SLQ standard error is the probe spread over √P (hand-computed)', () => {
    // d = 1, nβ = 1, γ = 1, one node per probe: per-probe value ½·h/(h + 1) = ¼ (h = 1) or ⅜ (h = 3).
    // Probes [¼, ⅜, ¼, ⅜]: mean 5/16; deviations ±1/16, sample variance 4·(1/16)²/3;
    // standard error √(that)/√4 = (1/16)/√3.
    const one = (h: number) => Float64Array.from([h]);
    const slq = { nodes: [one(1), one(3), one(1), one(3)], weights: [one(1), one(1), one(1), one(1)] };
    const e = quadraticPrediction({ d: 1, slq }, 1, 1);
    expect(e.value).toBeCloseTo(5 / 16, 15);
    expect(e.stderr).toBeCloseTo(1 / 16 / Math.sqrt(3), 15);
    const t = slqTrace(slq, 1, (h) => h);
    expect(t.mean).toBe(2);
    expect(t.stderr).toBeCloseTo(Math.sqrt((4 * 1) / 3) / 2, 15); // values 1, 3, 1, 3: deviations ±1
  });

  test('the d1 bounds band along ε with h_cut = γε', () => {
    const d = 10;
    const h = [100, 10, 1, 0.1, 0, 0, 0, 0, 0, 0];
    const gamma = 2;
    const eps = [1e-3, 1e-2, 0.2, 10];
    const band = boundsBand({ d, eigenvalues: h }, eps, gamma);
    // cutoffs 0.002, 0.02, 0.4, 20 → d1 = 4, 4, 3, 1
    expect(Array.from(band.cutoff)).toEqual(eps.map((e) => e * gamma));
    expect(Array.from(band.d1)).toEqual([4, 4, 3, 1]);
    expect(Array.from(band.lower)).toEqual([2, 2, 1.5, 0.5]);
    expect(Array.from(band.upper)).toEqual([2 + 6 / 4, 2 + 6 / 4, 1.5 + 7 / 4, 0.5 + 9 / 4]);
    // The quadratic prediction lies inside the band wherever the spectrum's gaps are wide.
    const q = quadraticCurve({ d, eigenvalues: h }, eps, gamma);
    expect(q.value[0]).toBeGreaterThan(band.lower[0] - 0.1);
    expect(q.value[0]).toBeLessThan(band.upper[0]);
  });
});
