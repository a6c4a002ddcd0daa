import { beforeAll, describe, expect, test } from 'vitest';
import { layerGrams } from '../../src/core/internals/grams';
import { predictedZeroCount } from '../../src/core/internals/zeros';
import { syncAnalysis } from '../../src/core/internals/sync';
import { loadDataset } from '../../src/core/data/index';
import { splitIndices, type Dataset } from '../../src/core/data/types';
import type { ModelBundle } from '../../src/core/models/bundle';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { view } from '../../src/core/params';
import { gaussNewtonOperator } from '../../src/core/hessian/gn';
import { eighSync } from '../../src/core/linalg/eigh';
import { symmetricFromMatvec } from '../../src/core/linalg/operator';
import { makeRng } from '../../src/core/rng';
import { nodeAssetReader } from '../../src/node/assets';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

/** Dense Hessian (Gauss–Newton, docs/science.md §2) eigenvalues, descending. */
async function hessianEigen(model: ModelBundle, ds: Dataset, rows: Int32Array): Promise<Float64Array> {
  const op = await gaussNewtonOperator(model, ds, rows);
  const H = await symmetricFromMatvec(op);
  op.dispose();
  return eighSync(H, op.d, { vectors: false }).values;
}

/** #{h ≤ rel·h_max}, checking that the cut sits in a clear gap (≥ 100× on both sides). */
function nullity(ev: Float64Array, rel = 1e-6): number {
  const cut = rel * ev[0];
  const k = Array.from(ev).filter((v) => v <= cut).length;
  const above = ev[ev.length - k - 1];
  const below = k > 0 ? Math.abs(ev[ev.length - k]) : 0;
  expect(above).toBeGreaterThan(10 * cut);
  expect(below).toBeLessThan(cut / 10);
  return k;
}

function sortedDesc(a: ArrayLike<number>): number[] {
  return Array.from(a).sort((x, y) => y - x);
}

