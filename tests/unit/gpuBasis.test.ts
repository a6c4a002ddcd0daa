/**
 * The GPU-resident Krylov basis (src/core/gpu/gpuBasis.ts) on a WebGPU adapter in Node (Dawn from
 * the `webgpu` package; in CI and here SwiftShader, so these are correctness tests, not timings):
 * its dots and combinations against Float64 references computed here, the splitting over buffers,
 * orthogonality of a 1,000-step fully reorthogonalized Lanczos basis, Ritz values against the CPU
 * basis and the exact spectrum, the fallback and a lost device. Skips cleanly without an adapter.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDevice, webgpuAdapter } from './helpers/webgpu';
import { GpuBasisUnavailable, GpuKrylovBasis, type GpuBasisOptions } from '../../src/core/gpu/gpuBasis';
import { gpuBasisDevice } from '../../src/core/gpu/basisDevice';
import { sweepBench } from '../../src/core/gpu/sweepBench';
import { KrylovBasis, type KrylovStore } from '../../src/core/linalg/krylovBasis';
import { lanczosTopK } from '../../src/core/linalg/lanczos';
import { slqDensity } from '../../src/core/linalg/slq';
import type { SymOperator } from '../../src/core/linalg/operator';
import { makeRng } from '../../src/core/rng';
import { runSpectrum } from '../../src/core/tasks/spectrum';
import { runInitModel } from '../../src/core/tasks/model';
import { createJobContext } from '../../src/core/jobs';
import { nodeAssetReader } from '../../src/node/assets';
import { useWasm } from './helpers/tf';

const hasAdapter = await webgpuAdapter();
if (!hasAdapter) console.warn('gpuBasis.test.ts: no WebGPU adapter (Dawn + SwiftShader ICD not found); skipping the GPU basis tests');

let device: GPUDevice;
beforeAll(async () => {
  if (!hasAdapter) return;
  device = await testDevice();
});
afterAll(() => device?.destroy());

const gauss = (d: number, seed: number): Float64Array => { const r = makeRng(seed), v = new Float64Array(d); for (let i = 0; i < d; i++) v[i] = r.normal(); return v; };
const norm = (v: Float64Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** Pushes n Gaussian vectors (scaled to unit length) into each basis; returns the stored (float32-rounded) values. */
function fill(bases: KrylovStore[], d: number, n: number, seed: number): Float64Array[] {
  const stored: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = gauss(d, seed + i), s = 1 / norm(v);
    for (let j = 0; j < d; j++) v[j] *= s;
    for (const b of bases) { const c = v.slice(); b.push(c); if (b === bases[0]) stored.push(c); }
  }
  return stored;
}

/** Largest |h_i − ref_i| / Σ_j |v_ij x_j| over i: the dots' error relative to the size of their terms. */
function dotsError(stored: Float64Array[], x: Float64Array, h: Float64Array): number {
  let worst = 0;
  stored.forEach((v, i) => {
    let s = 0, a = 0;
    for (let j = 0; j < v.length; j++) { s += v[j] * x[j]; a += Math.abs(v[j] * x[j]); }
    worst = Math.max(worst, Math.abs(h[i] - s) / a);
  });
  return worst;
}

/** Largest |out_j − Σ_i z_i v_ij| / Σ_i |z_i v_ij| over j. */
function combineError(stored: Float64Array[], z: Float64Array, out: Float64Array): number {
  let worst = 0;
  for (let j = 0; j < out.length; j++) {
    let s = 0, a = 0;
    for (let i = 0; i < stored.length; i++) { s += z[i] * stored[i][j]; a += Math.abs(z[i] * stored[i][j]); }
    worst = Math.max(worst, Math.abs(out[j] - s) / a);
  }
  return worst;
}

const open = (d: number, cap: number, o?: GpuBasisOptions): Promise<GpuKrylovBasis> => GpuKrylovBasis.open(device, d, cap, o);

/**
 * H = Q diag(λ) Q with Q = I − 2uuᵀ (a seeded Householder reflection, so the eigenvectors are dense
 * but H·v costs O(n)); λ known exactly: a few separated top values, then a decaying tail.
 */
