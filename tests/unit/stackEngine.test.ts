/**
 * The whole-step engine of dense stacks (src/core/train/stackEngine.ts): its gradient against
 * finite differences of the independent Float64 reference (helpers/reference.ts) and against the
 * tfjs hand-written passes, and whole training runs against the tfjs path (the Trainer with our
 * kernels switched off), for SGD with momentum and L2 and for AdamW, on ragged widths and batches
 * (padding of widths to 8 and of rows to 4).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { defaultDataSpec } from '../../src/core/data/spec';
import type { Dataset } from '../../src/core/data/types';
import { makeRng } from '../../src/core/rng';
import { lossFor } from '../../src/core/train/losses';
import { StackEngine, setSparseInputs, setSparseSplitMin } from '../../src/core/train/stackEngine';
import { PairsEngine } from '../../src/core/train/pairsEngine';
import type { HeadKind } from '../../src/core/train/fused';
import { getArch } from '../../src/core/arch/registry';
import { wholeStepEngine } from '../../src/core/train/engines';
import { setDataParallelMin, type EngineOptimizer, type ResidentEngine } from '../../src/core/train/residentEngine';
import { Trainer, lossAndGradient, type TrainOptions } from '../../src/core/train/trainer';
import { langevinUpdate, setFusedKernelsEnabled } from '../../src/core/train/wasmKernels';
import { residentKernels, setGemmSplitMin, setResidentSplitMin } from '../../src/core/train/wasmF32';
import { initThreads, setThreadsSplitting, threadsSupported } from '../../src/core/wasm/threads';
import { headFor, modelTarget, type SgldLossKind } from '../../src/core/llc/target';
import { batchGradient } from '../../src/core/train/fused';
import { gaussNewtonOperator } from '../../src/core/hessian/gn';
import { useWasm } from './helpers/tf';
import { referenceForward } from './helpers/reference';

beforeAll(useWasm);
afterEach(() => setFusedKernelsEnabled(true));

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** n rows for the configuration: MNIST-shaped inputs with labels, matfac inputs with targets, or token pairs. */
function data(c: ModelConfig, n: number, nTrain: number, seed: number): Dataset {
  const rng = makeRng(seed);
  if (c.arch === 'modadd' || c.arch === 'modadd-gelu') {
    // Random pairs with repeats (the per-token sums must add them) and random labels.
    const x = Int32Array.from({ length: 2 * n }, () => rng.int(c.p)), y = Int32Array.from({ length: n }, () => rng.int(c.p));
    return {
      kind: 'modadd', label: 'test pairs', n, inputDim: 2, x, y, outDim: c.p,
      trainIdx: Int32Array.from({ length: nTrain }, (_, i) => i), testIdx: Int32Array.from({ length: n - nTrain }, (_, i) => nTrain + i),
    };
  }
  const inDim = c.arch === 'matfac' ? c.widths[0] : 784;
  const x = Float32Array.from({ length: n * inDim }, () => (c.arch === 'matfac' ? rng.normal() : rng.next()));
  const outDim = c.arch === 'matfac' ? c.widths[c.widths.length - 1] : 10;
  const y = c.arch === 'matfac' ? Float32Array.from({ length: n * outDim }, () => rng.normal()) : Int32Array.from({ length: n }, () => rng.int(10));
  return {
    kind: c.arch === 'matfac' ? 'matfac' : 'mnist', label: 'test rows', n, inputDim: inDim, x, y, outDim,
    trainIdx: Int32Array.from({ length: nTrain }, (_, i) => i), testIdx: Int32Array.from({ length: n - nTrain }, (_, i) => nTrain + i),
  };
}

function engineFor(c: ModelConfig, maxBatch: number, opt: EngineOptimizer = { kind: 'sgd', momentum: 0, weightDecay: 0 }): ResidentEngine {
  const e = wholeStepEngine(c, layoutFor(c), lossFor(c).head, maxBatch, opt);
  if (!e) throw new Error('no engine');
  expect(e).toBeInstanceOf(c.arch === 'modadd' || c.arch === 'modadd-gelu' ? PairsEngine : StackEngine);
  return e;
}

