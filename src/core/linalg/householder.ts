/**
 * Householder reduction of a dense symmetric matrix to tridiagonal form and the back-transformation
 * of eigenvectors (steps 1 and 3 of `eigh`'s pipeline; see eigh.ts).
 */
import { gemm, GEMM_WORK } from './blas';
import { heapOf, wasmInstance, type WasmKernels } from './wasmKernels';

/** Householder reflectors applied together in the compact-WY back-transformation. */
const WY_BLOCK = 128;

// ---------------------------------------------------------------------------------------------
// 1. Householder tridiagonalization.

/**
 * One sweep over the trailing lower triangle (rows and columns s..n−1): apply the pending rank-2
 * update A ← A − v wᵀ − w vᵀ of the previous step (when `update`), and accumulate p = A u with the
 * updated entries (GVL Alg. 8.3.1, the symv and syr2 fused). Four rows per pass share the loads of
 * v, w, u and p; the 4×4 diagonal block of each pass is done entry by entry. Mutates `a` and `p`.
 */
function fusedSweep(
  a: Float64Array, n: number, s: number, update: boolean,
  vp: Float64Array, wp: Float64Array, u: Float64Array, p: Float64Array,
): void {
  let i = s;
  for (; i + 3 < n; i += 4) {
    const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
    const u0 = u[i], u1 = u[i + 1], u2 = u[i + 2], u3 = u[i + 3];
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (update) {
      const v0 = vp[i], v1 = vp[i + 1], v2 = vp[i + 2], v3 = vp[i + 3];
      const w0 = wp[i], w1 = wp[i + 1], w2 = wp[i + 2], w3 = wp[i + 3];
      for (let j = s; j < i; j++) {
        const vj = vp[j], wj = wp[j], uj = u[j];
        const x0 = a[r0 + j] - v0 * wj - w0 * vj;
        const x1 = a[r1 + j] - v1 * wj - w1 * vj;
        const x2 = a[r2 + j] - v2 * wj - w2 * vj;
        const x3 = a[r3 + j] - v3 * wj - w3 * vj;
        a[r0 + j] = x0;
        a[r1 + j] = x1;
        a[r2 + j] = x2;
        a[r3 + j] = x3;
        s0 += x0 * uj;
        s1 += x1 * uj;
        s2 += x2 * uj;
        s3 += x3 * uj;
        p[j] += x0 * u0 + x1 * u1 + x2 * u2 + x3 * u3;
      }
    } else {
      for (let j = s; j < i; j++) {
        const uj = u[j];
        const x0 = a[r0 + j], x1 = a[r1 + j], x2 = a[r2 + j], x3 = a[r3 + j];
        s0 += x0 * uj;
        s1 += x1 * uj;
        s2 += x2 * uj;
        s3 += x3 * uj;
        p[j] += x0 * u0 + x1 * u1 + x2 * u2 + x3 * u3;
      }
    }
    p[i] += s0;
    p[i + 1] += s1;
    p[i + 2] += s2;
    p[i + 3] += s3;
    sweepTriangle(a, n, i, i + 4, update, vp, wp, u, p);
  }
  if (i < n) sweepLeftover(a, n, s, i, update, vp, wp, u, p);
}

/** Leftover rows i..n−1 (< 4) of a sweep: their columns s..i−1, then their own small triangle. */
function sweepLeftover(
  a: Float64Array, n: number, s: number, i: number, update: boolean,
  vp: Float64Array, wp: Float64Array, u: Float64Array, p: Float64Array,
): void {
  {
    for (let r = i; r < n; r++) {
      const ro = r * n;
      const ur = u[r], vr = vp[r], wr = wp[r];
      let acc = 0;
      for (let j = s; j < i; j++) {
        const x = update ? a[ro + j] - vr * wp[j] - wr * vp[j] : a[ro + j];
        a[ro + j] = x;
        acc += x * u[j];
        p[j] += x * ur;
      }
      p[r] += acc;
    }
    sweepTriangle(a, n, i, n, update, vp, wp, u, p);
  }
}

/**
 * `fusedSweep` with the rectangular part (all but the last column when odd, for every row quad) in
 * the wasm kernel `sweep`; `a` and the vectors are views into `k`'s memory. The odd column, the
 * 4×4 diagonal triangles and the leftover rows stay in JS (O(n) per sweep). `zero` is all zeros: the
 * kernel always applies the update, with v = w = 0 when there is none.
 */
