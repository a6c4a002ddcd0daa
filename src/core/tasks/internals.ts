/**
 * Degeneracy from network internals (docs/science.md §6–8) as one job: synchronized ReLU blocks,
 * per-layer activation and Jacobian Grams (for the predicted Hessian zero counts at any ε), the
 * interaction basis with its graph, and the Fourier circuits of a modular-addition embedding.
 * The results are compact (matrices of layer width at most); re-grouping at another tolerance
 * and counting zeros at another ε are cheap pure functions the view calls directly.
 */
import { subContext, type JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { splitIndices } from '../data/types';
import { syncAnalysis, type SyncMeasure, type SyncResult } from '../internals/sync';
import { layerGrams, type GramsResult } from '../internals/grams';
import { interactionBasis, type InteractionResult } from '../internals/interaction';
import { fourierAnalysis, type FourierResult } from '../internals/fourier';
import { getArchSpec } from '../arch/registry';
import { datasetFor, type TaskEnv } from './env';

export interface InternalsParams {
  model: ModelBundle;
  split?: 'train' | 'all';
  tol?: number;
  measure?: SyncMeasure;
}

export interface InternalsResult {
  split: 'train' | 'all';
  sync: SyncResult;
  grams: GramsResult;
  interaction: InteractionResult;
  fourier: FourierResult | null;
  timings: Record<string, number>;
}

export async function runInternals(p: InternalsParams, ctx: JobContext, env: TaskEnv): Promise<InternalsResult> {
  const split = p.split ?? 'train';
  ctx.progress(0, 'loading data');
  const ds = await datasetFor(p.model, env);
  const rows = splitIndices(ds, split);
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const sync = await syncAnalysis(p.model, ds, rows, { tol: p.tol, measure: p.measure, ctx: subContext(ctx, 0, 0.3, 'synchronized neurons') });
  timings.sync = performance.now() - t0;
  t0 = performance.now();
  const grams = await layerGrams(p.model, ds, rows, { ctx: subContext(ctx, 0.3, 0.65, 'Gram matrices') });
  timings.grams = performance.now() - t0;
  t0 = performance.now();
  const interaction = await interactionBasis(p.model, ds, rows, { grams, ctx: subContext(ctx, 0.65, 0.95, 'interaction basis') });
  timings.interaction = performance.now() - t0;
  await ctx.checkpoint();
  const fourier = getArchSpec(p.model.config.arch).tokens ? fourierAnalysis(p.model) : null;
  ctx.progress(1, 'done');
  return { split, sync, grams, interaction, fourier, timings };
}

/** The Fourier norms of the embedding at each training checkpoint (how circuits appear over training). */
export interface FourierCheckpointsParams { model: ModelBundle; checkpoints: { step: number; theta: Float32Array }[] }
export interface FourierCheckpointsResult { steps: number[]; frequencies: number[]; /** [checkpoint × frequency] row-major */ norms: Float64Array; keys: number[][] }

export async function runFourierCheckpoints(p: FourierCheckpointsParams, ctx: JobContext): Promise<FourierCheckpointsResult> {
  const steps: number[] = [];
  const keys: number[][] = [];
  let frequencies: number[] = [];
  const rows: Float64Array[] = [];
  for (let i = 0; i < p.checkpoints.length; i++) {
    const cp = p.checkpoints[i];
    const f = fourierAnalysis({ ...p.model, theta: cp.theta });
    frequencies = Array.from(f.frequencies);
    steps.push(cp.step);
    rows.push(f.norms);
    keys.push(f.keyFrequencies);
    ctx.progress((i + 1) / p.checkpoints.length, `checkpoint ${cp.step}`);
    await ctx.checkpoint();
  }
  const norms = new Float64Array(rows.length * frequencies.length);
  rows.forEach((r, i) => norms.set(r, i * frequencies.length));
  return { steps, frequencies, norms, keys };
}
