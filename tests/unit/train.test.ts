import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import type { ModelBundle } from '../../src/core/models/bundle';
import { modAddDataset } from '../../src/core/data/modadd';
import { matfacDataset } from '../../src/core/data/matfac';
import { defaultDataSpec } from '../../src/core/data/spec';
import type { Dataset } from '../../src/core/data/types';
import { makeRng } from '../../src/core/rng';
import { CancelledError, createJobContext } from '../../src/core/jobs';
import { crossEntropy, mse, accuracy, lossFor } from '../../src/core/train/losses';
import { createAdamW, createSgd } from '../../src/core/train/optimizers';
import { setFusedKernelsEnabled } from '../../src/core/train/wasmKernels';
import { Trainer, lossAndGradient, runTraining, validateTrainOptions, type Metrics, type TrainOptions } from '../../src/core/train/trainer';
import { ensureWasmTrainingKernels } from '../../src/core/train/wasmKernels';
import { useWasm } from './helpers/tf';
import { referenceForward } from './helpers/reference';

beforeAll(useWasm);

// ---------------------------------------------------------------------------------------------
// An independent Float64 reference: forward passes and losses written from docs/science.md §1 in
// plain JS (loops over PyTorch-layout weights), nothing shared with src/core/train.
// ---------------------------------------------------------------------------------------------

type Rows = { x: number[][]; y: number[][] | number[] };

/** f_θ(x) for one input row, θ in Float64 (the shared independent reference). */
function refForward(c: ModelConfig, theta: Float64Array, x: number[]): number[] {
  return referenceForward(c, theta, [x])[0];
}

/** Mean cross-entropy (classifiers) or mean-over-all-elements MSE (matfac), in Float64. */
function refLoss(c: ModelConfig, theta: Float64Array, rows: Rows): number {
  let total = 0;
  for (let i = 0; i < rows.x.length; i++) {
    const out = refForward(c, theta, rows.x[i]);
    if (c.arch === 'matfac') {
      const t = (rows.y as number[][])[i];
      for (let k = 0; k < out.length; k++) total += (out[k] - t[k]) ** 2 / out.length;
    } else {
      const m = Math.max(...out);
      const lse = m + Math.log(out.reduce((s, z) => s + Math.exp(z - m), 0));
      total += lse - out[(rows.y as number[])[i]];
    }
  }
  return total / rows.x.length;
}

/** The training rows of a Dataset as plain arrays (for the reference) and as tensors (for tfjs). */
function trainRows(ds: Dataset): Rows {
  const x: number[][] = [], y: number[][] | number[] = [];
  for (const r of ds.trainIdx) {
    x.push(Array.from(ds.x.subarray(r * ds.inputDim, (r + 1) * ds.inputDim)));
    if (ds.kind === 'matfac') (y as number[][]).push(Array.from(ds.y.subarray(r * ds.outDim, (r + 1) * ds.outDim)));
    else (y as number[]).push(ds.y[r]);
  }
  return { x, y };
}

function rowsToTensors(ds: Dataset, rows: Rows): { x: tf.Tensor2D; y: tf.Tensor } {
  const n = rows.x.length;
  const x = ds.x instanceof Int32Array ? tf.tensor2d(rows.x.flat(), [n, ds.inputDim], 'int32') : tf.tensor2d(rows.x.flat(), [n, ds.inputDim], 'float32');
  const y = ds.kind === 'matfac' ? tf.tensor2d((rows.y as number[][]).flat(), [n, ds.outDim]) : tf.tensor1d(rows.y as number[], 'int32');
  return { x, y };
}

/** A small synthetic MNIST-shaped dataset (random pixels in [0, 1], random labels). */
function fakeMnist(n: number, nTrain: number, seed: number): Dataset {
  const rng = makeRng(seed);
  const x = new Float32Array(n * 784).map(() => rng.next());
  const y = new Int32Array(n).map(() => rng.int(10));
  return {
    kind: 'mnist', label: 'fake digits', n, inputDim: 784, x, y, outDim: 10,
    trainIdx: Int32Array.from({ length: nTrain }, (_, i) => i),
    testIdx: Int32Array.from({ length: n - nTrain }, (_, i) => nTrain + i),
  };
}

