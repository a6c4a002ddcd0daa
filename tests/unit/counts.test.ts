import { describe, expect, test } from 'vitest';
import { countAboveSorted, d1At, llcBounds, type SpectrumLike } from '../../src/core/spectrum/counts';

describe('d1(ε) and the LLC bounds', () => {
  test('bounds d1/2 ≤ λ ≤ d1/2 + (d − d1)/4 on fixtures where d − d1 ≠ d1', () => {
    // By hand: d = 100, d1 = 30 → 15 ≤ λ ≤ 15 + 70/4 = 32.5; d = 10, d1 = 1 → 0.5 ≤ λ ≤ 0.5 + 9/4 = 2.75.
    expect(llcBounds(100, 30)).toEqual({ lower: 15, upper: 32.5 });
    expect(llcBounds(10, 1)).toEqual({ lower: 0.5, upper: 2.75 });
    // The edges: full rank (regular: λ = d/2 exactly) and rank 0 (λ ≤ d/4).
    expect(llcBounds(12, 12)).toEqual({ lower: 6, upper: 6 });
    expect(llcBounds(12, 0)).toEqual({ lower: 0, upper: 3 });
  });

  test('exact counts from a dense spectrum: #{h_i > ε}, strict', () => {
    const s: SpectrumLike = { d: 5, method: 'dense', eigenvalues: Float64Array.from([4, 2, 2, 1e-3, 0]) };
    expect(d1At(s, 3)).toEqual({ value: 1, lo: 1, hi: 1, source: 'exact' });
    expect(d1At(s, 2)).toEqual({ value: 1, lo: 1, hi: 1, source: 'exact' }); // h = ε does not count
    expect(d1At(s, 1e-2)).toEqual({ value: 3, lo: 3, hi: 3, source: 'exact' });
    expect(countAboveSorted([4, 2, 2, 1e-3, 0], -1)).toBe(5);
  });

  test('below the top k, the SLQ estimate with a band of ±2 standard errors over probes', () => {
    // d = 100, top k = 2 computed (both above ε = 0.01). Four probes, each with weight w_p on a
    // node above ε: per-probe counts 100·w_p = 10, 12, 10, 12. By hand: mean 11; sample variance
    // (4·1²)/3 = 4/3; standard error √(4/3)/√4 = 1/√3; band 11 ± 2/√3.
    const probe = (w: number) => ({ nodes: Float64Array.from([1, 1e-3]), weights: Float64Array.from([w, 1 - w]) });
    const probes = [probe(0.1), probe(0.12), probe(0.1), probe(0.12)];
    const s: SpectrumLike = {
      d: 100, method: 'lanczos', eigenvalues: Float64Array.from([5, 3]),
      slq: { nodes: probes.map((p) => p.nodes), weights: probes.map((p) => p.weights) },
    };
    const r = d1At(s, 0.01);
    expect(r.source).toBe('slq');
    expect(r.value).toBeCloseTo(11, 12);
    expect(r.lo).toBeCloseTo(11 - 2 / Math.sqrt(3), 12);
    expect(r.hi).toBeCloseTo(11 + 2 / Math.sqrt(3), 12);
    // Above the smallest computed eigenvalue the count is exact again.
    expect(d1At(s, 4)).toEqual({ value: 1, lo: 1, hi: 1, source: 'exact' });
    // Without a quadrature only a lower bound is known.
    expect(d1At({ ...s, slq: undefined }, 0.01)).toEqual({ value: 2, lo: 2, hi: 100, source: 'lower-bound' });
  });
});
