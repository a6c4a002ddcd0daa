import { describe, expect, test } from 'vitest';
import { bandOfRanks, countInBand, ranksInBand, topEntries } from '../../src/ui/linked';

// Descending eigenvalues with a null tail (zero and float noise below zero).
const h = Float64Array.from([10, 5, 2, 1, 0.5, 0.1, 1e-3, 0, -1e-9]);

describe('linked views: band ↔ ranks', () => {
  test('ranks and counts inside a band follow the definition, checked against a brute-force filter', () => {
    for (const band of [[0.4, 6], [1e-4, 0.2], [3, 4], [0.05, 100], [1e-12, 1e-6]] as [number, number][]) {
      const inside = Array.from(h).map((v, i) => [v, i + 1] as const).filter(([v]) => v >= band[0] && v <= band[1]).map(([, k]) => k);
      expect(countInBand(h, band)).toBe(inside.length);
      expect(ranksInBand(h, band)).toEqual(inside.length ? [inside[0], inside[inside.length - 1]] : null);
    }
  });

  test('a brushed rank interval maps to the eigenvalues it covers, and back to the same ranks', () => {
    expect(bandOfRanks(h, 1.6, 4.2)).toEqual([1, 5]);
    expect(ranksInBand(h, bandOfRanks(h, 1.6, 4.2)!)).toEqual([2, 4]);
    expect(bandOfRanks(h, 4.2, 1.6)).toEqual([1, 5]);
    // Ranks reaching into the null tail take the smallest positive eigenvalue as the floor.
    expect(bandOfRanks(h, 6, 9)).toEqual([1e-3, 0.1]);
    // No whole rank inside, or nothing positive: no band.
    expect(bandOfRanks(h, 2.2, 2.8)).toBeNull();
    expect(bandOfRanks(h, 8, 9)).toBeNull();
    // A single rank gives a thin band that still contains it.
    const one = bandOfRanks(h, 3, 3)!;
    expect(ranksInBand(h, one)).toEqual([3, 3]);
  });

  test('topEntries returns the largest values with their indices, descending', () => {
    expect(topEntries([0.1, 0.7, 0.05, 0.3], 2)).toEqual([[1, 0.7], [3, 0.3]]);
    expect(topEntries([1], 5)).toEqual([[0, 1]]);
  });
});
