/**
 * Where a meaningful ε lies on a computed spectrum (issue 13, part 2): the largest gaps in
 * log10 λ between consecutive eigenvalues above a numerical floor, and the default-ε rule —
 * ε* (from the accuracy cutoff) when known, else the geometric middle of the largest log-gap
 * above the floor, never a fixed constant.
 */
import { countAboveFloor, cutoffK, type ProjectionCurve } from './projection';

export interface LogGap {
  /** Index i of the gap between values[i] (above) and values[i + 1] (below), values sorted descending. */
  index: number;
  upper: number;
  lower: number;
  /** log10(upper / lower). */
  width: number;
  /** Geometric middle sqrt(upper · lower): the ε that sits in the gap. */
  middle: number;
}

/**
 * The `count` widest gaps in log10 λ between consecutive positive eigenvalues that are both above
 * `floor`, widest first. `values` must be sorted descending (as every spectrum result is).
 */
export function largestLogGaps(values: ArrayLike<number>, floor: number, count = 3): LogGap[] {
  const gaps: LogGap[] = [];
  const lim = Math.max(floor, 0);
  for (let i = 0; i + 1 < values.length; i++) {
    const a = values[i], b = values[i + 1];
    if (!(b > lim) || !(a >= b) || !Number.isFinite(a)) continue;
    gaps.push({ index: i, upper: a, lower: b, width: Math.log10(a / b), middle: Math.sqrt(a * b) });
  }
  gaps.sort((x, y) => y.width - x.width || x.index - y.index);
  return gaps.slice(0, Math.max(0, count));
}

export type EpsSource = 'eps-star' | 'largest-gap' | 'none';

/**
 * The default ε: ε* when it is known (finite, positive, above the floor), else the middle of the
 * largest log-gap above the floor. 'none' (eps = NaN) when the spectrum has no gap above the floor:
 * the caller keeps the user's ε and says why.
 */
export function defaultEps(values: ArrayLike<number>, floor: number, epsStar?: number): { eps: number; source: EpsSource; gap?: LogGap } {
  if (epsStar !== undefined && Number.isFinite(epsStar) && epsStar > 0 && epsStar > floor) return { eps: epsStar, source: 'eps-star' };
  const [gap] = largestLogGaps(values, floor, 1);
  if (!gap || !(gap.width > 0)) return { eps: NaN, source: 'none' };
  return { eps: gap.middle, source: 'largest-gap', gap };
}

/**
 * Why the bounds say little at this ε, in words (null when they are informative): the interval
 * d1/2 ≤ λ ≤ d1/2 + (d − d1)/4 collapses to a point when d1 = d (every direction counted: ε is
 * below every eigenvalue, usually below the numerical floor or inside the bulk) or d1 = 0 (ε above
 * h1); below the floor, d1(ε) counts rounding noise.
 */
export function explainEps(o: { d: number; d1: number; eps: number; floor: number | null; h1: number }): string | null {
  const parts: string[] = [];
  if (o.floor !== null && o.eps < o.floor) {
    parts.push(`ε is below the numerical floor of the float32 H·v product (${o.floor.toExponential(1)}): eigenvalues there cannot be told from rounding noise, so d₁(ε) counts noise, not directions the model uses.`);
  }
  if (o.d1 >= o.d) {
    parts.push(`Every one of the d = ${o.d.toLocaleString('en-US')} directions has h > ε, so d − d₁ = 0 and the bounds collapse to λ = d/2: that is the regular (non-degenerate) answer, and it says nothing about degeneracy. Raise ε above the floor, into a gap of the spectrum.`);
  } else if (o.d1 === 0) {
    parts.push(`ε is above the largest eigenvalue h₁ = ${o.h1.toExponential(2)}: no direction counts, d₁ = 0, and the bounds 0 ≤ λ ≤ d/4 say only that the whole space is flat at this scale. Lower ε.`);
  }
  return parts.length ? parts.join(' ') : null;
}

/** Everything an ε axis marks for a spectrum, and the default ε. */
export interface EpsGuide {
  /** Numerical floor of the float32 product (null when the result has no estimate). */
  floor: number | null;
  /** The widest log-gaps above the floor (up to 3), widest first. */
  gaps: LogGap[];
  kStar: number | null;
  /** ε* = h_{k*}. */
  epsStar: number | null;
  /** ε* (just below h_{k*}, so that d1(ε) = k*) when known, else the middle of the largest gap; NaN when neither exists. */
  defaultEps: number;
  source: EpsSource;
}

export function epsGuide(
  r: { eigenvalues: Float64Array; projection?: ProjectionCurve; floor?: { floor: number } },
  cutoff = 0.995, split: 'train' | 'test' = 'train',
): EpsGuide {
  const floor = r.floor && r.floor.floor > 0 ? r.floor.floor : null;
  const cut = r.projection ? cutoffK(r.projection, { cutoff, split, kRef: countAboveFloor(r.eigenvalues) }) : null;
  const kStar = cut?.kStar ?? null;
  const epsStar = kStar !== null && kStar <= r.eigenvalues.length ? r.eigenvalues[kStar - 1] : null;
  const gaps = largestLogGaps(r.eigenvalues, floor ?? 0, 3);
  // The drop from the last eigenvalue above the floor down to the floor is a gap too (matfac: 400
  // eigenvalues near 1, then rounding noise), when the next eigenvalue is below the floor.
  const v = r.eigenvalues;
  if (floor !== null) {
    let m = 0;
    while (m < v.length && v[m] > floor) m++;
    if (m > 0 && m < v.length) {
      const lower = floor;
      gaps.push({ index: m - 1, upper: v[m - 1], lower, width: Math.log10(v[m - 1] / lower), middle: Math.sqrt(v[m - 1] * lower) });
      gaps.sort((x, y) => y.width - x.width || x.index - y.index);
      gaps.splice(3);
    }
  }
  let def: { eps: number; source: EpsSource };
  if (epsStar !== null && epsStar > (floor ?? 0)) def = { eps: epsStar * (1 - 1e-9), source: 'eps-star' }; // d1 counts h > ε: just below h_{k*} counts k*
  else if (gaps.length && gaps[0].width > 0) def = { eps: gaps[0].middle, source: 'largest-gap' };
  else def = defaultEps(v, floor ?? 0, undefined);
  return { floor, gaps, kStar, epsStar, defaultEps: def.eps, source: def.source };
}
