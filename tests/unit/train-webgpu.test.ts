/**
 * Training on the webgpu backend agrees with wasm (Node, Dawn from the `webgpu` package; with no
 * GPU, SwiftShader's Vulkan ICD from Debian's chromium). Skips cleanly where no adapter is found.
 * Also catches synchronous reads: tfjs's webgpu backend throws on dataSync() in Node.
 */
import { describe, expect, test } from 'vitest';
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
import { runTraining, type TrainOptions } from '../../src/core/train/trainer';

const hasAdapter = await webgpuAdapter();

const cases: { c: ModelConfig; ds: Dataset; o: Partial<TrainOptions> }[] = [
  { c: { arch: 'modadd', p: 7, e: 4, h: 8 }, ds: modAddDataset({ p: 7, trainFraction: 0.6, seed: 0 }), o: { optimizer: 'adamw', weightDecay: 0.5, batchSize: 8 } },
  { c: { arch: 'matfac', widths: [4, 3, 4] }, ds: matfacDataset({ inDim: 4, outDim: 4, seed: 0 }), o: { optimizer: 'sgd', momentum: 0.9, weightDecay: 0.01, batchSize: 'full' } },
];

async function trainAll(): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const k of cases) {
    const opts = { lr: 0.01, steps: 12, seed: 0, evalEvery: 6, checkpointEvery: 0, ...k.o } as TrainOptions;
    const before = tf.memory().numTensors;
    const r = await runTraining({ name: k.c.arch, config: k.c, theta: initParams(k.c, 1), data: defaultDataSpec(k.c) }, k.ds, opts, createJobContext());
    expect(tf.memory().numTensors).toBe(before);
    out.push(r.theta);
  }
  return out;
}

describe.skipIf(!hasAdapter)('training on webgpu', () => {
  test('matches wasm step for step (float32 tolerance)', async () => {
    expect((await initBackend('wasm')).active).toBe('wasm');
    const ref = await trainAll();
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const got = await trainAll();
    got.forEach((g, i) => {
      let worst = 0;
      for (let j = 0; j < g.length; j++) worst = Math.max(worst, Math.abs(g[j] - ref[i][j]) / (1e-3 + Math.abs(ref[i][j])));
      expect(worst).toBeLessThan(1e-3);
    });
  }, 120_000);
});
