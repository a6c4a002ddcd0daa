/**
 * Dense symmetric eigensolver in Float64 over flat row-major arrays (tfjs has no float64), plus the
 * small tridiagonal solvers Lanczos and SLQ need.
 *
 * Pipeline for `eigh` (the structure of LAPACK's dsyevd; Golub & Van Loan, "Matrix Computations",
 * 4th ed. — GVL below):
 *  1. Householder tridiagonalization T = Qᴴᵀ A Qᴴ (GVL Alg. 8.3.1) on the lower triangle. The
 *     symmetric rank-2 update of step k−1 is fused with the matrix–vector product of step k, so the
 *     trailing triangle is swept once per step, row by row, stride 1.
 *  2. The tridiagonal eigenproblem by Cuppen's divide and conquer (GVL §8.4.4) with Gu–Eisenstat's
 *     Löwner-formula correction, which keeps the eigenvectors orthogonal without extra precision
 *     (Gu & Eisenstat, SIAM J. Matrix Anal. Appl. 16 (1995) 172–191), and deflation as in Dongarra &
 *     Sorensen (1987). Leaves and eigenvalue-only problems use implicit QL with a Wilkinson-type
 *     shift (GVL §8.3.5, the QL form of EISPACK's tql1/tql2).
 *  3. Back-transformation Z = Qᴴ Y with the reflectors applied in blocks in compact-WY form
 *     I − V T Vᵀ (Schreiber & Van Loan 1989; GVL §5.1.7), i.e. two matrix–matrix products per block.
 *
 * Matrix layout everywhere: row-major, `A[i * n + j]` is row i, column j. Eigenvector matrices hold
 * one eigenvector per COLUMN: `vectors[i * n + j]` is component i of the eigenvector that belongs to
 * `values[j]`. Eigenvalues are returned in DESCENDING order.
 */
import type { JobContext } from '../jobs';

/**
 * A symmetric (positive semi-definite in our use) linear operator y = H v of dimension d. `apply`
 * may run on a GPU in float32 behind the scenes; callers own the returned array.
 */
export interface SymOperator {
  readonly d: number;
  apply(v: Float64Array): Promise<Float64Array>;
}

export interface EighOptions {
  /** Compute eigenvectors too (default true). */
  vectors?: boolean;
  /** Awaited between sweeps (tridiagonalization steps, merges, back-transform blocks); may throw to cancel. */
  checkpoint?: () => Promise<void>;
  /** Fraction in [0, 1] and a phase label. */
  onProgress?(f: number, phase: string): void;
}

export interface EighResult {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Row-major n×n; column j (entries `vectors[i * n + j]`, i = 0..n−1) is the unit eigenvector of `values[j]`. */
  vectors?: Float64Array;
}

const EPS = Number.EPSILON;
/** Tridiagonal blocks up to this size are solved by QL instead of being split further. */
const LEAF = 32;
/** Householder reflectors applied together in the compact-WY back-transformation. */
const WY_BLOCK = 48;

/** √(a² + b²) without overflow; Math.hypot is much slower in V8. */
function hyp(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  if (x < y) { const t = x; x = y; y = t; }
  if (x === 0) return 0;
  const r = y / x;
  return x * Math.sqrt(1 + r * r);
}