function fusedSweepWasm(
  k: WasmKernels, a: Float64Array, n: number, s: number, update: boolean,
  vp: Float64Array, wp: Float64Array, u: Float64Array, p: Float64Array, zero: Float64Array,
): void {
  const iEnd = s + ((n - s) & ~3);
  if (iEnd > s) {
    k.sweep(a.byteOffset, (update ? vp : zero).byteOffset, (update ? wp : zero).byteOffset, u.byteOffset, p.byteOffset, 8 * n, s, s, iEnd);
  }
  for (let i = s; i < iEnd; i += 4) {
    if (((i - s) & 1) === 1) {
      const j = i - 1;
      const vj = vp[j], wj = wp[j], uj = u[j];
      let pj = 0;
      for (let r = i; r < i + 4; r++) {
        const o = r * n + j;
        const x = update ? a[o] - vp[r] * wj - wp[r] * vj : a[o];
        a[o] = x;
        p[r] += x * uj;
        pj += x * u[r];
      }
      p[j] += pj;
    }
    sweepTriangle(a, n, i, i + 4, update, vp, wp, u, p);
  }
  if (iEnd < n) sweepLeftover(a, n, s, iEnd, update, vp, wp, u, p);
}

/** The lower triangle (diagonal included) of rows/columns lo..hi−1 for `fusedSweep`. */
function sweepTriangle(
  a: Float64Array, n: number, lo: number, hi: number, update: boolean,
  vp: Float64Array, wp: Float64Array, u: Float64Array, p: Float64Array,
): void {
  for (let r = lo; r < hi; r++) {
    const ro = r * n;
    const ur = u[r], vr = vp[r], wr = wp[r];
    let acc = 0;
    for (let c = lo; c < r; c++) {
      const x = update ? a[ro + c] - vr * wp[c] - wr * vp[c] : a[ro + c];
      a[ro + c] = x;
      acc += x * u[c];
      p[c] += x * ur;
    }
    const xd = update ? a[ro + r] - 2 * vr * wr : a[ro + r];
    a[ro + r] = xd;
    p[r] += acc + xd * ur;
  }
}

/**
 * Reduces the symmetric matrix in `a` (lower triangle read; overwritten) to tridiagonal form:
 * diagonal d[0..n), off-diagonal e[0..n−1) with e[k] = T[k+1][k]. Reflector k is
 * H_k = I − tau[k] v vᵀ with v[0..k] = 0 and v[k+1] = 1; v[k+1..n) is stored in row k of `a` at
 * columns k+1..n−1 (the unused strict upper triangle, so the back-transformation reads it stride-1).
 * Qᴴ = H_0 H_1 ⋯ H_{n−3}; T = Qᴴᵀ A Qᴴ. Yields once per column with the fraction done.
 */
export function* tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array): Generator<number, void, void> {
  // With wasm: a private instance (an interleaved solve cannot touch this one's memory) holding the
  // matrix and the four vectors; the result is copied back into `a` at the end.
  const k = n >= WASM_MIN_N ? wasmInstance() : null;
  let work = a, zero = a;
  let vp: Float64Array, wp: Float64Array, u: Float64Array, p: Float64Array;
  if (k !== null) {
    const nn = n * n;
    const heap = heapOf(k, 8 * (nn + 5 * n));
    work = heap.subarray(0, nn);
    work.set(a.subarray(0, nn));
    [vp, wp, u, p, zero] = [0, 1, 2, 3, 4].map((t) => heap.subarray(nn + t * n, nn + (t + 1) * n));
    zero.fill(0);
  } else {
    vp = new Float64Array(n); wp = new Float64Array(n); u = new Float64Array(n); p = new Float64Array(n);
  }
  yield* reduce(work, n, d, e, tau, vp, wp, u, p, k === null ? fusedSweep
    : (aa, nn, s, update, v1, w1, u1, p1) => fusedSweepWasm(k, aa, nn, s, update, v1, w1, u1, p1, zero));
  if (work !== a) a.set(work);
}

/** Matrices at least this large are reduced with the wasm kernel. */
const WASM_MIN_N = 32;

type Sweep = (a: Float64Array, n: number, s: number, update: boolean, vp: Float64Array, wp: Float64Array, u: Float64Array, p: Float64Array) => void;

