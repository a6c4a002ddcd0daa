import { beforeAll, describe, expect, test } from 'vitest';
import { eigenLoadings, unitLoadings, unitParameterIndices, unitProfile } from '../../src/core/spectrum/loadings';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { describeIndex, view } from '../../src/core/params';
import { runSpectrum } from '../../src/core/tasks/spectrum';
import { runInitModel } from '../../src/core/tasks/model';
import { createJobContext } from '../../src/core/jobs';
import { nodeAssetReader } from '../../src/node/assets';
import { makeRng } from '../../src/core/rng';
import { useWasm } from './helpers/tf';

/**
 * Independent reference: which units a parameter is attached to, read from its printed name
 * ("fc2.weight[1, 0]") by the rule "row j or bias j of the weight into layer l is unit j of l;
 * column j of the weight out of l is unit j of l".
 */
function unitsOfIndex(c: ModelConfig, i: number): string[] {
  const m = /^(.*)\.(weight|bias)\[(\d+)(?:, (\d+))?\]$/.exec(describeIndex(layoutFor(c), i));
  if (!m) throw new Error(`cannot parse ${describeIndex(layoutFor(c), i)}`);
  const [, layer, kind, a, b] = m;
  const row = Number(a), col = b === undefined ? null : Number(b);
  const out: string[] = [];
  const hiddenNames = c.arch === 'mnist-mlp' ? c.hidden.map((_, k) => `fc${k + 1}`) : c.arch === 'matfac' ? c.widths.slice(1, -1).map((_, k) => `layers.${k}`) : ['hidden'];
  // Incoming: the layer this tensor feeds.
  const feeds = c.arch === 'modadd' || c.arch === 'modadd-gelu'
    ? (['hidden', 'left', 'right'].includes(layer) ? 'hidden' : null)
    : c.arch === 'mnist-mlp' ? layer : `layers.${layer.split('.')[1]}`;
  if (feeds && hiddenNames.includes(feeds)) out.push(`${feeds}:${row}`);
  // Outgoing: the layer this tensor reads from (only weights have columns).
  if (kind === 'weight' && col !== null) {
    const reads = c.arch === 'modadd' || c.arch === 'modadd-gelu'
      ? (layer === 'out' ? 'hidden' : null)
      : c.arch === 'mnist-mlp' ? `fc${Number(layer.slice(2)) - 1}` : `layers.${Number(layer.split('.')[1]) - 1}`;
    if (reads && hiddenNames.includes(reads)) out.push(`${reads}:${col}`);
  }
  return out;
}

const CONFIGS: ModelConfig[] = [
  { arch: 'modadd', p: 5, e: 2, h: 3 },
  { arch: 'modadd-gelu', p: 5, e: 2, h: 3 },
  { arch: 'mnist-mlp', hidden: [3, 2] },
  { arch: 'matfac', widths: [3, 4, 2, 3] },
];