// ---------------------------------------------------------------------------------------------
// Matrix–matrix product (used by the divide-and-conquer merges, the back-transformation and
// Lanczos' basis rotations).

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
  if (i < n) {
    // Leftover rows (< 4): their columns s..i−1, then their own small triangle.
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
function* tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array): Generator<number, void, void> {
  let vp = new Float64Array(n), wp = new Float64Array(n);
  let u = new Float64Array(n);
  const p = new Float64Array(n);
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
      fusedSweep(a, n, k + 1, pending, vp, wp, u, p);
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
// 2a. Implicit QL (leaves, eigenvalue-only problems, first/last components for Lanczos and SLQ).

/**
 * Implicit QL iteration with a Wilkinson-type shift from the leading 2×2 of the active block
 * (GVL §8.3.5; EISPACK tql2 in QL form). d[0..n) diagonal, e[0..n−1) off-diagonal (e[i] couples
 * i and i+1; e needs length ≥ n and is destroyed). `z` is zRows×n row-major: its columns receive
 * the same plane rotations, so z = I gives the eigenvectors (one per column) and z = e₁ᵀ gives the
 * first components only, at O(1) per rotation. Eigenvalues are left unordered in d.
 */
function qlImplicit(d: Float64Array, e: Float64Array, n: number, z: Float64Array | null, zRows: number): void {
  if (n === 0) return;
  e[n - 1] = 0;
  // Negligible off-diagonals: small relative to their neighbours (keeps tiny eigenvalues of graded
  // matrices accurate) or to ‖T‖ (EISPACK's test; without it a block of rounding-level entries next
  // to O(‖T‖) ones — a big null space — never converges, as each sweep re-injects ε‖T‖ noise).
  let tnorm = 0;
  for (let i = 0; i < n; i++) tnorm = Math.max(tnorm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  const absTol = EPS * tnorm;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const em = Math.abs(e[m]);
        if (em <= absTol || em <= EPS * (Math.abs(d[m]) + Math.abs(d[m + 1]))) break;
      }
      if (m === l) break;
      if (++iter > 90) throw new Error(`QL iteration did not converge for eigenvalue ${l} of ${n}`);
      // Shift: the eigenvalue of the leading 2×2 [d_l e_l; e_l d_{l+1}] closer to d_l.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = hyp(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let split = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = hyp(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // The chase met an exact zero: the block splits; restart on the smaller block.
          d[i + 1] -= p;
          e[m] = 0;
          split = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (z !== null) {
          for (let row = 0, o = 0; row < zRows; row++, o += n) {
            const zi = z[o + i], zk = z[o + i + 1];
            z[o + i + 1] = s * zi + c * zk;
            z[o + i] = c * zi - s * zk;
          }
        }
      }
      if (split) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/** Indices that sort `v` ascending (stable). */
function argsortAsc(v: Float64Array, n: number): Int32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((x, y) => v[x] - v[y] || x - y);
  return Int32Array.from(idx);
}

// ---------------------------------------------------------------------------------------------
// 2b. Divide and conquer for the tridiagonal eigenproblem.

interface DcWork {
  n: number;
  /** Eigenvector matrix of T (row-major n×n, one eigenvector per column), block-diagonal while merging. */
  q: Float64Array;
  /** n×n scratch matrices for the merges. */
  w1: Float64Array;
  w2: Float64Array;
  w3: Float64Array;
  /** Length-n scratch vectors, reused by every merge (fewer allocations → fewer GC pauses). */
  f: Float64Array[];
  ix: Int32Array[];
  /** gemm packing buffer. */
  pk: Float64Array;
}

function makeDcWork(n: number): DcWork {
  const nn = n * n;
  return {
    n, q: new Float64Array(nn), w1: new Float64Array(nn), w2: new Float64Array(nn), w3: new Float64Array(nn),
    f: Array.from({ length: 10 }, () => new Float64Array(n)),
    ix: Array.from({ length: 8 }, () => new Int32Array(n)),
    pk: new Float64Array(Math.min(GEMM_WORK, nn)),
  };
}

/** Solves the leaf block lo..hi−1 by QL; writes its eigenvectors into the diagonal block of q. */
function dcLeaf(d: Float64Array, e: Float64Array, lo: number, hi: number, ws: DcWork): void {
  const m = hi - lo;
  const n = ws.n;
  const dl = d.slice(lo, hi);
  const el = new Float64Array(m);
  for (let i = 0; i < m - 1; i++) el[i] = e[lo + i];
  const z = new Float64Array(m * m);
  for (let i = 0; i < m; i++) z[i * m + i] = 1;
  qlImplicit(dl, el, m, z, m);
  const ord = argsortAsc(dl, m);
  for (let r = 0; r < m; r++) {
    const qo = (lo + r) * n + lo;
    const zo = r * m;
    for (let c = 0; c < m; c++) ws.q[qo + c] = z[zo + ord[c]];
  }
  for (let c = 0; c < m; c++) d[lo + c] = dl[ord[c]];
}

/**
 * Roots of the secular equation f(λ) = 1 + ρ Σ_j z_j² / (d_j − λ) for d ascending and distinct,
 * ρ > 0 (GVL §8.4.3). Root i lies in (d_i, d_{i+1}) (the last one in (d_{k−1}, d_{k−1} + ρ‖z‖²]).
 * Each root is stored relative to its nearer pole, λ_i = d[org[i]] + tau[i], so that the differences
 * d_j − λ_i = (d_j − d_org) − tau are accurate (the basis of Gu–Eisenstat's orthogonality).
 * Iteration: the two-pole rational model that matches ψ' and φ' separately ("middle way", Li 1994),
 * safeguarded by bisection on the bracket.
 */
