/**
 * Matrix factorization data (seed 002, A.3): a seeded full-rank target A (out × in), n
 * linearly independent inputs x_i, targets y_i = A x_i. Gaussian matrices are full rank with
 * probability one; the test split holds extra inputs from the same distribution.
 */
import { makeRng } from '../rng';
import type { Dataset } from './types';

export interface MatfacDataOptions {
  inDim: number;
  outDim: number;
  /** Number of training inputs (default inDim: a basis). */
  nTrain?: number;
  nTest?: number;
  seed: number;
}

export function matfacTarget(inDim: number, outDim: number, seed: number): Float32Array {
  const rng = makeRng(seed ^ 0x7a26e7);
  const a = new Float32Array(outDim * inDim);
  const s = 1 / Math.sqrt(inDim);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal() * s;
  return a;
}

export function matfacDataset(o: MatfacDataOptions): Dataset {
  const nTrain = o.nTrain ?? o.inDim;
  const nTest = o.nTest ?? o.inDim;
  const n = nTrain + nTest;
  const A = matfacTarget(o.inDim, o.outDim, o.seed);
  const rng = makeRng(o.seed ^ 0x1b9a7);
  const x = new Float32Array(n * o.inDim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = new Float32Array(n * o.outDim);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < o.outDim; i++) {
      let s = 0;
      for (let j = 0; j < o.inDim; j++) s += A[i * o.inDim + j] * x[r * o.inDim + j];
      y[r * o.outDim + i] = s;
    }
  }
  const trainIdx = new Int32Array(nTrain).map((_, i) => i);
  const testIdx = new Int32Array(nTest).map((_, i) => nTrain + i);
  return {
    kind: 'matfac',
    label: `matrix factorization ${o.outDim}×${o.inDim}, ${nTrain} train inputs (seed ${o.seed})`,
    n, inputDim: o.inDim, x, y, outDim: o.outDim, trainIdx, testIdx,
  };
}