function datasetFor(c: ModelConfig, seed = 0): Dataset {
  switch (c.arch) {
    case 'modadd':
    case 'modadd-gelu': return modAddDataset({ p: c.p, trainFraction: 0.5, seed });
    case 'mnist-mlp': return fakeMnist(12, 8, seed);
    case 'matfac': return matfacDataset({ inDim: c.widths[0], outDim: c.widths[c.widths.length - 1], seed });
  }
}

function bundleFor(c: ModelConfig, seed = 0): ModelBundle {
  return { name: c.arch, config: c, theta: initParams(c, seed), data: defaultDataSpec(c, seed) };
}

const quietCtx = () => createJobContext();

// ---------------------------------------------------------------------------------------------

describe('losses', () => {
  test('cross-entropy, MSE and accuracy match hand-computed values', async () => {
    const z = [[2, -1, 0.5], [0.1, 0.2, 3], [1000, 0, -1000]]; // the last row would overflow a naive softmax
    const labels = [0, 1, 0];
    const want = z.reduce((s, row, i) => {
      const m = Math.max(...row);
      return s + m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) - row[labels[i]];
    }, 0) / z.length;
    const [ce, acc, ms] = tf.tidy(() => {
      const logits = tf.tensor2d(z);
      const y = tf.tensor1d(labels, 'int32');
      return [crossEntropy(logits, y), accuracy(logits, y), mse(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[0, 2], [5, 4]]))];
    });
    expect((await ce.data())[0]).toBeCloseTo(want, 5);
    expect((await acc.data())[0]).toBeCloseTo(2 / 3, 6); // rows 0 and 2 are right
    expect((await ms.data())[0]).toBeCloseTo((1 + 0 + 4 + 0) / 4, 6); // mean over all elements
    tf.dispose([ce, acc, ms]);
    expect(lossFor({ arch: 'matfac', widths: [2, 2] }).kind).toBe('mse');
    expect(lossFor({ arch: 'mnist-mlp', hidden: [3] }).kind).toBe('cross-entropy');
  });
});

describe('gradient of the training loss agrees with finite differences of a Float64 reference', () => {
  const cases: ModelConfig[] = [
    { arch: 'modadd', p: 7, e: 4, h: 6 },
    { arch: 'modadd-gelu', p: 7, e: 3, h: 5 },
    { arch: 'mnist-mlp', hidden: [6, 5] },
    { arch: 'matfac', widths: [4, 3, 5] },
  ];
  test.each(cases.map((c) => [c.arch, c] as const))('%s', async (_name, c) => {
    const theta32 = initParams(c, 5);
    // Larger than init so logits are not all near zero (a stronger test of the softmax part).
    for (let i = 0; i < theta32.length; i++) theta32[i] *= 1.5;
    const ds = datasetFor(c, 2);
    const rows = trainRows(ds);
    const { x, y } = rowsToTensors(ds, rows);
    const thetaT = tf.tensor1d(theta32);
    const { value, grad } = tf.tidy(() => lossAndGradient(c, thetaT, x, y));
    const g = await grad.data();
    const v = (await value.data())[0];
    tf.dispose([x, y, thetaT, value, grad]);

    const theta = Float64Array.from(theta32);
    expect(v).toBeCloseTo(refLoss(c, theta, rows), 4);
    const d = theta.length;
    const rng = makeRng(99);
    const coords = d <= 200 ? Array.from({ length: d }, (_, i) => i) : Array.from({ length: 200 }, () => rng.int(d));
    const fd: number[] = [];
    for (const i of coords) {
      const h = 1e-6;
      const t0 = theta[i];
      theta[i] = t0 + h; const up = refLoss(c, theta, rows);
      theta[i] = t0 - h; const dn = refLoss(c, theta, rows);
      theta[i] = t0;
      fd.push((up - dn) / (2 * h));
    }
    const scale = Math.max(...fd.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3); // the loss does depend on the sampled coordinates
    let worst = 0;
    coords.forEach((i, k) => {
      const err = Math.abs(g[i] - fd[k]) / (1e-3 * Math.abs(fd[k]) + 1e-5 * scale);
      worst = Math.max(worst, err);
    });
    expect(worst).toBeLessThan(1); // every coordinate within 1e-3 relative (+ floor 1e-5·max|g|)
  });

  test('wasm matMul gradients with explicit transposes agree with the analytic gradient, every transpose flag', async () => {
    ensureWasmTrainingKernels();
    const rng = makeRng(4);
    const rand = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal()));
    const T = (m: number[][]) => m[0].map((_, j) => m.map((row) => row[j]));
    const mm = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const opA = rand(3, 4), opB = rand(4, 5), R = rand(3, 5);
      const A = ta ? T(opA) : opA, B = tb ? T(opB) : opB;
      // L = Σ R ∘ (op(A)·op(B)):  ∂L/∂op(A) = R·op(B)ᵀ, ∂L/∂op(B) = op(A)ᵀ·R
      const dOpA = mm(R, T(opB)), dOpB = mm(T(opA), R);
      const wantA = ta ? T(dOpA) : dOpA, wantB = tb ? T(dOpB) : dOpB;
      const [ga, gb] = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb), tf.tensor2d(R))))([tf.tensor2d(A), tf.tensor2d(B)]));
      const [va, vb] = [await ga.array() as number[][], await gb.array() as number[][]];
      tf.dispose([ga, gb]);
      va.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(wantA[i][j], 4)));
      vb.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(wantB[i][j], 4)));
    }
  });
});

