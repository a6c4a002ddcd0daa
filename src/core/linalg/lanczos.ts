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
import { planBasis, type BasisStorage, type KrylovStore } from './krylovBasis';
import { openBasis, type GpuBasisRequest } from '../gpu/openBasis';
import { applyChecked, INVARIANT_TOL, norm2, randomOrthogonal, randomUnit } from './krylovVectors';
import { CheckCadence, countConverged, lanczosCheck, projectOnRitz, type LanczosCheck } from './lanczosCheck';
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
  /**
   * Lean end (for top-k runs too large to form every Ritz vector, e.g. the MNIST top-8,000): never
   * thick-restart (a full basis ends the run like `shouldStop`, keeping the leading converged
   * pairs), take T's eigenvectors by inverse iteration one at a time (tridiagVectors.ts) instead of
   * a dense eigensolve, verify a sample of the residuals (`verifySample` pairs spread over the
   * range plus the last 16) instead of all, and leave the Ritz vectors unformed: the result's
   * `lean` handle projects vectors on their span and forms single ones on demand.
   */
  lean?: boolean;
  /** Lean end: residuals verified with an application of H (default 48, spread evenly, plus the last 16). */
  verifySample?: number;
  /**
   * Keep the basis on this WebGPU device (src/core/gpu/gpuBasis.ts: float32 vectors on the GPU, the
   * reorthogonalization's Vᵀw and V·c as compensated WGSL kernels; the recurrence stays Float64 on
   * the CPU). Falls back to the CPU basis, saying why in `basisFallback`, when it cannot be had.
   */
  gpu?: GpuBasisRequest;
}

/** What a lean run keeps instead of the Ritz vectors (see LanczosOptions.lean). */
export interface LeanRitz {
  /** Projects x on the span of the top j Ritz vectors for each j of `ks` (ascending, ≤ the pairs kept); visit(j, P_j x) in Float32. */
  projections(x: Float32Array, ks: number[], visit: (k: number, xk: Float32Array) => Promise<void>): Promise<void>;
  /** The first n unit Ritz vectors (formed from the basis: one pass over it each). */
  vectors(n: number): Promise<Float64Array[]>;
  /** Indices of the pairs whose residuals were verified (the others in `residuals` are estimates). */
  verified: Int32Array;
  /** The largest |v_iᵀv_j − δ_ij| over neighbouring pairs (|i − j| ≤ 8) of the verified sample. */
  orthogonality: number;
  /** Frees what the basis holds outside the JS heap (a GPU basis's buffers); the handle is unusable after. */
  dispose(): void;
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
  /** Where the basis and its sweeps ran (KrylovStore.where), e.g. "cpu, wasm SIMD" or "webgpu, …". */
  basis: string;
  /** Set when a GPU basis was asked for and the CPU basis ran instead: why. */
  basisFallback?: string;
  /** Set when shouldStop ended the run early: only the leading converged pairs were kept. */
  stopped?: boolean;
  /** Set when a lean run ended because its basis was full (the leading converged pairs were kept). */
  basisFull?: boolean;
  /** Lean runs: the Ritz vectors' handle (no `vectors`; `residuals` verified only at `lean.verified`). */
  lean?: LeanRitz;
}

