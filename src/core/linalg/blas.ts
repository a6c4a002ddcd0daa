/**
 * Dense matrix–matrix product in Float64 over flat row-major arrays (tfjs has no float64): the
 * kernel of the eigensolver's divide-and-conquer merges and back-transformation, Lanczos' basis
 * rotations and the Internals view's Gram matrices. Large products run on the WebAssembly SIMD
 * kernel of wasmGemm.ts where available, the rest in scalar JS.
 */
import { wasmGemm } from './wasmGemm';

const GEMM_KB = 128;
const GEMM_NB = 512;

/** Workspace size `gemm` wants (pass one to avoid an allocation per call). */
export const GEMM_WORK = GEMM_KB * GEMM_NB;

/**
 * C ← (accumulate ? C : 0) + alpha · A · B with row-major operands and leading dimensions:
 * A is M×K at `a[aOff + i*lda + p]`, B is K×N at `b[bOff + p*ldb + j]`, C is M×N at
 * `c[cOff + i*ldc + j]`. K and N are blocked (128 × 512) and each panel of B is packed so that
 * four consecutive rows are interleaved; the kernel then updates four rows of C from four rows of
 * B per pass (16 multiply–adds per 4 contiguous loads of B and 4 loads + 4 stores of C, inner loop
 * stride-1). `work` (≥ GEMM_WORK doubles) avoids allocating the packing buffer. Mutates `c`.
 */
export function gemm(
  M: number, N: number, K: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  accumulate: boolean,
  c: Float64Array, cOff: number, ldc: number,
  work?: Float64Array,
): void {
  if (M > 0 && N > 0 && K > 0 && alpha !== 0 && M * N * K >= WASM_MIN_WORK
    && wasmGemm(M, N, K, alpha, a, aOff, lda, b, bOff, ldb, accumulate, c, cOff, ldc)) return;
  gemmJs(M, N, K, alpha, a, aOff, lda, b, bOff, ldb, accumulate, c, cOff, ldc, work);
}

/** Products smaller than this many multiply–adds stay in JS (packing would dominate). */
const WASM_MIN_WORK = 16 * 16 * 16;

/** `gemm` in scalar JS (the fallback where WebAssembly SIMD is missing, and for small products). */
export function gemmJs(
  M: number, N: number, K: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  accumulate: boolean,
  c: Float64Array, cOff: number, ldc: number,
  work?: Float64Array,
): void {
  if (!accumulate) for (let i = 0; i < M; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + N);
  if (M === 0 || N === 0 || K === 0 || alpha === 0) return;
  const need = Math.min(K, GEMM_KB) * Math.min(N, GEMM_NB);
  const pk = work !== undefined && work.length >= need ? work : new Float64Array(need);
  for (let j0 = 0; j0 < N; j0 += GEMM_NB) {
    const j1 = Math.min(N, j0 + GEMM_NB);
    for (let p0 = 0; p0 < K; p0 += GEMM_KB) {
      const p1 = Math.min(K, p0 + GEMM_KB);
      const pq = p0 + ((p1 - p0) & ~3); // end of the full quads of rows
      // Pack B[p0:pq, j0:j1] as [quad][j][4].
      let o = 0;
      for (let p = p0; p < pq; p += 4) {
        const b0 = bOff + p * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        for (let j = j0; j < j1; j++, o += 4) {
          pk[o] = b[b0 + j]; pk[o + 1] = b[b1 + j]; pk[o + 2] = b[b2 + j]; pk[o + 3] = b[b3 + j];
        }
      }
      let i = 0;
      for (; i + 3 < M; i += 4) {
        const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        let o2 = 0;
        for (let p = p0; p < pq; p += 4) {
          const x0 = alpha * a[a0 + p], x1 = alpha * a[a1 + p], x2 = alpha * a[a2 + p], x3 = alpha * a[a3 + p];
          const y0 = alpha * a[a0 + p + 1], y1 = alpha * a[a1 + p + 1], y2 = alpha * a[a2 + p + 1], y3 = alpha * a[a3 + p + 1];
          const z0 = alpha * a[a0 + p + 2], z1 = alpha * a[a1 + p + 2], z2 = alpha * a[a2 + p + 2], z3 = alpha * a[a3 + p + 2];
          const w0 = alpha * a[a0 + p + 3], w1 = alpha * a[a1 + p + 3], w2 = alpha * a[a2 + p + 3], w3 = alpha * a[a3 + p + 3];
          for (let j = j0; j < j1; j++, o2 += 4) {
            const u = pk[o2], v = pk[o2 + 1], s = pk[o2 + 2], t = pk[o2 + 3];
            c[c0 + j] += x0 * u + y0 * v + z0 * s + w0 * t;
            c[c1 + j] += x1 * u + y1 * v + z1 * s + w1 * t;
            c[c2 + j] += x2 * u + y2 * v + z2 * s + w2 * t;
            c[c3 + j] += x3 * u + y3 * v + z3 * s + w3 * t;
          }
        }
        for (let p = pq; p < p1; p++) {
          const x0 = alpha * a[a0 + p], x1 = alpha * a[a1 + p], x2 = alpha * a[a2 + p], x3 = alpha * a[a3 + p];
          const b0 = bOff + p * ldb;
          for (let j = j0; j < j1; j++) {
            const u = b[b0 + j];
            c[c0 + j] += x0 * u;
            c[c1 + j] += x1 * u;
            c[c2 + j] += x2 * u;
            c[c3 + j] += x3 * u;
          }
        }
      }
      for (; i < M; i++) {
        const c0 = cOff + i * ldc;
        const a0 = aOff + i * lda;
        let o2 = 0;
        for (let p = p0; p < pq; p += 4) {
          const x = alpha * a[a0 + p], y = alpha * a[a0 + p + 1], z = alpha * a[a0 + p + 2], w = alpha * a[a0 + p + 3];
          for (let j = j0; j < j1; j++, o2 += 4) c[c0 + j] += x * pk[o2] + y * pk[o2 + 1] + z * pk[o2 + 2] + w * pk[o2 + 3];
        }
        for (let p = pq; p < p1; p++) {
          const x = alpha * a[a0 + p];
          const b0 = bOff + p * ldb;
          for (let j = j0; j < j1; j++) c[c0 + j] += x * b[b0 + j];
        }
      }
    }
  }
}

