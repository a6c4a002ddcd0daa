import { describe, expect, it } from 'vitest';
import { defaultEps, largestLogGaps } from '../../src/core/spectrum/epsilon';

/** Seeded LCG so the synthetic spectra are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A synthetic spectrum: `nTop` values spread over [1e-1, 1e1], then a known gap, then `nBulk` in [1e-7, 1e-5]. */
function synthetic(seed: number, nTop: number, nBulk: number): Float64Array {
  const r = rng(seed);
  const v: number[] = [];
  for (let i = 0; i < nTop; i++) v.push(10 ** (-1 + 2 * r()));
  for (let i = 0; i < nBulk; i++) v.push(10 ** (-7 + 2 * r()));
  return Float64Array.from(v.sort((a, b) => b - a));
}

describe('default ε rule', () => {
  it('picks the known gap of a synthetic spectrum (between the top cluster and the bulk)', () => {
    for (const seed of [1, 2, 3]) {
      const v = synthetic(seed, 40, 400);
      const lowestTop = v[39], highestBulk = v[40];
      const d = defaultEps(v, 1e-9);
      expect(d.source).toBe('largest-gap');
      expect(d.gap!.index).toBe(39);
      expect(d.eps).toBeGreaterThan(highestBulk);
      expect(d.eps).toBeLessThan(lowestTop);
      expect(d.eps).toBeCloseTo(Math.sqrt(lowestTop * highestBulk), 12);
      // Counting above the chosen ε gives exactly the top cluster.
      expect(v.filter((x) => x > d.eps).length).toBe(40);
    }
  });

  it('ignores gaps below the floor', () => {
    // A wider gap in the noise (1e-12 → 1e-22) than the real one (1 → 1e-3): the floor hides it.
    const v = Float64Array.from([10, 5, 1, 1e-3, 5e-4, 2e-4, 1e-12, 1e-22]);
    expect(largestLogGaps(v, 0, 1)[0].index).toBe(6);
    const d = defaultEps(v, 1e-6);
    expect(d.gap!.index).toBe(2);
    expect(d.eps).toBeCloseTo(Math.sqrt(1e-3), 12);
  });

  it('prefers ε* when known and above the floor, and falls back otherwise', () => {
    const v = synthetic(7, 10, 50);
    expect(defaultEps(v, 1e-9, 3e-3)).toEqual({ eps: 3e-3, source: 'eps-star' });
    expect(defaultEps(v, 1e-2, 3e-3).source).toBe('largest-gap');
    expect(defaultEps(v, 1e-9, NaN).source).toBe('largest-gap');
  });

  it('says none when there is no gap above the floor', () => {
    expect(defaultEps(Float64Array.from([1, 1e-9]), 1e-6).source).toBe('none');
    expect(Number.isNaN(defaultEps(Float64Array.from([]), 0).eps)).toBe(true);
  });

  it('lists gaps widest first', () => {
    const g = largestLogGaps(Float64Array.from([1000, 100, 99, 1, 0.5]), 0, 3);
    expect(g.map((x) => x.index)).toEqual([2, 0, 3]);
    expect(g[0].width).toBeCloseTo(Math.log10(99), 12);
  });
});