function solveSecular(k: number, dk: Float64Array, z2: Float64Array, rho: number, org: Int32Array, tau: Float64Array): void {
  let zz = 0;
  for (let j = 0; j < k; j++) zz += z2[j];
  const dl = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let o: number, lo: number, hi: number, t: number;
    if (i < k - 1) {
      const half = (dk[i + 1] - dk[i]) / 2;
      let fm = 1;
      for (let j = 0; j < k; j++) fm += (rho * z2[j]) / (dk[j] - dk[i] - half);
      if (fm >= 0) { o = i; lo = 0; hi = half; t = half; } else { o = i + 1; lo = (dk[i] - dk[i + 1]) / 2; hi = 0; t = lo; }
    } else {
      o = i; lo = 0; hi = rho * zz; t = hi;
    }
    const dO = dk[o];
    for (let j = 0; j < k; j++) dl[j] = dk[j] - dO;
    for (let iter = 0; iter < 200; iter++) {
      let psi = 0, dpsi = 0, phi = 0, dphi = 0, abs = 0;
      for (let j = 0; j <= i; j++) {
        const del = dl[j] - t;
        const q = z2[j] / del;
        psi += q; dpsi += q / del; abs -= q;
      }
      for (let j = i + 1; j < k; j++) {
        const del = dl[j] - t;
        const q = z2[j] / del;
        phi += q; dphi += q / del; abs += q;
      }
      const g = 1 + rho * (psi + phi);
      // Rounding bound on g: each term is accurate to a few ulps, plus the ulp of t itself.
      const err = EPS * (8 * (1 + rho * abs) + Math.abs(t) * rho * (dpsi + dphi));
      if (Math.abs(g) <= err) break;
      if (g < 0) lo = t; else hi = t;
      if (hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) break;
      // Model g(t + η) ≈ c + S/(a − η) + R/(b − η) with a, b the adjacent poles relative to t.
      const a = dl[i] - t;
      const S = a * a * rho * dpsi;
      let eta: number;
      if (i < k - 1) {
        const b = dl[i + 1] - t;
        const R = b * b * rho * dphi;
        const c = g - S / a - R / b;
        const B = c * (a + b) + S + R;
        const C = c * a * b + S * b + R * a;
        if (c === 0) {
          eta = C / B;
        } else {
          const disc = Math.sqrt(Math.max(0, B * B - 4 * c * C));
          const qq = (B + (B >= 0 ? disc : -disc)) / 2;
          const e1 = qq / c, e2 = qq !== 0 ? C / qq : NaN;
          eta = e1 > a && e1 < b ? e1 : e2;
        }
      } else {
        const c = g - S / a;
        eta = c > 0 ? a + S / c : NaN;
      }
      let tn = t + eta;
      if (!(tn > lo && tn < hi)) tn = 0.5 * (lo + hi);
      if (tn === t) break;
      t = tn;
    }
    org[i] = o;
    tau[i] = t;
  }
}

/**
 * Merges the solved halves lo..mid−1 and mid..hi−1, coupled by the off-diagonal `beta`
 * (T = diag(T₁, T₂) + |β| u uᵀ, u = e_last + sign(β) e_first, after the diagonal shifts made at the
 * split). On entry d[lo..hi) holds the two halves' ascending eigenvalues and q's diagonal blocks
 * their eigenvectors; on exit d[lo..hi) is ascending and the block of q holds the merged vectors.
 */