/** The head's loss in Float64 on the rows, from the independent reference forward. */
function refLoss(c: ModelConfig, theta: Float64Array, ds: Dataset, rows: number[]): number {
  const xs = rows.map((r) => Array.from(ds.x.subarray(r * ds.inputDim, (r + 1) * ds.inputDim)));
  const outs = referenceForward(c, theta, xs);
  let total = 0;
  outs.forEach((out, i) => {
    const r = rows[i];
    if (c.arch === 'matfac') {
      for (let k = 0; k < out.length; k++) total += (out[k] - ds.y[r * ds.outDim + k]) ** 2 / out.length;
    } else {
      const m = Math.max(...out);
      total += m + Math.log(out.reduce((s, z) => s + Math.exp(z - m), 0)) - out[ds.y[r]];
    }
  });
  return total / rows.length;
}

describe('stack engine gradient', () => {
  const cases: ModelConfig[] = [
    { arch: 'mnist-mlp', hidden: [6, 5] }, { arch: 'matfac', widths: [4, 3, 5] }, { arch: 'matfac', widths: [9, 1, 12, 2] },
    { arch: 'modadd', p: 7, e: 4, h: 6 }, { arch: 'modadd-gelu', p: 7, e: 3, h: 5 }, { arch: 'modadd-gelu', p: 11, e: 9, h: 17 },
  ];
  test.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s: value and gradient against finite differences of a Float64 reference', (_n, c) => {
    const ds = data(c, 40, 40, 1);
    const theta32 = initParams(c, 5);
    for (let i = 0; i < theta32.length; i++) theta32[i] *= 1.5;
    // 11 rows picked out of order, some twice: a batch that is not a multiple of 4, taken by index.
    const rows = Int32Array.from([7, 3, 3, 30, 12, 0, 39, 21, 5, 5, 18]);
    const e = engineFor(c, 16);
    e.load(theta32);
    const v = e.lossAndGradient(ds.x, ds.y, ds.n, rows);
    const g = e.gradient();
    expect(e.store()).toEqual(theta32); // load/store round trip through the padded transposed layout
    const theta = Float64Array.from(theta32);
    const rs = Array.from(rows);
    expect(v).toBeCloseTo(refLoss(c, theta, ds, rs), 5);
    const d = theta.length, rng = makeRng(9);
    const coords = d <= 250 ? Array.from({ length: d }, (_, i) => i) : Array.from({ length: 250 }, () => rng.int(d));
    const fd = coords.map((i) => {
      const h = 1e-6, t0 = theta[i];
      theta[i] = t0 + h; const up = refLoss(c, theta, ds, rs);
      theta[i] = t0 - h; const dn = refLoss(c, theta, ds, rs);
      theta[i] = t0;
      return (up - dn) / (2 * h);
    });
    const scale = Math.max(...fd.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    let worst = 0;
    coords.forEach((i, k) => { worst = Math.max(worst, Math.abs(g[i] - fd[k]) / (1e-3 * Math.abs(fd[k]) + 1e-5 * scale)); });
    expect(worst).toBeLessThan(1);
  });

  test('agrees with the tfjs hand-written passes at the shipped MNIST widths, full batch of 37 rows', async () => {
    const c: ModelConfig = { arch: 'mnist-mlp', hidden: [50, 50] };
    const ds = data(c, 37, 37, 2);
    const theta = initParams(c, 3);
    for (let i = 0; i < theta.length; i++) theta[i] *= 1.7;
    const e = engineFor(c, 37);
    e.load(theta);
    const v = e.lossAndGradient(ds.x, ds.y, ds.n, null);
    const g = e.gradient();
    const [tv, tg] = tf.tidy(() => {
      const r = lossAndGradient(c, tf.tensor1d(theta), tf.tensor2d(ds.x as Float32Array, [37, 784]), tf.tensor1d(ds.y as Int32Array, 'int32'));
      return [r.value, r.grad];
    });
    expect(v).toBeCloseTo((await tv.data())[0], 5);
    expect(relErr(g, await tg.data())).toBeLessThan(2e-5);
    tf.dispose([tv, tg]);
  });
});