function expectMatrixClose(got: Float64Array, want: Float64Array, rel = 1e-4): void {
  expect(got.length).toBe(want.length);
  const scale = Math.max(...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(rel * scale);
}

describe('activation / Jacobian Grams and predicted Hessian zeros (eq. 10–12, 23–25)', () => {
  test('a duplicated hidden neuron raises the dense Hessian nullity by exactly the fan-out d^{l+1}', async () => {
    const p = 5, e = 3, h = 6;
    const config: ModelConfig = { arch: 'modadd', p, e, h };
    const data = { kind: 'modadd' as const, p, trainFraction: 0.8, seed: 0, op: 'sum' as const };
    const ds = await loadDataset(data, nodeAssetReader());
    const rows = splitIndices(ds, 'all');
    const make = (plant: boolean): ModelBundle => {
      const theta = initParams(config, 2);
      if (plant) {
        // Neuron 1 := neuron 0 (incoming weights and bias): f_1 ≡ f_0, one zero of G^1 (eq. 10).
        const L = layoutFor(config);
        view(L, theta, 'hidden.weight').copyWithin(2 * e, 0, 2 * e);
        const b = view(L, theta, 'hidden.bias');
        b[1] = b[0];
      }
      return { name: plant ? 'planted' : 'plain', config, theta, data };
    };
    const results = [];
    for (const plant of [false, true]) {
      const model = make(plant);
      const ev = await hessianEigen(model, ds, rows);
      const sync = await syncAnalysis(model, ds, rows);
      const fire = Array.from(sync.layers[0].firingFraction);
      // Fixture check: neurons 0 and 1 are ordinary (neither dead nor always on), none are dead.
      expect(fire.every((f) => f > 0.1 && f < 1)).toBe(true);
      const grams = await layerGrams(model, ds, rows);
      const pred = predictedZeroCount(grams, sync, 1e-6 * ev[0]);
      results.push({ null: nullity(ev), pred, grams });
    }
    const [plain, planted] = results;
    const out = planted.pred.rows.find((r) => r.name === 'out.weight')!;
    expect(out.gZeros - plain.pred.rows.find((r) => r.name === 'out.weight')!.gZeros).toBe(1);
    expect(out.fanOut).toBe(p); // one zero of G^1 × d^{l+1} = p outputs
    // The measured increase is exactly the fan-out, and so is the de-duplicated prediction's.
    expect(planted.null - plain.null).toBe(p);
    expect(planted.pred.dedupTotal - plain.pred.dedupTotal).toBe(p);
    // Eq. 20 as it stands (Σ s_a²) loses one: the pair becomes one block with s = 1, while both
    // rescalings stay free (ρ = 2): s·ρ = 2 = 1 + 1 before planting.
    expect(planted.pred.total - plain.pred.total).toBe(p - 1);
  });

  test('deep linear net: a copied input coordinate — fan-out and fan-in zeros overlap, the de-duplicated count is exact', async () => {
    const widths = [4, 3, 2];
    const config: ModelConfig = { arch: 'matfac', widths };
    const n = 6;
    const rng = makeRng(11);
    const x = Float32Array.from({ length: n * 4 }, () => rng.normal());
    const xPlanted = x.slice();
    for (let r = 0; r < n; r++) xPlanted[r * 4 + 3] = xPlanted[r * 4 + 1];
    const dataset = (xs: Float32Array): Dataset => ({
      kind: 'matfac', label: 'test', n, inputDim: 4, x: xs, y: new Float32Array(n * 2), outDim: 2,
      trainIdx: Int32Array.from({ length: n }, (_, i) => i), testIdx: new Int32Array(0),
    });
    const model: ModelBundle = { name: 'dln', config, theta: initParams(config, 5), data: { kind: 'matfac', inDim: 4, outDim: 2, nTrain: n, seed: 0 } };
    const got = [];
    for (const xs of [x, xPlanted]) {
      const ds = dataset(xs);
      const ev = await hessianEigen(model, ds, ds.trainIdx);
      const grams = await layerGrams(model, ds, ds.trainIdx);
      got.push({ null: nullity(ev), pred: predictedZeroCount(grams, null, 1e-6 * ev[0]) });
    }
    const [plain, planted] = got;
    // Independent count: the data function is x ↦ W1 W0 x on span(X). Generic: all 2×4 maps
    // (8 dims) → nullity 18 − 8 = 10; planted span(X) is 3-dim: 2×3 maps → 18 − 6 = 12.
    expect(plain.null).toBe(10);
    expect(planted.null).toBe(12);
    const r0 = planted.pred.rows[0];
    // One zero of G^0 (fan-out 3) and, as before, one zero of K^0 = W1ᵀW1 (rank 2; fan-in 4):
    // the direction null(K) ⊗ null(G) is in both.
    expect([r0.gZeros, r0.kZeros, r0.fanOut, r0.fanIn, r0.overlap]).toEqual([1, 1, 3, 4, 1]);
    expect(plain.pred.dedupTotal).toBe(plain.null);
    expect(planted.pred.dedupTotal).toBe(planted.null);
    expect(planted.pred.dedupTotal - plain.pred.dedupTotal).toBe(2); // fan-out 3 minus the overlap
  });

  test('G, K, M, S match direct Float64 computations (modadd: one ReLU layer)', async () => {
    const p = 5, e = 2, h = 4;
    const config: ModelConfig = { arch: 'modadd', p, e, h };
    const data = { kind: 'modadd' as const, p, trainFraction: 0.8, seed: 1, op: 'sum' as const };
    const model: ModelBundle = { name: 'm', config, theta: initParams(config, 3), data };
    const ds = await loadDataset(data, nodeAssetReader());
    const rows = ds.trainIdx;
    const n = rows.length;
    const g = await layerGrams(model, ds, rows);
    const L = layoutFor(config);
    const E = view(L, model.theta, 'embed.weight'), W = view(L, model.theta, 'hidden.weight'), B = view(L, model.theta, 'hidden.bias');
    const Wo = view(L, model.theta, 'out.weight'), Bo = view(L, model.theta, 'out.bias');
    const D0 = 2 * e + 1, D1 = h + 1;
    const G0 = new Float64Array(D0 * D0), K0 = new Float64Array(h * h), M0 = new Float64Array(D0 * D0), S0 = new Float64Array(h * h);
    const G1 = new Float64Array(D1 * D1), Gout = new Float64Array(p * p);
    for (const r of rows) {
      const a = ds.x[2 * r], b = ds.x[2 * r + 1];
      const f0 = [...E.subarray(a * e, a * e + e), ...E.subarray(b * e, b * e + e), 1];
      const pre = Array.from({ length: h }, (_, i) => f0.slice(0, 2 * e).reduce((s, v, j) => s + W[i * 2 * e + j] * v, B[i]));
      const on = pre.map((z) => (z > 0 ? 1 : 0));
      const f1 = [...pre.map((z) => Math.max(0, z)), 1];
      const out = Array.from({ length: p }, (_, k) => f1.slice(0, h).reduce((s, v, i) => s + Wo[k * h + i] * v, Bo[k]));
      // ∂out_k/∂p_i = Wo[k,i]·on_i; ∂out_k/∂f̄0_j = Σ_i Wo[k,i] on_i W̄[i,j] (bias column formal).
      const Jp = Array.from({ length: p }, (_, k) => on.map((o, i) => Wo[k * h + i] * o));
      const Wbar = (i: number, j: number) => (j < 2 * e ? W[i * 2 * e + j] : B[i]);
      const Jf = Jp.map((row) => Array.from({ length: D0 }, (_, j) => row.reduce((s, v, i) => s + v * Wbar(i, j), 0)));
      for (let i = 0; i < D0; i++) for (let j = 0; j < D0; j++) {
        G0[i * D0 + j] += (f0[i] * f0[j]) / n;
        M0[i * D0 + j] += Jf.reduce((s, row) => s + row[i] * row[j], 0) / n;
      }
      for (let i = 0; i < h; i++) for (let j = 0; j < h; j++) {
        K0[i * h + j] += Jp.reduce((s, row) => s + row[i] * row[j], 0) / n;
        S0[i * h + j] += (on[i] * on[j]) / n;
      }
      for (let i = 0; i < D1; i++) for (let j = 0; j < D1; j++) G1[i * D1 + j] += (f1[i] * f1[j]) / n;
      for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) Gout[i * p + j] += (out[i] * out[j]) / n;
    }
    const [t0, t1] = g.layers;
    expect([t0.name, t0.gSize, t0.outSize, t1.name, t1.gSize, t1.outSize]).toEqual(['hidden.weight', D0, h, 'out.weight', D1, p]);
    expectMatrixClose(t0.G, G0);
    expectMatrixClose(t0.K, K0);
    expectMatrixClose(t0.M, M0);
    expectMatrixClose(t0.S!, S0);
    expectMatrixClose(t1.G, G1);
    expectMatrixClose(g.output.G, Gout);
    // K of the output layer is the identity; M = W̄ᵀ W̄.
    const I = new Float64Array(p * p);
    for (let i = 0; i < p; i++) I[i * p + i] = 1;
    expect(Array.from(t1.K)).toEqual(Array.from(I));
    const M1 = new Float64Array(D1 * D1);
    for (let i = 0; i < D1; i++) for (let j = 0; j < D1; j++) {
      for (let k = 0; k < p; k++) M1[i * D1 + j] += (i < h ? Wo[k * h + i] : Bo[k]) * (j < h ? Wo[k * h + j] : Bo[k]);
    }
    expectMatrixClose(t1.M, M1);
    // Spectra are the eigenvalues of the matrices.
    sortedDesc(t0.gEigen).forEach((v, i) => expect(v).toBeCloseTo(sortedDesc(eighSync(G0, D0, { vectors: false }).values)[i], 4));
    sortedDesc(t0.kEigen).forEach((v, i) => expect(v).toBeCloseTo(sortedDesc(eighSync(K0, h, { vectors: false }).values)[i], 4));
  });

  test('K from Jacobian rows in a deeper ReLU net (mnist-mlp 784-5-4-10) matches a direct computation', async () => {
    const config: ModelConfig = { arch: 'mnist-mlp', hidden: [5, 4] };
    const model: ModelBundle = { name: 'mlp', config, theta: initParams(config, 4), data: { kind: 'mnist', source: 'builtin' } };
    const n = 12;
    const rng = makeRng(3);
    const x = Float32Array.from({ length: n * 784 }, () => rng.next());
    const ds: Dataset = { kind: 'mnist', label: 't', n, inputDim: 784, x, y: new Int32Array(n), outDim: 10, trainIdx: Int32Array.from({ length: n }, (_, i) => i), testIdx: new Int32Array(0) };
    const g = await layerGrams(model, ds, ds.trainIdx);
    const L = layoutFor(config);
    const T = (s: string) => view(L, model.theta, s);
    const [W1, b1, W2, b2, W3] = [T('fc1.weight'), T('fc1.bias'), T('fc2.weight'), T('fc2.bias'), T('fc3.weight')];
    const K0 = new Float64Array(25), K1 = new Float64Array(16);
    for (let r = 0; r < n; r++) {
      const xr = x.subarray(r * 784, (r + 1) * 784);
      const p1 = Array.from({ length: 5 }, (_, i) => xr.reduce((s, v, j) => s + W1[i * 784 + j] * v, b1[i]));
      const f1 = p1.map((z) => Math.max(0, z));
      const p2 = Array.from({ length: 4 }, (_, i) => f1.reduce((s, v, j) => s + W2[i * 5 + j] * v, b2[i]));
      const on1 = p1.map((z) => (z > 0 ? 1 : 0)), on2 = p2.map((z) => (z > 0 ? 1 : 0));
      // J2[k][i] = W3[k,i] on2_i ; J1[k][j] = Σ_i J2[k][i] W2[i,j] on1_j.
      const J2 = Array.from({ length: 10 }, (_, k) => on2.map((o, i) => W3[k * 4 + i] * o));
      const J1 = J2.map((row) => on1.map((o, j) => o * row.reduce((s, v, i) => s + v * W2[i * 5 + j], 0)));
      for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) K0[i * 5 + j] += J1.reduce((s, row) => s + row[i] * row[j], 0) / n;
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) K1[i * 4 + j] += J2.reduce((s, row) => s + row[i] * row[j], 0) / n;
    }
    expect(g.layers.map((l) => l.name)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    expectMatrixClose(g.layers[0].K, K0);
    expectMatrixClose(g.layers[1].K, K1);
    expect(g.layers[0].gSize).toBe(785);
  });

  test('generic deep linear net n=20, l=2: the prediction is the 400 zeros of docs/science.md §9', async () => {
    const config: ModelConfig = { arch: 'matfac', widths: [20, 20, 20] };
    const data = { kind: 'matfac' as const, inDim: 20, outDim: 20, nTrain: 20, seed: 0 };
    const model: ModelBundle = { name: 'dln', config, theta: initParams(config, 1), data };
    const ds = await loadDataset(data, nodeAssetReader());
    const pred = predictedZeroCount(await layerGrams(model, ds, ds.trainIdx), null, 1e-8);
    expect(pred.dedupTotal).toBe(400);
    expect(pred.rows[0].sync).toBe(400);
    expect(pred.rows[0].fanOut + pred.rows[0].fanIn).toBe(0);
  });
});
