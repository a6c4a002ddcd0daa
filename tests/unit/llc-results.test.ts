/** Reading back `slt llc-sweep` / `slt llc-checkpoints` JSON for the LLC view (core/io/llcResults.ts). */
import { describe, expect, test } from 'vitest';
import { parseLlcResults } from '../../src/core/io/llcResults';
import { BadInputError } from '../../src/core/errors';

const health = { verdict: 'doubtful', reasons: ['chains disagree: split-R̂ = 1.14 > 1.1'], checks: { ess: 24.5, rhat: 1.14, driftZ: 2.4, localizedShare: 0.85, meanAcceptance: 0.98 } };
const sweep = {
  points: [
    { p: 23, op: 'sum', seed: 0, llc_mean: 98.7, llc_std: 1.2, llc_stderr: 0.6, train_accuracy: 1, test_accuracy: 1, memorized: null, gamma: 10, step: 9e-4, health, error: null },
    { p: 5, op: 'random', seed: 1, llc_mean: null, llc_std: null, llc_stderr: null, train_accuracy: 1, test_accuracy: 0.1, memorized: 20, gamma: null, step: null, health: null, error: 'diverged' },
  ],
  fits: { sum: { linear: [-46.5, 5.87], quadratic: [129.9, -5.17, 0.159] }, random: null },
};
const checkpoints = {
  source: 'trained modadd-gelu for 120 steps, a checkpoint every 60',
  points: [
    { step: 0, llc_mean: 28.1, llc_std: 0.5, llc_stderr: 0.25, mean_acceptance: 0.97, health, error: null },
    { step: 60, llc_mean: 113.9, llc_std: 2, llc_stderr: 1, mean_acceptance: null, health: null, error: null },
  ],
  training: [{ step: 0, train_loss: 4.0, test_loss: 4.03, train_accuracy: 0.02, test_accuracy: 0.02 }, { step: 60, train_loss: 2.1, test_loss: null, train_accuracy: 0.31, test_accuracy: null }],
};

describe('parseLlcResults', () => {
  test('a sweep: points with estimates, health and settings; a point without an estimate; the fits', () => {
    const r = parseLlcResults(JSON.stringify(sweep));
    expect(r.kind).toBe('sweep');
    if (r.kind !== 'sweep') return;
    const [a, b] = r.result.points;
    expect(a).toMatchObject({ p: 23, op: 'sum', seed: 0, llc: { mean: 98.7, std: 1.2, stderr: 0.6 }, trainAcc: 1, testAcc: 1, gamma: 10, stepSize: 9e-4 });
    expect(a.health?.verdict).toBe('doubtful');
    expect(a.health?.checks.rhat).toBe(1.14);
    expect(a.memorized).toBeUndefined();
    expect(b).toMatchObject({ p: 5, op: 'random', llc: null, memorized: 20, error: 'diverged' });
    expect(r.result.fits).toEqual({ sum: { linear: [-46.5, 5.87], quadratic: [129.9, -5.17, 0.159] }, random: null });
  });
  test('checkpoints: points in step order and the loss curves of the run', () => {
    const r = parseLlcResults(JSON.stringify(checkpoints));
    expect(r.kind).toBe('checkpoints');
    if (r.kind !== 'checkpoints') return;
    expect(r.points.map((p) => [p.step, p.llc?.mean])).toEqual([[0, 28.1], [60, 113.9]]);
    expect(r.points[0].meanAcceptance).toBe(0.97);
    expect(r.training).toEqual([
      { step: 0, trainLoss: 4.0, testLoss: 4.03, trainAcc: 0.02, testAcc: 0.02 },
      { step: 60, trainLoss: 2.1, testLoss: null, trainAcc: 0.31, testAcc: null },
    ]);
    expect(r.source).toMatch(/modadd-gelu/);
    const noCurve = parseLlcResults(JSON.stringify({ ...checkpoints, training: null }));
    expect(noCurve.kind === 'checkpoints' && noCurve.training).toBeNull();
  });
  test.each([
    ['not JSON', '{"points": [', /Not JSON/],
    ['no points', '{"fits": {}}', /no "points" list/],
    ['empty', '{"points": []}', /no points/],
    ['neither kind', '{"points": [{"x": 1}]}', /neither p and op/],
    ['a bad op', JSON.stringify({ points: [{ ...sweep.points[0], op: 'product' }] }), /op = "product"/],
    ['a string estimate', JSON.stringify({ points: [{ ...sweep.points[0], llc_mean: '98' }] }), /llc_mean = "98"/],
    ['an infinite p', '{"points": [{"p": 1e999, "op": "sum", "seed": 0, "llc_mean": 1}]}', /p = null/],
    ['a bad verdict', JSON.stringify({ points: [{ ...sweep.points[0], health: { ...health, verdict: 'fine' } }] }), /verdict "fine"/],
    ['steps out of order', JSON.stringify({ points: [checkpoints.points[1], checkpoints.points[0]] }), /not after the previous point's 60/],
    ['a bad fit', JSON.stringify({ ...sweep, fits: { sum: { linear: ['a'], quadratic: [] } } }), /sum fit/],
    ['a bad training curve', JSON.stringify({ ...checkpoints, training: [{ step: 0, train_loss: 'x' }] }), /training point 1/],
  ])('refuses %s with a message naming the problem', (_name, text, msg) => {
    expect(() => parseLlcResults(text)).toThrow(BadInputError);
    expect(() => parseLlcResults(text)).toThrow(msg);
  });
});
