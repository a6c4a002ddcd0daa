/**
 * The architecture registry (src/core/arch/registry.ts): the built-ins are registered, and a
 * fifth architecture defined in one fixture file (fixtures/modadd2.ts) and registered with one
 * call works through every consumer (layouts and validation, init, forward, the Gauss–Newton
 * product, training, SGLD, sync's ReLU layers, model files) without any of them knowing it.
 * Its H·v is checked against (2/n) JᵀJ v with J from central finite differences of a Float64
 * forward pass written here from the architecture's definition.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { archIds, getArch, getArchSpec, registerArch } from '../../src/core/arch/registry';
import { asModelConfig, describeConfig, layoutFor, outputDim, paramCount, validateConfig, type ModelConfig } from '../../src/core/models/config';
import { forwardTrace, inputTensor } from '../../src/core/models/forward';
import { initParams } from '../../src/core/models/init';
import type { ModelBundle } from '../../src/core/models/bundle';
import { defaultDataSpec } from '../../src/core/data/spec';
import { modAddDataset } from '../../src/core/data/modadd';
import type { Dataset } from '../../src/core/data/types';
import { gaussNewtonOperator, jacobianDense } from '../../src/core/hessian/gn';
import { runTraining } from '../../src/core/train/trainer';
import { estimateLlc } from '../../src/core/llc/sgld';
import { createJobContext } from '../../src/core/jobs';
import { reluLayerNames } from '../../src/core/internals/sync';
import { decodeModelFile, encodeModelFile } from '../../src/core/io/modelFile';
import { readSafetensors, writeSafetensors } from '../../src/core/io/safetensors';
import { makeRng } from '../../src/core/rng';
import { useWasm } from './helpers/tf';
import { modadd2Arch, type ModAdd2Config } from './fixtures/modadd2';

registerArch(modadd2Arch);

beforeAll(useWasm);

const cfg2: ModAdd2Config = { arch: 'modadd2', p: 5, e: 3, h1: 4, h2: 4 };
const config: ModelConfig = asModelConfig(cfg2);
const quiet = () => createJobContext({ onProgress: () => {} });

function bundle(theta: Float32Array): ModelBundle {
  return { name: 'modadd2 fixture', config, theta, data: defaultDataSpec(config, 0) };
}

/** f_θ(x) per row in Float64, row-major [rows, p], from the definition in fixtures/modadd2.ts. */
function refForward(th: Float64Array, ds: Dataset, rows: Int32Array): Float64Array {
  const { p, e, h1, h2 } = cfg2;
  const L = layoutFor(config);
  const off = (name: string): number => L.tensors.find((t) => t.name === name)!.offset;
  const lin = (x: Float64Array, w: number, o: number, i: number, b: number): Float64Array => {
    const y = new Float64Array(o);
    for (let r = 0; r < o; r++) {
      let s = th[b + r];
      for (let k = 0; k < i; k++) s += th[w + r * i + k] * x[k];
      y[r] = s;
    }
    return y;
  };
  const relu = (v: Float64Array) => v.map((z) => Math.max(0, z));
  const out = new Float64Array(rows.length * p);
  rows.forEach((row, ri) => {
    const E = off('embed.weight');
    const x = new Float64Array(2 * e);
    for (let k = 0; k < e; k++) {
      x[k] = th[E + ds.x[2 * row] * e + k];
      x[e + k] = th[E + ds.x[2 * row + 1] * e + k];
    }
    const g1 = relu(lin(x, off('hidden1.weight'), h1, 2 * e, off('hidden1.bias')));
    const g2 = relu(lin(g1, off('hidden2.weight'), h2, h1, off('hidden2.bias')));
    out.set(lin(g2, off('out.weight'), p, h2, off('out.bias')), ri * p);
  });
  return out;
}

/** J by central differences of refForward, row-major [rows·p, d]. */
function fdJacobian(theta: Float32Array, ds: Dataset, rows: Int32Array, h = 1e-6): Float64Array {
  const th = Float64Array.from(theta);
  const d = th.length, m = rows.length * cfg2.p;
  const J = new Float64Array(m * d);
  for (let j = 0; j < d; j++) {
    const t0 = th[j];
    th[j] = t0 + h;
    const fp = refForward(th, ds, rows);
    th[j] = t0 - h;
    const fm = refForward(th, ds, rows);
    th[j] = t0;
    for (let i = 0; i < m; i++) J[i * d + j] = (fp[i] - fm[i]) / (2 * h);
  }
  return J;
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
};

describe('the registry', () => {
  test('holds the four built-ins in order, and the fixture after them', () => {
    expect(archIds()).toEqual(['modadd', 'modadd-gelu', 'mnist-mlp', 'matfac', 'modadd2']);
    expect(getArch('modadd2')).toBe(modadd2Arch);
    expect(getArchSpec('matfac').classifier).toBe(false);
    expect(() => getArchSpec('transformer')).toThrow(/Unknown architecture "transformer" \(known: modadd, modadd-gelu, mnist-mlp, matfac, modadd2\)/);
    expect(() => registerArch({ ...modadd2Arch, id: 'Bad Id' })).toThrow(/architecture id/);
  });
});

