import { beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clearDatasetCache, loadDataset, registerUserDataset, unregisterUserDataset } from '../../src/core/data/index';
import { matfacDataset, matfacTarget } from '../../src/core/data/matfac';
import { modAddDataset, randomCommutativeTable } from '../../src/core/data/modadd';
import type { AssetReader, DataSpec } from '../../src/core/data/spec';
import type { Dataset } from '../../src/core/data/types';
import { nodeAssetReader } from '../../src/node/assets';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Rank of a row-major [rows, cols] matrix by Gaussian elimination with partial pivoting (Float64). */
function rank(m: ArrayLike<number>, rows: number, cols: number, tol = 1e-9): number {
  const a = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => m[r * cols + c]));
  const scale = Math.max(...a.flat().map(Math.abs));
  let r = 0;
  for (let c = 0; c < cols && r < rows; c++) {
    let piv = r;
    for (let i = r + 1; i < rows; i++) if (Math.abs(a[i][c]) > Math.abs(a[piv][c])) piv = i;
    if (Math.abs(a[piv][c]) <= tol * scale) continue;
    [a[r], a[piv]] = [a[piv], a[r]];
    for (let i = r + 1; i < rows; i++) {
      const f = a[i][c] / a[r][c];
      for (let k = c; k < cols; k++) a[i][k] -= f * a[r][k];
    }
    r++;
  }
  return r;
}

function expectPartition(ds: Dataset): void {
  const seen = new Uint8Array(ds.n);
  for (const i of [...ds.trainIdx, ...ds.testIdx]) {
    expect(i >= 0 && i < ds.n).toBe(true);
    seen[i]++;
  }
  expect(Array.from(seen).every((c) => c === 1)).toBe(true); // disjoint and covering
}

describe('modular addition', () => {
  test('all p² pairs, index a·p + b, label (a + b) mod p', () => {
    const p = 11;
    const ds = modAddDataset({ p, trainFraction: 0.5, seed: 1 });
    expect(ds.kind).toBe('modadd');
    expect(ds.n).toBe(121);
    expect(ds.inputDim).toBe(2);
    expect(ds.outDim).toBe(p);
    const pairs = new Set<string>();
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        const i = a * p + b;
        expect([ds.x[2 * i], ds.x[2 * i + 1]]).toEqual([a, b]);
        let s = a + b;
        if (s >= p) s -= p;
        expect(ds.y[i]).toBe(s);
        pairs.add(`${ds.x[2 * i]},${ds.x[2 * i + 1]}`);
      }
    }
    expect(pairs.size).toBe(121);
    expect(modAddDataset({ p: 53, trainFraction: 0.8, seed: 0 }).n).toBe(2809);
  });

  test('the seeded split: reproducible, disjoint, covering, sized, seed-dependent', () => {
    const a = modAddDataset({ p: 53, trainFraction: 0.8, seed: 3 });
    const b = modAddDataset({ p: 53, trainFraction: 0.8, seed: 3 });
    const c = modAddDataset({ p: 53, trainFraction: 0.8, seed: 4 });
    expect(a.trainIdx.length).toBe(2247);
    expect(a.testIdx.length).toBe(2809 - 2247);
    expectPartition(a);
    expectPartition(c);
    expect(Array.from(a.trainIdx)).toEqual(Array.from(b.trainIdx));
    expect(Array.from(a.testIdx)).toEqual(Array.from(b.testIdx));
    expect(Array.from(a.trainIdx)).not.toEqual(Array.from(c.trainIdx));
    // Not just the first 80 % of indices.
    expect(a.trainIdx[a.trainIdx.length - 1]).toBeGreaterThan(2247);
    expect(() => modAddDataset({ p: 5, trainFraction: 0, seed: 0 })).toThrow(/train fraction/);
  });

  test('random commutative operation: symmetric, in range, seeded, not the sum', () => {
    const p = 13;
    const ds = modAddDataset({ p, trainFraction: 0.5, seed: 7, op: 'random' });
    expect(ds.kind).toBe('random-op');
    const again = modAddDataset({ p, trainFraction: 0.5, seed: 7, op: 'random' });
    const other = modAddDataset({ p, trainFraction: 0.5, seed: 8, op: 'random' });
    let sums = 0;
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        const v = ds.y[a * p + b];
        expect(v).toBe(ds.y[b * p + a]);
        expect(Number.isInteger(v) && v >= 0 && v < p).toBe(true);
        if (v === (a + b) % p) sums++;
      }
    }
    expect(sums).toBeLessThan(p * p / 2);
    expect(Array.from(again.y)).toEqual(Array.from(ds.y));
    expect(Array.from(other.y)).not.toEqual(Array.from(ds.y));
    expect(Array.from(randomCommutativeTable(p, 7))).toEqual(Array.from(ds.y));
    // Roughly uniform: every value appears among the 91 independent entries (a ≤ b) for p = 13.
    expect(new Set(ds.y).size).toBeGreaterThan(p - 3);
  });
});

