import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runForward } from '../../src/core/tasks/forward';
import { runInitModel } from '../../src/core/tasks/model';
import { createJobContext, isCancelled } from '../../src/core/jobs';
import { loadDataset } from '../../src/core/data/index';
import { splitIndices } from '../../src/core/data/types';
import { nodeAssetReader } from '../../src/node/assets';
import type { ModelConfig } from '../../src/core/models/config';
import { useWasm } from './helpers/tf';
import { referenceForward } from './helpers/reference';

beforeAll(useWasm);
const env = { readAsset: nodeAssetReader() };

describe('forward task', () => {
  test('loss, accuracy and firing match an independent Float64 computation (modadd, test split)', async () => {
    const config: ModelConfig = { arch: 'modadd', p: 11, e: 4, h: 9 };
    const model = await runInitModel({ config, seed: 5, data: { kind: 'modadd', p: 11, trainFraction: 0.6, seed: 2, op: 'sum' } }, createJobContext());
    const progress: number[] = [];
    const r = await runForward({ model, split: 'test', chunkSize: 7 }, createJobContext({ onProgress: (f) => progress.push(f) }), env);
    const ds = await loadDataset(model.data, env.readAsset);
    const idx = splitIndices(ds, 'test');
    const xs = Array.from(idx, (i) => [ds.x[2 * i], ds.x[2 * i + 1]]);
    const want = referenceForward(config, model.theta, xs);
    let loss = 0, correct = 0;
    want.forEach((row, k) => {
      const y = ds.y[idx[k]];
      const m = Math.max(...row);
      loss += Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) + m - row[y];
      if (row.indexOf(m) === y) correct++;
    });
    expect(r.n).toBe(idx.length);
    expect(r.loss).toBeCloseTo(loss / idx.length, 4);
    expect(r.accuracy).toBe(correct / idx.length);
    expect(r.outputs[5 * 11 + 3]).toBeCloseTo(want[5][3], 4);
    // firing fraction of hidden neuron 0 from the reference pre-activations
    const E = model.theta.subarray(0, 44);
    const W = model.theta.subarray(44, 44 + 9 * 8);
    const b = model.theta.subarray(44 + 72, 44 + 72 + 9);
    const fires = xs.filter(([a, c]) => {
      let z = b[0];
      for (let k = 0; k < 4; k++) z += W[k] * E[a * 4 + k] + W[4 + k] * E[c * 4 + k];
      return z > 0;
    }).length;
    expect(r.firing![0]).toBeCloseTo(fires / idx.length, 6);
    expect(progress.at(-1)).toBe(1);
    expect(r.backend).toBe('wasm');
  });

  test('matfac reports MSE over all elements and no firing', async () => {
    const config: ModelConfig = { arch: 'matfac', widths: [3, 2, 3] };
    const model = await runInitModel({ config, seed: 1 }, createJobContext());
    const r = await runForward({ model, split: 'train' }, createJobContext(), env);
    const ds = await loadDataset(model.data, env.readAsset);
    const xs = Array.from(ds.trainIdx, (i) => Array.from(ds.x.subarray(3 * i, 3 * i + 3)));
    const want = referenceForward(config, model.theta, xs);
    let se = 0;
    want.forEach((row, k) => row.forEach((v, j) => { se += (v - ds.y[3 * ds.trainIdx[k] + j]) ** 2; }));
    expect(r.loss).toBeCloseTo(se / (xs.length * 3), 5);
    expect(r.accuracy).toBeUndefined();
    expect(r.firing).toBeUndefined();
  });

  test('cancellation stops a long pass promptly and leaks no tensors', async () => {
    const model = await runInitModel({ config: { arch: 'modadd', p: 23, e: 16, h: 32 }, seed: 0 }, createJobContext());
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    const err = await runForward({ model, split: 'all', repeats: 100000 }, createJobContext({ signal: ac.signal }), env).catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(50 + 200);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('bad sizes are refused with a reason before anything is allocated', async () => {
    await expect(runInitModel({ config: { arch: 'mnist-mlp', hidden: [5000, 5000] }, seed: 0 }, createJobContext())).rejects.toThrow(/hidden\[0\] must be between 1 and 4096/);
  });
});
