/**
 * One reorthogonalization sweep (h = Vᵀw, w ← w − V h: KrylovStore.project) timed on the GPU basis
 * and on the CPU basis in the same page, for the in-browser bench (src/core/bench/browserBench.ts)
 * to record the ratio on whatever machine it runs. Both bases get the same vectors; the CPU basis
 * takes the storage a Lanczos run of that size would (Float64 within the 512 MiB budget, else Float32,
 * as planBasis picks).
 */
import { KrylovBasis, DEFAULT_MEMORY_BUDGET, type KrylovStore } from '../linalg/krylovBasis';
import { makeRng } from '../rng';
import { median } from '../bench/measure';
import { GpuBasisUnavailable, GpuKrylovBasis } from './gpuBasis';

export interface SweepBench {
  d: number;
  /** Basis vectors swept over (fewer than asked for when they did not fit the GPU). */
  vectors: number;
  reps: number;
  /** Median ms of one sweep, and where each basis ran (KrylovStore.where). */
  cpuMs: number;
  gpuMs: number;
  cpu: string;
  gpu: string;
  /** CPU time over GPU time. */
  ratio: number;
  /** max |h_gpu − h_cpu| / max |h_cpu|: the cross-check. */
  maxRelDiff: number;
}

/**
 * Times `reps` sweeps (after one warm-up) over `vectors` random unit vectors of length d on each
 * basis (halving the count until the GPU basis fits); `skipped` with the reason when it never does.
 */
export async function sweepBench(device: GPUDevice, d: number, vectors: number, reps = 5, seed = 0, checkpoint?: () => Promise<void>): Promise<SweepBench | { skipped: string }> {
  let n = vectors, gpu: GpuKrylovBasis | null = null, why = '';
  while (n >= 1 && gpu === null) {
    try {
      gpu = await GpuKrylovBasis.open(device, d, n);
    } catch (e) {
      if (!(e instanceof GpuBasisUnavailable)) throw e;
      why = e.message;
      n = Math.floor(n / 2);
    }
  }
  if (gpu === null) return { skipped: `the GPU basis cannot be had: ${why}` };
  const cpu = new KrylovBasis(d, n * d * 8 <= DEFAULT_MEMORY_BUDGET ? 'f64' : 'f32', n);
  try {
    const rng = makeRng(seed);
    const v = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) { v[j] = rng.next() - 0.5; s += v[j] * v[j]; }
      const f = 1 / Math.sqrt(s);
      for (let j = 0; j < d; j++) v[j] *= f;
      gpu.push(v); // rounds v to float32 in place: both bases then hold the same values
      cpu.push(v);
      if (checkpoint && (i & 63) === 63) await checkpoint();
    }
    const w0 = new Float64Array(d);
    for (let j = 0; j < d; j++) w0[j] = rng.next() - 0.5;
    const time = async (b: KrylovStore, h: Float64Array): Promise<number> => {
      const ms: number[] = [];
      for (let r = 0; r <= reps; r++) {
        const w = w0.slice();
        const t = performance.now();
        await b.project(w, h);
        if (r > 0) ms.push(performance.now() - t); // the first is a warm-up
        if (checkpoint) await checkpoint();
      }
      return median(ms);
    };
    const hc = new Float64Array(n), hg = new Float64Array(n);
    const cpuMs = await time(cpu, hc);
    const gpuMs = await time(gpu, hg);
    let diff = 0, top = 0;
    for (let i = 0; i < n; i++) { diff = Math.max(diff, Math.abs(hg[i] - hc[i])); top = Math.max(top, Math.abs(hc[i])); }
    return { d, vectors: n, reps, cpuMs, gpuMs, cpu: cpu.where, gpu: gpu.where, ratio: cpuMs / gpuMs, maxRelDiff: diff / top };
  } finally {
    gpu.dispose();
  }
}