describe('matrix factorization', () => {
  test('targets are A·x (Float64 recomputation) and the inputs are linearly independent', () => {
    const inDim = 20, outDim = 20, seed = 5;
    const ds = matfacDataset({ inDim, outDim, seed });
    const A = matfacTarget(inDim, outDim, seed);
    expect(ds.kind).toBe('matfac');
    expect(ds.n).toBe(2 * inDim);
    expect(ds.trainIdx.length).toBe(inDim);
    expectPartition(ds);
    let worst = 0;
    for (let r = 0; r < ds.n; r++) {
      for (let i = 0; i < outDim; i++) {
        let s = 0;
        for (let j = 0; j < inDim; j++) s += Number(A[i * inDim + j]) * Number(ds.x[r * inDim + j]);
        worst = Math.max(worst, Math.abs(ds.y[r * outDim + i] - s) / (1 + Math.abs(s)));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    const train = Array.from(ds.trainIdx).flatMap((r) => Array.from(ds.x.subarray(r * inDim, (r + 1) * inDim)));
    expect(rank(train, inDim, inDim)).toBe(inDim);
    expect(rank(A, outDim, inDim)).toBe(20);
    // The rank helper itself sees a dependent row.
    const dependent = train.slice();
    for (let j = 0; j < inDim; j++) dependent[3 * inDim + j] = train[j] * 2 - train[inDim + j];
    expect(rank(dependent, inDim, inDim)).toBe(inDim - 1);
  });

  test('rectangular shapes and a seed-dependent target', () => {
    const ds = matfacDataset({ inDim: 4, outDim: 8, nTrain: 4, seed: 1 });
    expect(ds.inputDim).toBe(4);
    expect(ds.outDim).toBe(8);
    expect(ds.y.length).toBe(ds.n * 8);
    expect(Array.from(matfacTarget(4, 8, 1))).not.toEqual(Array.from(matfacTarget(4, 8, 2)));
  });
});

describe('loadDataset', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-mnist.mjs'], { cwd: ROOT, stdio: 'pipe' });
  });

  const noAssets: AssetReader = async (path) => { throw new Error(`unexpected read of ${path}`); };

  test('every spec kind', async () => {
    clearDatasetCache();
    const m = await loadDataset({ kind: 'modadd', p: 7, trainFraction: 0.5, seed: 2, op: 'sum' }, noAssets);
    expect(m).toMatchObject({ kind: 'modadd', n: 49, outDim: 7 });
    expect(m.trainIdx.length).toBe(25);
    const r = await loadDataset({ kind: 'modadd', p: 7, trainFraction: 0.5, seed: 2, op: 'random' }, noAssets);
    expect(r.kind).toBe('random-op');
    const f = await loadDataset({ kind: 'matfac', inDim: 5, outDim: 3, nTrain: 5, seed: 0 }, noAssets);
    expect(f).toMatchObject({ kind: 'matfac', inputDim: 5, outDim: 3, n: 10 });
    const mn = await loadDataset({ kind: 'mnist', source: 'builtin' }, nodeAssetReader());
    expect(mn).toMatchObject({ kind: 'mnist', n: 10_000, inputDim: 784, outDim: 10 });
    expect(mn.trainIdx.length).toBe(8000);
  });

  test('memoises by spec (key order does not matter), clearDatasetCache forgets', async () => {
    clearDatasetCache();
    let reads = 0;
    const real = nodeAssetReader();
    const counting: AssetReader = (path) => { reads++; return real(path); };
    const spec: DataSpec = { kind: 'mnist', source: 'builtin' };
    const [a, b] = await Promise.all([loadDataset(spec, counting), loadDataset(spec, counting)]);
    // Identity checks as booleans: vitest's toBe deep-compares on a mismatch (slow on 7.8 M pixels).
    expect(a === b).toBe(true);
    expect((await loadDataset({ source: 'builtin', kind: 'mnist' }, counting)) === a).toBe(true);
    expect(reads).toBe(1);
    const s1 = await loadDataset({ kind: 'modadd', p: 5, trainFraction: 0.6, seed: 1, op: 'sum' }, noAssets);
    expect(await loadDataset({ op: 'sum', seed: 1, trainFraction: 0.6, p: 5, kind: 'modadd' }, noAssets)).toBe(s1);
    expect(await loadDataset({ kind: 'modadd', p: 5, trainFraction: 0.6, seed: 2, op: 'sum' }, noAssets)).not.toBe(s1);
    clearDatasetCache();
    const c = await loadDataset(spec, counting);
    expect(c === a).toBe(false);
    expect(reads).toBe(2);
  });

  test('a failed load is not remembered, and says what to do', async () => {
    clearDatasetCache();
    let fail = true;
    const real = nodeAssetReader();
    const flaky: AssetReader = (path) => (fail ? Promise.reject(new Error('offline')) : real(path));
    await expect(loadDataset({ kind: 'mnist', source: 'builtin' }, flaky))
      .rejects.toThrow(/could not read the built-in MNIST digits \(data\/mnist-10k\.bin; built by `npm run data`\): offline/);
    fail = false;
    expect((await loadDataset({ kind: 'mnist', source: 'builtin' }, flaky)).n).toBe(10_000);
  });

  test('user datasets resolve through the registry', async () => {
    const user = modAddDataset({ p: 3, trainFraction: 1, seed: 0 });
    registerUserDataset('mine', user);
    expect(await loadDataset({ kind: 'mnist', source: 'idx', key: 'mine' }, noAssets)).toBe(user);
    const replaced = modAddDataset({ p: 5, trainFraction: 1, seed: 0 });
    registerUserDataset('mine', replaced);
    expect(await loadDataset({ kind: 'mnist', source: 'idx', key: 'mine' }, noAssets)).toBe(replaced);
    expect(unregisterUserDataset('mine')).toBe(true);
    await expect(loadDataset({ kind: 'mnist', source: 'idx', key: 'mine' }, noAssets)).rejects.toThrow(/no user dataset is registered under "mine"/);
  });
});

describe('nodeAssetReader', () => {
  test('reads under public/, refuses paths outside it, names missing files', async () => {
    const read = nodeAssetReader();
    const bytes = await read('/data/mnist-10k.bin');
    expect(bytes.constructor).toBe(Uint8Array);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    await expect(read('../package.json')).rejects.toThrow(/outside/);
    await expect(read('data/nope.bin')).rejects.toThrow(/asset "data\/nope\.bin" not found at .*public/);
  });
});
