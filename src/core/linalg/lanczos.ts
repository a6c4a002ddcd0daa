/**
 * Top-k eigenpairs of a large symmetric operator by Lanczos with full reorthogonalization and
 * thick restarts, in Float64 (the operator itself may run in float32 on a GPU).
 *
 * - Recurrence (GVL Alg. 10.1.1): w = H v_j; α_j = v_jᵀ w; β_j = ‖w − V Vᵀ w‖; v_{j+1} = w/β_j.
 *   Every new w is orthogonalized against the whole stored basis (full reorthogonalization, so no
 *   ghost copies): after the local three-term step, one classical Gram–Schmidt sweep, and a second
 *   one only when the DGKS criterion asks for it ("twice is enough": Giraud, Langou & Rozložník
 *   2005; Parlett §6-9). Steps that couple to many vectors (the first, and the first after a thick
 *   restart) always get two sweeps.
 * - Projected matrix T = Vᵀ H V: tridiagonal until the first restart, then an arrowhead block
 *   [diag(θ) s; sᵀ α] followed by a tridiagonal tail (thick restart: Wu & Simon, SIAM J. Matrix
 *   Anal. Appl. 22 (2000) 602–616). For a Ritz pair (θ, V y), ‖H V y − θ V y‖ = β_m |e_mᵀ y|
 *   (GVL §10.1.4); convergence is checked with it on a tridiagonal that has T's eigenvalues and
 *   last components (the arrowhead reduced by Householder with its hub fixed), at O(m²) per check.
 * - Invariant subspaces (β ≈ 0, e.g. once the range of a low-rank operator is spanned) continue
 *   with a fresh random vector orthogonal to the basis, coupled to it by β = 0 — exact, since H
 *   maps the orthogonal complement of an invariant subspace into itself.
 * - Memory: the basis dominates (m vectors of length d). It is stored in Float64 when that fits
 *   `memoryBudgetBytes`, else in Float32 (recurrence and dot products stay Float64; each stored
 *   vector is the rounded one, so T describes the basis actually kept), else in Float32 with as
 *   many vectors as fit, relying on thick restarts; if not even k + a few vectors fit, it refuses
 *   with a BadInputError that states the bytes needed. Besides the basis: T (m² doubles) and, at a
 *   restart and at the end, a dense eigensolve of T (≈ 6 m² doubles; 110 MB at m = 1,500).
 *
 * Limitation (inherent to single-vector Krylov methods): a repeated eigenvalue is found once per
 * Krylov sequence; further copies appear only through random restarts after an invariant subspace
 * or rounding noise. Exactly repeated eigenvalues inside the wanted top k may therefore be missed.
 */
import { BadInputError } from '../errors';
import type { JobContext } from '../jobs';
import { makeRng } from '../rng';
import type { Rng } from '../rng';
import { eighSync, tridiagEigen, tridiagonalForm } from './eigh';
import { gemm, GEMM_WORK } from './blas';
import type { SymOperator } from './operator';

export type BasisStorage = 'f64' | 'f32';

/** 512 MiB: the default bound on the Lanczos basis. */
export const DEFAULT_MEMORY_BUDGET = 512 * 1024 * 1024;