function testOperator(n: number, seed: number, clustered = false): { op: SymOperator; lambda: Float64Array } {
  const r = makeRng(seed);
  const lambda = new Float64Array(n);
  for (let i = 0; i < n; i++) lambda[i] = clustered ? 10 * Math.exp(-i / 40) * (1 + 0.01 * r.next()) : i < 8 ? 10 - i : 2 * Math.exp(-i / 200) * (0.5 + r.next());
  const u = gauss(n, seed + 1), s = 1 / norm(u);
  for (let i = 0; i < n; i++) u[i] *= s;
  const op: SymOperator = {
    d: n,
    apply: async (x) => {
      let t = 0;
      for (let i = 0; i < n; i++) t += u[i] * x[i];
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) y[i] = lambda[i] * (x[i] - 2 * t * u[i]);
      let t2 = 0;
      for (let i = 0; i < n; i++) t2 += u[i] * y[i];
      for (let i = 0; i < n; i++) y[i] -= 2 * t2 * u[i];
      return y;
    },
  };
  return { op, lambda: Float64Array.from(lambda).sort().reverse() };
}

/**
 * `steps` Lanczos steps with full reorthogonalization on `basis`, as lanczos.ts does them: the local
 * three-term step, one classical Gram–Schmidt sweep, a second one by DGKS ('dgks'), always ('twice')
 * or never ('once'); two sweeps on the first step unless 'once'. Returns α, β.
 */
async function lanczosSteps(basis: KrylovStore, op: SymOperator, steps: number, seed: number, passes: 'dgks' | 'twice' | 'once' | 'raw1' | 'raw2'): Promise<{ alpha: Float64Array; beta: Float64Array; second: number }> {
  const d = op.d;
  const v = gauss(d, seed), w = new Float64Array(d), h1 = new Float64Array(steps), h2 = new Float64Array(steps);
  const s0 = 1 / norm(v);
  for (let i = 0; i < d; i++) v[i] *= s0;
  const alpha = new Float64Array(steps), beta = new Float64Array(steps);
  let second = 0;
  for (let j = 0; j < steps; j++) {
    basis.push(v);
    w.set(await op.apply(v));
    let a: number;
    if (passes === 'raw1' || passes === 'raw2') {
      // No local step: classical Gram–Schmidt of H v against the whole basis, as SLQ does it.
      await basis.project(w, h1);
      a = h1[j];
      if (passes === 'raw2') { await basis.project(w, h2); a += h2[j]; second++; }
    } else if (j === 0) {
      await basis.project(w, h1);
      a = h1[0];
      if (passes !== 'once') { await basis.project(w, h2); a += h2[0]; }
    } else {
      a = basis.removeOne(j, w, h2);
      basis.subtract(j - 1, beta[j - 1], w, h2);
      const before = norm(w);
      await basis.project(w, h1);
      a += h1[j];
      if (passes === 'twice' || (passes === 'dgks' && norm(w) < Math.SQRT1_2 * before)) { await basis.project(w, h2); a += h2[j]; second++; }
    }
    alpha[j] = a;
    const b = norm(w);
    beta[j] = b;
    for (let i = 0; i < d; i++) v[i] = w[i] / b;
  }
  return { alpha, beta, second };
}

