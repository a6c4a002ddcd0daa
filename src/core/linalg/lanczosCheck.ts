/**
 * Convergence and streaming checks of a Lanczos run. For a Ritz pair (θ, V y) of the projected
 * matrix, ‖H V y − θ V y‖ = β_m |e_mᵀ y| (GVL §10.1.4): the leading pairs whose estimate is within
 * tol · max|θ| have converged. `onCheck` (LanczosOptions) sees them and can project a vector on
 * their span; `CheckCadence` spaces those calls so they cost at most ~20 % of the run.
 */
import type { JobContext } from '../jobs';
import type { KrylovStore } from './krylovBasis';

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

/** Ritz pairs among the top min(k, size) whose estimate β|y_m| is within tol · scale (not only the leading ones). */
export function countConverged(values: Float64Array, last: Float64Array, size: number, k: number, betaPrev: number, tol: number): number {
  const scale = Math.max(Math.abs(values[0]), Math.abs(values[size - 1]));
  const want = Math.min(k, size);
  let c = 0;
  for (let i = 0; i < want; i++) if (Math.abs(betaPrev * last[i]) <= tol * scale) c++;
  return c;
}

/** The run's state a check describes; `iterationsNow` tells a later `projections` call whether the run moved on. */
export interface CheckSource {
  basis: KrylovStore;
  d: number;
  k: number;
  tol: number;
  betaPrev: number;
  iterations: number;
  matvecs: number;
  iterationsNow(): number;
  /** T's eigenvectors for the given leading values, one at a time (ProjectedMatrix.ritzStream). */
  ritzStream(size: number, values: Float64Array, visit: (i: number, y: Float64Array) => void): void;
  ctx?: JobContext;
}

/** What onCheck sees; `projections` uses the basis as it is now (call it before the next step). */
export function lanczosCheck(values: Float64Array, last: Float64Array, size: number, src: CheckSource): LanczosCheck {
  const { basis, d, k, tol, betaPrev, ctx } = src;
  const want = Math.min(k, size);
  const scale = Math.max(Math.abs(values[0]), Math.abs(values[size - 1]));
  const estimates = new Float64Array(want);
  for (let i = 0; i < want; i++) estimates[i] = Math.abs(betaPrev * last[i]);
  let converged = 0;
  while (converged < want && estimates[converged] <= tol * scale) converged++;
  const its = src.iterations, mv = src.matvecs;
  return {
    iterations: its, matvecs: mv, size, values: values.slice(0, want), converged, estimates,
    projections: async (x, ks, visit) => {
      if (!ks.length) return;
      if (basis.size !== size || src.iterationsNow() !== its) throw new Error('LanczosCheck.projections called after the run moved on');
      const top = ks[ks.length - 1];
      if (top > converged) throw new RangeError(`projections up to k = ${top}, but only ${converged} Ritz pairs have converged`);
      await projectOnRitz(basis, d, x, ks, (n, each) => src.ritzStream(size, values.subarray(0, n), each), visit, ctx);
    },
  };
}

/**
 * P_j x for each j of `ks` (ascending) on the span of the top j Ritz vectors V y_r, without forming
 * them: Vᵀx (one pass over the basis), z_j = Σ_{r<j} y_r (y_rᵀ Vᵀx) in Krylov coordinates as T's
 * eigenvectors y_r stream by once (`stream(n, each)` yields y_0 … y_{n−1}), then V z_j (one pass
 * per j); visit(j, P_j x) in Float32.
 */
export async function projectOnRitz(
  basis: KrylovStore, d: number, x: Float32Array, ks: number[],
  stream: (n: number, each: (r: number, y: Float64Array) => void) => Promise<void> | void,
  visit: (k: number, xk: Float32Array) => Promise<void>, ctx?: JobContext,
): Promise<void> {
  if (!ks.length) return;
  const size = basis.size;
  const hb = new Float64Array(size);
  await basis.dots(Float64Array.from(x), hb, ctx);
  const z = new Float64Array(size), want = new Set(ks), at = new Map<number, Float64Array>();
  await stream(ks[ks.length - 1], (r, y) => {
    let t = 0;
    for (let i = 0; i < size; i++) t += y[i] * hb[i];
    for (let i = 0; i < size; i++) z[i] += t * y[i];
    if (want.has(r + 1)) at.set(r + 1, z.slice());
  });
  const out = new Float64Array(d);
  for (const j of ks) {
    await basis.combine(at.get(j)!, out, ctx);
    await visit(j, Float32Array.from(out));
  }
}

const clock = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * When the next streaming check is due: at most every `everyMs` (0: at every step, deterministic
 * for tests) and never more often than 4× the time the previous one took.
 */
export class CheckCadence {
  private readonly everyMs: number;
  private last = clock();
  private cost = 0;

  constructor(everyMs: number) {
    this.everyMs = everyMs;
  }

  due(): boolean {
    return this.everyMs === 0 || clock() - this.last >= Math.max(this.everyMs, 4 * this.cost);
  }

  /** Runs one check and remembers what it cost. */
  async run(check: () => Promise<void> | void): Promise<void> {
    const ts = clock();
    await check();
    this.last = clock();
    this.cost = this.last - ts;
  }
}