describe('optimizers follow PyTorch update rules (Float64 reference)', () => {
  const d = 37;
  const rng = makeRng(21);
  const theta0 = Float32Array.from({ length: d }, () => rng.normal());
  const grads = [0, 1, 2].map(() => Float32Array.from({ length: d }, () => rng.normal() * 0.3));

  async function run(make: (size: number) => ReturnType<typeof createAdamW>): Promise<Float32Array[]> {
    const theta = tf.tidy(() => tf.variable(tf.tensor1d(theta0), false));
    const opt = make(d);
    const out: Float32Array[] = [];
    for (const g of grads) {
      const gt = tf.tensor1d(g);
      opt.apply(theta, gt);
      gt.dispose();
      out.push(Float32Array.from(await theta.data()));
    }
    expect(opt.t).toBe(grads.length);
    opt.dispose();
    theta.dispose();
    return out;
  }

  const close = (got: Float32Array, want: Float64Array) => {
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-6 * (1 + Math.abs(want[i])));
  };

  test.each([true, false])('AdamW: decoupled decay, bias-corrected moments, three steps (fused kernel: %s)', async (fusedOn) => {
    setFusedKernelsEnabled(fusedOn);
    const before = tf.memory().numTensors;
    const lr = 0.01, wd = 0.5, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const got = await run((n) => createAdamW(n, { lr, weightDecay: wd }));
    const th = Float64Array.from(theta0), m = new Float64Array(d), v = new Float64Array(d);
    grads.forEach((g, s) => {
      const t = s + 1;
      for (let i = 0; i < d; i++) {
        th[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const mHat = m[i] / (1 - b1 ** t), vHat = v[i] / (1 - b2 ** t);
        th[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
      close(got[s], th);
    });
    // First step by hand: θ1 = θ0(1 − lr·wd) − lr·g/(|g| + eps) ≈ θ0(1 − lr·wd) − lr·sign(g).
    expect(got[0][0]).toBeCloseTo(theta0[0] * (1 - lr * wd) - lr * Math.sign(grads[0][0]), 5);
    expect(tf.memory().numTensors).toBe(before);
    setFusedKernelsEnabled(true);
  });

  test('SGD with momentum and L2 weight decay, three steps', async () => {
    const before = tf.memory().numTensors;
    const lr = 0.05, mu = 0.9, wd = 0.01;
    const got = await run((n) => createSgd(n, { lr, momentum: mu, weightDecay: wd }));
    const th = Float64Array.from(theta0), buf = new Float64Array(d);
    grads.forEach((g, s) => {
      for (let i = 0; i < d; i++) {
        const dp = g[i] + wd * th[i];
        buf[i] = s === 0 ? dp : mu * buf[i] + dp;
        th[i] -= lr * buf[i];
      }
      close(got[s], th);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Trainer', () => {
  const c: ModelConfig = { arch: 'modadd', p: 7, e: 4, h: 8 };
  const base: TrainOptions = { optimizer: 'adamw', lr: 0.01, weightDecay: 0.1, batchSize: 5, steps: 25, seed: 3, evalEvery: 10, checkpointEvery: 0 };

  test('options are validated with readable reasons', () => {
    expect(validateTrainOptions(base)).toEqual([]);
    expect(validateTrainOptions({ ...base, lr: -1, batchSize: 0 }).join('; ')).toMatch(/learning rate.*batch size/);
    expect(() => new Trainer(bundleFor(c), datasetFor({ ...c, p: 5 }), base)).toThrow(/outputs/);
  });

  test('deterministic: the same seed gives identical θ bytes, another seed a different θ', async () => {
    const ds = datasetFor(c);
    const run = async (seed: number) => (await runTraining(bundleFor(c), ds, { ...base, seed }, quietCtx())).theta;
    const a = await run(3), b = await run(3), other = await run(4);
    expect(new Uint8Array(a.buffer)).toEqual(new Uint8Array(b.buffer));
    expect(new Uint8Array(a.buffer)).not.toEqual(new Uint8Array(other.buffer));
    expect(a).not.toEqual(bundleFor(c).theta); // it trained
  });

  test.each([
    ['modadd, AdamW, minibatches', { arch: 'modadd', p: 7, e: 4, h: 8 } as ModelConfig, base],
    ['mnist-mlp, SGD momentum, cosine', { arch: 'mnist-mlp', hidden: [5] } as ModelConfig, { ...base, optimizer: 'sgd', momentum: 0.9, schedule: 'cosine' } as TrainOptions],
    ['matfac, full batch', { arch: 'matfac', widths: [3, 2, 3] } as ModelConfig, { ...base, batchSize: 'full' } as TrainOptions],
  ])('no tensor leaks across steps, evaluate() and dispose (%s)', async (_name, cfg, opts) => {
    const start = tf.memory().numTensors;
    const tr = new Trainer(bundleFor(cfg), datasetFor(cfg), opts);
    await tr.step();
    const steady = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) await tr.step();
    await tr.evaluate();
    await tr.theta();
    await tr.lastBatchLoss();
    expect(tf.memory().numTensors).toBe(steady);
    expect(tr.stepCount).toBe(7);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(start);
    await runTraining(bundleFor(cfg), datasetFor(cfg), { ...opts, checkpointEvery: 4 }, quietCtx());
    expect(tf.memory().numTensors).toBe(start);
  });

  test('evaluate() matches the Float64 reference loss and accuracy on both splits', async () => {
    const ds = datasetFor(c);
    const b = bundleFor(c, 8);
    const tr = new Trainer(b, ds, base);
    const m = await tr.evaluate();
    tr.dispose();
    const theta = Float64Array.from(b.theta);
    const split = (idx: Int32Array) => {
      const rows = trainRows({ ...ds, trainIdx: idx });
      let right = 0;
      rows.x.forEach((x, i) => { const o = refForward(c, theta, x); if (o.indexOf(Math.max(...o)) === (rows.y as number[])[i]) right++; });
      return { loss: refLoss(c, theta, rows), acc: right / rows.x.length };
    };
    const tr64 = split(ds.trainIdx), te64 = split(ds.testIdx);
    expect(m.step).toBe(0);
    expect(m.trainLoss).toBeCloseTo(tr64.loss, 4);
    expect(m.testLoss).toBeCloseTo(te64.loss, 4);
    expect(m.trainAcc).toBeCloseTo(tr64.acc, 6);
    expect(m.testAcc).toBeCloseTo(te64.acc, 6);
  });

  test('runTraining: progress, evaluation and snapshot schedule, pause hook before every step', async () => {
    const phases: string[] = [];
    const metrics: Metrics[] = [];
    const snaps: number[] = [];
    let waits = 0;
    const ctx = createJobContext({ onProgress: (_f, phase) => phases.push(phase) });
    const r = await runTraining(bundleFor(c), datasetFor(c), { ...base, steps: 23, evalEvery: 10, checkpointEvery: 8 }, ctx, {
      onMetrics: (m) => metrics.push(m),
      onCheckpoint: (k, th) => { snaps.push(k); expect(th.length).toBe(layoutFor(c).size); },
      waitWhilePaused: async () => { waits++; },
    });
    expect(waits).toBe(23);
    expect(metrics.map((m) => m.step)).toEqual([0, 10, 20, 23]);
    expect(r.history).toEqual(metrics);
    expect(snaps).toEqual([0, 8, 16, 23]);
    expect(r.checkpoints).toEqual(snaps);
    expect(phases.at(-1)).toBe('step 23/23');
  });

  test('cosine schedule follows CosineAnnealingLR (lr·(1 + cos(πk/N))/2)', async () => {
    const tr = new Trainer(bundleFor(c), datasetFor(c), { ...base, steps: 12, schedule: 'cosine' });
    const seen: number[] = [];
    for (let k = 0; k < 12; k++) { seen.push(tr.currentLr()); await tr.step(); }
    tr.dispose();
    expect(seen[0]).toBeCloseTo(0.01, 12);
    expect(seen[6]).toBeCloseTo(0.005, 12);
    expect(seen[4]).toBeCloseTo(0.01 * 0.75, 12); // cos(π/3) = 1/2
    const flat = new Trainer(bundleFor(c), datasetFor(c), { ...base, steps: 12 });
    await flat.step();
    expect(flat.currentLr()).toBe(0.01); // constant by default
    flat.dispose();
  });

  test('cancellation: an abort mid-run rejects with CancelledError promptly and frees the tensors', async () => {
    const start = tf.memory().numTensors;
    const ac = new AbortController();
    let abortedAt = 0;
    let stepsSeen = 0;
    const ctx = createJobContext({ signal: ac.signal, onProgress: () => { stepsSeen++; } });
    setTimeout(() => { abortedAt = performance.now(); ac.abort(); }, 200);
    const p = runTraining(bundleFor(c), datasetFor(c), { ...base, steps: 1_000_000, evalEvery: 50 }, ctx);
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    const latency = performance.now() - abortedAt;
    expect(abortedAt).toBeGreaterThan(0);
    expect(stepsSeen).toBeGreaterThan(1); // it was running when cancelled
    expect(latency).toBeLessThan(200);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('short training sanity', () => {
  test('matfac [5, 5, 5] reaches train MSE < 1e-6', async () => {
    const cfg: ModelConfig = { arch: 'matfac', widths: [5, 5, 5] };
    const r = await runTraining(bundleFor(cfg), matfacDataset({ inDim: 5, outDim: 5, seed: 0 }),
      { optimizer: 'adamw', lr: 0.01, weightDecay: 0, batchSize: 'full', steps: 1500, seed: 0, evalEvery: 0, checkpointEvery: 0 }, quietCtx());
    const last = r.history.at(-1)!;
    expect(last.step).toBe(1500);
    expect(last.trainLoss).toBeLessThan(1e-6);
    expect(r.history[0].trainLoss).toBeGreaterThan(1e-2); // it started far away
  });

  test('modadd p = 13 reaches 100 % train accuracy', async () => {
    const cfg: ModelConfig = { arch: 'modadd', p: 13, e: 16, h: 64 };
    const r = await runTraining(bundleFor(cfg), modAddDataset({ p: 13, trainFraction: 0.8, seed: 0 }),
      { optimizer: 'adamw', lr: 0.01, weightDecay: 1, batchSize: 'full', steps: 150, seed: 0, evalEvery: 0, checkpointEvery: 0 }, quietCtx());
    const last = r.history.at(-1)!;
    expect(r.history[0].trainAcc).toBeLessThan(0.3);
    expect(last.trainAcc).toBe(1);
  });
});