describe('Trainer: whole steps agree with the tfjs path', () => {
  const runs: [string, ModelConfig, TrainOptions, number][] = [
    ['mnist-mlp, SGD momentum + L2, cosine, batch 5 (a short last batch)', { arch: 'mnist-mlp', hidden: [9, 6] },
      { optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.002, batchSize: 5, steps: 40, seed: 3, schedule: 'cosine', evalEvery: 0, checkpointEvery: 0 }, 23],
    ['mnist-mlp, plain SGD', { arch: 'mnist-mlp', hidden: [12] },
      { optimizer: 'sgd', lr: 0.05, weightDecay: 0, batchSize: 8, steps: 30, seed: 1, evalEvery: 0, checkpointEvery: 0 }, 16],
    ['matfac, AdamW, full batch', { arch: 'matfac', widths: [5, 4, 3, 6] },
      { optimizer: 'adamw', lr: 0.01, weightDecay: 0.1, batchSize: 'full', steps: 40, seed: 2, evalEvery: 0, checkpointEvery: 0 }, 30],
    ['mnist-mlp, 2,100 training rows (evaluated in chunks; the tfjs path keeps the whole split)', { arch: 'mnist-mlp', hidden: [7] },
      { optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0, batchSize: 64, steps: 12, seed: 5, evalEvery: 0, checkpointEvery: 0 }, 2100],
    ['modadd, AdamW, batch 7', { arch: 'modadd', p: 11, e: 6, h: 10 },
      { optimizer: 'adamw', lr: 0.01, weightDecay: 0.1, batchSize: 7, steps: 40, seed: 3, evalEvery: 0, checkpointEvery: 0 }, 60],
    ['modadd-gelu, AdamW, full batch', { arch: 'modadd-gelu', p: 13, e: 5, h: 12 },
      { optimizer: 'adamw', lr: 0.01, weightDecay: 1, batchSize: 'full', steps: 40, seed: 1, evalEvery: 0, checkpointEvery: 0 }, 100],
  ];
  test.each(runs)('%s', async (_n, c, opts, nTrain) => {
    const ds = data(c, nTrain + 6, nTrain, 4);
    const bundle = { name: c.arch, config: c, theta: initParams(c, 0), data: defaultDataSpec(c, 0) };
    const train = async (whole: boolean) => {
      setFusedKernelsEnabled(whole);
      const tr = new Trainer(bundle, ds, opts);
      setFusedKernelsEnabled(true);
      expect(tr.wholeStep).toBe(whole);
      const losses: number[] = [];
      for (let s = 0; s < opts.steps; s++) { await tr.step(); losses.push(await tr.lastBatchLoss()); }
      const m = await tr.evaluate();
      const th = await tr.theta();
      tr.dispose();
      return { losses, m, th };
    };
    const a = await train(true), b = await train(false);
    expect(relErr(a.th, bundle.theta)).toBeGreaterThan(1e-2); // it trained
    expect(relErr(a.th, b.th)).toBeLessThan(1e-4);
    for (let s = 0; s < opts.steps; s++) expect(Math.abs(a.losses[s] - b.losses[s])).toBeLessThan(1e-4 * Math.max(1, Math.abs(b.losses[s])));
    expect(a.m.trainLoss).toBeCloseTo(b.m.trainLoss, 4);
    expect(a.m.testLoss).toBeCloseTo(b.m.testLoss, 4);
  });
});

describe('stack engine on the kernel threads', () => {
  afterEach(async () => { setGemmSplitMin(); setResidentSplitMin(); setDataParallelMin(); await initThreads(1); });
  test('every product split over two threads gives the one-thread gradient and update bit for bit', async () => {
    if (!threadsSupported()) return;
    const c: ModelConfig = { arch: 'mnist-mlp', hidden: [50, 20] };
    const ds = data(c, 300, 300, 6);
    const theta = initParams(c, 4);
    const rows = Int32Array.from({ length: 257 }, (_, i) => (i * 37) % 300);
    const run = (): { v: number; g: Float32Array; th: Float32Array } => {
      const e = engineFor(c, 300, { kind: 'adamw', weightDecay: 0.01 });
      e.load(theta);
      const v = e.lossAndGradient(ds.x, ds.y, ds.n, rows);
      const g = e.gradient();
      e.applyUpdate(0.01);
      return { v, g, th: e.store() };
    };
    // A K-blocked product (K > 1024) with a transposed A as well.
    const M = 40, N = 16, K = 3001;
    const prod = (): Float32Array => {
      const k = residentKernels()!;
      const rng = makeRng(11);
      const A = k.alloc(M * K), B = k.alloc(K * N), C = k.alloc(M * N);
      const f = k.f32();
      for (let i = 0; i < M * K; i++) f[A / 4 + i] = rng.normal();
      for (let i = 0; i < K * N; i++) f[B / 4 + i] = rng.normal();
      k.gemm(A, B, C, M, N, K, 4, 4 * M);
      return k.f32().slice(C / 4, C / 4 + M * N);
    };
    // A GELU token-pair model, its products split too.
    const cg: ModelConfig = { arch: 'modadd-gelu', p: 13, e: 5, h: 12 };
    const dg = data(cg, 150, 150, 7), thg = initParams(cg, 3);
    const runGelu = (): { v: number; g: Float32Array } => {
      const e = engineFor(cg, 150);
      e.load(thg);
      const v = e.lossAndGradient(dg.x, dg.y, dg.n, null);
      return { v, g: e.gradient() };
    };
    setDataParallelMin(Infinity); // products split one by one (the data-parallel step has its own tests below)
    const one = run(), oneProd = prod(), oneGelu = runGelu();
    await initThreads(2);
    setGemmSplitMin(0);
    setResidentSplitMin(0);
    const two = run(), twoProd = prod(), twoGelu = runGelu();
    expect(twoGelu.v).toBe(oneGelu.v);
    expect(new Uint8Array(twoGelu.g.buffer)).toEqual(new Uint8Array(oneGelu.g.buffer));
    expect(new Uint8Array(twoProd.buffer)).toEqual(new Uint8Array(oneProd.buffer));
    expect(two.v).toBe(one.v);
    expect(new Uint8Array(two.g.buffer)).toEqual(new Uint8Array(one.g.buffer));
    expect(new Uint8Array(two.th.buffer)).toEqual(new Uint8Array(one.th.buffer));
    expect(Math.hypot(...one.g)).toBeGreaterThan(1e-3);
  });
});

