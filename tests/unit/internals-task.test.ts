import { beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { runFourierCheckpoints, runInternals } from '../../src/core/tasks/internals';
import { fourierAnalysis } from '../../src/core/internals/fourier';
import { decodeModelFile } from '../../src/core/io/modelFile';
import { initParams } from '../../src/core/models/init';
import { createJobContext } from '../../src/core/jobs';
import { nodeAssetReader } from '../../src/node/assets';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

test('Fourier over checkpoints: one row per checkpoint, equal to the single-model analysis', async () => {
  const model = decodeModelFile(new Uint8Array(readFileSync('public/models/modadd-gelu.safetensors')));
  const init = initParams(model.config, 0);
  const r = await runFourierCheckpoints({ model, checkpoints: [{ step: 0, theta: init }, { step: 1500, theta: model.theta }] }, createJobContext());
  const end = fourierAnalysis(model);
  const k = end.frequencies.length;
  expect(r.steps).toEqual([0, 1500]);
  expect(Array.from(r.norms.subarray(k, 2 * k))).toEqual(Array.from(end.norms));
  expect(r.keys[1]).toEqual(end.keyFrequencies);
  expect(Array.from(r.norms.subarray(0, k))).toEqual(Array.from(fourierAnalysis({ ...model, theta: init }).norms));
});

test('the internals job on the shipped MNIST MLP: every neuron in exactly one block, N = Σ s_a²', async () => {
  const model = decodeModelFile(new Uint8Array(readFileSync('public/models/mnist-mlp.safetensors')));
  const r = await runInternals({ model }, createJobContext(), { readAsset: nodeAssetReader() });
  expect(r.sync.layers.map((l) => l.name)).toEqual(['fc1', 'fc2']);
  for (const l of r.sync.layers) {
    expect(l.blocks.flat().sort((a, b) => a - b)).toEqual([...Array(l.width).keys()]);
    expect(l.freeDirections).toBe(l.blockRanks.reduce((s, x) => s + x * x, 0));
  }
  expect(r.fourier).toBeNull();
  expect(r.interaction.layers.length).toBe(4);
}, 60_000);
