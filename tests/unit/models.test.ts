import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIGS, layoutFor, paramCount, validateConfig, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { forward, forwardTrace, inputTensor } from '../../src/core/models/forward';
import { view } from '../../src/core/params';
import { makeRng } from '../../src/core/rng';
import { useWasm } from './helpers/tf';
import { referenceForward } from './helpers/reference';

beforeAll(useWasm);

describe('parameter counts (docs/science.md §1 contract)', () => {
  test.each([
    ['modadd', 86_197],
    // By hand from the tensor list at p=53, e=12, h=48: 636 + 576 + 576 + 2,544 + 53 = 4,385
    // (docs/science.md §1; an early draft of the shared conventions said 4,849).
    ['modadd-gelu', 4_385],
    ['mnist-mlp', 42_310],
    ['matfac', 800],
  ] as const)('%s has %i parameters at its default size', (arch, d) => {
    expect(paramCount(DEFAULT_CONFIGS[arch])).toBe(d);
  });

  test('sizes are configurable and counted from the formula', () => {
    const p = 7, e = 3, h = 5;
    expect(paramCount({ arch: 'modadd', p, e, h })).toBe(p * e + h * 2 * e + h + p * h + p);
    expect(paramCount({ arch: 'modadd-gelu', p, e, h })).toBe(p * e + 2 * h * e + p * h + p);
    expect(paramCount({ arch: 'mnist-mlp', hidden: [4] })).toBe(784 * 4 + 4 + 4 * 10 + 10);
    expect(paramCount({ arch: 'matfac', widths: [5, 3, 5] })).toBe(15 + 15);
  });

  test('absurd sizes are refused before allocation, with a reason', () => {
    expect(validateConfig({ arch: 'mnist-mlp', hidden: [4096, 4096] })[0]).toMatch(/more than this explorer handles/);
    expect(validateConfig({ arch: 'modadd', p: 1, e: 4, h: 4 })[0]).toMatch(/p must be between/);
    expect(validateConfig({ arch: 'nope' } as unknown as ModelConfig)[0]).toMatch(/Unknown architecture/);
    expect(validateConfig(DEFAULT_CONFIGS.modadd)).toEqual([]);
  });
});

describe('forward pass matches an independent Float64 reference', () => {
  const cases: ModelConfig[] = [
    { arch: 'modadd', p: 7, e: 4, h: 6 },
    { arch: 'modadd-gelu', p: 7, e: 3, h: 5 },
    { arch: 'mnist-mlp', hidden: [6, 5] },
    { arch: 'matfac', widths: [4, 3, 5] },
  ];
  test.each(cases.map((c) => [c.arch, c] as const))('%s', async (_name, c) => {
    const theta = initParams(c, 3);
    const rng = makeRng(11);
    const n = 9;
    const isPairs = c.arch === 'modadd' || c.arch === 'modadd-gelu';
    const dim = isPairs ? 2 : c.arch === 'mnist-mlp' ? 784 : c.widths[0];
    const xs = Array.from({ length: n }, () => Array.from({ length: dim }, () => (isPairs ? rng.int((c as { p: number }).p) : rng.normal())));
    const flat = isPairs ? Int32Array.from(xs.flat()) : Float32Array.from(xs.flat());
    const out = tf.tidy(() => forward(c, tf.tensor1d(theta), inputTensor(flat, n, dim)));
    const got = await out.data();
    out.dispose();
    const want = referenceForward(c, theta, xs);
    const outDim = want[0].length;
    expect(got.length).toBe(n * outDim);
    for (let i = 0; i < n; i++) for (let j = 0; j < outDim; j++) {
      expect(Math.abs(got[i * outDim + j] - want[i][j])).toBeLessThan(1e-4 * (1 + Math.abs(want[i][j])));
    }
  });

  test('forwardTrace keeps hidden pre-activations and leaks no tensors', () => {
    const c: ModelConfig = { arch: 'mnist-mlp', hidden: [6, 5] };
    const theta = tf.tensor1d(initParams(c, 1));
    const x = tf.zeros([3, 784]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const shapes = tf.tidy(() => forwardTrace(c, theta, x).pre.map((t) => t.shape));
    expect(shapes).toEqual([[3, 6], [3, 5]]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([theta, x]);
  });
});

test('initialisation is seeded and follows PyTorch bounds', () => {
  const c = DEFAULT_CONFIGS['mnist-mlp'];
  const a = initParams(c, 42), b = initParams(c, 42), d = initParams(c, 43);
  expect(a).toEqual(b);
  expect(a).not.toEqual(d);
  const w = view(layoutFor(c), a, 'fc1.weight');
  const bound = 1 / Math.sqrt(784);
  expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
  expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.95 * bound);
});
