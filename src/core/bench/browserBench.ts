/**
 * The in-app benchmark: what the compute worker achieves on the ACTIVE backend (webgpu, wasm or
 * cpu) for the current model — Gauss–Newton products per second, Lanczos top-k time, the
 * backend's own large-matmul rate, so the distance to the hardware limit is visible, and one
 * Lanczos reorthogonalization sweep on the GPU basis against the CPU basis; on webgpu also the WGSL
 * Gauss–Newton product and the WGSL training steps against the tfjs ops. The Node
 * bench (bench/run.ts, BENCHMARKS.md) measures the same things on wasm beside a PyTorch peer.
 *
 * A task of the compute core (registered as 'bench' in src/core/tasks/index.ts), so it runs in the
 * app's worker on whatever backend is active. Cancellable between products.
 */
import { getBackend } from '@tensorflow/tfjs';
import { splitIndices, type Dataset } from '../data/types';
import { gaussNewtonOperator } from '../hessian/gn';
import { subContext, type JobContext } from '../jobs';
import { lanczosTopK } from '../linalg/lanczos';
import type { ModelBundle } from '../models/bundle';
import { datasetFor, type TaskEnv } from '../tasks/env';
import { kernelThreads } from '../wasm/threads';
import { webgpuDevice } from '../backend';
import { gpuBasisDevice } from '../gpu/basisDevice';
import { sweepBench, type SweepBench } from '../gpu/sweepBench';
import { gnWgslBench, type GnWgslBench } from '../gpu/gnBench';
import { trainWgslBench, type TrainWgslBench } from '../gpu/trainBench';
import { getArchSpec } from '../arch/registry';
import '../arch/builtin';
import { gnRate, matMulRate, timingOf, type GnRate, type MatMulRate, type Timing } from './measure';

export interface BrowserBenchParams {
  model: ModelBundle;
  /** Timed H·v products (default 10; the median is reported). */
  reps?: number;
  /** Lanczos: top k (default min(100, d − 1); 0 skips Lanczos). */
  k?: number;
  /** Lanczos: converged when ‖H y − θ y‖ ≤ tol·h_1 (default 1e-3). */
  tol?: number;
  /** Lanczos runs (default 1; the median is reported). */
  lanczosReps?: number;
  /** Side of the square matMul (default 1024; 0 skips it). */
  matMulSize?: number;
  /**
   * One Lanczos reorthogonalization sweep over this many basis vectors of the model's d, on the GPU
   * basis (src/core/gpu/gpuBasis.ts) against the CPU basis (default 1,000, or as many as fit the
   * GPU; 0 skips it). Runs wherever a WebGPU device can be had, whatever the active backend.
   */
  sweepVectors?: number;
  /**
   * Timed training steps of the architecture's recipe on the WGSL whole-step engine against the
   * tfjs ops, both on the webgpu backend (default 20, after 5 untimed; 0 skips it). Skipped with
   * the reason on other backends.
   */
  trainSteps?: number;
  seed?: number;
}

export interface BrowserBenchResult {
  backend: string;
  /** Threads our own wasm kernels ran on (wasm/threads.ts; 1 where the page is not cross-origin isolated). */
  kernelThreads: number;
  arch: string;
  d: number;
  /** Training rows the operator averages over. */
  n: number;
  /** Building the operator (forward pass at θ* and constants). */
  buildMs: number;
  gn: GnRate;
  lanczos?: Timing & { k: number; tol: number; matvecs: number; iterations: number; converged: number; maxResidualOverH1: number; h1: number };
  matMul?: MatMulRate;
  /** The reorthogonalization sweep, GPU basis against CPU basis (or why it was skipped). */
  sweep?: SweepBench | { skipped: string };
  /** One H·v on the WGSL product against the tfjs passes, both on the webgpu backend (or why it was skipped). */
  gnWgsl?: GnWgslBench | { skipped: string };
  /** Training steps of the recipe on the WGSL whole-step engine against the tfjs ops on webgpu (or why it was skipped). */
  trainWgsl?: TrainWgslBench | { skipped: string };
  /** GN achieved FLOP/s over the matMul rate of the same backend (a fraction of the reachable rate). */
  gnFractionOfMatMul?: number;
  totalMs: number;
}

