/**
 * Training on the webgpu backend agrees with wasm (Node, Dawn from the `webgpu` package; with no
 * GPU, SwiftShader's Vulkan ICD from Debian's chromium), on both webgpu paths: the WGSL whole-step
 * engine (gpu/trainStep.ts, the default for the four built-in architectures) and the tfjs ops
 * (setGpuTrainingEnabled(false)); the evaluations after GPU steps (θ copied into the tfjs variable on
 * the GPU); the batch loss read every 10 steps; the fallback to the tfjs path with its reason when
 * the GPU engine cannot be had. Skips cleanly where no adapter is found. Also catches synchronous
 * reads: tfjs's webgpu backend throws on dataSync() in Node.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { webgpuAdapter } from './helpers/webgpu';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import type { ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { defaultDataSpec } from '../../src/core/data/spec';
import { modAddDataset } from '../../src/core/data/modadd';
import { matfacDataset } from '../../src/core/data/matfac';
import type { Dataset } from '../../src/core/data/types';
import { createJobContext } from '../../src/core/jobs';
import type { Metrics } from '../../src/core/train/options';
import { makeRng } from '../../src/core/rng';
import { runTraining, Trainer, type TrainOptions } from '../../src/core/train/trainer';
import { setGpuTrainingEnabled } from '../../src/core/gpu/trainStep';
import type * as TrainStep from '../../src/core/gpu/trainStep';
import { trainWgslBench } from '../../src/core/gpu/trainBench';
import { runBrowserBench } from '../../src/core/bench/browserBench';

/** Lets a test make the GPU engine unavailable (a reason, or a throw) without touching the device. */
const force = vi.hoisted(() => ({ mode: null as null | 'reason' | 'throw' }));
vi.mock('../../src/core/gpu/trainStep', async (importOriginal) => {
  const real = await importOriginal<typeof TrainStep>();
  return {
    ...real,
    openGpuTrainer: (...args: Parameters<typeof real.openGpuTrainer>) => {
      if (force.mode === 'reason') return Promise.resolve({ reason: 'forced: the device refused the buffers' });
      if (force.mode === 'throw') return Promise.reject(new Error('forced: adapter went away'));
      return real.openGpuTrainer(...args);
    },
  };
});

const hasAdapter = await webgpuAdapter();
if (!hasAdapter) console.warn('train-webgpu.test.ts: no WebGPU adapter (Dawn + SwiftShader ICD not found); skipping');

afterEach(() => { setGpuTrainingEnabled(true); force.mode = null; });

/** MNIST-shaped rows with a blank border (so the GPU engine drops columns), random labels. */
function fakeMnist(n: number, nTrain: number, seed: number): Dataset {
  const rng = makeRng(seed);
  const x = Float32Array.from({ length: n * 784 }, (_, i) => {
    const c = (i % 784) % 28, r = Math.floor((i % 784) / 28);
    const u = rng.next(), w = rng.next();
    return c < 3 || c >= 25 || r < 3 || r >= 25 || u < 0.7 ? 0 : w;
  });
  const y = Int32Array.from({ length: n }, () => rng.int(10));
  return {
    kind: 'mnist', label: 'random digits', n, inputDim: 784, x, y, outDim: 10,
    trainIdx: Int32Array.from({ length: nTrain }, (_, i) => i), testIdx: Int32Array.from({ length: n - nTrain }, (_, i) => nTrain + i),
  };
}

const cases: { c: ModelConfig; ds: () => Dataset; o: Partial<TrainOptions> }[] = [
  { c: { arch: 'modadd', p: 7, e: 4, h: 8 }, ds: () => modAddDataset({ p: 7, trainFraction: 0.6, seed: 0 }), o: { optimizer: 'adamw', weightDecay: 0.5, batchSize: 8 } },
  { c: { arch: 'modadd-gelu', p: 11, e: 5, h: 9 }, ds: () => modAddDataset({ p: 11, trainFraction: 0.5, seed: 1, op: 'random' }), o: { optimizer: 'adamw', weightDecay: 1, batchSize: 'full', schedule: 'cosine' } },
  { c: { arch: 'mnist-mlp', hidden: [11, 7] }, ds: () => fakeMnist(60, 45, 2), o: { optimizer: 'sgd', momentum: 0.9, weightDecay: 2e-3, batchSize: 16, lr: 0.05 } },
  { c: { arch: 'matfac', widths: [4, 3, 4] }, ds: () => matfacDataset({ inDim: 4, outDim: 4, seed: 0 }), o: { optimizer: 'sgd', momentum: 0.9, weightDecay: 0.01, batchSize: 'full' } },
];