export interface LanczosOptions {
  seed: number;
  /** Lanczos steps (operator applications in the recurrence) at most; default max(300, 10k). */
  maxIter?: number;
  /** Converged when ‖H y − θ y‖ ≤ tol · max|θ| (max|θ| estimates ‖H‖). Default 1e-6. */
  tol?: number;
  ctx?: JobContext;
  /** Bound on the basis storage in bytes (default 512 MiB). */
  memoryBudgetBytes?: number;
  /** Force the basis precision; by default Float64 when it fits, else Float32. */
  storage?: BasisStorage;
  /** Return the Ritz vectors (default false; they are formed anyway to verify the residuals). */
  wantVectors?: boolean;
  /** Basis size before a thick restart; default min(d, max(2k + 1, k + 32)), lowered to fit the budget. */
  maxBasis?: number;
  /**
   * Checked once per step: when it returns true the run stops early and returns only the leading
   * Ritz pairs that have converged by then (verified as usual); `stopped` is set on the result.
   */
  shouldStop?: () => boolean;
  /**
   * Streaming: called at convergence checks, also before the basis reaches k vectors (then at most
   * every `checkEveryMs`, default 1 s, and never more often than 4× the time the previous call
   * took, so it costs at most ~20 % of the run; `checkEveryMs: 0` calls it at every step, which
   * makes the calls deterministic for tests). It sees the Ritz values, how many leading pairs have
   * converged, and can project a vector on their span (what the projection curve needs).
   */
  onCheck?: (c: LanczosCheck) => Promise<void> | void;
  checkEveryMs?: number;
}

export interface LanczosCheck {
  iterations: number;
  matvecs: number;
  /** Basis vectors now. */
  size: number;
  /** Top min(k, size) Ritz values, descending. */
  values: Float64Array;
  /** Leading Ritz pairs whose residual estimate β|y_m| is within tol·scale. */
  converged: number;
  /** Residual estimates of `values`. */
  estimates: Float64Array;
  /**
   * Projects x on the span of the top j Ritz vectors for each j of `ks` (ascending, each ≤ the
   * leading converged count) and calls visit(j, P_j x) in Float32. One dense eigensolve of T and,
   * per j, one pass over the basis.
   */
  projections(x: Float32Array, ks: number[], visit: (k: number, xk: Float32Array) => Promise<void>): Promise<void>;
}

export interface LanczosResult {
  /** Ritz values, descending (k of them unless the run stopped before the basis reached k vectors). */
  values: Float64Array;
  /** Unit Ritz vectors (Float32Array when the basis is stored in Float32), same order as values. */
  vectors?: Float64Array[] | Float32Array[];
  /** ‖H v − θ v‖ per pair, VERIFIED with one extra application of H per pair. */
  residuals: Float64Array;
  /** The same residuals as estimated from the recurrence, β_m |y_m|. */
  residualEstimates: Float64Array;
  /** Lanczos steps taken. */
  iterations: number;
  /** Applications of H, including the verification. */
  matvecs: number;
  /** Pairs whose verified residual is ≤ tol · scale. */
  converged: number;
  /** max |Ritz value|, the scale the tolerance is relative to. */
  scale: number;
  storage: BasisStorage;
  /** Basis vectors kept before a restart, and the bytes they take. */
  basisSize: number;
  basisBytes: number;
  restarts: number;
  /** Steps that needed a second Gram–Schmidt sweep (DGKS); the others used one. */
  secondSweeps: number;
  /** Set when shouldStop ended the run early: only the leading converged pairs were kept. */
  stopped?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Basis storage and the reorthogonalization kernels (separate Float64/Float32 copies keep each
// call site monomorphic for the JIT).

function dots64(vs: Float64Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < d; j++) {
      const x = w[j];
      s0 += a[j] * x; s1 += b[j] * x; s2 += c[j] * x; s3 += e[j] * x;
    }
    h[i] = s0; h[i + 1] = s1; h[i + 2] = s2; h[i + 3] = s3;
  }
  for (; i < i1; i++) {
    const a = vs[i];
    let s0 = 0;
    for (let j = 0; j < d; j++) s0 += a[j] * w[j];
    h[i] = s0;
  }
}

function axpy64(vs: Float64Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    const ha = h[i], hb = h[i + 1], hc = h[i + 2], he = h[i + 3];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j] + hb * b[j] + hc * c[j] + he * e[j];
  }
  for (; i < i1; i++) {
    const a = vs[i], ha = h[i];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j];
  }
}

function dots32(vs: Float32Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < d; j++) {
      const x = w[j];
      s0 += a[j] * x; s1 += b[j] * x; s2 += c[j] * x; s3 += e[j] * x;
    }
    h[i] = s0; h[i + 1] = s1; h[i + 2] = s2; h[i + 3] = s3;
  }
  for (; i < i1; i++) {
    const a = vs[i];
    let s0 = 0;
    for (let j = 0; j < d; j++) s0 += a[j] * w[j];
    h[i] = s0;
  }
}

