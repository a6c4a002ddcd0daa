/**
 * Where a meaningful ε lies on a computed spectrum (issue 13, part 2): the largest gaps in
 * log10 λ between consecutive eigenvalues above a numerical floor, and the default-ε rule —
 * ε* (from the accuracy cutoff) when known, else the geometric middle of the largest log-gap
 * above the floor, never a fixed constant.
 */

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
