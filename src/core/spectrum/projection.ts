/**
 * The accuracy cutoff (seed 002 §2.2–3; docs/science.md §3, (S9)–(S10)): project θ* onto the span of the top-k
 * eigenvectors, θ_k = V_k V_kᵀ θ*, and measure train and test accuracy (MSE for matfac) as k
 * grows. k* is the smallest k that keeps a fraction `cutoff` of the original accuracy; ε* = h_{k*}.
 */

export interface ProjectionPoint {
  k: number;
  trainAcc?: number;
  testAcc?: number;
  trainLoss: number;
  testLoss: number;
}

export interface ProjectionCurve {
  /** The metric the cutoff is judged on: accuracy for classifiers, MSE for matfac. */
  metric: 'accuracy' | 'mse';
  /** The unprojected model's metrics (k = d). */
  original: ProjectionPoint;
  points: ProjectionPoint[];
}

/**
 * The k values at which to evaluate the projection: every k up to 30, then about `count` points
 * spread evenly on a linear and a log scale up to kMax (so both the start and the bulk show).
 */
export function projectionGrid(kMax: number, count = 60): number[] {
  const ks = new Set<number>();
  for (let k = 1; k <= Math.min(30, kMax); k++) ks.add(k);
  for (let i = 0; i <= count / 2; i++) ks.add(Math.max(1, Math.round((kMax * i) / (count / 2))));
  for (let i = 0; i <= count / 2; i++) ks.add(Math.max(1, Math.round(kMax ** (i / (count / 2)))));
  ks.add(kMax);
  return [...ks].filter((k) => k >= 1 && k <= kMax).sort((a, b) => a - b);
}

/**
 * Accumulates θ_k = Σ_{i<k} (v_iᵀ θ*) v_i in Float64 for increasing k, calling `visit` at each
 * k of `ks` (ascending) with a Float32 copy. Eigenvectors are unit and mutually orthogonal.
 */
export async function forEachProjection(
  theta: Float32Array,
  vector: (i: number) => ArrayLike<number>,
  ks: number[],
  visit: (k: number, thetaK: Float32Array) => Promise<void>,
): Promise<void> {
  const d = theta.length;
  const acc = new Float64Array(d);
  let i = 0;
  for (const k of ks) {
    for (; i < k; i++) {
      const v = vector(i);
      let c = 0;
      for (let j = 0; j < d; j++) c += v[j] * theta[j];
      for (let j = 0; j < d; j++) acc[j] += c * v[j];
    }
    await visit(k, Float32Array.from(acc));
  }
}

export interface CutoffResult {
  /** Smallest evaluated k meeting the cutoff, or null when none does. */
  kStar: number | null;
  /** The threshold the metric had to reach. */
  threshold: number;
  /**
   * The largest evaluated k below k* (it misses the cutoff), or null when k* is the first point.
   * When kBelow = k* − 1 the value is exact; otherwise the true smallest k lies in (kBelow, k*].
   */
  kBelow: number | null;
}

/** Relative eigenvalue below which a direction is numerically zero for float32 H·v products. */
export const NOISE_FLOOR = 1e-6;

/**
 * k* for a cutoff fraction (default 0.995).
 * - Accuracy: the smallest k whose accuracy on `split` is ≥ cutoff × the original's.
 * - MSE: projecting out directions of θ* changes the function even along flat directions, so the
 *   MSE of θ_k need not return to the original's; seed 002 §3.3 reads k* where the curve goes
 *   flat. We take the reference MSE at kRef — the number of eigenvalues above the float32 noise
 *   floor (NOISE_FLOOR·h_1), beyond which directions are numerically zero — and k* is the smallest
 *   k whose MSE is within a factor 1/cutoff of it.
 */
export function cutoffK(curve: ProjectionCurve, opts: { cutoff?: number; split?: 'train' | 'test'; kRef?: number } = {}): CutoffResult {
  const cutoff = opts.cutoff ?? 0.995;
  const split = opts.split ?? 'train';
  const pts = curve.points;
  if (curve.metric === 'accuracy') {
    const orig = (split === 'train' ? curve.original.trainAcc : curve.original.testAcc) ?? NaN;
    const threshold = cutoff * orig;
    const i = pts.findIndex((p) => ((split === 'train' ? p.trainAcc : p.testAcc) ?? -1) >= threshold);
    return { kStar: i >= 0 ? pts[i].k : null, threshold, kBelow: i > 0 ? pts[i - 1].k : null };
  }
  const loss = (p: ProjectionPoint) => (split === 'train' ? p.trainLoss : p.testLoss);
  const upTo = pts.filter((p) => p.k <= (opts.kRef ?? Infinity));
  const ref = upTo.length ? upTo[upTo.length - 1] : pts[pts.length - 1];
  if (!ref || !Number.isFinite(loss(ref))) return { kStar: null, threshold: NaN, kBelow: null };
  const threshold = loss(ref) / cutoff;
  const i = pts.findIndex((p) => loss(p) <= threshold);
  return { kStar: i >= 0 ? pts[i].k : null, threshold, kBelow: i > 0 ? pts[i - 1].k : null };
}

/**
 * Makes k* exact for one accuracy cutoff: bisects between the last evaluated k that misses it and
 * the first that meets it, evaluating the projection at the midpoints (about log₂ of the gap),
 * and inserts those points into the curve (kept sorted by k). It finds a k with k − 1 missing and
 * k meeting the cutoff; that is the smallest such k when accuracy is monotone inside the gap.
 * Only for the accuracy metric (the MSE reference moves as points are added). Returns the
 * number of evaluations.
 */
export async function refineCutoff(curve: ProjectionCurve, opts: { cutoff?: number; split?: 'train' | 'test' }, evaluate: (k: number) => Promise<ProjectionPoint>): Promise<number> {
  if (curve.metric !== 'accuracy') return 0;
  let evals = 0;
  for (;;) {
    const c = cutoffK(curve, opts);
    if (c.kStar === null || c.kBelow === null || c.kStar - c.kBelow <= 1) return evals;
    const mid = Math.floor((c.kStar + c.kBelow) / 2);
    const p = await evaluate(mid);
    evals++;
    const at = curve.points.findIndex((q) => q.k > mid);
    curve.points.splice(at < 0 ? curve.points.length : at, 0, { ...p, k: mid });
  }
}

/** Number of eigenvalues above the noise floor (values descending). */
export function countAboveFloor(values: ArrayLike<number>, rel = NOISE_FLOOR): number {
  const top = values.length ? values[0] : 0;
  let k = 0;
  while (k < values.length && values[k] > rel * top) k++;
  return k;
}