function axpy32(vs: Float32Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    const ha = h[i], hb = h[i + 1], hc = h[i + 2], he = h[i + 3];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j] + hb * b[j] + hc * c[j] + he * e[j];
  }
  for (; i < i1; i++) {
    const a = vs[i], ha = h[i];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j];
  }
}

/** DGKS threshold: a second Gram–Schmidt sweep when one sweep leaves less than η of ‖w‖. */
const DGKS_ETA = Math.SQRT1_2;

/** Basis vectors handled between two checkpoints inside one Gram–Schmidt sweep. */
const GS_CHUNK = 32;

/**
 * An orthonormal Krylov basis of up to `capacity` vectors of length d, stored in Float64 or
 * Float32. Vectors are allocated on first use and reused after a restart.
 */
export class KrylovBasis {
  readonly d: number;
  readonly storage: BasisStorage;
  readonly capacity: number;
  private v64: Float64Array[] = [];
  private v32: Float32Array[] = [];
  /** Active vectors: the first `size` of the pool. */
  size = 0;

  constructor(d: number, storage: BasisStorage, capacity: number) {
    this.d = d;
    this.storage = storage;
    this.capacity = capacity;
  }

  /** Forgets all vectors (their storage is kept for reuse). */
  reset(): void {
    this.size = 0;
  }

  /** Bytes one stored vector takes. */
  get bytesPerVector(): number {
    return this.d * (this.storage === 'f64' ? 8 : 4);
  }

  /**
   * Appends v. With Float32 storage v is overwritten with the rounded values that were stored, so
   * the caller continues with exactly the vector the basis holds.
   */
  push(v: Float64Array): void {
    if (this.size >= this.capacity) throw new Error('KrylovBasis: full');
    const i = this.size++;
    if (this.storage === 'f64') {
      if (i >= this.v64.length) this.v64.push(new Float64Array(this.d));
      this.v64[i].set(v);
    } else {
      if (i >= this.v32.length) this.v32.push(new Float32Array(this.d));
      const s = this.v32[i];
      s.set(v);
      for (let j = 0; j < this.d; j++) v[j] = s[j];
    }
  }

  /** Copies vector i into `out` (Float64). */
  read(i: number, out: Float64Array): Float64Array {
    if (this.storage === 'f64') out.set(this.v64[i]);
    else { const s = this.v32[i]; for (let j = 0; j < this.d; j++) out[j] = s[j]; }
    return out;
  }

  /** The stored arrays of vectors 0..count−1 (not copies). */
  vectors(count: number): Float64Array[] | Float32Array[] {
    return this.storage === 'f64' ? this.v64.slice(0, count) : this.v32.slice(0, count);
  }

