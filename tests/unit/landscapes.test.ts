import { describe, expect, test } from 'vitest';
import {
  contourGrid, gibbsLlc, integrate, llcCurve, localLlc, logGrid, makeLandscape, sampleLandscape, sublevelRoot, sublevelVolume,
  type LandscapeSpec,
} from '../../src/core/llc/landscapes';
import { makeRng } from '../../src/core/rng';

// Closed forms derived by hand (independent of the integrator), K on [−1, 1]^m:
// (w1·w2)²:            V = 4√ε (1 − ½ ln ε),            λ = ½ − 1/(2 − ln ε)            (docs/science.md (S22))
// crossing k1 = k2 = k: V = 4δ(1 − ln δ), δ = ε^(1/2k),  λ = 1/(2k) − 1/(2k − ln ε)
// crossing k1 < k2:     V = 4 (k2 ε^(1/2k2) − k1 ε^(1/2k1)) / (k2 − k1)
// min(w1², s·w2⁴):      V = 4(a + b − ab), a = √ε, b = (ε/s)^¼  (union of two strips)
function crossingVolume(k1: number, k2: number, eps: number): number {
  if (k1 > k2) return crossingVolume(k2, k1, eps);
  if (k1 === k2) { const d = eps ** (1 / (2 * k1)); return 4 * d * (1 - Math.log(d)); }
  return (4 * (k2 * eps ** (1 / (2 * k2)) - k1 * eps ** (1 / (2 * k1)))) / (k2 - k1);
}