function* dcMerge(d: Float64Array, lo: number, mid: number, hi: number, beta: number, ws: DcWork): Generator<void, void, void> {
  const n = ws.n;
  const q = ws.q;
  const m = hi - lo, m1 = mid - lo, m2 = m - m1;
  const [z, dv, dk, zk, z2, tau, lam, zh, nrm, dvals] = ws.f;
  const [order, kept, defl, org, pos, srcK, dstK, dstD] = ws.ix;
  let rho = Math.abs(beta);
  const sgn = beta < 0 ? -1 : 1;
  // z = Qᵀu / √2 (‖z‖ = 1), ρ → 2ρ: the rank-one problem D + ρ z zᵀ.
  for (let j = 0; j < m1; j++) z[j] = q[(mid - 1) * n + lo + j] * Math.SQRT1_2;
  for (let j = m1; j < m; j++) z[j] = sgn * q[mid * n + lo + j] * Math.SQRT1_2;
  rho *= 2;
  for (let j = 0; j < m; j++) dv[j] = d[lo + j];
  // Column types: 1 = rows 0..m1−1 only, 3 = rows m1..m−1 only, 2 = dense (after a rotation).
  const type = new Int8Array(m);
  type.fill(1, 0, m1);
  type.fill(3, m1, m);
  // Merge the two ascending halves.
  {
    let x = 0, y = m1, o = 0;
    while (x < m1 && y < m) order[o++] = dv[x] <= dv[y] ? x++ : y++;
    while (x < m1) order[o++] = x++;
    while (y < m) order[o++] = y++;
  }
  let dmax = 0;
  for (let j = 0; j < m; j++) dmax = Math.max(dmax, Math.abs(dv[j]));
  const tol = 8 * EPS * Math.max(dmax, rho);
  // Deflation (Dongarra–Sorensen): tiny z_j, or two nearly equal d's merged by a rotation.
  let k = 0, nd = 0;
  let prev = -1;
  for (let o = 0; o < m; o++) {
    const j = order[o];
    if (rho * Math.abs(z[j]) <= tol) { defl[nd++] = j; continue; }
    if (prev < 0) { prev = j; continue; }
    const tt = dv[j] - dv[prev];
    const r = hyp(z[prev], z[j]);
    const c = z[j] / r, s = -z[prev] / r;
    if (Math.abs(tt * c * s) <= tol) {
      // Rotate columns prev, j so that z_prev = 0; the dropped coupling is c·s·(d_j − d_prev).
      z[j] = r;
      z[prev] = 0;
      const dp = dv[prev], dj = dv[j];
      dv[prev] = c * c * dp + s * s * dj;
      dv[j] = s * s * dp + c * c * dj;
      for (let row = 0; row < m; row++) {
        const base = (lo + row) * n + lo;
        const xp = q[base + prev], xj = q[base + j];
        q[base + prev] = c * xp + s * xj;
        q[base + j] = -s * xp + c * xj;
      }
      if (type[prev] !== type[j]) { type[prev] = 2; type[j] = 2; }
      defl[nd++] = prev;
    } else {
      kept[k++] = prev;
    }
    prev = j;
  }
  if (prev >= 0) kept[k++] = prev;
  const w1 = ws.w1, w2 = ws.w2, w3 = ws.w3;
  if (k > 0) {
    for (let s = 0; s < k; s++) { dk[s] = dv[kept[s]]; zk[s] = z[kept[s]]; z2[s] = zk[s] * zk[s]; }
    solveSecular(k, dk, z2, rho, org, tau);
    const dorg = nrm; // scratch: d at each root's origin
    for (let i = 0; i < k; i++) { dorg[i] = dk[org[i]]; lam[i] = dorg[i] + tau[i]; }
    // Δ[j][i] = d_j − λ_i, accurate through the stored origin (w3, k×k).
    for (let j = 0; j < k; j++) {
      const row = j * k;
      const dj = dk[j];
      for (let i = 0; i < k; i++) w3[row + i] = dj - dorg[i] - tau[i];
    }
    // Löwner: the ẑ for which the computed λ are exact eigenvalues of D + ρ ẑẑᵀ (Gu–Eisenstat eq. 3.6):
    // ẑ_j² = (λ_{k−1} − d_j)/ρ · Π_{i<j} (λ_i − d_j)/(d_i − d_j) · Π_{i>j} (λ_{i−1} − d_j)/(d_i − d_j),
    // each factor in (0, 1] by interlacing, so the product neither overflows nor loses sign.
    for (let j = 0; j < k; j++) {
      const row = j * k;
      const dj = dk[j];
      let prod = -w3[row + k - 1] / rho;
      for (let i = 0; i < j; i++) prod *= w3[row + i] / (dj - dk[i]);
      for (let i = j + 1; i < k; i++) prod *= w3[row + i - 1] / (dj - dk[i]);
      zh[j] = (zk[j] >= 0 ? 1 : -1) * Math.sqrt(Math.max(prod, 0));
    }
    // Eigenvectors of the rank-one problem: u_i ∝ (D − λ_i)⁻¹ ẑ (column i of U = w3, rows j).
    nrm.fill(0, 0, k);
    for (let j = 0; j < k; j++) {
      const row = j * k;
      const zj = zh[j];
      for (let i = 0; i < k; i++) {
        const x = zj / w3[row + i];
        w3[row + i] = x;
        nrm[i] += x * x;
      }
    }
    for (let i = 0; i < k; i++) nrm[i] = 1 / Math.sqrt(nrm[i]);
    // Pack the kept columns by type so the products skip the zero blocks of diag(Q₁, Q₂).
    let n1 = 0, n2 = 0;
    for (let s = 0; s < k; s++) { const t = type[kept[s]]; if (t === 1) n1++; else if (t === 2) n2++; }
    {
      let a1 = 0, a2 = n1, a3 = n1 + n2;
      for (let s = 0; s < k; s++) { const t = type[kept[s]]; pos[s] = t === 1 ? a1++ : t === 2 ? a2++ : a3++; }
    }
    // w2 ← U with rows permuted into packed order, columns normalised.
    for (let s = 0; s < k; s++) {
      const src = s * k, dst = pos[s] * k;
      for (let i = 0; i < k; i++) w2[dst + i] = w3[src + i] * nrm[i];
    }
    const p1 = n1 + n2; // columns touching the top rows
    const p2 = k - n1; // columns touching the bottom rows
    const botOff = m1 * p1;
    // Gather lists: packed column → source column of the block.
    for (let s = 0; s < k; s++) srcK[pos[s]] = kept[s];
    for (let r = 0; r < m1; r++) {
      const base = (lo + r) * n + lo, o = r * p1;
      for (let t = 0; t < p1; t++) w1[o + t] = q[base + srcK[t]];
    }
    for (let r = 0; r < m2; r++) {
      const base = (lo + m1 + r) * n + lo, o = botOff + r * p2;
      for (let t = 0; t < p2; t++) w1[o + t] = q[base + srcK[n1 + t]];
    }
    // R = [Q₁ packed · U_top ; Q₂ packed · U_bottom] into w3 (m×k), in row blocks with a yield
    // between them so a large merge can still be cancelled promptly.
    const RB = Math.max(64, Math.floor(1.25e8 / Math.max(1, k * Math.max(p1, p2))) & ~3); // ≈ 0.25 GFLOP per block
    for (let r = 0; r < m1; r += RB) {
      gemm(Math.min(RB, m1 - r), k, p1, 1, w1, r * p1, p1, w2, 0, k, false, w3, r * k, k, ws.pk);
      yield;
    }
    for (let r = 0; r < m2; r += RB) {
      gemm(Math.min(RB, m2 - r), k, p2, 1, w1, botOff + r * p2, p2, w2, n1 * k, k, false, w3, (m1 + r) * k, k, ws.pk);
      yield;
    }
  }
  // Deflated values sorted (rotations can perturb their order slightly).
  for (let t = 0; t < nd; t++) dvals[t] = dv[defl[t]];
  const dord = argsortAsc(dvals, nd);
  // Final ascending order: merge the roots (ascending by interlacing) with the deflated values.
  {
    let x = 0, y = 0, o = 0;
    while (x < k || y < nd) {
      if (y >= nd || (x < k && lam[x] <= dvals[dord[y]])) { d[lo + o] = lam[x]; dstK[x++] = o++; } else { d[lo + o] = dvals[dord[y]]; dstD[y++] = o++; }
    }
  }
  // Deflated columns are copied out (w1 is free again) before q's block is overwritten.
  for (let t = 0; t < nd; t++) srcK[t] = defl[dord[t]];
  for (let r = 0; r < m; r++) {
    const base = (lo + r) * n + lo, o = r * nd;
    for (let t = 0; t < nd; t++) w1[o + t] = q[base + srcK[t]];
  }
  for (let r = 0; r < m; r++) {
    const base = (lo + r) * n + lo;
    const ro = r * k, dro = r * nd;
    for (let i = 0; i < k; i++) q[base + dstK[i]] = w3[ro + i];
    for (let t = 0; t < nd; t++) q[base + dstD[t]] = w1[dro + t];
  }
}