describe('a fifth architecture registered from one file (two-hidden-layer modadd)', () => {
  const ds = modAddDataset({ p: cfg2.p, trainFraction: 0.8, seed: 0 });
  const rows = ds.trainIdx;
  // A generic point (no ReLU exactly at its kink) with some spread.
  const theta = initParams(config, 3);

  test('layout, parameter count, validation and description come from its definition', () => {
    const { p, e, h1, h2 } = cfg2;
    expect(paramCount(config)).toBe(p * e + h1 * (2 * e + 1) + h2 * (h1 + 1) + p * (h2 + 1));
    expect(validateConfig(config)).toEqual([]);
    expect(validateConfig(asModelConfig({ ...cfg2, h2: 0 } as ModAdd2Config))).toEqual(['h2 must be between 1 and 8192 (got 0)']);
    expect(describeConfig(config)).toBe('modadd2 p=5 e=3 h=4,4');
    expect(outputDim(config)).toBe(5);
    expect(defaultDataSpec(config, 2)).toEqual({ kind: 'modadd', p: 5, trainFraction: 0.8, seed: 2, op: 'sum' });
    expect(reluLayerNames(bundle(theta))).toEqual(['hidden1', 'hidden2']);
  });

  test('the tfjs forward pass matches the Float64 reference', () => {
    const want = refForward(Float64Array.from(theta), ds, rows);
    const xs = new Int32Array(rows.length * 2);
    rows.forEach((r, i) => { xs[2 * i] = ds.x[2 * r]; xs[2 * i + 1] = ds.x[2 * r + 1]; });
    const tr = tf.tidy(() => {
      const t = forwardTrace(config, tf.tensor1d(theta), inputTensor(xs, rows.length, 2));
      return [t.out, ...t.pre];
    });
    expect(tr.length).toBe(3); // logits and the two ReLU layers' pre-activations
    expect(relErr(tr[0].dataSync(), want)).toBeLessThan(1e-5);
    tf.dispose(tr);
  });

  test('H·v matches (2/n) JᵀJ v with J from Float64 finite differences; the dense Jacobian matches J', async () => {
    const J = fdJacobian(theta, ds, rows);
    const d = theta.length, m = rows.length * cfg2.p, n = rows.length;
    const before = tf.memory().numTensors;
    const op = await gaussNewtonOperator(bundle(theta), ds, rows);
    expect(op.d).toBe(d);
    expect(op.n).toBe(n);
    const rng = makeRng(7);
    for (let trial = 0; trial < 3; trial++) {
      const v = Float64Array.from({ length: d }, () => rng.normal());
      const Jv = new Float64Array(m);
      for (let i = 0; i < m; i++) { let s = 0; for (let j = 0; j < d; j++) s += J[i * d + j] * v[j]; Jv[i] = s; }
      const want = new Float64Array(d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) want[j] += (2 / n) * J[i * d + j] * Jv[i];
      expect(relErr(await op.apply(v), want)).toBeLessThan(1e-4);
    }
    op.dispose();
    const Jd = await jacobianDense(bundle(theta), ds, rows);
    expect(relErr(Jd, J)).toBeLessThan(1e-4);
    // Chunked passes give the same product.
    const chunked = await gaussNewtonOperator(bundle(theta), ds, rows, { chunkSize: 3 });
    const whole = await gaussNewtonOperator(bundle(theta), ds, rows);
    const v = Float64Array.from({ length: d }, (_, j) => Math.sin(j + 1));
    expect(relErr(await chunked.apply(v), await whole.apply(v))).toBeLessThan(1e-5);
    chunked.dispose();
    whole.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('trains: the training loss falls over a few full-batch AdamW steps', async () => {
    const r = await runTraining(bundle(initParams(config, 0)), ds,
      { optimizer: 'adamw', lr: 0.02, weightDecay: 0, batchSize: 'full', steps: 30, seed: 0, evalEvery: 10, checkpointEvery: 0 }, quiet());
    expect(r.history.length).toBe(4);
    expect(r.history[3].trainLoss).toBeLessThan(0.9 * r.history[0].trainLoss);
    expect(r.theta.length).toBe(paramCount(config));
  });

  test('an SGLD estimate runs on it', async () => {
    const r = await estimateLlc(bundle(theta), ds, { nBeta: 20, gamma: 100, stepSize: 1e-4, chains: 1, burnin: 20, draws: 40, batchSize: 'full', seed: 1 }, createJobContext());
    expect(Number.isFinite(r.llc.mean)).toBe(true);
    expect(r.chains.length).toBe(1);
  });

  test('model files: written with its sizes, read back with and without metadata (name inference)', () => {
    const b = bundle(theta);
    const bytes = encodeModelFile(b);
    const back = decodeModelFile(bytes);
    expect(back.config).toEqual(cfg2);
    expect(back.theta).toEqual(theta);
    // A bare state_dict (no __metadata__): the architecture is recognised from its tensor names.
    const file = readSafetensors(bytes);
    const bare = writeSafetensors([...file.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data })), {});
    expect(decodeModelFile(bare).config).toEqual(cfg2);
  });
});