  /** h[i] = v_iᵀ x for i < size (x unchanged). */
  async dots(x: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    const n = this.size, d = this.d;
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') dots64(this.v64, i0, i1, x, h, d); else dots32(this.v32, i0, i1, x, h, d);
      if (ctx) await ctx.checkpoint();
    }
  }

  /** out = Σ_{i<size} z_i v_i. */
  async combine(z: Float64Array, out: Float64Array, ctx?: JobContext): Promise<void> {
    out.fill(0);
    const neg = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) neg[i] = -z[i];
    const n = this.size, d = this.d;
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') axpy64(this.v64, i0, i1, out, neg, d); else axpy32(this.v32, i0, i1, out, neg, d);
      if (ctx) await ctx.checkpoint();
    }
  }

  /** Overwrites vector i with v (rounded to the storage precision). */
  write(i: number, v: Float64Array): void {
    if (this.storage === 'f64') this.v64[i].set(v);
    else this.v32[i].set(v);
  }

  /** v_iᵀ w and then w ← w − c·v_i with c = v_iᵀ w (one vector of a sweep); returns c. `h` is scratch (≥ i + 1 long). */
  removeOne(i: number, w: Float64Array, h: Float64Array): number {
    const d = this.d;
    if (this.storage === 'f64') { dots64(this.v64, i, i + 1, w, h, d); axpy64(this.v64, i, i + 1, w, h, d); } else { dots32(this.v32, i, i + 1, w, h, d); axpy32(this.v32, i, i + 1, w, h, d); }
    return h[i];
  }

  /** w ← w − c·v_i. `h` is scratch (≥ i + 1 long). */
  subtract(i: number, c: number, w: Float64Array, h: Float64Array): void {
    h[i] = c;
    if (this.storage === 'f64') axpy64(this.v64, i, i + 1, w, h, this.d); else axpy32(this.v32, i, i + 1, w, h, this.d);
  }

  /**
   * One classical Gram–Schmidt sweep: h[i] = v_iᵀ w for i < size, then w ← w − Σ h_i v_i.
   * Checkpoints every GS_CHUNK vectors so a cancel is seen within a step. Mutates w and h.
   */
  async project(w: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    const n = this.size, d = this.d;
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') dots64(this.v64, i0, i1, w, h, d); else dots32(this.v32, i0, i1, w, h, d);
      if (ctx) await ctx.checkpoint();
    }
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') axpy64(this.v64, i0, i1, w, h, d); else axpy32(this.v32, i0, i1, w, h, d);
      if (ctx) await ctx.checkpoint();
    }
  }

  /**
   * In-place change of basis: v_r ← Σ_i Y[i][r] v_i for r < l, where Y is size×l row-major
   * (e.g. the wanted Ritz vectors of T); afterwards size = l. Done in chunks of coordinates: each
   * chunk of all vectors is gathered into a Float64 panel and multiplied by Yᵀ (gemm), so only
   * l × chunk extra memory is needed.
   */
  async rotate(Y: Float64Array, l: number, ctx?: JobContext): Promise<void> {
    const m = this.size, d = this.d;
    const yt = new Float64Array(l * m);
    for (let i = 0; i < m; i++) for (let r = 0; r < l; r++) yt[r * m + i] = Y[i * l + r];
    const CH = 256;
    const panel = new Float64Array(m * CH);
    const out = new Float64Array(l * CH);
    const pk = new Float64Array(GEMM_WORK);
    for (let c0 = 0; c0 < d; c0 += CH) {
      const cw = Math.min(CH, d - c0);
      for (let i = 0; i < m; i++) {
        const o = i * cw;
        if (this.storage === 'f64') { const s = this.v64[i]; for (let c = 0; c < cw; c++) panel[o + c] = s[c0 + c]; } else { const s = this.v32[i]; for (let c = 0; c < cw; c++) panel[o + c] = s[c0 + c]; }
      }
      gemm(l, cw, m, 1, yt, 0, m, panel, 0, cw, false, out, 0, cw, pk);
      for (let r = 0; r < l; r++) {
        const o = r * cw;
        if (this.storage === 'f64') { const s = this.v64[r]; for (let c = 0; c < cw; c++) s[c0 + c] = out[o + c]; } else { const s = this.v32[r]; for (let c = 0; c < cw; c++) s[c0 + c] = out[o + c]; }
      }
      if (ctx) await ctx.checkpoint();
    }
    this.size = l;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with slq.ts.

export function norm2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** y = op.apply(x), checked for length and finite values, copied into `out`. */
export async function applyChecked(op: SymOperator, x: Float64Array, out: Float64Array): Promise<Float64Array> {
  const y = await op.apply(x);
  if (y.length !== op.d) throw new RangeError(`operator returned ${y.length} entries, expected d = ${op.d}`);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw new RangeError(`operator returned a non-finite value at index ${i}`);
  }
  out.set(y);
  return out;
}