/** max |VᵀV − I| of the basis's first n vectors (read back from wherever they live), in Float64. */
async function orthogonality(basis: KrylovStore, n: number): Promise<number> {
  const vs = (await basis.vectorsAsync(n)).map((v) => Float64Array.from(v));
  let worst = 0;
  for (let a = 0; a < n; a++) {
    const x = vs[a];
    for (let b = a; b < n; b++) {
      const y = vs[b];
      let s = 0;
      for (let j = 0; j < x.length; j++) s += x[j] * y[j];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** Eigenvalues of the tridiagonal (α, β) by bisection on Sturm counts: the top `count`, descending. */
function tridiagTop(alpha: Float64Array, beta: Float64Array, count: number): number[] {
  const m = alpha.length;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < m; i++) { const r = (i > 0 ? Math.abs(beta[i - 1]) : 0) + (i < m - 1 ? Math.abs(beta[i]) : 0); lo = Math.min(lo, alpha[i] - r); hi = Math.max(hi, alpha[i] + r); }
  const above = (x: number): number => { let c = 0, q = 1; for (let i = 0; i < m; i++) { q = alpha[i] - x - (i > 0 ? (beta[i - 1] * beta[i - 1]) / q : 0); if (q === 0) q = 1e-300; if (q < 0) c++; } return m - c; };
  const out: number[] = [];
  for (let r = 1; r <= count; r++) {
    let a = lo, b = hi;
    for (let it = 0; it < 200 && b - a > 1e-15 * Math.max(1, Math.abs(b)); it++) { const mid = (a + b) / 2; if (above(mid) >= r) a = mid; else b = mid; }
    out.push((a + b) / 2);
  }
  return out;
}

describe.skipIf(!hasAdapter)('GPU Krylov basis (WebGPU on the adapter found)', () => {
  test('dots and combine match Float64 to ~1e-14 of their terms; plain float32 kernels or no lo half do not', async () => {
    const d = 3001, n = 37;
    const x = gauss(d, 99);
    const z = gauss(n, 98);
    const exact = await open(d, n), plain = await open(d, n, { exact: false });
    const stored = fill([exact, plain], d, n, 1);
    const h = new Float64Array(n), out = new Float64Array(d);
    await exact.dots(x, h);
    const eDots = dotsError(stored, x, h);
    await exact.combine(z, out);
    const eComb = combineError(stored, z, out);
    await plain.dots(x, h);
    const pDots = dotsError(stored, x, h);
    await plain.combine(z, out);
    const pComb = combineError(stored, z, out);
    console.log(`dots error / Σ|terms|: compensated ${eDots.toExponential(1)}, plain float32 ${pDots.toExponential(1)}; combine: ${eComb.toExponential(1)} vs ${pComb.toExponential(1)}`);
    expect(eDots).toBeLessThan(1e-13);
    expect(eComb).toBeLessThan(1e-13);
    expect(pDots).toBeGreaterThan(1e-9); // the tolerance above can fail: plain float32 misses it by orders
    expect(pComb).toBeGreaterThan(1e-9);
    // project = dots then w ← w − V h, in one sweep.
    const w = x.slice(), hp = new Float64Array(n);
    await exact.project(w, hp);
    expect(dotsError(stored, x, hp)).toBeLessThan(1e-13);
    const ref = x.slice();
    stored.forEach((v, i) => { for (let j = 0; j < d; j++) ref[j] -= hp[i] * v[j]; });
    let e = 0;
    for (let j = 0; j < d; j++) e = Math.max(e, Math.abs(w[j] - ref[j]));
    expect(e).toBeLessThan(1e-13 * norm(x));
    // w's low float32 half matters where w's rounding is coherent with V: v = 1/√d, w = 1 + 2⁻³⁰.
    const dd = 4096, one = new Float64Array(dd).fill(1 / 64), ww = new Float64Array(dd).fill(1 + 2 ** -30), ref1 = dd / 64 * (1 + 2 ** -30);
    for (const lo of [true, false]) {
      const b = await open(dd, 1, { lo });
      b.push(one.slice());
      const hh = new Float64Array(1);
      await b.dots(ww, hh);
      const rel = Math.abs(hh[0] - ref1) / ref1;
      if (lo) expect(rel).toBeLessThan(1e-14); else expect(rel).toBeGreaterThan(5e-10);
      b.dispose();
    }
    exact.dispose(); plain.dispose();
  });

  test('split over buffers (a forced 5-vector limit): same results as one buffer', async () => {
    const d = 1000, n = 23;
    const one = await open(d, n), split = await open(d, n, { maxBufferBytes: 5 * 1024 * 4 + 100 });
    expect(one.buffers).toBe(1);
    expect(split.perBuffer).toBe(5);
    expect(split.buffers).toBe(5);
    const stored = fill([one, split], d, n, 7);
    const x = gauss(d, 5), z = gauss(n, 6);
    const h1 = new Float64Array(n), h2 = new Float64Array(n), o1 = new Float64Array(d), o2 = new Float64Array(d);
    await one.dots(x, h1); await split.dots(x, h2);
    expect(dotsError(stored, x, h2)).toBeLessThan(1e-13);
    for (let i = 0; i < n; i++) expect(Math.abs(h1[i] - h2[i])).toBeLessThan(1e-13);
    await one.combine(z, o1); await split.combine(z, o2);
    expect(combineError(stored, z, o2)).toBeLessThan(1e-13);
    // Calls not awaited one by one run in turn (they share the work buffers): the same results.
    const h3 = new Float64Array(n), o3 = new Float64Array(d);
    await Promise.all([split.dots(x, h3), split.combine(z, o3)]);
    expect(h3).toEqual(h2);
    expect(o3).toEqual(o2);
    // Partly filled last buffers, a read, a write and a rotation across buffers.
    split.size = 12; // three buffers in use, the last with two vectors
    await split.dots(x, h2);
    expect(dotsError(stored.slice(0, 12), x, h2.subarray(0, 12))).toBeLessThan(1e-13);
    const r = new Float64Array(d);
    await split.readAsync(11, r);
    expect(r).toEqual(stored[11]);
    // The rotation (thick restart) on the GPU, 12 vectors over three buffers onto 7 rows over two:
    // each new value is the float32 rounding of the exact Σ_i Y[i][r] v_i (within half an ulp), as
    // on the read-back path (the CPU's Float64 gemm).
    const L = 7;
    const Y = new Float64Array(12 * L);
    for (let i = 0; i < 12; i++) for (let c = 0; c < L; c++) Y[i * L + c] = Math.sin(1 + i * L + c);
    const viaCpu = await open(d, n, { maxBufferBytes: 5 * 1024 * 4 + 100 });
    viaCpu.rotateOnCpu = true;
    fill([viaCpu], d, 12, 7);
    await split.rotate(Y, L);
    await viaCpu.rotate(Y, L);
    expect(split.size).toBe(L);
    const rc = new Float64Array(d);
    let worst = 0, differ = 0;
    for (let c = 0; c < L; c++) {
      await split.readAsync(c, r);
      await viaCpu.readAsync(c, rc);
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let i = 0; i < 12; i++) s += Y[i * L + c] * stored[i][j];
        worst = Math.max(worst, Math.abs(r[j] - s) / Math.abs(s));
        if (r[j] !== rc[j]) differ++;
      }
    }
    console.log(`rotation on the GPU: max relative error ${worst.toExponential(2)} (half an ulp: ${(2 ** -24).toExponential(2)}); ${differ} of ${L * d} floats differ from the read-back path`);
    expect(worst).toBeLessThanOrEqual(2 ** -24 * (1 + 1e-6));
    expect(differ).toBeLessThanOrEqual(L * d * 1e-3); // ties of the rounding aside, the same floats
    viaCpu.dispose();
    // A vector wider than the limit is refused with the reason (the CPU basis then runs).
    await expect(open(d, n, { maxBufferBytes: 1000 })).rejects.toBeInstanceOf(GpuBasisUnavailable);
    one.dispose(); split.dispose();
  });

  test('1,000 Lanczos steps with full reorthogonalization on the GPU basis: max |VᵀV − I| ≤ 1e-6, Ritz values as on the CPU and exact', async () => {
    const n = 1100, steps = 1000;
    const { op, lambda } = testOperator(n, 11);
    const gpu = await open(n, steps);
    const t0 = performance.now();
    const g = await lanczosSteps(gpu, op, steps, 3, 'dgks');
    const ms = performance.now() - t0;
    const t1 = performance.now();
    const orth = await orthogonality(gpu, steps);
    const t2 = performance.now();
    const cpu = new KrylovBasis(n, 'f32', steps);
    const c = await lanczosSteps(cpu, op, steps, 3, 'dgks');
    const orthCpu = await orthogonality(cpu, steps);
    console.log(`timing: gpu steps ${ms.toFixed(0)} ms, VtV ${(t2 - t1).toFixed(0)} ms, cpu steps + VtV ${(performance.now() - t2).toFixed(0)} ms`);
    const top = tridiagTop(g.alpha, g.beta, 10), topCpu = tridiagTop(c.alpha, c.beta, 10);
    console.log(`GPU basis, ${steps} steps at n = ${n} (${g.second} second sweeps): ${(ms / 1000).toFixed(1)} s on this adapter; max |VᵀV − I| = ${orth.toExponential(2)} (CPU float32 basis: ${orthCpu.toExponential(2)})`);
    expect(orth).toBeLessThanOrEqual(1e-6);
    for (let i = 0; i < 10; i++) {
      expect(Math.abs(top[i] - topCpu[i])).toBeLessThan(1e-9 * lambda[0]);
      expect(Math.abs(top[i] - lambda[i])).toBeLessThan(1e-8 * lambda[0]); // float32 storage: the same on the CPU
    }
    gpu.dispose();
  }, 300_000);

  test('the 1e-6 tolerance can fail: classical Gram–Schmidt of H·v once (no local step) loses orthogonality, twice keeps it', async () => {
    // H + 1000·I: ‖H v‖ ≈ 1000 while β ≈ 1, so one sweep leaves ~1000× the basis's own float32
    // non-orthogonality in w. (With the local three-term step first, as lanczos.ts does, one sweep
    // was enough at 1,000 steps: max |VᵀV − I| = 3.6e-8 without any second sweep, 8.8e-8 with plain
    // float32 kernels; see BENCHMARKS.md.)
    const n = 600, steps = 150;
    const { op: op0 } = testOperator(n, 11);
    const op: SymOperator = { d: n, apply: async (x) => { const y = await op0.apply(x); for (let i = 0; i < n; i++) y[i] += 1000 * x[i]; return y; } };
    const orth: Record<string, number> = {};
    for (const passes of ['raw1', 'raw2'] as const) {
      const b = await open(n, steps);
      await lanczosSteps(b, op, steps, 3, passes);
      orth[passes] = await orthogonality(b, steps);
      b.dispose();
    }
    console.log(`CGS of H·v (shift 1000), ${steps} steps: once ${orth.raw1.toExponential(1)}, twice ${orth.raw2.toExponential(1)}`);
    expect(orth.raw1).toBeGreaterThan(1e-6);
    expect(orth.raw2).toBeLessThanOrEqual(1e-6);
  });

  test('lanczosTopK on the GPU basis: thick restarts, final vectors, lean end; the same eigenpairs as the CPU basis', async () => {
    const n = 1500;
    const { op, lambda } = testOperator(n, 21, true);
    const opts = { seed: 4, tol: 1e-8, maxBasis: 40, wantVectors: true };
    const g = await lanczosTopK(op, 8, { ...opts, gpu: { device, maxBufferBytes: 16 * 1536 * 4 } });
    const c = await lanczosTopK(op, 8, opts);
    expect(g.basis).toMatch(/^webgpu, float32 on the GPU in 3 buffers/);
    expect(g.basisFallback).toBeUndefined();
    expect(c.basis).toMatch(/^cpu/);
    expect(g.restarts).toBeGreaterThan(0);
    expect(g.converged).toBe(8);
    for (let i = 0; i < 8; i++) {
      expect(Math.abs(g.values[i] - lambda[i])).toBeLessThan(1e-7 * lambda[0]);
      expect(Math.abs(g.values[i] - c.values[i])).toBeLessThan(1e-7 * lambda[0]);
      expect(g.residuals[i]).toBeLessThan(1e-6 * lambda[0]); // float32-stored vectors
    }
    expect(g.vectors![0]).toBeInstanceOf(Float32Array);
    const lean = await lanczosTopK(op, 8, { seed: 4, tol: 1e-8, maxBasis: 120, lean: true, gpu: { device } });
    expect(lean.basis).toMatch(/^webgpu/);
    for (let i = 0; i < lean.values.length; i++) expect(Math.abs(lean.values[i] - lambda[i])).toBeLessThan(1e-7 * lambda[0]);
    const lv = await lean.lean!.vectors(2);
    const y = await op.apply(lv[0]);
    let r = 0;
    for (let j = 0; j < n; j++) r += (y[j] - lean.values[0] * lv[0][j]) ** 2;
    expect(Math.sqrt(r)).toBeLessThan(1e-6 * lambda[0]);
    // A basis too wide for the (forced) buffer limit: the CPU basis runs and says why.
    const f = await lanczosTopK(op, 4, { seed: 4, tol: 1e-6, gpu: { device, maxBufferBytes: 64 } });
    expect(f.basis).toMatch(/^cpu/);
    expect(f.basisFallback).toMatch(/exceeds the GPU's storage-buffer binding limit/);
    for (let i = 0; i < 4; i++) expect(Math.abs(f.values[i] - lambda[i])).toBeLessThan(1e-6 * lambda[0]);
  }, 60_000);

  test('device choice: auto is the CPU basis off the webgpu backend; a lost device fails the sweep with a clear error, no hang', async () => {
    expect(await gpuBasisDevice('auto', 'wasm', undefined)).toEqual({});
    expect((await gpuBasisDevice('cpu', 'webgpu', device)).device).toBeUndefined();
    // 'auto' on the webgpu backend: its device, unless the adapter is a software one (as SwiftShader here).
    const info = device.adapterInfo;
    const software = /swiftshader|llvmpipe|lavapipe/i.test(`${info?.vendor} ${info?.architecture} ${info?.device} ${info?.description}`);
    const auto = await gpuBasisDevice('auto', 'webgpu', device);
    if (software) expect(auto).toEqual({ reason: expect.stringMatching(/software/) });
    else expect(auto.device).toBe(device);
    expect((await gpuBasisDevice('gpu', 'webgpu', device)).device).toBe(device);
    const own = await gpuBasisDevice('gpu', 'wasm', undefined);
    expect(own.device).toBeDefined();
    const adapter = (await navigator.gpu.requestAdapter())!;
    const dev = await adapter.requestDevice();
    const b = await GpuKrylovBasis.open(dev, 500, 4);
    fill([b], 500, 3, 1);
    const w = gauss(500, 2), h = new Float64Array(4);
    await b.project(w, h);
    dev.destroy();
    await expect(b.project(w, h)).rejects.toThrow(/GPU device was lost/);
    // Lost in the middle of a Lanczos run (at the 6th product): the run fails with that error.
    const dev2 = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const { op } = testOperator(400, 5);
    let calls = 0;
    const dying: SymOperator = { d: op.d, apply: async (x) => { if (++calls === 6) dev2.destroy(); return op.apply(x); } };
    await expect(lanczosTopK(dying, 4, { seed: 1, gpu: { device: dev2 } })).rejects.toThrow(/GPU device was lost/);
  });

  test('the bench sweep (GPU basis against CPU basis) runs and agrees with the CPU basis', async () => {
    const r = await sweepBench(device, 3000, 64, 2);
    if ('skipped' in r) throw new Error(r.skipped);
    expect(r.vectors).toBe(64);
    expect(r.gpu).toMatch(/^webgpu/);
    expect(r.maxRelDiff).toBeLessThan(1e-12);
    expect(r.gpuMs).toBeGreaterThan(0);
    expect(r.ratio).toBeGreaterThan(0);
  });

  test('the spectrum job: basis "gpu" runs the Lanczos sweeps on the GPU and says so; the same eigenvalues as "cpu"', async () => {
    await useWasm();
    const model = await runInitModel({ config: { arch: 'modadd', p: 7, e: 4, h: 6 }, seed: 1, data: { kind: 'modadd', p: 7, trainFraction: 0.8, seed: 0, op: 'sum' } }, createJobContext());
    const env = { readAsset: nodeAssetReader() };
    const common = { model, method: 'lanczos' as const, k: 8, tol: 1e-7, probes: 0, traceProbes: 0, projection: false, kronecker: false };
    const g = await runSpectrum({ ...common, basis: 'gpu', probes: 2, steps: 20 }, createJobContext(), env);
    const c = await runSpectrum({ ...common, basis: 'cpu' }, createJobContext(), env);
    const a = await runSpectrum(common, createJobContext(), env); // 'auto' off the webgpu backend: the CPU basis
    // On wasm the products run in the resident engine, and the line says so first.
    expect(g.storage).toMatch(/^H·v in the resident engine; f32, basis \d+ vectors \(\d+ MB\) on webgpu, float32 on the GPU in 1 buffer, .*; SLQ basis on webgpu/);
    expect(c.storage).toMatch(/ on cpu/);
    expect(a.storage).toMatch(/ on cpu/);
    for (let i = 0; i < 8; i++) expect(Math.abs(g.eigenvalues[i] - c.eigenvalues[i])).toBeLessThan(1e-5 * c.eigenvalues[0]);
  }, 60_000);

  test('SLQ on the GPU basis: the same Gauss nodes and weights as on the CPU basis (float32 storage both)', async () => {
    const { op } = testOperator(800, 31);
    const o = { probes: 2, steps: 40, seed: 5, storage: 'f32' as const };
    const g = await slqDensity(op, { ...o, gpu: { device } });
    const c = await slqDensity(op, o);
    expect(g.basis).toMatch(/^webgpu/);
    expect(c.basis).toMatch(/^cpu/);
    for (let p = 0; p < 2; p++) {
      for (let i = 0; i < 40; i++) {
        expect(Math.abs(g.nodes[p][i] - c.nodes[p][i])).toBeLessThan(1e-9 * c.nodes[p][0]);
        expect(Math.abs(g.weights[p][i] - c.weights[p][i])).toBeLessThan(1e-9);
      }
    }
  });
});
