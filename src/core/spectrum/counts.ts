/**
 * What the ε slider shows, computed from a spectrum result in microseconds (no eigenpairs are
 * recomputed while dragging): d1(ε) = #{h_i > ε}, the LLC bounds d1/2 ≤ λ ≤ d1/2 + (d − d1)/4
 * (seed 002 §1.3; docs/science.md §3, (S5)–(S6)), and the eigenvalue density on a log axis.
 */
import { countAbove, densityOnGrid } from '../linalg/slq';

export interface SpectrumLike {
  d: number;
  method: 'dense' | 'lanczos';
  eigenvalues: Float64Array;
  slq?: { nodes: Float64Array[]; weights: Float64Array[] };
}

export interface D1 {
  /** Best value of d1(ε). */
  value: number;
  /** Uncertainty band (equal to value when exact). */
  lo: number;
  hi: number;
  /** 'exact' (dense, or ε at or above the smallest computed Lanczos value), 'slq' (estimated). */
  source: 'exact' | 'slq' | 'lower-bound';
}

/** #{i : values[i] > eps} for values sorted descending (binary search). */
export function countAboveSorted(values: ArrayLike<number>, eps: number): number {
  let lo = 0, hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] > eps) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function d1At(s: SpectrumLike, eps: number): D1 {
  const k = s.eigenvalues.length;
  const inTop = countAboveSorted(s.eigenvalues, eps);
  if (s.method === 'dense' || inTop < k) return { value: inTop, lo: inTop, hi: inTop, source: 'exact' };
  // Every computed eigenvalue is above ε: the rest of the count comes from the SLQ estimate.
  if (!s.slq) return { value: k, lo: k, hi: s.d, source: 'lower-bound' };
  const c = countAbove(s.slq, eps, s.d);
  const se = Number.isFinite(c.stderr) ? c.stderr : 0;
  const value = Math.min(s.d, Math.max(k, c.mean));
  return { value, lo: Math.min(s.d, Math.max(k, c.mean - 2 * se)), hi: Math.min(s.d, Math.max(k, c.mean + 2 * se)), source: 'slq' };
}

/** The LLC bounds from the Hessian rank at ε: d1/2 ≤ λ ≤ d1/2 + (d − d1)/4. */
export function llcBounds(d: number, d1: number): { lower: number; upper: number } {
  return { lower: d1 / 2, upper: d1 / 2 + (d - d1) / 4 };
}

/**
 * The eigenvalue density per unit log10 λ on a grid of log10 values: from the SLQ quadrature
 * when present, else from the exact eigenvalues (each broadened by the same Gaussian). Only
 * eigenvalues above `floor` can appear on a log axis; `belowFloor` says how many are left out.
 */
export function logDensity(s: SpectrumLike, grid: Float64Array, sigma = 0.08, floor = 0): { density: Float64Array; belowFloor: number } {
  if (s.slq && s.method === 'lanczos') {
    const density = densityOnGrid(s.slq, grid, sigma, s.d, { space: 'log10', floor });
    return { density, belowFloor: s.d - countAbove(s.slq, floor, s.d).mean };
  }
  const w = new Float64Array(s.eigenvalues.length).fill(1 / s.eigenvalues.length);
  const density = densityOnGrid({ nodes: [s.eigenvalues], weights: [w] }, grid, sigma, s.eigenvalues.length, { space: 'log10', floor });
  return { density, belowFloor: s.eigenvalues.length - countAboveSorted(s.eigenvalues, floor) };
}
