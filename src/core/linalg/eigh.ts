/**
 * Dense symmetric eigensolver in Float64 over flat row-major arrays (tfjs has no float64), plus the
 * small tridiagonal solvers Lanczos and SLQ need. The kernels live beside it: householder.ts (steps 1
 * and 3), tridiagonal.ts (step 2, QL and divide and conquer), blas.ts (gemm).
 *
 * Pipeline for `eigh` (the structure of LAPACK's dsyevd; Golub & Van Loan, "Matrix Computations",
 * 4th ed. — GVL below):
 *  1. Householder tridiagonalization T = Qᴴᵀ A Qᴴ (GVL Alg. 8.3.1) on the lower triangle. The
 *     symmetric rank-2 update of step k−1 is fused with the matrix–vector product of step k, so the
 *     trailing triangle is swept once per step, row by row, stride 1 (in wasm SIMD where available).
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
import { argsortAsc, makeDcWork, qlImplicit, tridiagDC } from './tridiagonal';
import { backTransform, tridiagonalize } from './householder';

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
 * checkpoint throws — and reports progress. Cost ≈ 4.7 n³ flops, mostly in `gemm` and the
 * Householder sweep, both on WebAssembly SIMD where available (wasmKernels.ts): 800×800 with vectors
 * takes ≈ 0.3 s in Node 20 on one core of the 2-core dev machine under load, 2.6–3.4× one-thread
 * LAPACK dsyevd measured alternately (`npm run bench:eigh`, BENCHMARKS.md); 2000×2000 ≈ 3.5 s
 * (≈ 0.45 s and 7 s in scalar JS).
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