/**
 * Eigen-decomposition of the symmetric tridiagonal (d, e) by divide and conquer. On exit d is
 * ascending and ws.q (zeroed on entry) holds the eigenvectors, one per column. e is destroyed.
 * Yields the fraction of merge work done.
 */
function* tridiagDC(d: Float64Array, e: Float64Array, n: number, ws: DcWork): Generator<number, void, void> {
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]));
  for (let i = 0; i < n - 1; i++) scale = Math.max(scale, Math.abs(e[i]));
  if (scale === 0) {
    for (let i = 0; i < n; i++) ws.q[i * n + i] = 1;
    return;
  }
  for (let i = 0; i < n; i++) d[i] /= scale;
  for (let i = 0; i < n - 1; i++) e[i] /= scale;
  const total = n * n * Math.log2(Math.max(2, n / LEAF)) + 1;
  let done = 0;
  function* rec(lo: number, hi: number): Generator<number, void, void> {
    if (hi - lo <= LEAF) { dcLeaf(d, e, lo, hi, ws); return; }
    const mid = lo + ((hi - lo) >> 1);
    const beta = e[mid - 1];
    d[mid - 1] -= Math.abs(beta);
    d[mid] -= Math.abs(beta);
    yield* rec(lo, mid);
    yield* rec(mid, hi);
    for (const _ of dcMerge(d, lo, mid, hi, beta, ws)) yield Math.min(1, done / total);
    done += (hi - lo) * (hi - lo);
    yield Math.min(1, done / total);
  }
  yield* rec(0, n);
  for (let i = 0; i < n; i++) d[i] *= scale;
}

