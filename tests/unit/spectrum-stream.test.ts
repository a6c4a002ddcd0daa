/**
 * The spectrum job's streaming partials and its time limit (issue 13): partial eigenvalues are
 * eigenvalues of the dense spectrum, their projection curve is the one the finished job computes at
 * the same k, and a run stopped by its time limit keeps its converged pairs and says what going on
 * would cost.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { runSpectrum, type SpectrumPartial } from '../../src/core/tasks/spectrum';
import { runInitModel } from '../../src/core/tasks/model';
import { createJobContext } from '../../src/core/jobs';
import { nodeAssetReader } from '../../src/node/assets';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);
const env = { readAsset: nodeAssetReader() };

describe('streaming spectrum job', () => {
  test('partials carry converged eigenvalues, a projection curve on their span and the k* estimate; a time limit keeps what converged', async () => {
    const model = await runInitModel({ config: { arch: 'modadd', p: 13, e: 8, h: 16 }, seed: 2, data: { kind: 'modadd', p: 13, trainFraction: 0.8, seed: 0, op: 'sum' } }, createJobContext());
    const dense = await runSpectrum({ model, method: 'dense', projection: false, kronecker: false }, createJobContext(), env);
    const h1 = dense.eigenvalues[0];
    const partials: SpectrumPartial[] = [];
    const full = await runSpectrum({ model, method: 'lanczos', k: 150, tol: 1e-7, probes: 0, traceProbes: 0, kronecker: false, streamEveryMs: 0, projectionKs: [5, 10, 20, 40] },
      createJobContext<SpectrumPartial>({ onPartial: (p) => partials.push(p) }), env);
    expect(full.stoppedShort).toBeUndefined();
    expect(partials.length).toBeGreaterThan(1);
    const withEig = partials.filter((p) => p.eigenvalues.length > 0);
    expect(withEig.length).toBeGreaterThan(0);
    for (const p of withEig) {
      for (let i = 0; i < p.eigenvalues.length; i++) expect(Math.abs(p.eigenvalues[i] - dense.eigenvalues[i])).toBeLessThan(1e-5 * h1);
      expect(p.projection).toBeDefined();
      expect(p.projection!.points.every((q) => q.k <= p.eigenvalues.length)).toBe(true);
    }
    // A streamed projection point agrees with the finished job's at the same k (same span, same θ*).
    const last = withEig.at(-1)!;
    for (const q of last.projection!.points) {
      const f = full.projection!.points.find((x) => x.k === q.k);
      if (f) expect(Math.abs(q.trainLoss - f.trainLoss)).toBeLessThan(1e-3 * Math.max(1, Math.abs(f.trainLoss)));
    }
    expect(full.floor!.floor).toBeGreaterThan(0);

    // A time limit of 0 stops at the first step, deterministically (Lanczos's own test checks that
    // an early stop keeps exactly the converged leading pairs, values and residuals verified).
    const stopped = await runSpectrum({ model, method: 'lanczos', k: 400, tol: 1e-7, probes: 0, traceProbes: 0, kronecker: false, timeLimitMs: 0, stream: false, projection: false }, createJobContext(), env);
    expect(stopped.stoppedShort).toBeDefined();
    const s = stopped.stoppedShort!;
    expect(s.requested).toBe(400);
    expect(s.converged).toBe(stopped.eigenvalues.length);
    expect(s.converged).toBeLessThan(400);
    for (let i = 0; i < stopped.eigenvalues.length; i++) expect(Math.abs(stopped.eigenvalues[i] - dense.eigenvalues[i])).toBeLessThan(1e-5 * h1);
    expect(s.estimate!.k).toBe(400);
    expect(s.estimate!.seconds).toBeGreaterThanOrEqual(0);
    expect(s.estimate!.bytes).toBe(Math.ceil(1.4 * 400) * stopped.d * 4);
    expect(s.reason).toMatch(/time limit/);

    // A lean run whose basis fills before k pairs converge says so (not "time limit"), keeps the
    // leading converged pairs, and projects on their span.
    const lean = await runSpectrum({ model, method: 'lanczos', k: 300, tol: 1e-12, lean: true, memoryBudgetBytes: 320 * stopped.d * 4, probes: 0, traceProbes: 0, kronecker: false, stream: false, projectionKs: [5, 10] }, createJobContext(), env);
    expect(lean.stoppedShort).toBeDefined();
    expect(lean.stoppedShort!.reason).toMatch(/memory budget/);
    expect(lean.eigenvalues.length).toBeLessThan(300);
    for (let i = 0; i < lean.eigenvalues.length; i++) expect(Math.abs(lean.eigenvalues[i] - dense.eigenvalues[i])).toBeLessThan(1e-5 * h1);
    expect(lean.projection!.points.map((q) => q.k)).toEqual([5, 10]);
  }, 120_000);
});