const clock = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

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
  const maxIter = Math.max(1, opts.maxIter ?? Math.max(300, 10 * k));
  const rng = makeRng(opts.seed);
  const { basis, fallback } = await openBasis(d, opts.gpu, (gpu) => planBasis(d, k, gpu ? { ...opts, storage: 'f32' } : opts));
  const { storage, capacity: m } = basis;
  // The GPU basis holds buffers outside the JS heap: freed at the end, except for a lean run,
  // whose handle keeps using the basis (its buffers then go with the handle).
  let keepBasis = false;
  try {
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
    let stopped = false, basisFull = false;
    const cadence = new CheckCadence(opts.checkEveryMs ?? 1000);

    /** Lean runs: the last convergence check's time and the recent time per step (ms). */
    let checkMs = 0, stepMs = 0, stepStart = clock();
    for (;;) {
      if (opts.lean) { const now = clock(); stepMs = stepMs === 0 ? now - stepStart : 0.9 * stepMs + 0.1 * (now - stepStart); stepStart = now; }
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
      // A lean run (top k of thousands, m ≈ 10⁴) spaces them by measured time instead: a check (QL on
      // the m-long tridiagonal in JS, ≈ 2 s at m = 9,000) then costs ten steps or more, so it waits
      // until the steps since the last one took 5× the check's time (checks ≤ ~17 % of the run).
      const interval = opts.lean
        ? Math.max(1, Math.ceil((5 * checkMs) / Math.max(1e-3, stepMs)))
        : Math.max(1, Math.ceil((8 * 30 * size * size) / (8 * size * d + 4 * d)));
      const streamDue = opts.onCheck !== undefined && size >= 2 && cadence.due();
      if ((size >= k && (full || beta === 0 || iterations - lastCheck >= interval)) || streamDue) {
        lastCheck = iterations;
        const tc = clock();
        const { values, last } = T.ritzLast(size);
        checkMs = clock() - tc;
        const conv = countConverged(values, last, size, k, betaPrev, tol);
        report(0.9 * Math.max(iterations / maxIter, conv / k), `Lanczos step ${iterations}/${maxIter}`);
        if (conv >= k) break;
        if (streamDue && opts.onCheck) {
          const onCheck = opts.onCheck;
          await cadence.run(() => onCheck(lanczosCheck(values, last, size, {
            basis, d, k, tol, betaPrev, iterations, matvecs, ctx,
            iterationsNow: () => iterations, ritzStream: (n, v, visit) => T.ritzStream(n, v, visit),
          })));
        }
      }
      if (full && opts.lean) { stopped = true; basisFull = true; break; }
      if (full) {
        // Thick restart: keep the top l Ritz vectors, coupled to vNext through s = β y_m.
        const keep = Math.min(m - 1, k + Math.floor((m - k) / 3));
        await T.thickRestart(basis, size, keep, betaPrev, () => report(progress, `Lanczos restart ${restarts + 1}: rotating ${keep} Ritz vectors`), ctx);
        restarted = true;
        restarts++;
      }
    }

    if (opts.lean) {
      const lr = await leanEnd(op, basis, T, { k, tol, betaPrev, stopped, basisFull, iterations, matvecs, restarts, secondSweeps, storage, m, seed: opts.seed, sample: opts.verifySample ?? 48, ctx, report });
      keepBasis = true;
      if (fallback) lr.basisFallback = fallback;
      return lr;
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
      await basis.readAsync(r, x);
      const nx = norm2(x);
      for (let i = 0; i < d; i++) x[i] /= nx;
      await basis.writeAsync(r, x); // unit length in the storage precision
      await basis.readAsync(r, x);
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
      storage, basisSize: m, basisBytes: m * basis.bytesPerVector, restarts, secondSweeps, basis: basis.where,
    };
    if (fallback) result.basisFallback = fallback;
    if (stopped) result.stopped = true;
    if (opts.wantVectors) result.vectors = await basis.vectorsAsync(kk);
    return result;
  } finally {
    if (!keepBasis) basis.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Lean end (LanczosOptions.lean).

interface LeanState {
  k: number; tol: number; betaPrev: number; stopped: boolean; basisFull: boolean;
  iterations: number; matvecs: number; restarts: number; secondSweeps: number;
  storage: BasisStorage; m: number; seed: number; sample: number;
  ctx?: JobContext;
  report: (f: number, phase: string) => void;
}

/**
 * The end of a lean run: Ritz values and residual estimates from T's tridiagonal (QL, O(m²)), the
 * kept pairs' eigenvectors of T by inverse iteration whenever they are needed (O(m) memory each;
 * recomputed, not stored: kk × m doubles would be 0.6 GB at the MNIST top-8,000), a sample of the
 * residuals verified with H, and projections in Krylov coordinates: P_j x = V (Σ_{i<j} y_i y_iᵀ) Vᵀx.
 */
async function leanEnd(op: SymOperator, basis: KrylovStore, T: ProjectedMatrix, st: LeanState): Promise<LanczosResult> {
  const { tol, betaPrev, ctx } = st;
  const size = basis.size, d = op.d;
  const { values: allValues, last } = T.ritzLast(size);
  const scale = Math.max(Math.abs(allValues[0]), Math.abs(allValues[size - 1]));
  let kk = Math.min(st.k, size);
  const est = new Float64Array(kk);
  for (let r = 0; r < kk; r++) est[r] = Math.abs(betaPrev * last[r]);
  if (st.stopped) { let c = 0; while (c < kk && est[c] <= tol * scale) c++; kk = c; }
  const values = allValues.slice(0, kk), estimates = est.slice(0, kk);
  /** Streams y_0 … y_{n−1} (T's eigenvectors, Krylov coordinates) to visit; the same vectors every call. */
  const stream = async (n: number, visit: (i: number, y: Float64Array) => void): Promise<void> => {
    T.ritzStream(size, values.subarray(0, n), visit, st.seed + 7);
    if (ctx) await ctx.checkpoint();
  };
  // Verified sample: `sample` indices spread over [0, kk) plus the last 16 (nearest a cutoff at kk).
  const pick = new Set<number>();
  for (let t = 0; t < st.sample && kk > 0; t++) pick.add(Math.min(kk - 1, Math.round((t * (kk - 1)) / Math.max(1, st.sample - 1))));
  for (let r = Math.max(0, kk - 16); r < kk; r++) pick.add(r);
  const verified = Int32Array.from([...pick].sort((a, b) => a - b));
  const ys = new Map<number, Float64Array>();
  await stream(kk, (i, y) => { if (pick.has(i)) ys.set(i, y.slice()); });
  const residuals = estimates.slice();
  const x = new Float64Array(d), w = new Float64Array(d);
  let converged = 0, orthogonality = 0;
  for (let r = 0; r < kk; r++) if (estimates[r] <= tol * scale) converged++;
  let done = 0;
  const formed = new Map<number, Float64Array>();
  for (const r of verified) {
    await basis.combine(ys.get(r)!, x, ctx);
    const nx = norm2(x);
    for (let i = 0; i < d; i++) x[i] /= nx;
    await applyChecked(op, x, w);
    st.matvecs++;
    let s2 = 0;
    for (let i = 0; i < d; i++) { const t = w[i] - values[r] * x[i]; s2 += t * t; }
    residuals[r] = Math.sqrt(s2);
    // A verified residual over the tolerance overrides the estimate's verdict.
    if (estimates[r] <= tol * scale && residuals[r] > tol * scale) converged--;
    formed.set(r, x.slice());
    for (const [q, xq] of formed) {
      if (q === r || Math.abs(q - r) > 8) continue;
      let s = 0;
      for (let i = 0; i < d; i++) s += x[i] * xq[i];
      orthogonality = Math.max(orthogonality, Math.abs(s));
    }
    if (Math.abs(1 - nx) > orthogonality) orthogonality = Math.abs(1 - nx);
    st.report(0.9 + (0.1 * ++done) / verified.length, `verifying residual ${done}/${verified.length} (a sample)`);
    if (ctx) await ctx.checkpoint();
  }
  const lean: LeanRitz = {
    verified, orthogonality,
    dispose: () => basis.dispose(),
    async projections(xIn, ks, visit) {
      const top = ks.length ? ks[ks.length - 1] : 0;
      if (top > kk) throw new RangeError(`projections up to k = ${top}, but only ${kk} Ritz pairs were kept`);
      await projectOnRitz(basis, d, xIn, ks, stream, visit, ctx);
    },
    async vectors(n) {
      if (!(n >= 0 && n <= kk)) throw new RangeError(`${n} Ritz vectors of ${kk}`);
      const yv: Float64Array[] = [];
      await stream(n, (_, v) => { yv.push(v.slice()); });
      const out: Float64Array[] = [];
      for (const y of yv) {
        const v = new Float64Array(d);
        await basis.combine(y, v, ctx);
        const nv = norm2(v);
        for (let t = 0; t < d; t++) v[t] /= nv;
        out.push(v);
      }
      return out;
    },
  };
  const result: LanczosResult = {
    values, residuals, residualEstimates: estimates, iterations: st.iterations, matvecs: st.matvecs, converged, scale,
    storage: st.storage, basisSize: st.m, basisBytes: st.m * basis.bytesPerVector, restarts: st.restarts, secondSweeps: st.secondSweeps, lean, basis: basis.where,
  };
  if (st.stopped) result.stopped = true;
  if (st.basisFull) result.basisFull = true;
  return result;
}