describe('SGLD targets on the engine', () => {
  // [config, loss, training rows]: beyond 2,048 rows the target evaluates in chunks and, with the
  // engine, keeps no whole-split tensors.
  const cases: [ModelConfig, SgldLossKind, number][] = [
    [{ arch: 'mnist-mlp', hidden: [9, 6] }, 'nll', 61], [{ arch: 'mnist-mlp', hidden: [9, 6] }, 'behavioral', 61],
    [{ arch: 'matfac', widths: [5, 4, 6] }, 'nll', 61], [{ arch: 'matfac', widths: [5, 4, 6] }, 'train', 61], [{ arch: 'matfac', widths: [5, 4, 6] }, 'behavioral', 61],
    [{ arch: 'modadd', p: 11, e: 6, h: 10 }, 'nll', 61], [{ arch: 'modadd-gelu', p: 11, e: 5, h: 7 }, 'behavioral', 61],
    [{ arch: 'mnist-mlp', hidden: [9, 6] }, 'nll', 2100], [{ arch: 'matfac', widths: [5, 4, 6] }, 'behavioral', 2100],
  ];
  test.each(cases.map(([c, k, nTrain]) => [`${c.arch} ${k}, ${nTrain} rows`, c, k, nTrain] as const))('%s: loss and gradient on minibatches and the full batch match the tfjs passes', async (_n, c, kind, nTrain) => {
    const ds = data(c, nTrain + 9, nTrain, 8);
    const model = { name: c.arch, config: c, theta: initParams(c, 2), data: defaultDataSpec(c, 0) };
    const eng = modelTarget(model, ds, kind);
    setFusedKernelsEnabled(false);
    const ref = modelTarget(model, ds, kind);
    setFusedKernelsEnabled(true);
    const rng = makeRng(3);
    const w = tf.tensor1d(Float32Array.from(model.theta, (v) => v + 0.05 * rng.normal()));
    for (const rows of [Int32Array.from([4, 9, 9, 60, 0, 33, 17]), null]) {
      const [av, ag, bv, bg] = tf.tidy(() => {
        const r = rows ? tf.tensor1d(rows, 'int32') : null;
        const a = eng.lossAndGrad(w, r), b = ref.lossAndGrad(w, r);
        return [a.value, a.grad, b.value, b.grad];
      });
      const [x, y] = [(await av.data())[0], (await bv.data())[0]];
      expect(Math.abs(x - y)).toBeLessThan(1e-5 * Math.max(1, Math.abs(y)));
      if (kind !== 'behavioral') expect(y).toBeGreaterThan(1e-3);
      expect(relErr(await ag.data(), await bg.data())).toBeLessThan(2e-5);
      tf.dispose([av, ag, bv, bg]);
    }
    // The full-data loss (chunked evaluation) is the same on both targets and equals the full batch's.
    const [fa, fb] = tf.tidy(() => [eng.fullLoss(w), ref.fullLoss(w)]);
    const [fav, fbv] = [(await fa.data())[0], (await fb.data())[0]];
    expect(Math.abs(fav - fbv)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fbv)));
    tf.dispose([fa, fb, w]);
    const before = tf.memory().numTensors;
    eng.dispose();
    ref.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });
});

