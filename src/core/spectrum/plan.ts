/**
 * The default spectrum job of a model (issue 13, part 3): enough eigenpairs to reach k* where the
 * memory budget allows, instead of a fixed top 100. For the toy models of seed 002:
 * - modadd (d = 86,197): top 1,100 by Lanczos — seed 002's k* was 1,032;
 * - mnist-mlp (d = 42,310): as many as the Lanczos basis budget holds (seed 002: k* not reached by
 *   8,000, which needs 1.35 GB of Float32 basis); the job says how far it got;
 * - matfac and every d ≤ DENSE_AUTO_MAX: the exact dense spectrum.
 */
import { DEFAULT_MEMORY_BUDGET, planBasis } from '../linalg/krylovBasis';
import { DENSE_AUTO_MAX } from './limits';

/** Seed 002's answers, to set beside ours (docs/science.md §9). */
export const SEED002 = {
  modadd: { d: 86197, kStar: 1032 as number | null, note: '99.5 % train-accuracy cutoff at k = 1,032' },
  'mnist-mlp': { d: 42310, kStar: null as number | null, note: 'not reached by k = 8,000' },
  matfac: { d: 800, kStar: 400 as number | null, note: 'MSE curve flat after k = 400' },
} as const;

export type Seed002Id = keyof typeof SEED002;

/** seed 002's modadd k* plus margin for the thick-restart bisection of the cutoff. */
export const MODADD_K = 1100;

/** The largest k whose Lanczos basis fits `budget` bytes at dimension d (Float32 storage). */
export function maxLanczosK(d: number, budget = DEFAULT_MEMORY_BUDGET): number {
  let lo = 1, hi = d;
  const fits = (k: number): boolean => {
    try { planBasis(d, k, { memoryBudgetBytes: budget }); return true; } catch { return false; }
  };
  if (!fits(1)) return 0;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid; else hi = mid - 1;
  }
  return lo;
}

export interface SpectrumPlan {
  method: 'dense' | 'lanczos';
  k: number;
  why: string;
}

export function defaultSpectrumPlan(arch: string, d: number, budget = DEFAULT_MEMORY_BUDGET): SpectrumPlan {
  if (d <= DENSE_AUTO_MAX) return { method: 'dense', k: d, why: `d = ${d.toLocaleString('en-US')} is small enough for the exact dense spectrum` };
  const cap = maxLanczosK(d, budget);
  if (arch === 'modadd') {
    const k = Math.min(MODADD_K, cap, d);
    return { method: 'lanczos', k, why: k === MODADD_K ? `top ${MODADD_K.toLocaleString('en-US')}: seed 002 found k* = 1,032 on this architecture` : `top ${k.toLocaleString('en-US')}: what the ${(budget / 2 ** 20).toFixed(0)} MiB basis budget holds (seed 002's k* = 1,032 needs more)` };
  }
  if (arch === 'mnist-mlp') {
    return { method: 'lanczos', k: Math.min(cap, d), why: `top ${Math.min(cap, d).toLocaleString('en-US')}: as many as the ${(budget / 2 ** 20).toFixed(0)} MiB basis budget holds (seed 002 had not reached k* by 8,000)` };
  }
  const k = Math.min(d, 300, cap);
  return { method: 'lanczos', k, why: `top ${k}` };
}

/**
 * What going on to kTarget eigenpairs would cost, extrapolated from a run that got kDone of them in
 * secondsDone: full reorthogonalization makes the work per step grow with the basis, so time grows
 * about as k² (measured on modadd: top 100 in 14.5 s, top 1,000 in 390 s — ×27 for ×10 in k, i.e.
 * between k and k²); memory is the Float32 basis of ≈ 1.4·kTarget vectors of length d.
 */
export function continueCost(d: number, kDone: number, secondsDone: number, kTarget: number): { k: number; seconds: number; bytes: number; note: string } {
  const ratio = kTarget / Math.max(1, kDone);
  const seconds = secondsDone * ratio ** 1.5;
  const lo = secondsDone * ratio, hi = secondsDone * ratio * ratio;
  const bytes = Math.ceil(1.4 * kTarget) * d * 4;
  return {
    k: kTarget,
    seconds: Math.round(seconds),
    bytes,
    note: `extrapolated from ${kDone.toLocaleString('en-US')} pairs in ${secondsDone.toFixed(0)} s: time grows between k and k² (${fmtS(lo)}–${fmtS(hi)}, ≈ ${fmtS(seconds)}); basis ≈ ${(bytes / 1e6).toFixed(0)} MB in Float32`,
  };
}

function fmtS(s: number): string {
  if (s < 120) return `${s.toFixed(0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