// ---------------------------------------------------------------------------------------------
// 3. Back-transformation.

/**
 * y ← H_0 H_1 ⋯ H_{n−3} y for the reflectors stored by `tridiagonalize`, in blocks of WY_BLOCK
 * applied from the last block to the first: (H_b ⋯ H_{b+nb−1}) = I − V T Vᵀ with T upper triangular
 * (forward accumulation, LAPACK dlarft), so y ← y − V (T (Vᵀ y)) is two matrix–matrix products.
 */
function* backTransform(a: Float64Array, tau: Float64Array, n: number, y: Float64Array): Generator<number, void, void> {
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

// ---------------------------------------------------------------------------------------------
// Drivers.

function checkInput(A: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`eigh: n must be a non-negative integer, got ${n}`);
  if (A.length < n * n) throw new RangeError(`eigh: matrix has ${A.length} entries, need n² = ${n * n}`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      if (!Number.isFinite(A[i * n + j])) throw new RangeError(`eigh: non-finite entry at (${i}, ${j})`);
    }
  }
}

interface Phase { f: number; phase: string }

function* eighSteps(A: Float64Array, n: number, wantVectors: boolean, out: EighResult): Generator<Phase, void, void> {
  checkInput(A, n);
  const values = new Float64Array(n);
  out.values = values;
  if (n === 0) { if (wantVectors) out.vectors = new Float64Array(0); return; }
  const a = A.slice(0, n * n);
  // Scale by a power of two (exact) so that squares in the Householder norms cannot overflow or
  // underflow; eigenvalues are scaled back at the end, eigenvectors are unaffected.
  let amax = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) amax = Math.max(amax, Math.abs(a[i * n + j]));
  const scale = amax > 0 ? 2 ** Math.round(Math.log2(amax)) : 1;
  if (scale !== 1) for (let i = 0; i < n * n; i++) a[i] /= scale;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tau = new Float64Array(Math.max(1, n));
  // Progress weights of the three phases, roughly by their flop counts (4/3 n³, ≤ 4/3 n³, 2 n³).
  const w1 = wantVectors ? 0.3 : 0.95, w2 = wantVectors ? 0.25 : 0.05;
  for (const f of tridiagonalize(a, n, d, e, tau)) yield { f: w1 * f, phase: 'tridiagonalize' };
  if (!wantVectors) {
    qlImplicit(d, e, n, null, 0);
    const ord = argsortAsc(d, n);
    for (let j = 0; j < n; j++) values[j] = d[ord[n - 1 - j]] * scale;
    yield { f: 1, phase: 'tridiagonal eigenvalues' };
    return;
  }
  const ws = makeDcWork(n);
  for (const f of tridiagDC(d, e, n, ws)) yield { f: w1 + w2 * f, phase: 'tridiagonal eigenproblem' };
  ws.w1 = ws.w2 = ws.w3 = new Float64Array(0); // release before the back-transformation
  const y = ws.q;
  // Descending order: reverse the columns (each row reversed in place, stride 1).
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let x = o, z = o + n - 1; x < z; x++, z--) { const t = y[x]; y[x] = y[z]; y[z] = t; }
  }
  for (let j = 0; j < n; j++) values[j] = d[n - 1 - j] * scale;
  for (const f of backTransform(a, tau, n, y)) yield { f: w1 + w2 + (1 - w1 - w2) * f, phase: 'back-transform' };
  out.vectors = y;
}

