/**
 * How much memory a spectrum request needs, estimated before it runs so the app can refuse or
 * adapt instead of letting the tab die (the Lanczos basis dominates: k ≈ 1,100 at d ≈ 86k is
 * ~0.5 GB in Float32, and the Ritz vectors for the projection curve as much again).
 */
import { planBasis } from '../linalg/krylovBasis';
import { DENSE_AUTO_MAX } from './limits';

export interface MemoryEstimate {
  bytes: number;
  method: 'dense' | 'lanczos';
  detail: string;
}

/** A browser tab reliably gets about this much for one worker's arrays. */
export const BROWSER_MEMORY_LIMIT = 2.5e9;

export function spectrumMemory(o: { d: number; method: 'auto' | 'dense' | 'lanczos'; k: number; probes: number; steps?: number; projection?: boolean }): MemoryEstimate {
  const method = o.method === 'auto' ? (o.d <= DENSE_AUTO_MAX ? 'dense' : 'lanczos') : o.method;
  if (method === 'dense') {
    const bytes = 2 * o.d * o.d * 8;
    return { bytes, method, detail: `H and its eigenvectors: 2 × ${o.d}² Float64` };
  }
  const k = Math.min(o.d, o.k);
  let basis = 0;
  let storage = 'f32';
  try {
    const plan = planBasis(o.d, k, {});
    storage = plan.storage;
    basis = plan.capacity * o.d * (plan.storage === 'f64' ? 8 : 4);
  } catch {
    basis = Infinity;
  }
  const ritz = o.projection === false ? 0 : k * o.d * (storage === 'f64' ? 8 : 4);
  const slq = o.probes > 0 ? Math.min(o.d, o.steps ?? 80) * o.d * 8 : 0;
  const bytes = basis + ritz + slq;
  return { bytes, method, detail: `Lanczos basis ${(basis / 1e6).toFixed(0)} MB (${storage}) + Ritz vectors ${(ritz / 1e6).toFixed(0)} MB + SLQ ${(slq / 1e6).toFixed(0)} MB` };
}
