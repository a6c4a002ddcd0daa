import { describe, expect, test } from 'vitest';
import { cutoffK, type ProjectionCurve } from '../../src/core/spectrum/projection';

describe('the accuracy cutoff k*', () => {
  test('the threshold is exactly cutoff × the original accuracy: a point just below it misses', () => {
    // 2,000 training points, the unprojected model gets all right. At cutoff 0.995 the threshold is
    // 1,990/2,000; k = 5 gets 1,989 right (0.9945, one short) and k = 6 gets 1,990 (meets it).
    const acc = [0.5, 0.9, 0.99, 0.994, 1989 / 2000, 1990 / 2000, 1];
    const curve: ProjectionCurve = {
      metric: 'accuracy',
      original: { k: 100, trainLoss: 0, testLoss: 0, trainAcc: 1, testAcc: 0.8 },
      points: acc.map((a, i) => ({ k: i + 1, trainLoss: 0, testLoss: 0, trainAcc: a, testAcc: 0.8 * a })),
    };
    const r = cutoffK(curve, { cutoff: 0.995 });
    expect(r.threshold).toBe(0.995);
    expect(r).toEqual({ kStar: 6, threshold: 0.995, kBelow: 5 });
    // The test split scales the same way: threshold 0.995·0.8 = 0.796; 0.8·0.9945 = 0.7956 misses.
    const t = cutoffK(curve, { cutoff: 0.995, split: 'test' });
    expect(t.threshold).toBeCloseTo(0.796, 15);
    expect(t.kStar).toBe(6);
    // A cutoff of 0.9945 admits k = 5.
    expect(cutoffK(curve, { cutoff: 0.9945 }).kStar).toBe(5);
  });
});