describe('eigenvector loadings per unit and tensor', () => {
  test.each(CONFIGS.map((c) => [c.arch, c] as const))('%s: a coordinate vector e_i loads exactly on the units its parameter is attached to', async (_, c) => {
    const L = layoutFor(c);
    // mnist-mlp has 784 inputs: check a sample of indices there, all of them elsewhere.
    const rng = makeRng(3);
    const idx = L.size <= 400 ? Array.from({ length: L.size }, (_, i) => i) : Array.from({ length: 300 }, () => rng.int(L.size)).concat([L.size - 1, L.size - 25]);
    const loads = await eigenLoadings(c, (q) => { const v = new Float64Array(L.size); v[idx[q]] = 2.5; return v; }, idx.length);
    const names = loads.layers.flatMap((l) => Array.from({ length: l.width }, (_, j) => `${l.name}:${j}`));
    expect(loads.units).toBe(names.length);
    idx.forEach((i, q) => {
      const expected = new Set(unitsOfIndex(c, i));
      for (let u = 0; u < loads.units; u++) expect(loads.perUnit[q * loads.units + u], `${describeIndex(L, i)} on ${names[u]}`).toBe(expected.has(names[u]) ? 1 : 0);
      const t = L.tensors.findIndex((s) => i >= s.offset && i < s.offset + s.size);
      for (let k = 0; k < loads.tensors.length; k++) expect(loads.perTensor[q * loads.tensors.length + k]).toBe(k === t ? 1 : 0);
    });
  });

  test('shares of a random vector: tensors partition the mass; one-layer units cover weight-in, bias and weight-out', async () => {
    const c: ModelConfig = { arch: 'modadd', p: 7, e: 3, h: 5 };
    const L = layoutFor(c);
    const rng = makeRng(11);
    const v = Float64Array.from({ length: L.size }, () => rng.next() - 0.5);
    const l = await eigenLoadings(c, () => v, 1);
    const sumT = l.perTensor.reduce((a, b) => a + b, 0);
    expect(sumT).toBeCloseTo(1, 6);
    let total = 0;
    for (const x of v) total += x * x;
    let attached = 0;
    for (const name of ['hidden.weight', 'hidden.bias', 'out.weight']) for (const x of view(L, v, name)) attached += x * x;
    expect(l.perUnit.reduce((a, b) => a + b, 0)).toBeCloseTo(attached / total, 6);
    expect(unitLoadings(l, 0, 'hidden')).toHaveLength(5);
    expect(unitProfile(l, 'hidden', 4)![0]).toBe(l.perUnit[4]);
    expect(unitLoadings(l, 1, 'hidden')).toBeNull();
    expect(unitProfile(l, 'fc1', 0)).toBeNull();
  });

  test('the index map lists every attached parameter once per unit', () => {
    const c: ModelConfig = { arch: 'mnist-mlp', hidden: [4, 3] };
    const { layers, indices } = unitParameterIndices(c);
    expect(layers.map((l) => [l.name, l.width, l.offset])).toEqual([['fc1', 4, 0], ['fc2', 3, 4]]);
    // fc1 unit: 784 incoming + 1 bias + 3 outgoing; fc2 unit: 4 incoming + 1 bias + 10 outgoing.
    expect(indices.slice(0, 4).map((a) => a.length)).toEqual([788, 788, 788, 788]);
    expect(indices.slice(4).map((a) => a.length)).toEqual([15, 15, 15]);
    for (const a of indices) expect(new Set(a).size).toBe(a.length);
  });
});

describe('loadings from the spectrum task', () => {
  beforeAll(useWasm);

  test('a dead ReLU neuron carries none of the mass of any eigenvector with a nonzero eigenvalue', async () => {
    const ctx = () => createJobContext();
    const model = await runInitModel({ config: { arch: 'modadd', p: 7, e: 4, h: 6 }, seed: 1, data: { kind: 'modadd', p: 7, trainFraction: 0.8, seed: 0, op: 'sum' } }, ctx());
    const c = model.config;
    const L = layoutFor(c);
    // Kill unit 2: a bias far below any preactivation; it never fires, so every parameter attached to it is free.
    view(L, model.theta, 'hidden.bias')[2] = -1e3;
    const r = await runSpectrum({ model, method: 'dense', projection: false, kronecker: false, traceProbes: 0 }, ctx(), { readAsset: nodeAssetReader() });
    const l = r.loadings!;
    expect(l.k).toBe(r.d);
    const h1 = r.eigenvalues[0];
    let checked = 0, deadMass = 0;
    for (let i = 0; i < r.d; i++) {
      const row = l.perTensor.subarray(i * l.tensors.length, (i + 1) * l.tensors.length);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const dead = unitLoadings(l, i, 'hidden')![2];
      if (r.eigenvalues[i] > 1e-6 * h1) { expect(dead).toBeLessThan(1e-8); checked++; } else deadMass += dead;
    }
    expect(checked).toBeGreaterThan(10);
    // The dead unit's 8 + 1 + 7 = 16 parameters live entirely in the null space.
    expect(deadMass).toBeCloseTo(16, 3);
  });
});
