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
import { KrylovBasis, planBasis, type BasisStorage } from './krylovBasis';
import { applyChecked, INVARIANT_TOL, norm2, randomOrthogonal, randomUnit } from './krylovVectors';
import { CheckCadence, countConverged, lanczosCheck, type LanczosCheck } from './lanczosCheck';
import { ProjectedMatrix } from './lanczosProjected';
import type { SymOperator } from './operator';

export type { LanczosCheck } from './lanczosCheck';

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

export interface LanczosResult {
  /** Ritz values, descending (k of them unless the run stopped before the basis reached k vectors). */
  values: Float64Array;
  /**
   * Unit Ritz vectors (Float32Array when the basis is stored in Float32), same order as values. With
   * the wasm kernels they are views into the basis's WebAssembly memory: copy one (slice) before
   * posting it to another thread, or the whole buffer goes with it.
   */
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

/** DGKS threshold: a second Gram–Schmidt sweep when one sweep leaves less than η of ‖w‖. */
const DGKS_ETA = Math.SQRT1_2;

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

  // T = Vᵀ H V: tridiagonal until the first thick restart, then an arrowhead block followed by a
  // tridiagonal tail (lanczosProjected.ts).
  const T = new ProjectedMatrix(m);
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
  let stopped = false;
  const cadence = new CheckCadence(opts.checkEveryMs ?? 1000);

  for (;;) {
    // Append vNext as v_j and extend T.
    const j = basis.size;
    basis.push(vNext);
    if (j > 0 && !restarted) T.couple(j, betaPrev);
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
    T.setDiagonal(j, alpha);
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
    // below an eighth of the reorthogonalization work (8 size·d flops per step) in between. (With
    // the wasm sweeps a check costs about as much as a step at top-1,000 sizes; spacing them out
    // was measured slower: the count of converged pairs is not monotone, and a sparse check
    // stepped over the first moment all k met the tolerance — 1,867 steps instead of 1,779.)
    const interval = Math.max(1, Math.ceil((8 * 30 * size * size) / (8 * size * d + 4 * d)));
    const streamDue = opts.onCheck !== undefined && size >= 2 && cadence.due();
    if ((size >= k && (full || beta === 0 || iterations - lastCheck >= interval)) || streamDue) {
      lastCheck = iterations;
      const { values, last } = T.ritzLast(size);
      const conv = countConverged(values, last, size, k, betaPrev, tol);
      report(0.9 * Math.max(iterations / maxIter, conv / k), `Lanczos step ${iterations}/${maxIter}`);
      if (conv >= k) break;
      if (streamDue && opts.onCheck) {
        const onCheck = opts.onCheck;
        await cadence.run(() => onCheck(lanczosCheck(values, last, size, {
          basis, d, k, tol, betaPrev, iterations, matvecs, ctx,
          iterationsNow: () => iterations, ritzFull: (n) => T.ritzFull(n),
        })));
      }
    }
    if (full) {
      // Thick restart: keep the top l Ritz vectors, coupled to vNext through s = β y_m.
      const keep = Math.min(m - 1, k + Math.floor((m - k) / 3));
      await T.thickRestart(basis, size, keep, betaPrev, () => report(progress, `Lanczos restart ${restarts + 1}: rotating ${keep} Ritz vectors`), ctx);
      restarted = true;
      restarts++;
    }
  }

  // Final Ritz pairs: rotate the basis onto the top kk Ritz vectors, then verify each residual.
  const size = basis.size;
  let kk = Math.min(k, size);
  const { values: allValues, vectors: Y } = T.ritzFull(size);
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