describe('sparse inputs (rows mostly zeros, as MNIST pixels)', () => {
  afterEach(async () => { setSparseInputs(); setSparseSplitMin(); setDataParallelMin(); await initThreads(1); });
  /** MNIST-shaped rows, 80 % zeros; row 3 all zeros, row 5 nonzero only in its last ten pixels. */
  function sparseData(n: number, seed: number): Dataset {
    const rng = makeRng(seed);
    const x = Float32Array.from({ length: n * 784 }, () => (rng.next() < 0.8 ? 0 : rng.next()));
    x.fill(0, 3 * 784, 4 * 784);
    x.fill(0, 5 * 784, 6 * 784 - 10);
    return {
      kind: 'mnist', label: 'sparse rows', n, inputDim: 784, x, y: Int32Array.from({ length: n }, () => rng.int(10)), outDim: 10,
      trainIdx: Int32Array.from({ length: n }, (_, i) => i), testIdx: new Int32Array(0),
    };
  }
  const same = (a: Float32Array, b: Float32Array): void => expect(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).toEqual(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  // Padded first-layer widths 56 (panels of 32, 16 and 8 floats), 32, 16, 8.
  test.each([[[50, 20]], [[30]], [[12, 7]], [[5]]])('hidden %j: loss, gradient and Gauss–Newton products equal the dense engine\'s bit for bit', (hidden) => {
    const c: ModelConfig = { arch: 'mnist-mlp', hidden };
    const ds = sparseData(90, 4);
    const theta = initParams(c, 5);
    const sparse = engineFor(c, 90) as StackEngine;
    setSparseInputs(false);
    const dense = engineFor(c, 90) as StackEngine;
    setSparseInputs(true);
    for (const e of [sparse, dense]) e.load(theta);
    for (const rows of [Int32Array.from([3, 5, 5, 89, 0, 41, 17]), Int32Array.from([3]), null]) {
      const a = sparse.lossAndGradient(ds.x, ds.y, ds.n, rows), b = dense.lossAndGradient(ds.x, ds.y, ds.n, rows);
      expect(sparse.sparseInput).toBe(true);
      expect(dense.sparseInput).toBe(false);
      expect(a).toBe(b);
      same(sparse.gradient(), dense.gradient());
    }
    const gnRows = Int32Array.from({ length: 61 }, (_, i) => (i * 7) % 90);
    for (const e of [sparse, dense]) e.prepareGn(ds.x, gnRows);
    const v = Float32Array.from(theta, (_, i) => Math.sin(i));
    const ga = new Float32Array(theta.length), gb = new Float32Array(theta.length);
    sparse.gnProduct(v, ga, 0.5);
    dense.gnProduct(v, gb, 0.5);
    same(ga, gb);
    expect(Math.hypot(...ga)).toBeGreaterThan(1e-3);
    // Against the independent Float64 reference too: the loss on the short batch.
    const ref = refLoss(c, Float64Array.from(theta), ds, [3, 5, 5, 89]);
    expect(Math.abs(sparse.lossAndGradient(ds.x, ds.y, ds.n, Int32Array.from([3, 5, 5, 89])) - ref)).toBeLessThan(1e-5 * Math.max(1, ref));
  });

  test('split over two threads (rows forward, columns of x backward) gives the one-thread result bit for bit; a dense input stays dense', async () => {
    const c: ModelConfig = { arch: 'mnist-mlp', hidden: [50, 20] };
    const ds = sparseData(300, 6);
    const theta = initParams(c, 4);
    const rows = Int32Array.from({ length: 257 }, (_, i) => (i * 37) % 300);
    const run = (): { v: number; g: Float32Array } => {
      const e = engineFor(c, 300) as StackEngine;
      e.load(theta);
      const v = e.lossAndGradient(ds.x, ds.y, ds.n, rows);
      expect(e.sparseInput).toBe(true);
      return { v, g: e.gradient() };
    };
    setDataParallelMin(Infinity); // the products split one by one (the data-parallel step has its own tests below)
    const one = run();
    if (threadsSupported()) {
      await initThreads(2);
      setSparseSplitMin(0);
      const two = run();
      expect(two.v).toBe(one.v);
      same(two.g, one.g);
    }
    const e = engineFor(c, 300) as StackEngine;
    e.load(theta);
    e.lossAndGradient(data(c, 300, 300, 6).x, ds.y, 300, rows);
    expect(e.sparseInput).toBe(false);
    e.lossAndGradient(ds.x, ds.y, 300, rows);
    expect(e.sparseInput).toBe(true);
  });
});

describe('SGLD chains held in the engine', () => {
  const cases: [ModelConfig, SgldLossKind][] = [
    [{ arch: 'mnist-mlp', hidden: [9, 6] }, 'nll'], [{ arch: 'matfac', widths: [5, 4, 6] }, 'nll'],
    [{ arch: 'modadd', p: 11, e: 6, h: 10 }, 'nll'], [{ arch: 'modadd-gelu', p: 11, e: 5, h: 7 }, 'behavioral'],
  ];
  test.each(cases.map(([c, k]) => [`${c.arch} ${k}`, c, k] as const))('%s: six Langevin steps in the engine follow the tfjs gradient and langevinUpdate with the same noise', async (_n, c, kind) => {
    const nTrain = 61, ds = data(c, nTrain, nTrain, 8);
    const model = { name: c.arch, config: c, theta: initParams(c, 2), data: defaultDataSpec(c, 0) };
    setFusedKernelsEnabled(false);
    const ref = modelTarget(model, ds, kind);
    setFusedKernelsEnabled(true);
    expect(ref.native).toBeUndefined();
    const eng = wholeStepEngine(c, layoutFor(c), headFor(c, kind), nTrain, { kind: 'sgd', momentum: 0, weightDecay: 0 })!;
    const xs = ds.x.subarray(0, nTrain * ds.inputDim);
    let ys: Float32Array | Int32Array = ds.y.subarray(0, nTrain * (c.arch === 'matfac' ? ds.outDim : 1));
    if (kind === 'behavioral') {
      // The behavioral loss's targets: f_w*(x) on the tfjs passes.
      const out = tf.tidy(() => {
        const x = xs instanceof Int32Array ? tf.tensor2d(xs, [nTrain, ds.inputDim], 'int32') : tf.tensor2d(xs, [nTrain, ds.inputDim]);
        return batchGradient(c, layoutFor(c), 'sse').outputs(tf.tensor1d(model.theta), x);
      });
      ys = (await out.data()) as Float32Array;
      out.dispose();
    }
    const rng = makeRng(5), noiseRng = makeRng(6);
    const start = Float32Array.from(model.theta, (v) => v + 0.05 * rng.normal());
    // A large step, so noise landing in the engine's padding would show in the next losses.
    const k = { nBeta: 20, gamma: 3, eps: 1e-2 };
    eng.startLangevin(model.theta, start);
    let w = start.slice();
    let sq = 0, count = 0;
    for (const rows of [Int32Array.from([4, 9, 9, 60, 0, 33, 17]), null, Int32Array.from([1, 2, 3]), null, Int32Array.from([50, 7, 7, 7, 12]), null]) {
      const value = eng.lossAndGradient(xs, ys, nTrain, rows);
      const dist2 = eng.langevinStep(noiseRng, k);
      const xi = eng.lastNoise();
      for (const v of xi) { sq += v * v; count++; }
      const [rv, rg] = tf.tidy(() => {
        const a = ref.lossAndGrad(tf.tensor1d(w), rows ? tf.tensor1d(rows, 'int32') : null);
        return [a.value, a.grad];
      });
      const refValue = (await rv.data())[0], g = (await rg.data()) as Float32Array;
      tf.dispose([rv, rg]);
      expect(Math.abs(value - refValue)).toBeLessThan(2e-5 * Math.max(1, Math.abs(refValue)));
      const next = new Float32Array(w.length);
      const refDist2 = langevinUpdate(w, model.theta, g, xi, k, next);
      expect(Math.abs(dist2 - refDist2)).toBeLessThan(1e-4 * Math.max(1e-3, refDist2));
      w = next;
      expect(relErr(eng.store(), w)).toBeLessThan(1e-5);
    }
    // The noise is N(0, 1) in every real coordinate (none lost to the padding).
    expect(Math.abs(sq / count - 1)).toBeLessThan(5 * Math.sqrt(2 / count));
    ref.dispose();
  });
});

describe('Gauss–Newton products in the pairs engine', () => {
  test.each([
    [{ arch: 'modadd', p: 11, e: 6, h: 10 } as ModelConfig], [{ arch: 'modadd-gelu', p: 13, e: 5, h: 7 } as ModelConfig],
  ])('%j: H·v matches the tfjs passes (distinct and repeated rows)', async (c) => {
    const ds = data(c, 90, 90, 5);
    const model = { name: c.arch, config: c, theta: initParams(c, 1), data: defaultDataSpec(c, 0) };
    const rows = Int32Array.from({ length: 61 }, (_, i) => (i * 7) % 90);
    const eng = await gaussNewtonOperator(model, ds, rows);
    setFusedKernelsEnabled(false);
    const ref = await gaussNewtonOperator(model, ds, rows);
    setFusedKernelsEnabled(true);
    const rng = makeRng(2);
    for (let t = 0; t < 3; t++) {
      const v = Float64Array.from({ length: eng.d }, () => rng.normal());
      const a = await eng.apply(v), b = await ref.apply(v);
      expect(relErr(a, b)).toBeLessThan(2e-6);
      expect(Math.hypot(...b)).toBeGreaterThan(1e-3);
    }
    eng.dispose();
    ref.dispose();
  });
});

describe('resident GEMM', () => {
  test.each([
    ['row-major A, K = 300', 36, 24, 300, false], ['transposed A, K = 300', 40, 16, 300, true],
    ['row-major A, K = 3000 (K-blocked)', 20, 16, 3000, false], ['transposed A, K = 5001 (K-blocked)', 44, 8, 5001, true],
  ] as const)('%s: against a Float64 triple loop', (_n, M, N, K, transposed) => {
    const k = residentKernels()!;
    const rng = makeRng(M + K);
    const a = Float64Array.from({ length: M * K }, () => rng.normal()), b = Float64Array.from({ length: K * N }, () => rng.normal());
    const A = k.alloc(M * K), B = k.alloc(K * N), C = k.alloc(M * N);
    const f = k.f32();
    // A stored row-major [M × K], or transposed [K × M] (element (i, q) at q·M + i).
    for (let i = 0; i < M; i++) for (let q = 0; q < K; q++) f[A / 4 + (transposed ? q * M + i : i * K + q)] = a[i * K + q];
    f.set(b, B / 4);
    f.fill(Number.NaN, C / 4, C / 4 + M * N); // every element of C must be written
    if (transposed) k.gemm(A, B, C, M, N, K, 4, 4 * M);
    else k.gemm(A, B, C, M, N, K, 4 * K, 4);
    const g = k.f32();
    let worst = 0;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let q = 0; q < K; q++) s += Math.fround(a[i * K + q]) * Math.fround(b[q * N + j]);
      worst = Math.max(worst, Math.abs(g[C / 4 + i * N + j] - s) / Math.sqrt(K));
    }
    expect(worst).toBeLessThan(1e-4);
  });
});

