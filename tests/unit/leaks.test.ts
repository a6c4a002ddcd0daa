import { beforeAll, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runTask, type TaskName, type TaskParams } from '../../src/core/tasks/index';
import { runInitModel } from '../../src/core/tasks/model';
import { createJobContext } from '../../src/core/jobs';
import { encodeModelFile } from '../../src/core/io/modelFile';
import { nodeAssetReader } from '../../src/node/assets';
import type { ModelBundle } from '../../src/core/models/bundle';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);
const env = { readAsset: nodeAssetReader() };

/** Runs a task 20 times and checks the backend holds no more tensors than before (after a warm-up run). */
async function noGrowth<K extends TaskName>(name: K, params: TaskParams<K>): Promise<void> {
  await runTask(name, params, createJobContext(), env); // warm-up: caches, kernels
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) await runTask(name, params, createJobContext(), env);
  expect(tf.memory().numTensors, `${name} leaks tensors`).toBe(before);
}

let modadd: ModelBundle, matfac: ModelBundle, mlp: ModelBundle;
beforeAll(async () => {
  modadd = await runInitModel({ config: { arch: 'modadd', p: 7, e: 4, h: 6 }, seed: 1 }, createJobContext());
  matfac = await runInitModel({ config: { arch: 'matfac', widths: [4, 3, 4] }, seed: 1 }, createJobContext());
  mlp = await runInitModel({ config: { arch: 'mnist-mlp', hidden: [5] }, seed: 1 }, createJobContext());
});

test('forward: no tensor growth over 20 runs', async () => {
  await noGrowth('forward', { model: modadd, split: 'all' });
  await noGrowth('forward', { model: mlp, split: 'test' });
});

test('spectrum (dense, Lanczos + SLQ + projection + Kronecker): no tensor growth over 20 runs', async () => {
  await noGrowth('spectrum', { model: matfac, method: 'dense' });
  await noGrowth('spectrum', { model: modadd, method: 'lanczos', k: 4, probes: 2, steps: 8, traceProbes: 2 });
}, 120_000);

test('training, model files and model building: no tensor growth over 20 runs', async () => {
  await noGrowth('train', { model: modadd, opts: { optimizer: 'adamw', lr: 0.01, weightDecay: 0.1, batchSize: 16, steps: 3, seed: 0, evalEvery: 2, checkpointEvery: 2 } });
  await noGrowth('init-model', { config: { arch: 'matfac', widths: [3, 3] }, seed: 0 });
  await noGrowth('load-model-file', { bytes: encodeModelFile(matfac), name: 'x' });
  await noGrowth('export-model-file', { model: matfac });
}, 120_000);