/** A Gaussian random unit vector from `rng`. */
export function randomUnit(d: number, rng: Rng, out: Float64Array = new Float64Array(d)): Float64Array {
  for (let i = 0; i < d; i++) out[i] = rng.normal();
  const s = 1 / norm2(out);
  for (let i = 0; i < d; i++) out[i] *= s;
  return out;
}

/**
 * β below this fraction of ‖H‖ (estimated by max ‖H v_j‖) is treated as an exact zero: the Krylov
 * space is invariant to working accuracy (for a float64 operator β is then ~1e−16 ‖H‖; a float32
 * operator leaves ~1e−7 ‖H‖ of noise, which is harmless — it is just another direction).
 */
export const INVARIANT_TOL = 1e-10;

/**
 * A random unit vector orthogonal to the basis (two Gram–Schmidt sweeps), or null if the basis
 * already spans everything the random vector had (numerically the whole space).
 */
export async function randomOrthogonal(basis: KrylovBasis, rng: Rng, out: Float64Array, h: Float64Array, ctx?: JobContext): Promise<Float64Array | null> {
  randomUnit(basis.d, rng, out);
  await basis.project(out, h, ctx);
  await basis.project(out, h, ctx);
  const nv = norm2(out);
  if (nv < 1e-8) return null;
  for (let i = 0; i < out.length; i++) out[i] /= nv;
  return out;
}

/** The basis plan for a given d, k and options: storage precision and capacity (vectors). */
export function planBasis(d: number, k: number, opts: Pick<LanczosOptions, 'memoryBudgetBytes' | 'storage' | 'maxBasis'>): { storage: BasisStorage; capacity: number } {
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  const minExtra = Math.min(d - k, Math.max(8, Math.ceil(k / 20)));
  const need = k + minExtra;
  const want = Math.min(d, Math.max(need, opts.maxBasis ?? Math.max(2 * k + 1, k + 32)));
  const fits = (s: BasisStorage): number => Math.floor(budget / (d * (s === 'f64' ? 8 : 4)));
  const refuse = (s: BasisStorage): never => {
    const per = s === 'f64' ? 8 : 4;
    throw new BadInputError(
      `Lanczos top-${k} at d = ${d} needs at least ${need} basis vectors ` +
      `(${(need * d * per).toLocaleString('en-US')} bytes in ${s === 'f64' ? 'Float64' : 'Float32'}); ` +
      `the memory budget is ${budget.toLocaleString('en-US')} bytes. Lower k or raise the budget.`,
    );
  };
  if (opts.storage) {
    const cap = Math.min(want, fits(opts.storage));
    if (cap < need) refuse(opts.storage);
    return { storage: opts.storage, capacity: cap };
  }
  if (fits('f64') >= want) return { storage: 'f64', capacity: want };
  if (fits('f32') >= want) return { storage: 'f32', capacity: want };
  if (fits('f32') >= need) return { storage: 'f32', capacity: fits('f32') };
  return refuse('f32');
}

// ---------------------------------------------------------------------------------------------
// Top-k Lanczos.

/**
 * The k largest (algebraic) eigenvalues of `op` and their Ritz vectors. Reports progress
 * ("Lanczos step i/maxIter") and awaits ctx.checkpoint() at least once per step, so a CancelledError
 * surfaces within one Gram–Schmidt chunk. Residuals are verified with one extra apply per pair.
 */
