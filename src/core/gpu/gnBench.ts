/**
 * The in-browser bench's row for the WGSL Gauss–Newton product (gnStack.ts, gnPairs.ts): one H·v
 * on the WGSL kernels against one H·v on the tfjs passes (tfjs's webgpu ops), both on the webgpu
 * backend in the same page, so a run on a real GPU records the ratio; plus the largest difference
 * between the two products relative to the largest entry, as a cross-check.
 */
import type { ModelBundle } from '../models/bundle';
import type { Dataset } from '../data/types';
import { gaussNewtonOperator, type GnOperator } from '../hessian/gn';
import { gnRate, seededVector, type GnRate } from '../bench/measure';

export interface GnWgslBench {
  wgsl: GnRate;
  tfjs: GnRate;
  /** tfjs median time over WGSL median time (> 1: the WGSL product is faster). */
  speedup: number;
  /** max_j |wgsl_j − tfjs_j| / max_j |tfjs_j| for one seeded v. */
  maxRelDiff: number;
}

/**
 * `op` is the operator the bench built on the active backend; the row runs only when it uses the
 * WGSL product (the webgpu backend, 'mse', a supported architecture), else says why not.
 */
export async function gnWgslBench(op: GnOperator, model: ModelBundle, ds: Dataset, rows: Int32Array, backend: string, reps: number, seed: number): Promise<GnWgslBench | { skipped: string }> {
  if (op.engine !== 'wgsl') {
    return { skipped: backend !== 'webgpu' ? `the active backend is ${backend}; the WGSL product runs on the webgpu backend` : `the WGSL product was not used: ${op.fallback ?? 'unknown reason'}` };
  }
  const tfjs = await gaussNewtonOperator(model, ds, rows, { gpu: false });
  try {
    const wgslRate = await gnRate(op, reps, seed);
    const tfjsRate = await gnRate(tfjs, reps, seed);
    const v = seededVector(op.d, seed + 1);
    const a = await op.apply(v), b = await tfjs.apply(v);
    let diff = 0, big = 0;
    for (let j = 0; j < a.length; j++) { diff = Math.max(diff, Math.abs(a[j] - b[j])); big = Math.max(big, Math.abs(b[j])); }
    return { wgsl: wgslRate, tfjs: tfjsRate, speedup: tfjsRate.medianMs / wgslRate.medianMs, maxRelDiff: big > 0 ? diff / big : diff };
  } finally {
    tfjs.dispose();
  }
}