/**
 * Eigenvalues (descending) and, unless `vectors: false`, eigenvectors of the symmetric n×n matrix
 * A (row-major; only the lower triangle is read; A is not modified). Result layout: see EighResult.
 * Runs synchronously — for small problems; use `eigh` where the solve should be cancellable.
 */
export function eighSync(A: Float64Array, n: number, opts: Omit<EighOptions, 'checkpoint'> = {}): EighResult {
  const out: EighResult = { values: new Float64Array(0) };
  for (const s of eighSteps(A, n, opts.vectors ?? true, out)) opts.onProgress?.(s.f, s.phase);
  return out;
}

/**
 * As `eighSync`, but awaits `opts.checkpoint` between sweeps (every Householder column, every
 * ~0.25 GFLOP of a merge, every back-transformation block) so a long solve can be cancelled — the
 * checkpoint throws — and reports progress. Cost ≈ 4.7 n³ flops, mostly in `gemm`: 800×800 with
 * vectors takes ≈ 0.45 s in Node 20 on one core of the 2-core dev machine (LAPACK dsyevd
 * single-threaded ≈ 0.08 s there), 2000×2000 ≈ 7 s.
 */
export async function eigh(A: Float64Array, n: number, opts: EighOptions = {}): Promise<EighResult> {
  const out: EighResult = { values: new Float64Array(0) };
  for (const s of eighSteps(A, n, opts.vectors ?? true, out)) {
    opts.onProgress?.(s.f, s.phase);
    if (opts.checkpoint) await opts.checkpoint();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tridiagonal problems (Lanczos, SLQ).

export interface TridiagWant {
  /** Squared first components of the eigenvectors (Gauss quadrature weights; they sum to 1). */
  weights?: boolean;
  /** Signed first components of the eigenvectors. */
  first?: boolean;
  /** Signed last components (Lanczos residual estimates β_m |y_m|). */
  last?: boolean;
  /** All eigenvectors (k×k row-major, one per column), by divide and conquer. */
  vectors?: boolean;
}

export interface TridiagResult {
  /** Eigenvalues, descending. */
  values: Float64Array;
  weights?: Float64Array;
  first?: Float64Array;
  last?: Float64Array;
  /** Row-major k×k; column j is the eigenvector of values[j]. */
  vectors?: Float64Array;
}

/**
 * Eigenvalues (descending) of the symmetric tridiagonal matrix with diagonal `alpha` (length k)
 * and off-diagonal `beta` (beta[i] couples i and i+1; only the first k−1 entries are read), and
 * optionally first/last eigenvector components (implicit QL carrying one or two rows of the
 * eigenvector matrix: O(k²)) or all eigenvectors (divide and conquer). `want === true` means
 * `{ vectors: true }`.
 */
export function tridiagEigen(alpha: ArrayLike<number>, beta: ArrayLike<number>, want: boolean | TridiagWant = {}): TridiagResult {
  const w: TridiagWant = want === true ? { vectors: true } : want === false ? {} : want;
  const k = alpha.length;
  if (beta.length < k - 1) throw new RangeError(`tridiagEigen: need ${k - 1} off-diagonals, got ${beta.length}`);
  const d = Float64Array.from(alpha);
  const e = new Float64Array(Math.max(k, 1));
  for (let i = 0; i < k - 1; i++) e[i] = beta[i];
  for (let i = 0; i < k; i++) {
    if (!Number.isFinite(d[i]) || !Number.isFinite(e[i])) throw new RangeError('tridiagEigen: non-finite entry');
  }
  const res: TridiagResult = { values: new Float64Array(k) };
  if (w.vectors) {
    const ws = makeDcWork(k);
    for (const _ of tridiagDC(d, e, k, ws)) { /* synchronous */ }
    const vec = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) vec[i * k + j] = ws.q[i * k + k - 1 - j];
    for (let j = 0; j < k; j++) res.values[j] = d[k - 1 - j];
    res.vectors = vec;
    if (w.first || w.weights) res.first = vec.slice(0, k);
    if (w.last) res.last = vec.slice((k - 1) * k, k * k);
  } else {
    const rows = (w.first || w.weights ? 1 : 0) + (w.last ? 1 : 0);
    const z = rows > 0 ? new Float64Array(rows * k) : null;
    if (z !== null) {
      let r = 0;
      if (w.first || w.weights) { z[0] = 1; r++; }
      if (w.last) z[r * k + k - 1] = 1;
    }
    qlImplicit(d, e, k, z, rows);
    const ord = argsortAsc(d, k);
    for (let j = 0; j < k; j++) res.values[j] = d[ord[k - 1 - j]];
    let r = 0;
    if (z !== null && (w.first || w.weights)) {
      res.first = new Float64Array(k);
      for (let j = 0; j < k; j++) res.first[j] = z[ord[k - 1 - j]];
      r++;
    }
    if (z !== null && w.last) {
      res.last = new Float64Array(k);
      for (let j = 0; j < k; j++) res.last[j] = z[r * k + ord[k - 1 - j]];
    }
  }
  if (w.weights && res.first) {
    const f = res.first;
    res.weights = f.map((x) => x * x);
    if (!w.first) delete res.first;
  }
  return res;
}

/**
 * Householder reduction of the dense symmetric A (n×n, lower triangle read, not modified) to a
 * tridiagonal T = Qᵀ A Q, returned as diagonal d (length n) and off-diagonal e (length n−1).
 * Every reflector acts on indices ≥ 1, so Q e₁ = e₁: the first coordinate is left fixed. Lanczos
 * uses this to turn the arrowhead left by a thick restart back into a tridiagonal without touching
 * the coordinate that couples it to the rest.
 */
export function tridiagonalForm(A: Float64Array, n: number): { d: Float64Array; e: Float64Array } {
  const a = A.slice(0, n * n);
  const d = new Float64Array(n), e = new Float64Array(Math.max(n, 1)), tau = new Float64Array(Math.max(n, 1));
  for (const _ of tridiagonalize(a, n, d, e, tau)) { /* synchronous */ }
  return { d, e: e.slice(0, Math.max(0, n - 1)) };
}

/**
 * Eigenvalues (descending) of a dense symmetric matrix together with the LAST component of each
 * eigenvector, in O(n³) without accumulating eigenvectors: the index order is reversed so the last
 * coordinate becomes the first, which `tridiagonalForm` leaves fixed, and QL tracks the first
 * components of the tridiagonal's eigenvectors.
 */
export function eighLastComponents(A: Float64Array, n: number): { values: Float64Array; last: Float64Array } {
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r[(n - 1 - i) * n + (n - 1 - j)] = A[i * n + j];
  const { d, e } = tridiagonalForm(r, n);
  const t = tridiagEigen(d, e, { first: true });
  return { values: t.values, last: t.first ?? new Float64Array(n) };
}

// ---------------------------------------------------------------------------------------------
// Operators.

export interface FromMatvecOptions {
  ctx?: JobContext;
  /** Return (A + Aᵀ)/2 (default true): a float32 operator is only symmetric to rounding. */
  symmetrize?: boolean;
}

/**
 * The dense d×d matrix of a SymOperator, column j = op.apply(e_j) (d applies: for small d only).
 * Reports progress and checkpoints per column when a JobContext is given.
 */
export async function symmetricFromMatvec(op: SymOperator, opts: FromMatvecOptions = {}): Promise<Float64Array> {
  const n = op.d;
  const A = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const col = await op.apply(unit);
    if (col.length !== n) throw new RangeError(`symmetricFromMatvec: operator returned ${col.length} entries, expected ${n}`);
    for (let i = 0; i < n; i++) A[i * n + j] = col[i];
    if (opts.ctx) {
      opts.ctx.progress((j + 1) / n, `matrix column ${j + 1}/${n}`);
      await opts.ctx.checkpoint();
    }
  }
  if (opts.symmetrize ?? true) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const s = 0.5 * (A[i * n + j] + A[j * n + i]);
        A[i * n + j] = s;
        A[j * n + i] = s;
      }
    }
  }
  return A;
}

/** max |A_ij − A_ji| / max |A_ij|: how far a matrix built from a float32 operator is from symmetric. */
export function symmetryDefect(A: Float64Array, n: number): number {
  let diff = 0, big = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = A[i * n + j];
      big = Math.max(big, Math.abs(x));
      if (j < i) diff = Math.max(diff, Math.abs(x - A[j * n + i]));
    }
  }
  return big === 0 ? 0 : diff / big;
}