/** What `threeSteps` reads from an engine. */
interface StepsRun { v: number[]; g: Float32Array; th: Float32Array; split: boolean }

/** Three AdamW steps from θ (the rows, the full batch, the rows): the losses, the first gradient, θ after, whether the last step split. */
function threeSteps(e: ResidentEngine & { lastStepSplit: boolean }, theta: Float32Array, x: Float32Array | Int32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array): StepsRun {
  e.load(theta);
  const v: number[] = [];
  let g: Float32Array = new Float32Array(0);
  for (let s = 0; s < 3; s++) {
    v.push(e.lossAndGradient(x, y, n, s === 1 ? null : rows));
    if (s === 0) g = e.gradient();
    e.applyUpdate(0.01);
  }
  return { v, g, th: e.store(), split: e.lastStepSplit };
}

/**
 * `run` (a fresh engine's threeSteps) on one thread, then data-parallel on two, then the split run
 * serially: the split gives the one-thread losses, gradient and update to float32 rounding, and its
 * serial and threaded runs are bitwise equal.
 */
async function expectSplitMatchesOneThread(run: () => StepsRun): Promise<void> {
  const one = run();
  expect(one.split).toBe(false);
  await initThreads(2);
  setDataParallelMin(0);
  const two = run();
  expect(two.split).toBe(true);
  setThreadsSplitting(false);
  const serial = run();
  expect(serial.split).toBe(true);
  expect(serial.v).toEqual(two.v);
  expect(new Uint8Array(serial.th.buffer)).toEqual(new Uint8Array(two.th.buffer));
  expect(Math.hypot(...one.g)).toBeGreaterThan(1e-3);
  expect(relErr(two.g, one.g)).toBeLessThan(1e-5);
  two.v.forEach((v, i) => expect(Math.abs(v - one.v[i])).toBeLessThan(1e-6 * Math.abs(one.v[i]) + 1e-7));
  expect(relErr(two.th, one.th)).toBeLessThan(1e-5);
}