describe('exact V(ε) and λ(ε)', () => {
  test('(w1·w2)²: λ(ε) = ½ − 1/(2 − ln ε), the docs/science.md §9 values', () => {
    const l = makeLandscape({ kind: 'w1w2' });
    const table: [number, number][] = [[1e-2, 0.3486], [1e-3, 0.3877], [1e-4, 0.4108]];
    for (const [eps, quoted] of table) {
      const lam = localLlc(l, eps);
      expect(Math.abs(lam - (0.5 - 1 / (2 - Math.log(eps))))).toBeLessThan(1e-3);
      expect(Math.abs(lam - quoted)).toBeLessThan(1e-4); // the quoted 4-digit values
      expect(sublevelVolume(l, eps) / (4 * Math.sqrt(eps) * (1 - 0.5 * Math.log(eps)))).toBeCloseTo(1, 10);
    }
    // Tighter than the brief asks: the difference scheme is good to ~1e-9.
    expect(Math.abs(localLlc(l, 1e-6) - (0.5 - 1 / (2 - Math.log(1e-6))))).toBeLessThan(1e-8);
  });

  test('w² → ½ and w⁴ → ¼ at every ε below max K; 0 above', () => {
    const w2 = makeLandscape({ kind: 'w2' }), w4 = makeLandscape({ kind: 'w4' });
    for (const eps of [1e-12, 1e-6, 1e-3, 0.1, 0.9]) {
      expect(localLlc(w2, eps)).toBeCloseTo(0.5, 10);
      expect(localLlc(w4, eps)).toBeCloseTo(0.25, 10);
      expect(sublevelVolume(w2, eps)).toBeCloseTo(2 * Math.sqrt(eps), 12);
      expect(sublevelVolume(w4, eps)).toBeCloseTo(2 * eps ** 0.25, 12);
    }
    expect(localLlc(w2, 2)).toBe(0);
    expect(sublevelVolume(w2, 2)).toBe(2);
  });

  test('c²w² + w⁴: ≈ ½ for ε ≪ c⁴, ≈ ¼ for ε ≫ c⁴, and the closed form in between', () => {
    const c = 0.1; // c⁴ = 1e-4
    const l = makeLandscape({ kind: 'quad-quartic', c });
    expect(localLlc(l, 1e-10)).toBeCloseTo(0.5, 4);
    expect(Math.abs(localLlc(l, 1e-8) - 0.5)).toBeLessThan(1e-3);
    expect(Math.abs(localLlc(l, 0.5) - 0.25)).toBeLessThan(0.005);
    // Closed form: w² = s(ε) = 2ε/(c² + √(c⁴ + 4ε)), λ = ε / (2 s √(c⁴ + 4ε)).
    for (const eps of [1e-5, 1e-4, 1e-3]) {
      const q = Math.sqrt(c ** 4 + 4 * eps), s = (2 * eps) / (c * c + q);
      expect(localLlc(l, eps)).toBeCloseTo(eps / (2 * s * q), 10);
    }
    // λ decreases from ½ to ¼ as ε grows past c⁴.
    const curve = llcCurve(l, logGrid(1e-9, 0.9, 30));
    for (let i = 1; i < curve.llc.length; i++) expect(curve.llc[i]).toBeLessThan(curve.llc[i - 1] + 1e-12);
  });

  test('normal crossings (w1^k1 w2^k2)²: closed forms and the §9 small-ε values (1,1) → ½, (2,2) → ¼, (k,3) → 1/6', () => {
    for (const [k1, k2] of [[1, 3], [2, 3], [3, 3], [2, 2], [1, 1], [3, 1]] as const) {
      const l = makeLandscape({ kind: 'crossing', k1, k2 });
      expect(l.limit.llc).toBeCloseTo(1 / (2 * Math.max(k1, k2)), 12);
      expect(l.limit.multiplicity).toBe(k1 === k2 ? 2 : 1);
      for (const eps of [1e-3, 1e-8, 1e-14]) expect(sublevelVolume(l, eps) / crossingVolume(k1, k2, eps)).toBeCloseTo(1, 9);
    }
    // Distinct powers: power-law approach, so small ε reaches the limit.
    expect(Math.abs(localLlc(makeLandscape({ kind: 'crossing', k1: 1, k2: 3 }), 1e-14) - 1 / 6)).toBeLessThan(1e-3);
    expect(Math.abs(localLlc(makeLandscape({ kind: 'crossing', k1: 2, k2: 3 }), 1e-40) - 1 / 6)).toBeLessThan(1e-3);
    // Equal powers (multiplicity 2): λ = 1/(2k) − 1/(2k − ln ε) exactly, → 1/(2k) only logarithmically.
    for (const k of [1, 2, 3]) {
      const l = makeLandscape({ kind: 'crossing', k1: k, k2: k });
      for (const eps of [1e-4, 1e-12]) expect(localLlc(l, eps)).toBeCloseTo(1 / (2 * k) - 1 / (2 * k - Math.log(eps)), 8);
      expect(Math.abs(localLlc(l, 1e-300) - 1 / (2 * k))).toBeLessThan(0.15 / (2 * k)); // within 15 % at ε = 1e-300
    }
  });

  test('two circuits min(w1², s·w2⁴): union volume, and λ switches from ½ to ¼ as ε falls below 1/s', () => {
    const s = 1e6;
    const l = makeLandscape({ kind: 'two-circuits', s });
    for (const eps of [1e-1, 1e-4, 1e-8, 1e-12]) {
      const a = Math.sqrt(eps), b = (eps / s) ** 0.25;
      expect(sublevelVolume(l, eps) / (4 * (a + b - a * b))).toBeCloseTo(1, 10);
    }
    expect(localLlc(l, 1e-2)).toBeGreaterThan(0.47);
    expect(localLlc(l, 1e-14)).toBeLessThan(0.26);
    expect(l.limit).toEqual({ llc: 0.25, multiplicity: 1 });
  });

  test('V(ε) is nondecreasing in ε for every landscape', () => {
    const specs: LandscapeSpec[] = [{ kind: 'w2' }, { kind: 'w4' }, { kind: 'quad-quartic', c: 0.3 }, { kind: 'w1w2' }, { kind: 'crossing', k1: 2, k2: 3 }, { kind: 'two-circuits' }];
    for (const spec of specs) {
      const l = makeLandscape(spec);
      const curve = llcCurve(l, logGrid(1e-12, 2, 40));
      for (let i = 1; i < curve.volume.length; i++) expect(curve.volume[i]).toBeGreaterThanOrEqual(curve.volume[i - 1]);
      expect(curve.volume[curve.volume.length - 1]).toBeCloseTo(2 ** l.dim, 12);
      for (const v of curve.llc) expect(v).toBeGreaterThanOrEqual(0);
    }
  });

  test('the 2-D integrator agrees with a seeded Monte Carlo estimate of V(ε)', () => {
    const rng = makeRng(42);
    const N = 200_000;
    const pts = new Float64Array(2 * N).map(() => 2 * rng.next() - 1);
    const cases: [LandscapeSpec, number][] = [[{ kind: 'w1w2' }, 1e-2], [{ kind: 'crossing', k1: 1, k2: 2 }, 1e-3], [{ kind: 'two-circuits', s: 100 }, 1e-2], [{ kind: 'crossing', k1: 2, k2: 2 }, 1e-4]];
    for (const [spec, eps] of cases) {
      const l = makeLandscape(spec);
      let hits = 0;
      const w = [0, 0];
      for (let i = 0; i < N; i++) { w[0] = pts[2 * i]; w[1] = pts[2 * i + 1]; if (l.loss(w) < eps) hits++; }
      const p = hits / N;
      const mc = 4 * p, se = 4 * Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(sublevelVolume(l, eps) - mc)).toBeLessThan(4 * se);
    }
  });

  test('2-D λ by differences agrees with the 1-D implicit derivative on a landscape that is really 1-D', () => {
    // (w1²)^k with k2 = 0 is w1^(2k) on the square: V = 4 ε^(1/2k) exactly, λ = 1/(2k).
    const l = makeLandscape({ kind: 'crossing', k1: 2, k2: 0 });
    for (const eps of [1e-9, 1e-3, 0.3]) {
      expect(localLlc(l, eps)).toBeCloseTo(0.25, 8);
      expect(localLlc(l, eps)).toBeCloseTo(localLlc(makeLandscape({ kind: 'w4' }), eps), 8);
    }
  });
});

