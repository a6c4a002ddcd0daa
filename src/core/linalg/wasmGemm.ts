/**
 * `gemm` (blas.ts) on the WebAssembly SIMD micro-kernel `macro` of wasmKernels.ts: B is packed
 * once (by blocks of KC rows, in panels of four columns), then for each block of MC rows of C the
 * block of α·A is packed and the kernel accumulates into a copy of those rows of C held in wasm
 * memory, which is copied back.
 */
import { splitRange, threadPool, type ThreadPool } from '../wasm/threads';
import { heapOf, KERNEL_NAMES, wasmInstance, wasmKernelsEnabled, wasmThreadedInstance, type ThreadedKernels, type WasmKernels } from './wasmKernels';

let kernel: WasmKernels | null | undefined;
/** The thread pool `kernel` was made for (a new pool makes a new instance). */
let kernelPool: ThreadPool | null = null;

function instance(): WasmKernels | null {
  if (!wasmKernelsEnabled()) return null;
  const pool = threadPool();
  if (kernel === undefined || (kernel !== null && pool !== kernelPool)) {
    kernelPool = pool;
    kernel = wasmThreadedInstance(true) ?? wasmInstance();
  }
  return kernel;
}

/** Multiply–adds of one macro-kernel call below which it stays on the calling thread. */
const PAR_MIN = 1 << 18;

/** macro(…) over the column panels of B̃/C, split over the pool's threads when it is large enough. */
function macro(k: WasmKernels, aP: number, bP: number, cP: number, mp: number, np: number, kb: number, ldcBytes: number): void {
  const par = 'pool' in k ? (k as ThreadedKernels) : null;
  if (par === null || mp * np * kb < PAR_MIN || np < 8) { k.macro(aP, bP, cP, mp, np, kb, ldcBytes); return; }
  const fn = KERNEL_NAMES.indexOf('macro');
  const jobs = splitRange(np, par.pool.threads, 8).map(([j0, j1]) => [{ fn, count: 1, args: [aP, bP + 8 * j0 * kb, cP + 8 * j0, mp, j1 - j0, kb, ldcBytes] }]);
  par.pool.run(par.attached, jobs);
}

const MC = 64;
const KC = 256;
/** The most memory the kernel's buffers may take; larger products fall back to JS. */
const MAX_BYTES = 512 * 1024 * 1024;

/**
 * C ← (accumulate ? C : 0) + alpha · A · B (same contract as `gemm`). Returns false, doing nothing,
 * when the wasm kernel is unavailable or the buffers would exceed MAX_BYTES.
 */
export function wasmGemm(
  M: number, N: number, K: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  accumulate: boolean,
  c: Float64Array, cOff: number, ldc: number,
): boolean {
  const k = instance();
  if (k === null) return false;
  const Np = (N + 3) & ~3;
  const mc = Math.min(MC, (M + 3) & ~3);
  // Layout (doubles): B̃ [K × Np] | C tile [mc × Np] | Ã [mc × KC].
  const bN = K * Np, cN = mc * Np, aN = mc * Math.min(KC, K);
  const bytes = 8 * (bN + cN + aN);
  if (bytes > MAX_BYTES) return false;
  const heap = heapOf(k, bytes);
  const bBase = 0, cBase = bN, aBase = bN + cN;
  // Pack B by K-blocks of KC rows: within a block of kb rows, panel jr (4 columns) is [kb][4].
  for (let p0 = 0; p0 < K; p0 += KC) {
    const kb = Math.min(KC, K - p0);
    const blk = bBase + p0 * Np;
    for (let jr = 0; jr < Np; jr += 4) {
      let o = blk + jr * kb;
      const w = Math.min(4, N - jr);
      for (let p = p0; p < p0 + kb; p++, o += 4) {
        const src = bOff + p * ldb + jr;
        if (w === 4) {
          heap[o] = b[src]; heap[o + 1] = b[src + 1]; heap[o + 2] = b[src + 2]; heap[o + 3] = b[src + 3];
        } else {
          for (let t = 0; t < 4; t++) heap[o + t] = t < w ? b[src + t] : 0;
        }
      }
    }
  }
  for (let i0 = 0; i0 < M; i0 += mc) {
    const mb = Math.min(mc, M - i0);
    const mp = (mb + 3) & ~3;
    // C tile: the current rows of C (or zeros), padded to mp × Np.
    for (let r = 0; r < mp; r++) {
      const o = cBase + r * Np;
      if (r < mb && accumulate) {
        const src = cOff + (i0 + r) * ldc;
        heap.set(c.subarray(src, src + N), o);
        heap.fill(0, o + N, o + Np);
      } else {
        heap.fill(0, o, o + Np);
      }
    }
    for (let p0 = 0; p0 < K; p0 += KC) {
      const kb = Math.min(KC, K - p0);
      // Pack α·A[i0:i0+mb, p0:p0+kb] as mp/4 panels of [kb][4].
      for (let ir = 0; ir < mp; ir += 4) {
        let o = aBase + ir * kb;
        const h = Math.min(4, mb - ir);
        if (h === 4) {
          const r0 = aOff + (i0 + ir) * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
          for (let p = p0; p < p0 + kb; p++, o += 4) {
            heap[o] = alpha * a[r0 + p]; heap[o + 1] = alpha * a[r1 + p]; heap[o + 2] = alpha * a[r2 + p]; heap[o + 3] = alpha * a[r3 + p];
          }
        } else {
          for (let p = p0; p < p0 + kb; p++, o += 4) {
            for (let t = 0; t < 4; t++) heap[o + t] = t < h ? alpha * a[aOff + (i0 + ir + t) * lda + p] : 0;
          }
        }
      }
      macro(k, 8 * aBase, 8 * (bBase + p0 * Np), 8 * cBase, mp, Np, kb, 8 * Np);
    }
    for (let r = 0; r < mb; r++) {
      const o = cBase + r * Np;
      c.set(heap.subarray(o, o + N), cOff + (i0 + r) * ldc);
    }
  }
  return true;
}