export async function lanczosTopK(op: SymOperator, k: number, opts: LanczosOptions): Promise<LanczosResult> {
  const d = op.d;
  if (!Number.isInteger(d) || d < 1) throw new BadInputError(`Lanczos: operator dimension must be a positive integer, got ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > d) throw new BadInputError(`Lanczos: k must be an integer in 1..${d}, got ${k}`);
  const tol = opts.tol ?? 1e-6;
  const ctx = opts.ctx;
  const { storage, capacity: m } = planBasis(d, k, opts);
  const maxIter = Math.max(1, opts.maxIter ?? Math.max(300, 10 * k));
  const rng = makeRng(opts.seed);
  const basis = new KrylovBasis(d, storage, m);

  // T = Vᵀ H V (m×m, leading dimension m): tridiagonal until the first thick restart, then an
  // arrowhead block followed by a tridiagonal tail. `al`/`be` hold a tridiagonal with the same
  // eigenvalues and the same last eigenvector components (equal to T's own tridiagonal before a
  // restart; after one, the arrowhead block is reduced by Householder with its hub fixed), so the
  // convergence checks cost O(size²) instead of a dense O(size³) solve.
  const T = new Float64Array(m * m);
  const al = new Float64Array(m), be = new Float64Array(m);
  let arrow = 0;
  const h1 = new Float64Array(m), h2 = new Float64Array(m);
  const vNext = randomUnit(d, rng);
  const w = new Float64Array(d);
  let betaPrev = 0; // coupling of vNext to the last basis vector
  let restarted = false; // vNext's couplings are already in T (arrowhead)
  let iterations = 0, matvecs = 0, restarts = 0, secondSweeps = 0;
  let anorm = 0;
  let exhausted = false;
  let progress = 0;
  let lastCheck = 0;
  const report = (f: number, phase: string): void => {
    progress = Math.max(progress, Math.min(1, f));
    ctx?.progress(progress, phase);
  };

  /** Ritz values (descending) and last components of T, from the equivalent tridiagonal. */
  const ritzLast = (size: number): { values: Float64Array; last: Float64Array } => {
    const r = tridiagEigen(al.subarray(0, size), be.subarray(0, Math.max(0, size - 1)), { last: true });
    return { values: r.values, last: r.last ?? new Float64Array(size) };
  };
  /** Full eigen-decomposition of T (values descending, vectors one per column). */
  const ritzFull = (size: number): { values: Float64Array; vectors: Float64Array } => {
    if (arrow === 0) {
      const r = tridiagEigen(al.subarray(0, size), be.subarray(0, Math.max(0, size - 1)), true);
      return { values: r.values, vectors: r.vectors ?? new Float64Array(0) };
    }
    const c = new Float64Array(size * size);
    for (let i = 0; i < size; i++) c.set(T.subarray(i * m, i * m + size), i * size);
    const r = eighSync(c, size);
    return { values: r.values, vectors: r.vectors ?? new Float64Array(0) };
  };
  let stopped = false;
  const clock = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
  const checkEvery = opts.checkEveryMs ?? 1000;
  let lastStream = clock(), lastStreamCost = 0;
  /** What onCheck sees; `projections` uses the basis as it is now (call it before the next step). */
  const checkInfo = (values: Float64Array, last: Float64Array, size: number): LanczosCheck => {
    const want = Math.min(k, size);
    const scale = Math.max(Math.abs(values[0]), Math.abs(values[size - 1]));
    const estimates = new Float64Array(want);
    for (let i = 0; i < want; i++) estimates[i] = Math.abs(betaPrev * last[i]);
    let converged = 0;
    while (converged < want && estimates[converged] <= tol * scale) converged++;
    const its = iterations, mv = matvecs;
    return {
      iterations: its, matvecs: mv, size, values: values.slice(0, want), converged, estimates,
      projections: async (x, ks, visit) => {
        if (!ks.length) return;
        if (basis.size !== size || iterations !== its) throw new Error('LanczosCheck.projections called after the run moved on');
        const top = ks[ks.length - 1];
        if (top > converged) throw new RangeError(`projections up to k = ${top}, but only ${converged} Ritz pairs have converged`);
        const { vectors: Y } = ritzFull(size);
        const hb = new Float64Array(size);
        await basis.dots(Float64Array.from(x), hb, ctx);
        const c = new Float64Array(top);
        for (let r = 0; r < top; r++) { let t = 0; for (let i = 0; i < size; i++) t += Y[i * size + r] * hb[i]; c[r] = t; }
        const z = new Float64Array(size);
        const out = new Float64Array(d);
        let r = 0;
        for (const j of ks) {
          for (; r < j; r++) { const cr = c[r]; for (let i = 0; i < size; i++) z[i] += Y[i * size + r] * cr; }
          await basis.combine(z, out, ctx);
          await visit(j, Float32Array.from(out));
        }
      },
    };
  };
  const countConverged = (values: Float64Array, last: Float64Array, size: number): number => {
    const scale = Math.max(Math.abs(values[0]), Math.abs(values[size - 1]));
    const want = Math.min(k, size);
    let c = 0;
    for (let i = 0; i < want; i++) if (Math.abs(betaPrev * last[i]) <= tol * scale) c++;
    return c;
  };

  for (;;) {
    // Append vNext as v_j and extend T.
    const j = basis.size;
    basis.push(vNext);
    if (j > 0 && !restarted) {
      T[j * m + j - 1] = betaPrev;
      T[(j - 1) * m + j] = betaPrev;
      be[j - 1] = betaPrev;
    }
    // After a thick restart vNext couples to every kept Ritz vector (the arrowhead), not just v_{j−1}.
    const coupledToAll = restarted;
    restarted = false;
    await applyChecked(op, vNext, w);
    matvecs++;
    iterations++;
    anorm = Math.max(anorm, norm2(w));
    let alpha: number;
    if (j === 0 || coupledToAll) {
      // Full reorthogonalization, twice ("twice is enough").
      await basis.project(w, h1, ctx);
      await basis.project(w, h2, ctx);
      alpha = h1[j] + h2[j];
    } else {
      // The local three-term recurrence first (w ← w − α v_j − β v_{j−1}), then one full classical
      // Gram–Schmidt sweep against the basis, whose coefficients are now at rounding level; a
      // second sweep only when the first removed much of w (the DGKS criterion, ‖w‖ dropping below
      // η = 1/√2 of its norm before the sweep: Daniel, Gragg, Kaufman & Stewart 1976). Lanczos
      // rarely needs it, which halves the reorthogonalization work.
      alpha = basis.removeOne(j, w, h2);
      basis.subtract(j - 1, betaPrev, w, h2);
      const before = norm2(w);
      await basis.project(w, h1, ctx);
      alpha += h1[j];
      if (norm2(w) < DGKS_ETA * before) {
        await basis.project(w, h2, ctx);
        alpha += h2[j];
        secondSweeps++;
      }
    }
    T[j * m + j] = alpha;
    al[j] = alpha;
    let beta = norm2(w);
    const size = j + 1;
    if (beta <= INVARIANT_TOL * anorm || size === d) {
      beta = 0;
      const r = size < d ? await randomOrthogonal(basis, rng, vNext, h1, ctx) : null;
      if (r === null) exhausted = true;
    } else {
      for (let i = 0; i < d; i++) vNext[i] = w[i] / beta;
    }
    betaPrev = beta;
    report(0.9 * iterations / maxIter, `Lanczos step ${iterations}/${maxIter}`);
    if (ctx) await ctx.checkpoint();

    const full = size === m;
    if (exhausted || iterations >= maxIter) break;
    if (opts.shouldStop?.()) { stopped = true; break; }
    // Convergence check (QL on a size-long tridiagonal, ~30 size² flops), spaced so its cost stays
    // below an eighth of the reorthogonalization work (8 size·d flops per step) in between.
    const interval = Math.max(1, Math.ceil((8 * 30 * size * size) / (8 * size * d + 4 * d)));
    const streamDue = opts.onCheck !== undefined && size >= 2 && (checkEvery === 0 || clock() - lastStream >= Math.max(checkEvery, 4 * lastStreamCost));
    if ((size >= k && (full || beta === 0 || iterations - lastCheck >= interval)) || streamDue) {
      lastCheck = iterations;
      const { values, last } = ritzLast(size);
      const conv = countConverged(values, last, size);
      report(0.9 * Math.max(iterations / maxIter, conv / k), `Lanczos step ${iterations}/${maxIter}`);
      if (conv >= k) break;
      if (streamDue && opts.onCheck) {
        const ts = clock();
        await opts.onCheck(checkInfo(values, last, size));
        lastStream = clock();
        lastStreamCost = lastStream - ts;
      }
    }
    if (full) {
      // Thick restart: keep the top l Ritz vectors, coupled to vNext through s = β y_m.
      const keep = Math.min(m - 1, k + Math.floor((m - k) / 3));
      const { values, vectors } = ritzFull(size);
      const ysel = new Float64Array(size * keep);
      for (let i = 0; i < size; i++) for (let r = 0; r < keep; r++) ysel[i * keep + r] = vectors[i * size + r];
      report(progress, `Lanczos restart ${restarts + 1}: rotating ${keep} Ritz vectors`);
      await basis.rotate(ysel, keep, ctx);
      T.fill(0);
      // Arrowhead [diag(θ) s; sᵀ ·] with the hub (index keep) first, reduced with the hub fixed.
      const hub = new Float64Array((keep + 1) * (keep + 1));
      for (let r = 0; r < keep; r++) {
        const s = betaPrev * vectors[(size - 1) * size + r];
        T[r * m + r] = values[r];
        T[r * m + keep] = s;
        T[keep * m + r] = s;
        hub[(r + 1) * (keep + 1) + r + 1] = values[r];
        hub[(r + 1) * (keep + 1)] = s;
        hub[r + 1] = s;
      }
      const red = tridiagonalForm(hub, keep + 1);
      for (let t = 0; t < keep; t++) {
        al[t] = red.d[keep - t];
        be[t] = red.e[keep - 1 - t];
      }
      arrow = keep;
      restarted = true;
      restarts++;
    }
  }

  // Final Ritz pairs: rotate the basis onto the top kk Ritz vectors, then verify each residual.
  const size = basis.size;
  let kk = Math.min(k, size);
  const { values: allValues, vectors: Y } = ritzFull(size);
  const scale = Math.max(Math.abs(allValues[0]), Math.abs(allValues[size - 1]));
  let estimates = new Float64Array(kk);
  for (let r = 0; r < kk; r++) estimates[r] = Math.abs(betaPrev * Y[(size - 1) * size + r]);
  if (stopped) {
    // Stopped early: keep the leading pairs that have converged, verify only those.
    let c = 0;
    while (c < kk && estimates[c] <= tol * scale) c++;
    kk = c;
    estimates = estimates.slice(0, kk);
  }
  const values = allValues.slice(0, kk);
  const ysel = new Float64Array(size * kk);
  for (let i = 0; i < size; i++) for (let r = 0; r < kk; r++) ysel[i * kk + r] = Y[i * size + r];
  report(0.9, 'forming Ritz vectors');
  if (kk > 0) await basis.rotate(ysel, kk, ctx); else basis.reset();
  const residuals = new Float64Array(kk);
  const x = new Float64Array(d);
  let converged = 0;
  for (let r = 0; r < kk; r++) {
    basis.read(r, x);
    const nx = norm2(x);
    for (let i = 0; i < d; i++) x[i] /= nx;
    basis.write(r, x); // unit length in the storage precision
    basis.read(r, x);
    await applyChecked(op, x, w);
    matvecs++;
    let s = 0;
    for (let i = 0; i < d; i++) { const t = w[i] - values[r] * x[i]; s += t * t; }
    residuals[r] = Math.sqrt(s);
    if (residuals[r] <= tol * scale) converged++;
    report(0.9 + 0.1 * (r + 1) / kk, `verifying residual ${r + 1}/${kk}`);
    if (ctx) await ctx.checkpoint();
  }
  const result: LanczosResult = {
    values, residuals, residualEstimates: estimates, iterations, matvecs, converged, scale,
    storage, basisSize: m, basisBytes: m * basis.bytesPerVector, restarts, secondSweeps,
  };
  if (stopped) result.stopped = true;
  if (opts.wantVectors) result.vectors = basis.vectors(kk);
  return result;
}