describe('numerical building blocks', () => {
  test('adaptive Gauss–Kronrod integrates smooth and kinked functions', () => {
    expect(integrate(Math.exp, 0, 1)).toBeCloseTo(Math.E - 1, 13);
    expect(integrate((x) => Math.abs(x - 0.3), 0, 1)).toBeCloseTo(0.3 ** 2 / 2 + 0.7 ** 2 / 2, 10);
    expect(integrate((x) => 1 / Math.sqrt(x), 1e-12, 1, 1e-12)).toBeCloseTo(2 - 2e-6, 8);
  });

  test('sublevelRoot finds tiny roots to relative precision', () => {
    for (const r of [0.5, 1e-3, 1e-9]) expect(sublevelRoot((t) => t * t, r * r) / r).toBeCloseTo(1, 12);
    expect(sublevelRoot((t) => t, 2)).toBe(1);
    expect(sublevelRoot((t) => t + 1, 0.5)).toBe(0);
  });

  test('gradients match central differences', () => {
    const specs: LandscapeSpec[] = [{ kind: 'quad-quartic', c: 0.7 }, { kind: 'crossing', k1: 2, k2: 3 }, { kind: 'two-circuits', s: 3 }];
    for (const spec of specs) {
      const l = makeLandscape(spec);
      const w = l.dim === 1 ? [0.37] : [0.41, -0.63];
      const g = l.grad(w);
      for (let i = 0; i < l.dim; i++) {
        const up = [...w], dn = [...w];
        up[i] += 1e-6; dn[i] -= 1e-6;
        expect(g[i]).toBeCloseTo((l.loss(up) - l.loss(dn)) / 2e-6, 6);
      }
    }
  });

  test('contour grid holds K on the box', () => {
    const l = makeLandscape({ kind: 'w1w2' });
    const g = contourGrid(l, 11);
    expect(g.xs[0]).toBe(-1);
    expect(g.xs[10]).toBe(1);
    expect(g.values.length).toBe(121);
    expect(g.values[3 * 11 + 7]).toBeCloseTo((g.xs[7] * g.xs[3]) ** 2, 14);
    expect(g.maxValue).toBe(1);
    expect(contourGrid(makeLandscape({ kind: 'w4' }), 5).values).toEqual(Float64Array.from([1, 0.0625, 0, 0.0625, 1]));
  });
});

describe('landscape SGLD sampler', () => {
  test('reflected SGLD with γ = 0 estimates the Gibbs average E[nβ K] on the box', () => {
    // w²: ½ (up to box truncation); (w1·w2)²: the log-corrected value at nβ = 100 (≈ 0.348).
    for (const spec of [{ kind: 'w2' }, { kind: 'w1w2' }] as LandscapeSpec[]) {
      const l = makeLandscape(spec);
      const want = gibbsLlc(l, 100);
      const s = sampleLandscape(l, { nBeta: 100, stepSize: 2e-4, steps: 40_000, chains: 8, seed: 1 });
      expect(Math.abs(s.llc.mean - want)).toBeLessThan(3 * s.llc.stderr + 0.01);
      expect(s.llc.stderr).toBeLessThan(0.03);
    }
    expect(gibbsLlc(makeLandscape({ kind: 'w2' }), 100)).toBeCloseTo(0.5, 6);
    // For V = Cε^λ exactly the Gibbs average is λ: the normal crossing (1, 3) at large nβ.
    expect(gibbsLlc(makeLandscape({ kind: 'crossing', k1: 1, k2: 3 }), 1e10)).toBeCloseTo(1 / 6, 2);
  });

  test('seeded, thinned, and the draws stay in the box', () => {
    const l = makeLandscape({ kind: 'w1w2' });
    const o = { nBeta: 10, stepSize: 0.05, steps: 1000, thin: 10, seed: 7, chains: 2 };
    const a = sampleLandscape(l, o), b = sampleLandscape(l, o);
    expect(a.chains[0].positions).toEqual(b.chains[0].positions);
    expect(a.chains[0].positions).not.toEqual(a.chains[1].positions);
    expect(a.chains[0].positions.length).toBe(200);
    for (const v of a.chains[0].positions) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    const other = sampleLandscape(l, { ...o, seed: 8 });
    expect(other.chains[0].positions).not.toEqual(a.chains[0].positions);
  });
});