function* reduce(
  a: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array,
  vp: Float64Array, wp: Float64Array, u: Float64Array, p: Float64Array, sweep: Sweep,
): Generator<number, void, void> {
  let pending = false;
  const total = n * n * n;
  for (let k = 0; k < n - 2; k++) {
    // (a) the previous rank-2 update, restricted to column k (rows k..n−1).
    if (pending) {
      const vk = vp[k], wk = wp[k];
      for (let i = k; i < n; i++) a[i * n + k] -= vp[i] * wk + wp[i] * vk;
    }
    d[k] = a[k * n + k];
    // (b) Householder vector for x = A[k+1..n−1][k]: H x = β e_1 with β = −sign(x₀)‖x‖ (no cancellation).
    const alpha = a[(k + 1) * n + k];
    let sig2 = 0;
    for (let i = k + 2; i < n; i++) { const x = a[i * n + k]; sig2 += x * x; }
    let t = 0;
    u.fill(0, 0, n);
    if (sig2 === 0) {
      e[k] = alpha;
    } else {
      const norm = Math.sqrt(alpha * alpha + sig2);
      const beta = alpha >= 0 ? -norm : norm;
      t = (beta - alpha) / beta;
      const scale = 1 / (alpha - beta);
      u[k + 1] = 1;
      for (let i = k + 2; i < n; i++) u[i] = a[i * n + k] * scale;
      e[k] = beta;
    }
    tau[k] = t;
    const row = k * n;
    for (let i = k + 1; i < n; i++) a[row + i] = u[i];
    // (c) one sweep: pending update on the trailing triangle + p = A₂₂ u.
    if (t !== 0 || pending) {
      p.fill(0, 0, n);
      sweep(a, n, k + 1, pending, vp, wp, u, p);
    }
    if (t !== 0) {
      // (d) w = τ p − (τ²/2)(pᵀu) u, so H A₂₂ H = A₂₂ − u wᵀ − w uᵀ (GVL eq. 8.3.3).
      let pu = 0;
      for (let i = k + 1; i < n; i++) pu += p[i] * u[i];
      const c = 0.5 * t * t * pu;
      const w = vp; // reuse: the old v is no longer needed
      w.fill(0, 0, n);
      for (let i = k + 1; i < n; i++) w[i] = t * p[i] - c * u[i];
      vp = u;
      u = wp;
      wp = w;
      pending = true;
    } else {
      pending = false;
    }
    const rem = n - k - 1;
    yield 1 - (rem * rem * rem) / total;
  }
  if (n >= 2) {
    if (pending) {
      for (let i = n - 2; i < n; i++) {
        for (let j = n - 2; j <= i; j++) a[i * n + j] -= vp[i] * wp[j] + wp[i] * vp[j];
      }
    }
    d[n - 2] = a[(n - 2) * n + n - 2];
    d[n - 1] = a[(n - 1) * n + n - 1];
    e[n - 2] = a[(n - 1) * n + n - 2];
    tau[n - 2] = 0;
  } else if (n === 1) {
    d[0] = a[0];
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Back-transformation.

/**
 * y ← H_0 H_1 ⋯ H_{n−3} y for the reflectors stored by `tridiagonalize`, in blocks of WY_BLOCK
 * applied from the last block to the first: (H_b ⋯ H_{b+nb−1}) = I − V T Vᵀ with T upper triangular
 * (forward accumulation, LAPACK dlarft), so y ← y − V (T (Vᵀ y)) is two matrix–matrix products.
 */
export function* backTransform(a: Float64Array, tau: Float64Array, n: number, y: Float64Array): Generator<number, void, void> {
  const nr = n - 2; // reflectors 0..n−3
  if (nr <= 0) return;
  const nbMax = Math.min(WY_BLOCK, nr);
  const vb = new Float64Array(nbMax * n);
  const vbt = new Float64Array(n * nbMax);
  const tm = new Float64Array(nbMax * nbMax);
  const g = new Float64Array(nbMax * nbMax);
  const w = new Float64Array(nbMax * n);
  const w2 = new Float64Array(nbMax * n);
  const pk = new Float64Array(GEMM_WORK);
  const nBlocks = Math.ceil(nr / nbMax);
  let done = 0;
  for (let blk = nBlocks - 1; blk >= 0; blk--) {
    const b = blk * nbMax;
    const nb = Math.min(nbMax, nr - b);
    const r0 = b + 1; // first row any reflector of the block touches
    const rows = n - r0;
    // V (nb × rows, row r = v_{b+r} restricted to rows r0..n−1), zeros above the unit entry.
    for (let r = 0; r < nb; r++) {
      const o = r * rows;
      const kk = b + r;
      for (let i = r0; i <= kk; i++) vb[o + i - r0] = 0;
      for (let i = kk + 1; i < n; i++) vb[o + i - r0] = a[kk * n + i];
    }
    // Vᵀ (rows × nb), and the Gram matrix G = V Vᵀ for T.
    for (let i = 0; i < rows; i++) for (let r = 0; r < nb; r++) vbt[i * nb + r] = vb[r * rows + i];
    gemm(nb, nb, rows, 1, vb, 0, rows, vbt, 0, nb, false, g, 0, nb, pk);
    // T: T_ii = τ_i, T[0:i, i] = −τ_i T[0:i, 0:i] G[0:i, i]  (LAPACK dlarft, forward, columnwise).
    tm.fill(0);
    for (let i = 0; i < nb; i++) {
      const ti = tau[b + i];
      tm[i * nb + i] = ti;
      for (let r = 0; r < i; r++) {
        let acc = 0;
        for (let s = r; s < i; s++) acc += tm[r * nb + s] * g[s * nb + i];
        tm[r * nb + i] = -ti * acc;
      }
    }
    // W = V y[r0:, :]  (nb × n);  W₂ = T W;  y[r0:, :] −= Vᵀ W₂.
    gemm(nb, n, rows, 1, vb, 0, rows, y, r0 * n, n, false, w, 0, n, pk);
    gemm(nb, n, nb, 1, tm, 0, nb, w, 0, n, false, w2, 0, n, pk);
    gemm(rows, n, nb, -1, vbt, 0, nb, w2, 0, n, true, y, r0 * n, n, pk);
    done += nb * (2 * nr - 2 * b - nb);
    yield Math.min(1, done / (nr * nr));
  }
}