describe('pairs engine: data-parallel steps on two threads', () => {
  beforeEach(async () => { await initThreads(1); });
  afterEach(async () => { setDataParallelMin(); setThreadsSplitting(true); await initThreads(1); });
  const cases: [string, ModelConfig, HeadKind][] = [
    ['modadd (ReLU, hidden bias, joined first weight), cross-entropy', { arch: 'modadd', p: 13, e: 5, h: 12 }, 'cross-entropy'],
    ['modadd-gelu, cross-entropy', { arch: 'modadd-gelu', p: 11, e: 9, h: 17 }, 'cross-entropy'],
    ['modadd-gelu, half-sse', { arch: 'modadd-gelu', p: 7, e: 3, h: 5 }, 'half-sse'],
  ];
  test.each(cases)('%s: the split step gives the one-thread loss, gradient and AdamW update to float32 rounding; serial and threaded runs of the split are bitwise equal', async (_n, c, head) => {
    if (!threadsSupported()) return;
    const ds = data(c, 120, 120, 8);
    const targets = Float32Array.from({ length: ds.n * (c as { p: number }).p }, (_, i) => Math.sin(0.7 * i));
    const y = head === 'cross-entropy' ? ds.y : targets;
    const theta = initParams(c, 6);
    for (let i = 0; i < theta.length; i++) theta[i] *= 1.5;
    const spec = getArch(c.arch).pairsSpec!(c as never)!;
    // 45 rows, some repeated, out of order: a ragged batch whose second half holds 21 real rows and 3 of padding.
    const rows = Int32Array.from({ length: 45 }, (_, i) => (i * 29 + 3) % 120);
    await expectSplitMatchesOneThread(() => threeSteps(new PairsEngine(spec, layoutFor(c), head, 120, { kind: 'adamw', weightDecay: 0.01 }), theta, ds.x, y, ds.n, rows));
  });
});

