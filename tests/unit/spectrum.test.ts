import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { runSpectrum } from '../../src/core/tasks/spectrum';
import { runInitModel } from '../../src/core/tasks/model';
import { createJobContext, isCancelled } from '../../src/core/jobs';
import { decodeModelFile } from '../../src/core/io/modelFile';
import { nodeAssetReader } from '../../src/node/assets';
import { d1At, llcBounds, logDensity, countAboveSorted } from '../../src/core/spectrum/counts';
import { cutoffK, projectionGrid, refineCutoff } from '../../src/core/spectrum/projection';
import { densityOnGrid } from '../../src/core/linalg/slq';
import { useWasm } from './helpers/tf';
import { runTraining } from '../../src/core/train/trainer';
import { datasetFor } from '../../src/core/tasks/env';

beforeAll(useWasm);
const env = { readAsset: nodeAssetReader() };
const ctx = () => createJobContext();

describe('spectrum of the behavioral-loss Hessian', () => {
  test('Lanczos top-k agrees with the dense spectrum on a small model (values and residuals)', async () => {
    const model = await runInitModel({ config: { arch: 'modadd', p: 7, e: 4, h: 6 }, seed: 1, data: { kind: 'modadd', p: 7, trainFraction: 0.8, seed: 0, op: 'sum' } }, ctx());
    const dense = await runSpectrum({ model, method: 'dense', projection: false }, ctx(), env);
    const k = 12;
    const lz = await runSpectrum({ model, method: 'lanczos', k, tol: 1e-7, probes: 0, traceProbes: 0, projection: false }, ctx(), env);
    expect(dense.d).toBe(7 * 4 + 6 * 8 + 6 + 7 * 6 + 7);
    expect(lz.eigenvalues).toHaveLength(k);
    const h1 = dense.eigenvalues[0];
    for (let i = 0; i < k; i++) {
      expect(Math.abs(lz.eigenvalues[i] - dense.eigenvalues[i])).toBeLessThan(1e-4 * h1);
      expect(lz.residuals[i]).toBeLessThan(1e-4 * h1);
      expect(dense.residuals[i]).toBeLessThan(1e-10 * h1);
    }
    // The dense spectrum is that of a PSD matrix: no eigenvalue meaningfully below zero.
    expect(dense.eigenvalues[dense.d - 1]).toBeGreaterThan(-1e-5 * h1);
  });

  test('matfac n=20, l=2 at its trained minimum: 400 eigenvalues above the noise floor, 400 below, a clear gap', async () => {
    const model = decodeModelFile(new Uint8Array(readFileSync('public/models/matfac.safetensors')));
    const r = await runSpectrum({ model }, ctx(), env);
    expect(r.method).toBe('dense');
    expect(r.d).toBe(800);
    expect(r.aboveFloor).toBe(400);
    const h = r.eigenvalues;
    expect(h[399] / Math.max(Math.abs(h[400]), 1e-30)).toBeGreaterThan(1e4); // the gap
    expect(Math.abs(h[400])).toBeLessThan(1e-5 * h[0]); // the 400 below sit at the float32 floor
    // d1(ε) anywhere in the gap is exactly 400, and the bounds follow.
    const d1 = d1At(r, Math.sqrt(h[399] * Math.abs(h[400])));
    expect(d1).toMatchObject({ value: 400, source: 'exact' });
    expect(llcBounds(800, 400)).toEqual({ lower: 200, upper: 300 });
    // The projection MSE curve bends at k = 400: the cutoff lands there, and past it the MSE
    // falls far more slowly per direction than before it.
    const curve = r.projection!;
    expect(cutoffK(curve, { kRef: r.aboveFloor }).kStar).toBe(400);
    const at = (k: number) => curve.points.find((p) => p.k === k)!.trainLoss;
    const before = (at(1) - at(400)) / 399;
    const after = (at(400) - at(Math.max(...curve.points.filter((p) => p.k < 700).map((p) => p.k)))) / (700 - 400);
    expect(at(1) / at(400)).toBeGreaterThan(10);
    expect(after).toBeLessThan(before / 5);
  });

  test('the SLQ density integrates to d and its d1(ε) matches the dense count on a small model', async () => {
    const model = await runInitModel({ config: { arch: 'matfac', widths: [6, 4, 6] }, seed: 3 }, ctx());
    const dense = await runSpectrum({ model, method: 'dense', projection: false }, ctx(), env);
    const lz = await runSpectrum({ model, method: 'lanczos', k: 5, probes: 30, steps: 40, traceProbes: 50, projection: false, seed: 7 }, ctx(), env);
    const d = dense.d;
    expect(d).toBe(48);
    // Integral of the (linear-space) density over a wide grid = d.
    const top = dense.eigenvalues[0];
    const grid = Float64Array.from({ length: 4001 }, (_, i) => -0.5 * top + (2 * top * i) / 4000);
    const rho = densityOnGrid(lz.slq!, grid, top / 200, d);
    const integral = rho.reduce((a, b) => a + b, 0) * (grid[1] - grid[0]);
    expect(integral).toBeCloseTo(d, 1);
    // d1(ε) from SLQ vs exact, for ε in the bulk (below the top-5 Lanczos values).
    let checked = 0;
    for (const frac of [1e-3, 1e-2, 3e-2]) {
      const eps = frac * top;
      if (eps >= lz.eigenvalues[4]) continue;
      checked++;
      const exact = countAboveSorted(dense.eigenvalues, eps);
      const est = d1At(lz, eps);
      expect(est.source).toBe('slq');
      expect(Math.abs(est.value - exact)).toBeLessThanOrEqual(Math.max(2, est.hi - est.lo));
    }
    expect(checked).toBeGreaterThan(0);
    // Hutchinson's trace within 4 standard errors of the exact trace.
    const exactTrace = dense.eigenvalues.reduce((a, b) => a + b, 0);
    expect(Math.abs(lz.trace!.mean - exactTrace)).toBeLessThan(4 * lz.trace!.stderr + 1e-6 * exactTrace);
    // The log-axis density from exact eigenvalues accounts for every eigenvalue.
    const g = Float64Array.from({ length: 2001 }, (_, i) => -12 + (16 * i) / 2000);
    const { density, belowFloor } = logDensity(dense, g, 0.05, 1e-12);
    const mass = density.reduce((a, b) => a + b, 0) * (g[1] - g[0]);
    expect(mass + belowFloor).toBeCloseTo(d, 0);
  });

  test('the projection grid covers 1..K and the accuracy cutoff follows its definition', () => {
    const ks = projectionGrid(1000);
    expect(ks[0]).toBe(1);
    expect(ks[ks.length - 1]).toBe(1000);
    expect(new Set(ks).size).toBe(ks.length);
    const curve = {
      metric: 'accuracy' as const,
      original: { k: 10, trainLoss: 0, testLoss: 0, trainAcc: 1, testAcc: 0.98 },
      points: [1, 2, 3, 4].map((k) => ({ k, trainLoss: 0, testLoss: 0, trainAcc: [0.2, 0.9, 0.996, 1][k - 1], testAcc: [0.1, 0.9, 0.97, 0.976][k - 1] })),
    };
    expect(cutoffK(curve).kStar).toBe(3);
    expect(cutoffK(curve, { split: 'test' }).kStar).toBe(4); // 0.976 ≥ 0.995 × 0.98 = 0.9751
    expect(cutoffK(curve, { cutoff: 1 }).kStar).toBe(4);
    expect(cutoffK(curve).kBelow).toBe(2);
  });

  test('refining k* bisects the grid gap to the exact crossing in about log2(gap) evaluations', async () => {
    const acc = (k: number) => (k >= 737 ? 0.999 : 0.5 + k / 10_000);
    const point = (k: number) => ({ k, trainLoss: 0, testLoss: 0, trainAcc: acc(k), testAcc: acc(k) });
    const curve = { metric: 'accuracy' as const, original: point(1000), points: projectionGrid(1000).map(point) };
    const before = cutoffK(curve);
    expect(before.kStar! - before.kBelow!).toBeGreaterThan(20);
    const asked: number[] = [];
    const evals = await refineCutoff(curve, { cutoff: 0.995 }, async (k) => { asked.push(k); return point(k); });
    const after = cutoffK(curve);
    expect(after).toMatchObject({ kStar: 737, kBelow: 736 });
    expect(evals).toBe(asked.length);
    expect(evals).toBeLessThanOrEqual(Math.ceil(Math.log2(before.kStar! - before.kBelow!)));
    // The points stay sorted by k, and a second call has nothing left to do.
    expect(curve.points.map((p) => p.k)).toEqual([...curve.points.map((p) => p.k)].sort((a, b) => a - b));
    expect(await refineCutoff(curve, { cutoff: 0.995 }, async () => { throw new Error('not needed'); })).toBe(0);
  });

  test('the refined k* of a trained model meets the cutoff where k* − 1 misses it, inside the grid gap (checked against every k)', async () => {
    // A small modadd trained to memorize its training pairs (so accuracy has somewhere to fall from).
    const init = await runInitModel({ config: { arch: 'modadd', p: 7, e: 4, h: 10 }, seed: 3, data: { kind: 'modadd', p: 7, trainFraction: 0.8, seed: 0, op: 'sum' } }, ctx());
    const ds = await datasetFor(init, env);
    const trained = await runTraining(init, ds, { optimizer: 'adamw', lr: 0.03, weightDecay: 0, batchSize: 'full', steps: 300, seed: 0, evalEvery: 0, checkpointEvery: 0 }, ctx());
    const model = { ...init, theta: trained.theta };
    expect(trained.history[trained.history.length - 1].trainAcc).toBeGreaterThan(0.9);
    const cut = { cutoff: 0.9, split: 'train' as const };
    const gridOnly = await runSpectrum({ model, method: 'dense', kronecker: false, traceProbes: 0, refineCutoffs: [] }, ctx(), env);
    const refined = await runSpectrum({ model, method: 'dense', kronecker: false, traceProbes: 0, refineCutoffs: [cut] }, ctx(), env);
    const all = await runSpectrum({ model, method: 'dense', kronecker: false, traceProbes: 0, projectionKs: Array.from({ length: refined.d }, (_, i) => i + 1) }, ctx(), env);
    const g = cutoffK(gridOnly.projection!, cut);
    expect(g.kStar! - g.kBelow!).toBeGreaterThan(1); // the grid alone does not pin k* down
    // Ground truth from every k: which ones meet the cutoff.
    const threshold = cutoffK(all.projection!, cut).threshold;
    const meets = new Map(all.projection!.points.map((p) => [p.k, (p.trainAcc ?? 0) >= threshold]));
    const r = cutoffK(refined.projection!, cut);
    // The refined k* meets the cutoff, k* − 1 does not, and it lies in the grid's gap; it is the
    // smallest such k in the gap when accuracy is monotone there (it need not be globally: a
    // trained model's accuracy against k wobbles near the crossing).
    expect(meets.get(r.kStar!)).toBe(true);
    expect(meets.get(r.kStar! - 1)).toBe(false);
    expect(r.kBelow).toBe(r.kStar! - 1);
    expect(r.kStar!).toBeGreaterThan(g.kBelow!);
    expect(r.kStar!).toBeLessThanOrEqual(g.kStar!);
  });

  test('a spectrum job is cancellable', async () => {
    const model = decodeModelFile(new Uint8Array(readFileSync('public/models/modadd-gelu.safetensors')));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    const err = await runSpectrum({ model, method: 'lanczos', k: 200 }, createJobContext({ signal: ac.signal }), env).catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(300 + 1500);
  });
});
