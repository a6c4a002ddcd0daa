import { beforeAll, describe, expect, test } from 'vitest';
import { regroup, syncAnalysis } from '../../src/core/internals/sync';
import { loadDataset } from '../../src/core/data/index';
import { splitIndices } from '../../src/core/data/types';
import type { Dataset } from '../../src/core/data/types';
import type { ModelBundle } from '../../src/core/models/bundle';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { view } from '../../src/core/params';
import { nodeAssetReader } from '../../src/node/assets';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

const p = 11, e = 4, h = 12;
const config: ModelConfig = { arch: 'modadd', p, e, h };

/**
 * A modadd net with planted structure in its hidden layer:
 *  - neuron 1 = 2.5 × neuron 0 (weights and bias): same pattern, s = 1 for the pair;
 *  - neurons 2, 3 dead (bias −1 with zero weights; bias −5 with tiny weights): s = 2;
 *  - neurons 4, 5 always on (bias +10, small weights) and 6 = 0.5 × neuron 4: one block, s = 2;
 *  - neuron 7 = neuron 8 with a bias shifted so the two disagree on exactly one data point.
 */
function planted(): { model: ModelBundle; shift: number } {
  const theta = initParams(config, 7);
  const L = layoutFor(config);
  const W = view(L, theta, 'hidden.weight'), B = view(L, theta, 'hidden.bias'), E = view(L, theta, 'embed.weight');
  const row = (i: number) => W.subarray(i * 2 * e, (i + 1) * 2 * e);
  row(1).set(row(0).map((v) => 2.5 * v)); B[1] = 2.5 * B[0];
  row(2).fill(0); B[2] = -1;
  row(3).set(row(3).map((v) => 0.01 * v)); B[3] = -5;
  row(4).set(row(4).map((v) => 0.1 * v)); B[4] = 10;
  row(5).set(row(5).map((v) => 0.1 * v)); B[5] = 10;
  row(6).set(row(4).map((v) => 0.5 * v)); B[6] = 0.5 * B[4];
  row(7).set(row(8));
  // Preactivations of neuron 8 over all pairs; shift neuron 7's bias down past the smallest
  // positive value only (midway to the next), so exactly one pair changes pattern.
  const pre8: number[] = [];
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
    let z = B[8];
    for (let j = 0; j < e; j++) z += W[8 * 2 * e + j] * E[a * e + j] + W[8 * 2 * e + e + j] * E[b * e + j];
    pre8.push(z);
  }
  const pos = pre8.filter((z) => z > 0).sort((x, y) => x - y);
  const shift = -(pos[0] + pos[1]) / 2;
  B[7] = Math.fround(B[8] + shift);
  return { model: { name: 'planted', config, theta, data: { kind: 'modadd', p, trainFraction: 0.8, seed: 0, op: 'sum' } }, shift };
}

/** Independent Float64 preactivations [n][h] of the hidden layer over `rows`. */
function preacts(model: ModelBundle, ds: Dataset, rows: Int32Array): number[][] {
  const L = layoutFor(model.config);
  const W = view(L, model.theta, 'hidden.weight'), B = view(L, model.theta, 'hidden.bias'), E = view(L, model.theta, 'embed.weight');
  return Array.from(rows, (r) => {
    const a = ds.x[2 * r], b = ds.x[2 * r + 1];
    const x = [...E.subarray(a * e, a * e + e), ...E.subarray(b * e, b * e + e)];
    return Array.from({ length: h }, (_, i) => x.reduce((s, v, j) => s + W[i * 2 * e + j] * v, B[i]));
  });
}

const sortBlocks = (bs: number[][]) => bs.map((b) => [...b].sort((x, y) => x - y)).sort((x, y) => x[0] - y[0]);

