/**
 * Our kernel threads (src/core/wasm/threads.ts): the split kernels must give exactly what the same
 * kernels give on one thread (each output element is computed by one thread in the same order, so
 * the results are bitwise equal), and the split products must match independent references.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gemm } from '../../src/core/linalg/blas';
import { KrylovBasis } from '../../src/core/linalg/krylovBasis';
import { lanczosTopK } from '../../src/core/linalg/lanczos';
import type { SymOperator } from '../../src/core/linalg/operator';
import { makeRng } from '../../src/core/rng';
import { elementwiseKernels, setGemmSplitMin } from '../../src/core/train/wasmF32';
import { initThreads, kernelThreads, setThreadsSplitting, splitRange, threadPool, threadsSupported } from '../../src/core/wasm/threads';

const supported = threadsSupported();

beforeAll(async () => {
  await initThreads(supported ? 2 : 1);
});
afterAll(async () => {
  setThreadsSplitting(true);
  setGemmSplitMin();
  await initThreads(1);
});

describe('splitRange', () => {
  it('covers [0, n) with aligned, ordered, non-empty ranges', () => {
    for (const [n, parts, align] of [[10, 2, 1], [600, 2, 8], [601, 3, 8], [7, 4, 4], [3, 8, 1], [86200, 2, 4]]) {
      const r = splitRange(n, parts, align);
      expect(r[0][0]).toBe(0);
      expect(r[r.length - 1][1]).toBe(n);
      for (let i = 0; i < r.length; i++) {
        expect(r[i][1]).toBeGreaterThan(r[i][0]);
        if (i > 0) expect(r[i][0]).toBe(r[i - 1][1]);
        if (i < r.length - 1) expect(r[i][1] % align).toBe(0);
      }
      expect(r.length).toBeLessThanOrEqual(parts);
    }
  });
});

describe.runIf(supported)('kernel threads (Node: worker_threads over shared wasm memory)', () => {
  it('starts the helpers', () => {
    expect(kernelThreads()).toBe(2);
    expect(threadPool()?.threads).toBe(2);
  });

  it('Gram–Schmidt sweeps: split = one thread, bitwise, and = a Float64 reference', async () => {
    for (const storage of ['f32', 'f64'] as const) {
      const d = 5003, n = 203; // ragged: not multiples of 8 rows or 4 coordinates
      const b = new KrylovBasis(d, storage, n);
      const rng = makeRng(3);
      const v = new Float64Array(d);
      const rows: Float64Array[] = [];
      for (let i = 0; i < n; i++) { for (let j = 0; j < d; j++) v[j] = rng.normal() / Math.sqrt(d); b.push(v); rows.push(v.slice()); }
      const w0 = Float64Array.from({ length: d }, () => rng.normal());
      const run = async (split: boolean): Promise<{ w: Float64Array; h: Float64Array }> => {
        setThreadsSplitting(split);
        const w = w0.slice(), h = new Float64Array(n);
        await b.project(w, h);
        return { w, h };
      };
      const a = await run(true), c = await run(false);
      setThreadsSplitting(true);
      expect(Array.from(a.w)).toEqual(Array.from(c.w));
      expect(Array.from(a.h)).toEqual(Array.from(c.h));
      // Reference: h_i = v_iᵀ w, w − Σ h_i v_i in plain Float64 (the stored rows, rounded as stored).
      for (let i = 0; i < n; i += 17) {
        let s = 0;
        for (let j = 0; j < d; j++) s += rows[i][j] * w0[j];
        expect(Math.abs(a.h[i] - s)).toBeLessThan(1e-12 * Math.sqrt(d));
      }
      for (let j = 0; j < d; j += 97) {
        let s = w0[j];
        for (let i = 0; i < n; i++) s -= a.h[i] * rows[i][j];
        expect(Math.abs(a.w[j] - s)).toBeLessThan(1e-12 * n);
      }
    }
  });

  it('Float32 GEMM split over rows = one thread, bitwise, on ragged shapes and transposes', () => {
    const k = elementwiseKernels()!;
    setGemmSplitMin(0);
    const rng = makeRng(5);
    for (const [m, kk, n, ta, tb] of [[37, 19, 13, false, false], [64, 64, 64, true, false], [130, 7, 33, false, true], [9, 300, 70, true, true]] as [number, number, number, boolean, boolean][]) {
      const a = Float32Array.from({ length: m * kk }, () => rng.normal()), b = Float32Array.from({ length: kk * n }, () => rng.normal());
      const c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
      setThreadsSplitting(true);
      k.matMul(a, b, c1, m, kk, n, ta, tb);
      setThreadsSplitting(false);
      k.matMul(a, b, c2, m, kk, n, ta, tb);
      setThreadsSplitting(true);
      expect(Array.from(c1)).toEqual(Array.from(c2));
      // Float64 triple loop.
      for (let i = 0; i < m; i += 3) for (let j = 0; j < n; j += 5) {
        let s = 0;
        for (let q = 0; q < kk; q++) s += (ta ? a[q * m + i] : a[i * kk + q]) * (tb ? b[j * kk + q] : b[q * n + j]);
        expect(Math.abs(c1[i * n + j] - s)).toBeLessThan(1e-5 * Math.sqrt(kk) * 4);
      }
    }
    setGemmSplitMin();
  });

  it('Float64 GEMM split over column panels = one thread, bitwise, and = a triple loop', () => {
    const rng = makeRng(7);
    const [M, N, K] = [150, 260, 300];
    const a = Float64Array.from({ length: M * K }, () => rng.normal()), b = Float64Array.from({ length: K * N }, () => rng.normal());
    const c1 = new Float64Array(M * N), c2 = new Float64Array(M * N);
    setThreadsSplitting(true);
    gemm(M, N, K, 1, a, 0, K, b, 0, N, false, c1, 0, N);
    setThreadsSplitting(false);
    gemm(M, N, K, 1, a, 0, K, b, 0, N, false, c2, 0, N);
    setThreadsSplitting(true);
    expect(Array.from(c1)).toEqual(Array.from(c2));
    for (let i = 0; i < M; i += 7) for (let j = 0; j < N; j += 11) {
      let s = 0;
      for (let q = 0; q < K; q++) s += a[i * K + q] * b[q * N + j];
      expect(Math.abs(c1[i * N + j] - s)).toBeLessThan(1e-12 * K);
    }
  });

  it('Lanczos gives the same values split and on one thread, and the exact eigenvalues of a diagonal operator', async () => {
    const d = 3000;
    const diag = Float64Array.from({ length: d }, (_, i) => 1 / (1 + i) + (i < 5 ? 1 : 0));
    const op: SymOperator = { d, apply: async (x) => { const y = new Float64Array(d); for (let i = 0; i < d; i++) y[i] = diag[i] * x[i]; return y; } };
    setThreadsSplitting(true);
    const a = await lanczosTopK(op, 20, { seed: 1, tol: 1e-8, storage: 'f32' });
    setThreadsSplitting(false);
    const b = await lanczosTopK(op, 20, { seed: 1, tol: 1e-8, storage: 'f32' });
    setThreadsSplitting(true);
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    const want = Array.from(diag).sort((x, y) => y - x).slice(0, 20);
    for (let i = 0; i < 20; i++) expect(Math.abs(a.values[i] - want[i])).toBeLessThan(1e-6);
  });

  it('where a shared memory cannot be had, a basis runs unshared on one thread (same results)', async () => {
    const Real = WebAssembly.Memory;
    const d = 3001, n = 20;
    const rng = makeRng(13);
    const rows = Array.from({ length: n }, () => Float64Array.from({ length: d }, () => rng.normal()));
    const w0 = Float64Array.from({ length: d }, () => rng.normal());
    const project = async (): Promise<{ simd: boolean; w: Float64Array }> => {
      const b = new KrylovBasis(d, 'f64', n);
      for (const r of rows) b.push(r.slice());
      const w = w0.slice();
      await b.project(w, new Float64Array(n));
      return { simd: b.simd, w };
    };
    const shared = await project();
    (WebAssembly as { Memory: unknown }).Memory = function (desc: WebAssembly.MemoryDescriptor & { shared?: boolean }) {
      if (desc.shared) throw new RangeError('no shared memory here (test)');
      return new Real(desc);
    };
    try {
      const plain = await project();
      expect(plain.simd).toBe(true);
      expect(Array.from(plain.w)).toEqual(Array.from(shared.w));
    } finally {
      (WebAssembly as { Memory: unknown }).Memory = Real;
    }
  });

  it('a basis the helpers have dropped still works (on the calling thread)', async () => {
    const d = 4000, n = 40;
    const first = new KrylovBasis(d, 'f64', n);
    const rng = makeRng(9);
    const v = new Float64Array(d);
    for (let i = 0; i < n; i++) { for (let j = 0; j < d; j++) v[j] = rng.normal(); first.push(v); }
    // More bases than the helpers keep: `first` is dropped from them.
    const others = Array.from({ length: 8 }, () => { const b = new KrylovBasis(d, 'f64', 8); b.push(v); return b; });
    const w0 = Float64Array.from({ length: d }, () => rng.normal());
    const w1 = w0.slice(), h1 = new Float64Array(n), w2 = w0.slice(), h2 = new Float64Array(n);
    await first.project(w1, h1);
    setThreadsSplitting(false);
    await first.project(w2, h2);
    setThreadsSplitting(true);
    expect(Array.from(w1)).toEqual(Array.from(w2));
    expect(others.length).toBe(8);
  });
});