async function trainAll(path: 'resident' | 'wgsl' | 'tfjs'): Promise<{ theta: Float32Array; history: Metrics[] }[]> {
  const out: { theta: Float32Array; history: Metrics[] }[] = [];
  for (const k of cases) {
    const opts = { lr: 0.01, steps: 12, seed: 0, evalEvery: 6, checkpointEvery: 0, ...k.o } as TrainOptions;
    const bundle = { name: k.c.arch, config: k.c, theta: initParams(k.c, 1), data: defaultDataSpec(k.c) };
    const ds = k.ds();
    // The path the runs below take.
    const probe = new Trainer(bundle, ds, opts);
    await probe.ready();
    expect(probe.stepPath).toBe(path);
    expect(probe.fallbackReason).toBeUndefined();
    probe.dispose();
    const before = tf.memory().numTensors;
    const r = await runTraining(bundle, ds, opts, createJobContext());
    expect(tf.memory().numTensors).toBe(before);
    out.push(r);
  }
  return out;
}

function worstRel(g: Float32Array, ref: Float32Array): number {
  let worst = 0;
  for (let j = 0; j < g.length; j++) worst = Math.max(worst, Math.abs(g[j] - ref[j]) / (1e-3 + Math.abs(ref[j])));
  return worst;
}

describe.skipIf(!hasAdapter)('training on webgpu', () => {
  test('the WGSL steps and the tfjs ops on webgpu match wasm step for step (float32 tolerance), evaluations included', async () => {
    expect((await initBackend('wasm')).active).toBe('wasm');
    const ref = await trainAll('resident');
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const wgsl = await trainAll('wgsl');
    setGpuTrainingEnabled(false);
    const ops = await trainAll('tfjs');
    for (const got of [wgsl, ops]) {
      got.forEach((g, i) => {
        expect(worstRel(g.theta, ref[i].theta)).toBeLessThan(1e-3);
        expect(g.history.map((m) => m.step)).toEqual(ref[i].history.map((m) => m.step));
        g.history.forEach((m, j) => {
          const r = ref[i].history[j];
          expect(Math.abs(m.trainLoss - r.trainLoss)).toBeLessThanOrEqual(1e-4 * Math.abs(r.trainLoss) + 1e-7);
          if (r.testAcc !== undefined) expect(Math.abs(m.testAcc! - r.testAcc)).toBeLessThanOrEqual(1 / 40);
        });
      });
    }
  }, 180_000);

  test('the batch loss read every 10 steps equals the wasm engine\'s; θ and evaluation after the steps', async () => {
    const k = cases[2];
    const opts = { lr: 0.05, steps: 30, seed: 3, evalEvery: 0, checkpointEvery: 0, ...k.o } as TrainOptions;
    const bundle = { name: k.c.arch, config: k.c, theta: initParams(k.c, 2), data: defaultDataSpec(k.c) };
    const ds = k.ds();
    const run = async (): Promise<{ losses: number[]; theta: Float32Array; m: Metrics }> => {
      const tr = new Trainer(bundle, ds, opts);
      const losses: number[] = [];
      try {
        for (let s = 1; s <= 30; s++) {
          await tr.step();
          if (s % 10 === 0) losses.push(await tr.lastBatchLoss());
        }
        return { losses, theta: await tr.theta(), m: await tr.evaluate() };
      } finally {
        tr.dispose();
      }
    };
    expect((await initBackend('wasm')).active).toBe('wasm');
    const ref = await run();
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const got = await run();
    got.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i])).toBeLessThanOrEqual(1e-4 * ref.losses[i]));
    expect(worstRel(got.theta, ref.theta)).toBeLessThan(1e-3);
    expect(Math.abs(got.m.trainLoss - ref.m.trainLoss)).toBeLessThanOrEqual(1e-4 * ref.m.trainLoss);
    expect(got.m.step).toBe(30);
  }, 120_000);

  test('where the GPU engine cannot be had, the tfjs path trains and the reason is kept', async () => {
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const k = cases[0];
    const opts = { lr: 0.01, steps: 4, seed: 0, evalEvery: 0, checkpointEvery: 0, ...k.o } as TrainOptions;
    const bundle = { name: k.c.arch, config: k.c, theta: initParams(k.c, 1), data: defaultDataSpec(k.c) };
    const ds = k.ds();
    const thetas: Float32Array[] = [];
    for (const mode of [null, 'reason', 'throw'] as const) {
      force.mode = mode;
      const before = tf.memory().numTensors;
      const tr = new Trainer(bundle, ds, opts);
      try {
        for (let s = 0; s < 4; s++) await tr.step();
        expect(tr.stepPath).toBe(mode ? 'tfjs' : 'wgsl');
        expect(tr.wholeStep).toBe(!mode);
        expect(tr.fallbackReason).toBe(mode === 'reason' ? 'forced: the device refused the buffers' : mode === 'throw' ? 'forced: adapter went away' : undefined);
        expect(Number.isFinite(await tr.lastBatchLoss())).toBe(true);
        thetas.push(await tr.theta());
      } finally {
        tr.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(worstRel(thetas[1], thetas[0])).toBeLessThan(1e-3);
    expect(thetas[2]).toEqual(thetas[1]);
    // Switched off, the GPU engine is not tried: the tfjs path, and no reason to report.
    setGpuTrainingEnabled(false);
    const off = new Trainer(bundle, ds, opts);
    await off.ready();
    expect(off.stepPath).toBe('tfjs');
    expect(off.fallbackReason).toBeUndefined();
    off.dispose();
  }, 120_000);

  test('the bench row: WGSL steps against the tfjs ops on webgpu, or why it was skipped', async () => {
    const k = cases[2];
    const opts = { lr: 0.05, steps: 0, seed: 0, evalEvery: 0, checkpointEvery: 0, ...k.o } as TrainOptions;
    const bundle = { name: k.c.arch, config: k.c, theta: initParams(k.c, 1), data: defaultDataSpec(k.c) };
    const ds = k.ds();
    expect(await trainWgslBench(bundle, ds, opts, 'wasm', 3)).toEqual({ skipped: expect.stringMatching(/active backend is wasm/) });
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const r = await trainWgslBench(bundle, ds, opts, 'webgpu', 4, 2);
    if ('skipped' in r) throw new Error(r.skipped);
    expect(r.maxRelDiff).toBeLessThan(1e-4);
    expect(r.speedup).toBeGreaterThan(0);
    expect(r.steps).toBe(4);
    force.mode = 'reason';
    expect(await trainWgslBench(bundle, ds, opts, 'webgpu', 2, 1)).toEqual({ skipped: expect.stringMatching(/not used: forced/) });
  }, 120_000);

  test('the in-browser bench carries the training-steps row: run on webgpu with the recipe, skipped with the reason on wasm, left out at trainSteps 0', async () => {
    const c: ModelConfig = { arch: 'matfac', widths: [4, 3, 4] };
    const bundle = { name: 'matfac', config: c, theta: initParams(c, 1), data: defaultDataSpec(c) };
    const env = { readAsset: () => Promise.reject(new Error('matfac reads no asset')) };
    const quick = { model: bundle, reps: 1, k: 0, matMulSize: 0, sweepVectors: 0, trainSteps: 3 };
    expect((await initBackend('wasm')).active).toBe('wasm');
    const onWasm = await runBrowserBench(quick, createJobContext(), env);
    expect(onWasm.trainWgsl).toEqual({ skipped: 'the active backend is wasm; the WGSL training steps run on the webgpu backend' });
    expect((await runBrowserBench({ ...quick, trainSteps: 0 }, createJobContext(), env)).trainWgsl).toBeUndefined();
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const r = await runBrowserBench(quick, createJobContext(), env);
    expect(r.backend).toBe('webgpu');
    expect(r.gnWgsl).toBeDefined();
    const t = r.trainWgsl;
    if (!t || 'skipped' in t) throw new Error(`the training row did not run: ${JSON.stringify(t)}`);
    expect(t.steps).toBe(3);
    expect(t.wgslStepsPerSec).toBeGreaterThan(0);
    expect(t.tfjsStepsPerSec).toBeGreaterThan(0);
    expect(t.maxRelDiff).toBeLessThan(1e-4);
    // The engine refused: the row says why, the rest of the bench still runs.
    force.mode = 'reason';
    const refused = await runBrowserBench(quick, createJobContext(), env);
    expect(refused.trainWgsl).toEqual({ skipped: expect.stringMatching(/not used: forced: the device refused/) });
    expect(refused.gn.reps).toBe(1);
  }, 120_000);
});