describe('stack engine: data-parallel steps on two threads', () => {
  beforeEach(async () => { await initThreads(1); });
  afterEach(async () => { setDataParallelMin(); setThreadsSplitting(true); setSparseInputs(); await initThreads(1); });
  const cases: [string, ModelConfig, boolean][] = [
    ['mnist-mlp [6, 5], sparse input', { arch: 'mnist-mlp', hidden: [6, 5] }, true],
    ['mnist-mlp [13], dense input', { arch: 'mnist-mlp', hidden: [13] }, false],
    // Hidden layers wider than the head and than each other: a thread's δ rows must not land on rows another still reads.
    ['mnist-mlp [40, 30], dense input', { arch: 'mnist-mlp', hidden: [40, 30] }, false],
    ['mnist-mlp [20, 30, 12], sparse input', { arch: 'mnist-mlp', hidden: [20, 30, 12] }, true],
    ['matfac [9, 1, 12, 2] (mse, no biases)', { arch: 'matfac', widths: [9, 1, 12, 2] }, false],
  ];
  test.each(cases)('%s: the split step gives the one-thread loss, gradient and AdamW update to float32 rounding; serial and threaded runs of the split are bitwise equal', async (_n, c, sparse) => {
    if (!threadsSupported()) return;
    setSparseInputs(sparse);
    const ds = data(c, 120, 120, 9);
    if (c.arch === 'mnist-mlp') for (let i = 0; i < ds.x.length; i++) if (i % 5 !== 0) (ds.x as Float32Array)[i] = 0; // 20 % nonzero, as MNIST
    const theta = initParams(c, 6);
    for (let i = 0; i < theta.length; i++) theta[i] *= 1.5;
    // 45 rows, some repeated, out of order: a ragged batch whose second half holds 21 real rows and 3 of padding.
    const rows = Int32Array.from({ length: 45 }, (_, i) => (i * 29 + 3) % 120);
    await expectSplitMatchesOneThread(() => {
      const e = engineFor(c, 120, { kind: 'adamw', weightDecay: 0.01 }) as StackEngine;
      const r = threeSteps(e, theta, ds.x, ds.y, ds.n, rows);
      expect(e.sparseInput).toBe(sparse);
      return r;
    });
  });
});
