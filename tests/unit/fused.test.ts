/**
 * The hand-written gradient passes (src/core/arch/passes.ts through train/fused.ts) against tfjs
 * autodiff through forwardTrace on every architecture and every loss head, on batches with
 * repeated tokens (the embedding sums of the pairs models) and on resident rows taken by index.
 * The finite-difference check against an independent Float64 reference is in train.test.ts
 * (it runs through the same passes, since lossAndGradient uses them).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { makeRng } from '../../src/core/rng';
import { batchGradient, lossHead, takeRows, uploadRowChunks, type HeadKind } from '../../src/core/train/fused';
import { ensureWasmTrainingKernels, setFusedKernelsEnabled } from '../../src/core/train/wasmKernels';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

const cases: ModelConfig[] = [
  { arch: 'modadd', p: 11, e: 6, h: 9 },
  { arch: 'modadd-gelu', p: 11, e: 5, h: 7 },
  // h a multiple of 4: the embedding-table sums run on the fused wasm kernel (fusedPairSums).
  { arch: 'modadd', p: 11, e: 6, h: 8 },
  { arch: 'modadd-gelu', p: 11, e: 5, h: 12 },
  { arch: 'mnist-mlp', hidden: [9, 6] },
  { arch: 'matfac', widths: [5, 4, 3, 6] },
];

function batch(c: ModelConfig, B: number, seed: number): { x: tf.Tensor2D; labels: tf.Tensor1D; targets: tf.Tensor2D; k: number } {
  const rng = makeRng(seed);
  const k = c.arch === 'matfac' ? c.widths[c.widths.length - 1] : c.arch === 'mnist-mlp' ? 10 : c.p;
  let x: tf.Tensor2D;
  if (c.arch === 'modadd' || c.arch === 'modadd-gelu') {
    // Few distinct tokens, so most tokens repeat within the batch (the scatter must sum them).
    x = tf.tensor2d(Int32Array.from({ length: 2 * B }, () => rng.int(4)), [B, 2], 'int32');
  } else {
    const dim = c.arch === 'matfac' ? c.widths[0] : 784;
    x = tf.tensor2d(Float32Array.from({ length: B * dim }, () => rng.normal()), [B, dim]);
  }
  const labels = tf.tensor1d(Int32Array.from({ length: B }, () => rng.int(k)), 'int32');
  const targets = tf.tensor2d(Float32Array.from({ length: B * k }, () => rng.normal()), [B, k]);
  return { x, labels, targets, k };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

describe('hand-written gradient passes agree with autodiff', () => {
  const heads: HeadKind[] = ['cross-entropy', 'half-sse', 'sse', 'mse'];
  for (const [c, fusedOn] of cases.flatMap((c) => [[c, true], [c, false]] as const)) {
    test(`${c.arch}: every head, value and gradient (fused wasm kernels: ${String(fusedOn)})`, async () => {
      setFusedKernelsEnabled(fusedOn);
      const layout = layoutFor(c);
      const theta = initParams(c, 3);
      for (let i = 0; i < theta.length; i++) theta[i] *= 1.7; // away from init, so ReLUs are mixed and logits spread
      const w = tf.tensor1d(theta);
      const { x, labels, targets } = batch(c, 23, 7);
      for (const kind of heads) {
        const fast = batchGradient(c, layout, kind);
        const ref = batchGradient(c, layout, kind, { autodiff: true });
        expect(fast.handWritten).toBe(true);
        expect(ref.handWritten).toBe(false);
        const y = kind === 'cross-entropy' ? labels : targets;
        const [fv, fg, rv, rg] = tf.tidy(() => {
          const a = fast.valueAndGrad(w, x, y), b = ref.valueAndGrad(w, x, y);
          return [a.value, a.grad, b.value, b.grad];
        });
        const [fvv, rvv] = [(await fv.data())[0], (await rv.data())[0]];
        expect(Math.abs(fvv - rvv)).toBeLessThan(1e-5 * Math.max(1, Math.abs(rvv)));
        const e = relErr(await fg.data(), await rg.data());
        expect(e, `${kind}: relative gradient error`).toBeLessThan(2e-5);
        // A gradient that is zero would pass trivially: make sure it is not.
        expect(Math.hypot(...(await rg.data()))).toBeGreaterThan(1e-3);
        const [fo, ro] = tf.tidy(() => [fast.outputs(w, x), ref.outputs(w, x)]);
        expect(relErr(await fo.data(), await ro.data())).toBeLessThan(1e-6);
        tf.dispose([fv, fg, rv, rg, fo, ro]);
      }
      tf.dispose([w, x, labels, targets]);
      setFusedKernelsEnabled(true);
    });
  }
});

describe('loss heads', () => {
  test.each([true, false])('values and cotangents match hand-computed ones (fused kernel: %s)', async (fused) => {
    const out = [[1, -2, 0.5], [3, 0, -1]];
    const yl = [2, 0], yt = [[0, -1, 1], [2, 2, 0]];
    const B = 2, k = 3;
    const res = tf.tidy(() => {
      const o = tf.tensor2d(out);
      return (['cross-entropy', 'half-sse', 'sse', 'mse'] as HeadKind[]).map((kind) => {
        const h = lossHead(kind, o, kind === 'cross-entropy' ? tf.tensor1d(yl, 'int32') : tf.tensor2d(yt), { fused });
        return [h.value, h.dOut];
      }).flat();
    });
    const vals = await Promise.all(res.map((t) => t.data()));
    tf.dispose(res);
    let ce = 0;
    const dce: number[] = [];
    out.forEach((row, i) => {
      const m = Math.max(...row), z = row.reduce((s, v) => s + Math.exp(v - m), 0);
      ce += m + Math.log(z) - row[yl[i]];
      row.forEach((v, j) => dce.push((Math.exp(v - m) / z - (j === yl[i] ? 1 : 0)) / B));
    });
    expect(vals[0][0]).toBeCloseTo(ce / B, 5);
    vals[1].forEach((v, i) => expect(v).toBeCloseTo(dce[i], 6));
    let sse = 0;
    const r: number[] = [];
    out.forEach((row, i) => row.forEach((v, j) => { r.push(v - yt[i][j]); sse += (v - yt[i][j]) ** 2; }));
    expect(vals[2][0]).toBeCloseTo(sse / (2 * B), 5);
    expect(vals[4][0]).toBeCloseTo(sse / B, 5);
    expect(vals[6][0]).toBeCloseTo(sse / (B * k), 5);
    r.forEach((ri, i) => {
      expect(vals[3][i]).toBeCloseTo(ri / B, 6);
      expect(vals[5][i]).toBeCloseTo((2 * ri) / B, 6);
      expect(vals[7][i]).toBeCloseTo((2 * ri) / (B * k), 6);
    });
  });
});

describe('row helpers', () => {
  test('takeRows picks rows of 1-D and 2-D tensors; uploadRowChunks splits in order', async () => {
    const m = tf.tensor2d([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]);
    const v = tf.tensor1d([10, 11, 12, 13, 14], 'int32');
    const rows = tf.tensor1d([4, 0, 4], 'int32');
    const [a, b] = tf.tidy(() => [takeRows(m, rows), takeRows(v, rows)]);
    expect(Array.from(await a.data())).toEqual([8, 9, 0, 1, 8, 9]);
    expect(Array.from(await b.data())).toEqual([14, 10, 14]);
    const chunks = uploadRowChunks(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 5, 2, 2);
    expect(chunks.map((t) => t.shape)).toEqual([[2, 2], [2, 2], [1, 2]]);
    expect(Array.from(await chunks[2].data())).toEqual([8, 9]);
    const oneD = uploadRowChunks(Int32Array.from([1, 2, 3]), 3, 0, 2);
    expect(oneD.map((t) => t.shape)).toEqual([[2], [1]]);
    tf.dispose([m, v, rows, a, b, ...chunks, ...oneD]);
  });
});

describe('the wasm Slice kernel that copies only the slice (train/wasmKernels.ts)', () => {
  test('1-D, 2-D row blocks and column blocks, float32 and int32, match index arithmetic on the host', async () => {
    ensureWasmTrainingKernels();
    expect(tf.getBackend()).toBe('wasm');
    const rng = makeRng(9);
    for (let trial = 0; trial < 40; trial++) {
      const rows = 1 + rng.int(30), cols = 1 + rng.int(30);
      const int = trial % 3 === 0;
      const host = int ? Int32Array.from({ length: rows * cols }, () => rng.int(1000) - 500) : Float32Array.from({ length: rows * cols }, () => rng.normal());
      const r0 = rng.int(rows), c0 = rng.int(cols);
      const nr = 1 + rng.int(rows - r0), nc = 1 + rng.int(cols - c0);
      const x = tf.tensor2d(host, [rows, cols], int ? 'int32' : 'float32');
      const flat = tf.reshape(x, [rows * cols]);
      const off = rng.int(rows * cols), len = 1 + rng.int(rows * cols - off);
      const [s2, s1, sAll] = tf.tidy(() => [tf.slice(x, [r0, c0], [nr, nc]), tf.slice(flat, off, len), tf.slice(x, [r0, 0], [-1, -1])]);
      const want2: number[] = [];
      for (let i = 0; i < nr; i++) for (let j = 0; j < nc; j++) want2.push(host[(r0 + i) * cols + c0 + j]);
      expect(s2.shape).toEqual([nr, nc]);
      expect(Array.from(await s2.data())).toEqual(want2);
      expect(Array.from(await s1.data())).toEqual(Array.from(host.subarray(off, off + len)));
      expect(Array.from(await sAll.data())).toEqual(Array.from(host.subarray(r0 * cols)));
      tf.dispose([x, flat, s2, s1, sAll]);
    }
  });
  test('a slice whose output grows the wasm heap reads the input after the growth', async () => {
    ensureWasmTrainingKernels();
    const n = 12_000_000; // 48 MB, then a 40 MB slice: the allocation of the output grows the heap
    const host = new Float32Array(n);
    for (let i = 0; i < n; i++) host[i] = (i % 1000) + 1; // never 0, so a detached view (zeros) fails
    const x = tf.tensor1d(host);
    const s = tf.slice(x, 1_000_000, 10_000_000);
    const v = await s.data();
    for (let i = 0; i < v.length; i += 99_991) expect(v[i]).toBe(host[1_000_000 + i]);
    tf.dispose([x, s]);
  });
});
