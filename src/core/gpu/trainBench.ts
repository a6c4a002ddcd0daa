/**
 * A bench row for the WGSL training steps (trainStep.ts): the same steps of one recipe on the WGSL
 * whole-step engine and on the tfjs ops, both on the webgpu backend in the same page (or process),
 * so a run on a real GPU records the ratio; plus the largest difference between the two θ after
 * the steps relative to the largest entry, as a cross-check. Each side runs `warmup` steps first
 * (pipelines compile, buffers settle), then `steps` timed steps ending in a read of the batch
 * loss (which waits for the queued GPU work).
 */
import type { ModelBundle } from '../models/bundle';
import type { Dataset } from '../data/types';
import { Trainer, type TrainOptions } from '../train/trainer';
import { setGpuTrainingEnabled, gpuTrainingEnabled } from './trainStep';

export interface TrainWgslBench {
  /** Timed steps per second on each path. */
  wgslStepsPerSec: number;
  tfjsStepsPerSec: number;
  /** WGSL steps/s over tfjs steps/s (> 1: the WGSL steps are faster). */
  speedup: number;
  /** max_j |θ_wgsl − θ_tfjs| / max_j |θ_tfjs| after warmup + steps steps. */
  maxRelDiff: number;
  steps: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

async function timed(model: ModelBundle, ds: Dataset, opts: TrainOptions, warmup: number, steps: number): Promise<{ path: string; fallback?: string; perSec: number; theta: Float32Array }> {
  const tr = new Trainer(model, ds, opts);
  try {
    await tr.ready();
    for (let s = 0; s < warmup; s++) await tr.step();
    await tr.lastBatchLoss();
    const t0 = now();
    for (let s = 0; s < steps; s++) await tr.step();
    await tr.lastBatchLoss();
    const ms = now() - t0;
    return { path: tr.stepPath, fallback: tr.fallbackReason, perSec: (1000 * steps) / Math.max(ms, 1e-3), theta: await tr.theta() };
  } finally {
    tr.dispose();
  }
}

/** The row, or why it was skipped (another backend, or the WGSL engine unavailable with its reason). */
export async function trainWgslBench(model: ModelBundle, ds: Dataset, recipe: TrainOptions, backend: string, steps: number, warmup = 5): Promise<TrainWgslBench | { skipped: string }> {
  if (backend !== 'webgpu') return { skipped: `the active backend is ${backend}; the WGSL training steps run on the webgpu backend` };
  const opts: TrainOptions = { ...recipe, steps: warmup + steps, evalEvery: 0, checkpointEvery: 0 };
  const was = gpuTrainingEnabled();
  try {
    setGpuTrainingEnabled(true);
    const wgsl = await timed(model, ds, opts, warmup, steps);
    if (wgsl.path !== 'wgsl') return { skipped: `the WGSL training steps were not used: ${wgsl.fallback ?? `the step path is ${wgsl.path}`}` };
    setGpuTrainingEnabled(false);
    const ops = await timed(model, ds, opts, warmup, steps);
    let diff = 0, big = 0;
    for (let j = 0; j < ops.theta.length; j++) { diff = Math.max(diff, Math.abs(wgsl.theta[j] - ops.theta[j])); big = Math.max(big, Math.abs(ops.theta[j])); }
    return { wgslStepsPerSec: wgsl.perSec, tfjsStepsPerSec: ops.perSec, speedup: wgsl.perSec / ops.perSec, maxRelDiff: big > 0 ? diff / big : diff, steps };
  } finally {
    setGpuTrainingEnabled(was);
  }
}
