/**
 * A dataset as every analysis sees it: row-major inputs, targets, and a train/test split.
 *
 * - modadd / random op: x is Int32 (a, b) token pairs [n, 2]; y the class labels [n].
 * - mnist: x is Float32 pixels in [0, 1] [n, 784]; y the digit labels [n].
 * - matfac: x is Float32 inputs [n, in]; y is Float32 targets [n, out].
 */
export type DatasetKind = 'modadd' | 'random-op' | 'mnist' | 'matfac';

export interface Dataset {
  kind: DatasetKind;
  /** Human description, e.g. "modular addition p=53, 40 % train (seed 0)". */
  label: string;
  n: number;
  inputDim: number;
  x: Int32Array | Float32Array;
  /** Class labels (classifiers) or regression targets [n * outDim] (matfac). */
  y: Int32Array | Float32Array;
  /** Output dimension (classes, or regression outputs). */
  outDim: number;
  trainIdx: Int32Array;
  testIdx: Int32Array;
}

export type Split = 'train' | 'test' | 'all';

export function splitIndices(ds: Dataset, split: Split): Int32Array {
  if (split === 'train') return ds.trainIdx;
  if (split === 'test') return ds.testIdx;
  const all = new Int32Array(ds.n);
  for (let i = 0; i < ds.n; i++) all[i] = i;
  return all;
}

/** Rows `idx` of a row-major [n, dim] array. */
export function gatherRows<T extends Int32Array | Float32Array>(src: T, dim: number, idx: ArrayLike<number>): T {
  const out = new (src.constructor as { new (n: number): T })(idx.length * dim);
  for (let r = 0; r < idx.length; r++) {
    const s = idx[r] * dim;
    out.set(src.subarray(s, s + dim), r * dim);
  }
  return out;
}