describe('synchronized ReLU neurons (eq. 14–20)', () => {
  test('recovers planted exact blocks, block ranks s_a, N = Σ s_a², dead and always-on neurons', async () => {
    const { model } = planted();
    const ds = await loadDataset(model.data, nodeAssetReader());
    const rows = splitIndices(ds, 'all');
    const n = rows.length;
    const P = preacts(model, ds, rows);
    // Independent exact blocks: group neurons by their pattern string.
    const byPattern = new Map<string, number[]>();
    for (let i = 0; i < h; i++) {
      const key = P.map((z) => (z[i] > 0 ? '1' : '0')).join('');
      byPattern.set(key, [...(byPattern.get(key) ?? []), i]);
    }
    const expectedBlocks = sortBlocks([...byPattern.values()]);
    // The planting must hold (else the test fixture is broken, not the code).
    expect(expectedBlocks).toContainEqual([0, 1]);
    expect(expectedBlocks).toContainEqual([2, 3]);
    expect(expectedBlocks).toContainEqual([4, 5, 6]);
    expect(expectedBlocks.filter((b) => b.length === 1).length).toBe(5); // 7, 8, 9, 10, 11

    const res = await syncAnalysis(model, ds, rows);
    expect(res.layers.length).toBe(1);
    const L = res.layers[0];
    expect(L.name).toBe('hidden');
    expect(L.width).toBe(h);
    expect(sortBlocks(L.blocks)).toEqual(expectedBlocks);
    // s_a from the planting: {0,1} → 1 (p1 = 2.5 p0); {2,3} → 2 (constant and non-constant);
    // {4,5,6} → 2 (p6 = 0.5 p4); singletons → 1.
    const rankOf = (blk: number[]) => L.blockRanks[L.blocks.findIndex((b) => b.includes(blk[0]))];
    expect(rankOf([0, 1])).toBe(1);
    expect(rankOf([2, 3])).toBe(2);
    expect(rankOf([4, 5, 6])).toBe(2);
    for (const i of [7, 8, 9, 10, 11]) expect(rankOf([i])).toBe(1);
    expect(L.freeDirections).toBe(1 + 4 + 4 + 5);
    expect(L.dead).toEqual([2, 3]);
    expect(L.alwaysOn).toEqual([4, 5, 6]);
    // Patterns and firing fractions against the independent preactivations.
    for (let i = 0; i < h; i++) {
      let on = 0;
      for (let r = 0; r < n; r++) {
        const bit = P[r][i] > 0 ? 1 : 0;
        on += bit;
        expect(L.patterns[i * n + r]).toBe(bit);
      }
      expect(L.firingFraction[i]).toBeCloseTo(on / n, 6);
    }
    // Raster order: neurons grouped block by block.
    const order = Array.from(L.neuronOrder);
    expect([...order].sort((x, y) => x - y)).toEqual([...Array(h).keys()]);
    let pos = 0;
    for (const b of L.blocks) { expect(order.slice(pos, pos + b.length)).toEqual(b); pos += b.length; }
    // Point orders for modular addition.
    const a = (i: number) => ds.x[2 * rows[i]], b = (i: number) => ds.x[2 * rows[i] + 1];
    const sum = res.pointOrders.sum;
    for (let t = 1; t < n; t++) expect((a(sum[t]) + b(sum[t])) % p).toBeGreaterThanOrEqual((a(sum[t - 1]) + b(sum[t - 1])) % p);
    for (let t = 1; t < n; t++) expect(a(res.pointOrders.a[t])).toBeGreaterThanOrEqual(a(res.pointOrders.a[t - 1]));
    for (let t = 1; t < n; t++) expect(b(res.pointOrders.b[t])).toBeGreaterThanOrEqual(b(res.pointOrders.b[t - 1]));
  });

  test('approximate tolerance (fraction and eq. 17) and regroup agree with a fresh analysis', async () => {
    const { model } = planted();
    const ds = await loadDataset(model.data, nodeAssetReader());
    const rows = splitIndices(ds, 'all');
    const n = rows.length;
    const P = preacts(model, ds, rows);
    const r = (x: number, i: number) => (P[x][i] > 0 ? 1 : 0);
    // Independent pair statistics for neurons 7 and 8.
    let diff = 0, e78 = 0, e87 = 0, m7 = 0, m8 = 0;
    for (let x = 0; x < n; x++) {
      if (r(x, 7) !== r(x, 8)) { diff++; e78 += P[x][8] ** 2; e87 += P[x][7] ** 2; }
      m7 += P[x][7] ** 2; m8 += P[x][8] ** 2;
    }
    expect(diff).toBe(1);
    // No other pair of distinct patterns is as close (so the expected blocks below are unambiguous).
    for (let i = 0; i < h; i++) for (let j = i + 1; j < h; j++) {
      if (i === 7 && j === 8) continue;
      let d = 0;
      for (let x = 0; x < n; x++) if (r(x, i) !== r(x, j)) d++;
      expect(d === 0 || d > 3).toBe(true);
    }
    const exact = await syncAnalysis(model, ds, rows);
    const loose = await syncAnalysis(model, ds, rows, { tol: 1 / n });
    const L0 = exact.layers[0], L1 = loose.layers[0];
    expect(sortBlocks(L0.blocks)).not.toContainEqual([7, 8]);
    expect(sortBlocks(L1.blocks)).toContainEqual([7, 8]);
    expect(L1.blocks.length).toBe(L0.blocks.length - 1);
    // {7, 8}: p7 = p8 + const, so s = 2: N grows by 2² − (1 + 1) = 2.
    expect(L1.freeDirections).toBe(L0.freeDirections + 2);
    // regroup from the kept pair data gives the same as a fresh analysis, both ways.
    const re = regroup(exact, 1 / n);
    expect(sortBlocks(re.layers[0].blocks)).toEqual(sortBlocks(L1.blocks));
    expect(re.layers[0].blockRanks.slice().sort()).toEqual(L1.blockRanks.slice().sort());
    expect(re.layers[0].freeDirections).toBe(L1.freeDirections);
    const back = regroup(loose, 0);
    expect(sortBlocks(back.layers[0].blocks)).toEqual(sortBlocks(L0.blocks));
    expect(back.layers[0].freeDirections).toBe(L0.freeDirections);
    expect(back.layers[0].patterns).toBe(loose.layers[0].patterns); // shared, not recomputed
    // eq. 17 pair terms: e(7 ← 8) = (1/n) Σ_{disagree} p8², normalised by (1/n) Σ p8².
    const pd = L0.pairs;
    expect(pd.disagreements[7 * h + 8]).toBe(1);
    expect(pd.eq17[7 * h + 8]).toBeCloseTo(e78 / n, 6);
    expect(pd.eq17[8 * h + 7]).toBeCloseTo(e87 / n, 6);
    const crit = Math.max(e78 / m8, e87 / m7);
    const in17 = regroup(exact, crit * 1.01, 'eq17');
    const out17 = regroup(exact, crit * 0.99, 'eq17');
    expect(sortBlocks(in17.layers[0].blocks)).toContainEqual([7, 8]);
    expect(sortBlocks(out17.layers[0].blocks)).not.toContainEqual([7, 8]);
    const blk = in17.layers[0].blocks.findIndex((b) => b.includes(7));
    expect(in17.layers[0].blockMeasure[blk]).toBeCloseTo((e78 + e87) / n, 6);
    // Exactly synchronized blocks have |r_a|² = 0.
    const b01 = L0.blocks.findIndex((b) => b.includes(0));
    expect(L0.blockMeasure[b01]).toBe(0);
    // A very loose tolerance merges more, and every member is within tol of some representative.
    const wide = regroup(exact, 0.3);
    for (const b of wide.layers[0].blocks) {
      const within = (i: number, j: number) => pd.disagreements[i * h + j] <= 0.3 * n;
      expect(b.some((lead) => b.every((j) => j === lead || within(lead, j)))).toBe(true);
    }
  });

  test('architectures without ReLU layers say so', async () => {
    for (const cfg of [{ arch: 'modadd-gelu' as const, p: 5, e: 2, h: 3 }, { arch: 'matfac' as const, widths: [3, 3, 3] }]) {
      const spec = cfg.arch === 'matfac' ? { kind: 'matfac' as const, inDim: 3, outDim: 3, nTrain: 3, seed: 0 } : { kind: 'modadd' as const, p: 5, trainFraction: 0.8, seed: 0, op: 'sum' as const };
      const model: ModelBundle = { name: cfg.arch, config: cfg, theta: initParams(cfg, 1), data: spec };
      const ds = await loadDataset(spec, nodeAssetReader());
      const res = await syncAnalysis(model, ds, ds.trainIdx);
      expect(res.layers).toEqual([]);
      expect(res.note).toMatch(cfg.arch === 'matfac' ? /linear/ : /GELU/);
    }
  });
});
