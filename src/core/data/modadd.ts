/**
 * Modular addition: all p² pairs (a, b), label (a + b) mod p, index a·p + b (docs/science.md §1);
 * and the random commutative operation control (a seeded symmetric table that can only be
 * memorized, seed 003).
 */
import { makeRng, permutation } from '../rng';
import type { Dataset } from './types';

export interface ModAddDataOptions {
  p: number;
  /** Fraction of the p² pairs used for training, in (0, 1]. */
  trainFraction: number;
  seed: number;
  /** 'sum' = (a + b) mod p; 'random' = a seeded random commutative operation. */
  op?: 'sum' | 'random';
}

/** A seeded symmetric table t[a][b] = t[b][a] with entries in [0, p). */
export function randomCommutativeTable(p: number, seed: number): Int32Array {
  const rng = makeRng(seed ^ 0x5eed0b);
  const t = new Int32Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      const v = rng.int(p);
      t[a * p + b] = v;
      t[b * p + a] = v;
    }
  }
  return t;
}

/** The seeded train/test split of n items: the first round(f·n) of a permutation train. */
export function seededSplit(n: number, trainFraction: number, seed: number): { trainIdx: Int32Array; testIdx: Int32Array } {
  if (!(trainFraction > 0 && trainFraction <= 1)) throw new Error(`train fraction must be in (0, 1] (got ${trainFraction})`);
  const perm = permutation(n, makeRng(seed));
  const nTrain = Math.max(1, Math.round(trainFraction * n));
  const trainIdx = Int32Array.from(perm.subarray(0, nTrain)).sort();
  const testIdx = Int32Array.from(perm.subarray(nTrain)).sort();
  return { trainIdx, testIdx };
}

export function modAddDataset(o: ModAddDataOptions): Dataset {
  const { p } = o;
  if (!Number.isInteger(p) || p < 2) throw new Error(`p must be an integer ≥ 2 (got ${p})`);
  const op = o.op ?? 'sum';
  const n = p * p;
  const x = new Int32Array(2 * n);
  const y = new Int32Array(n);
  const table = op === 'random' ? randomCommutativeTable(p, o.seed) : null;
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const i = a * p + b;
      x[2 * i] = a;
      x[2 * i + 1] = b;
      y[i] = table ? table[i] : (a + b) % p;
    }
  }
  const { trainIdx, testIdx } = seededSplit(n, o.trainFraction, o.seed);
  const what = op === 'random' ? 'random commutative operation' : 'modular addition';
  return {
    kind: op === 'random' ? 'random-op' : 'modadd',
    label: `${what} p=${p}, ${Math.round(o.trainFraction * 100)} % train (seed ${o.seed})`,
    n, inputDim: 2, x, y, outDim: p, trainIdx, testIdx,
  };
}