export async function runBrowserBench(p: BrowserBenchParams, ctx: JobContext<never>, env: TaskEnv): Promise<BrowserBenchResult> {
  const t0 = performance.now();
  const seed = p.seed ?? 0;
  const reps = Math.max(1, Math.floor(p.reps ?? 10));
  ctx.progress(0, 'loading data');
  const ds = await datasetFor(p.model, env);
  const rows = splitIndices(ds, 'train');
  const tb = performance.now();
  const op = await gaussNewtonOperator(p.model, ds, rows);
  const buildMs = performance.now() - tb;
  try {
    ctx.progress(0.05, 'Gauss–Newton products');
    await ctx.checkpoint();
    const gn = await gnRate(op, reps, seed);
    const result: BrowserBenchResult = { backend: getBackend(), kernelThreads: kernelThreads(), arch: p.model.config.arch, d: op.d, n: op.n, buildMs, gn, totalMs: 0 };
    ctx.progress(0.08, 'Gauss–Newton product: WGSL kernels against the tfjs passes');
    result.gnWgsl = await gnWgslBench(op, p.model, ds, rows, result.backend, reps, seed);
    const trainSteps = Math.floor(p.trainSteps ?? 20);
    if (trainSteps > 0) {
      ctx.progress(0.09, 'training steps: WGSL engine against the tfjs ops');
      await ctx.checkpoint();
      result.trainWgsl = await trainWgslRow(p.model, ds, result.backend, trainSteps, seed);
    }

    const k = Math.min(op.d - 1, Math.floor(p.k ?? 100));
    if (k >= 1) {
      const tol = p.tol ?? 1e-3;
      const runs: number[] = [];
      let last: Awaited<ReturnType<typeof lanczosTopK>> | null = null;
      const lr = Math.max(1, Math.floor(p.lanczosReps ?? 1));
      for (let r = 0; r < lr; r++) {
        const tl = performance.now();
        last = await lanczosTopK(op, k, {
          seed: seed + r, tol,
          ctx: subContext(ctx, 0.1 + (0.75 * r) / lr, 0.1 + (0.75 * (r + 1)) / lr, `Lanczos top ${k}`),
        });
        runs.push(performance.now() - tl);
      }
      if (last) {
        const h1 = last.values[0];
        result.lanczos = {
          ...timingOf(runs), k, tol, matvecs: last.matvecs, iterations: last.iterations, converged: last.converged, h1,
          maxResidualOverH1: Math.max(...last.residuals) / Math.abs(h1),
        };
      }
    }
    const size = Math.floor(p.matMulSize ?? 1024);
    if (size > 0) {
      ctx.progress(0.9, `matMul ${size}×${size}×${size}`);
      await ctx.checkpoint();
      result.matMul = await matMulRate(size, 5, seed);
      result.gnFractionOfMatMul = gn.gflops / result.matMul.gflops;
    }
    const sv = Math.floor(p.sweepVectors ?? 1000);
    if (sv > 0) {
      ctx.progress(0.95, `reorthogonalization sweep: ${sv} vectors, GPU basis against CPU basis`);
      await ctx.checkpoint();
      const dev = await gpuBasisDevice('gpu', getBackend(), webgpuDevice());
      result.sweep = dev.device ? await sweepBench(dev.device, op.d, Math.min(sv, op.d), 5, seed, () => ctx.checkpoint()) : { skipped: dev.reason ?? 'no WebGPU device' };
    }
    result.totalMs = performance.now() - t0;
    ctx.progress(1, 'done');
    return result;
  } finally {
    op.dispose();
  }
}

/** The training-steps row with the architecture's own recipe (or why it was skipped). */
async function trainWgslRow(model: ModelBundle, ds: Dataset, backend: string, steps: number, seed: number): Promise<TrainWgslBench | { skipped: string }> {
  const recipe = getArchSpec(model.config.arch).training?.recipe;
  if (!recipe) return { skipped: `${model.config.arch} has no training recipe` };
  return trainWgslBench(model, ds, { ...recipe, seed }, backend, steps);
}
