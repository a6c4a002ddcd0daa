import { beforeAll, expect, test } from 'vitest';
import { calibrateOnce, polyfit, runLlcSweep, runLandscape } from '../../src/core/tasks/llc';
import { MIN_BURNIN } from '../../src/core/llc/calibrate';
import { rrrProblem } from './helpers/rrr';
import { createJobContext } from '../../src/core/jobs';
import { nodeAssetReader } from '../../src/node/assets';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

test('polyfit recovers exact polynomials', () => {
  const x = [1, 2, 3, 4, 5];
  const lin = polyfit(x, x.map((v) => 3 + 2 * v), 1);
  expect(lin[0]).toBeCloseTo(3, 10);
  expect(lin[1]).toBeCloseTo(2, 10);
  const quad = polyfit(x, x.map((v) => 1 - v + 0.5 * v * v), 2);
  [1, -1, 0.5].forEach((c, i) => expect(quad[i]).toBeCloseTo(c, 9));
});

test('the p-sweep trains, estimates λ̂ for each (p, operation) and fits both operations', async () => {
  const partials: unknown[] = [];
  const r = await runLlcSweep({
    ps: [5, 7], ops: ['sum', 'random'], arch: 'modadd-gelu', e: 4, h: 8, trainFraction: 0.8, steps: 30, seed: 0,
    opts: { chains: 1, draws: 10, burnin: 10, batchSize: 'full', stepSize: 1e-4, gamma: 100 },
  }, createJobContext({ onPartial: (p) => partials.push(p) }), { readAsset: nodeAssetReader() });
  expect(r.points.map((p) => `${p.op}${p.p}`)).toEqual(['sum5', 'sum7', 'random5', 'random7']);
  expect(partials).toHaveLength(4);
  for (const p of r.points) {
    expect(p.error).toBeUndefined();
    expect(Number.isFinite(p.llc!.mean)).toBe(true);
  }
  expect(r.fits.sum!.linear).toHaveLength(2);
  expect(r.fits.random!.quadratic).toEqual([]); // two points: no quadratic fit
}, 120_000);

test('the landscape job: exact λ(ε) of (w1·w2)² at 1e-3 and a contour grid', async () => {
  const r = await runLandscape({ spec: { kind: 'w1w2' }, epsLo: 1e-3, epsHi: 1e-3, points: 1, grid: 21 }, createJobContext());
  expect(r.curve.llc[0]).toBeCloseTo(0.5 - 1 / (2 - Math.log(1e-3)), 3);
  expect(r.contour.values).toHaveLength(21 * 21);
  expect(r.samples).toBeNull();
});

test('a series calibrated once reuses the cold-start burn-in, not the warm-started estimate\'s', async () => {
  // The first estimate starts its chains from the calibration pilot's last state (burn-in 100); the
  // other points of a series (checkpoints, λ(ε)) start at their own w* and need the cold burn-in.
  const pr = rrrProblem({ inDim: 3, hidden: 2, outDim: 3, rank: 1, n: 200, seed: 2 });
  const { first, fixed } = await calibrateOnce(pr.model, pr.ds, { budgetSeconds: 3, seed: 1 }, createJobContext());
  const cal = first.calibration!;
  expect(cal.warmStart).toBe(true);
  expect(first.options.burnin).toBe(MIN_BURNIN);
  const chosen = cal.rungs.find((r) => r.gamma === cal.chosen.gamma)!;
  expect(cal.coldBurnin).toBeGreaterThanOrEqual(Math.max(MIN_BURNIN, 2 * chosen.relaxSteps, Math.floor(chosen.steps / 4)));
  expect(fixed.burnin).toBe(cal.coldBurnin);
  expect(fixed.calibrate).toBe(false);
  expect([fixed.gamma, fixed.stepSize, fixed.draws]).toEqual([first.options.gamma, first.options.stepSize, first.options.draws]);
}, 60_000);
