/**
 * The LLC jobs (SCIENCE.md §4–5): an SGLD estimate with streamed traces, the ε_s × nβ
 * calibration grid, SGLD points along the loss-scale axis (nβ = 1/ε), λ̂ over training
 * checkpoints, the generalizing-vs-memorizing sweep over p, and the teaching landscapes.
 */
import type { JobContext } from '../jobs';
import { createJobContext, subContext } from '../jobs';
import { BadInputError } from '../errors';
import type { ModelBundle } from '../models/bundle';
import { calibrationGrid, estimateLlc, type CalibrationCell, type CalibrationOptions, type CalibrationResult, type SgldOptions, type SgldPartial, type SgldResult } from '../llc/sgld';
import { contourGrid, llcCurve, logGrid, makeLandscape, sampleLandscape, type ContourGrid, type LandscapeSpec, type LlcCurve, type LandscapeSamples, type LandscapeSamplerOptions } from '../llc/landscapes';
import { runInitModel } from './model';
import { runTrain } from './train';
import { DEFAULT_RECIPES } from '../train/recipes';
import { datasetFor, type TaskEnv } from './env';

export interface LlcParams { model: ModelBundle; opts: SgldOptions }

export async function runLlc(p: LlcParams, ctx: JobContext<SgldPartial>, env: TaskEnv): Promise<SgldResult> {
  ctx.progress(0, 'loading data');
  const ds = await datasetFor(p.model, env);
  return estimateLlc(p.model, ds, p.opts, ctx);
}

export interface LlcGridParams { model: ModelBundle; opts: CalibrationOptions }

export async function runLlcGrid(p: LlcGridParams, ctx: JobContext<CalibrationCell>, env: TaskEnv): Promise<CalibrationResult> {
  const ds = await datasetFor(p.model, env);
  return calibrationGrid(p.model, ds, p.opts, ctx);
}

/** SGLD λ̂ at each loss scale ε (nβ = 1/ε), fixed γ: the points of the λ(ε) view. */
export interface LlcCurveParams { model: ModelBundle; eps: number[]; opts: Omit<SgldOptions, 'nBeta' | 'nBetaMode'> }
export interface LlcCurvePoint { eps: number; nBeta: number; llc: { mean: number; std: number; stderr: number } | null; error?: string; meanAcceptance?: number }

export async function runLlcCurve(p: LlcCurveParams, ctx: JobContext<LlcCurvePoint>, env: TaskEnv): Promise<LlcCurvePoint[]> {
  const ds = await datasetFor(p.model, env);
  const out: LlcCurvePoint[] = [];
  for (let i = 0; i < p.eps.length; i++) {
    const eps = p.eps[i];
    const nBeta = 1 / eps;
    const sub = subContext(ctx, i / p.eps.length, (i + 1) / p.eps.length, `ε = ${eps.toExponential(1)}`) as JobContext<SgldPartial>;
    let pt: LlcCurvePoint;
    try {
      const r = await estimateLlc(p.model, ds, { ...p.opts, nBeta, nBetaMode: 'explicit' }, sub);
      pt = { eps, nBeta, llc: r.llc, meanAcceptance: r.meanAcceptance };
    } catch (e) {
      if (e instanceof Error && e.name === 'CancelledError') throw e;
      pt = { eps, nBeta, llc: null, error: e instanceof Error ? e.message : String(e) };
    }
    out.push(pt);
    ctx.partial(pt);
  }
  return out;
}

/** λ̂ at each stored training checkpoint (same SGLD settings), for the LLC-over-training plot. */
export interface LlcCheckpointsParams { model: ModelBundle; checkpoints: { step: number; theta: Float32Array }[]; opts: SgldOptions }
export interface LlcCheckpointPoint { step: number; llc: { mean: number; std: number; stderr: number } | null; error?: string }

export async function runLlcCheckpoints(p: LlcCheckpointsParams, ctx: JobContext<LlcCheckpointPoint>, env: TaskEnv): Promise<LlcCheckpointPoint[]> {
  const ds = await datasetFor(p.model, env);
  const out: LlcCheckpointPoint[] = [];
  for (let i = 0; i < p.checkpoints.length; i++) {
    const cp = p.checkpoints[i];
    if (cp.theta.length !== p.model.theta.length) throw new BadInputError(`Checkpoint ${cp.step} has ${cp.theta.length} parameters, the model ${p.model.theta.length}`);
    const sub = subContext(ctx, i / p.checkpoints.length, (i + 1) / p.checkpoints.length, `checkpoint ${cp.step}`) as JobContext<SgldPartial>;
    let pt: LlcCheckpointPoint;
    try {
      const r = await estimateLlc({ ...p.model, theta: cp.theta }, ds, p.opts, sub);
      pt = { step: cp.step, llc: r.llc };
    } catch (e) {
      if (e instanceof Error && e.name === 'CancelledError') throw e;
      pt = { step: cp.step, llc: null, error: e instanceof Error ? e.message : String(e) };
    }
    out.push(pt);
    ctx.partial(pt);
  }
  return out;
}

/**
 * Seed 003's experiment: train modular addition (generalizing) and the random commutative
 * operation (memorizing) for several p, estimate λ̂ for each, and fit λ̂ against p.
 */
export interface LlcSweepParams {
  ps: number[];
  ops: ('sum' | 'random')[];
  arch: 'modadd' | 'modadd-gelu';
  e: number;
  h: number;
  trainFraction: number;
  steps: number;
  seed: number;
  opts: SgldOptions;
}
export interface LlcSweepPoint { p: number; op: 'sum' | 'random'; llc: { mean: number; std: number; stderr: number } | null; trainAcc?: number; testAcc?: number; error?: string }
export interface LlcSweepResult { points: LlcSweepPoint[]; fits: Record<'sum' | 'random', { linear: number[]; quadratic: number[] } | null> }

/** Least squares of y on [1, x, …, x^deg]: coefficients, lowest power first. */
export function polyfit(x: number[], y: number[], deg: number): number[] {
  const m = deg + 1;
  const A = new Float64Array(m * m), b = new Float64Array(m);
  for (let i = 0; i < x.length; i++) {
    for (let r = 0; r < m; r++) {
      b[r] += y[i] * x[i] ** r;
      for (let c = 0; c < m; c++) A[r * m + c] += x[i] ** (r + c);
    }
  }
  // Gaussian elimination with partial pivoting (m ≤ 3).
  for (let k = 0; k < m; k++) {
    let piv = k;
    for (let r = k + 1; r < m; r++) if (Math.abs(A[r * m + k]) > Math.abs(A[piv * m + k])) piv = r;
    for (let c = 0; c < m; c++) { const t = A[k * m + c]; A[k * m + c] = A[piv * m + c]; A[piv * m + c] = t; }
    { const t = b[k]; b[k] = b[piv]; b[piv] = t; }
    for (let r = k + 1; r < m; r++) {
      const f = A[r * m + k] / A[k * m + k];
      for (let c = k; c < m; c++) A[r * m + c] -= f * A[k * m + c];
      b[r] -= f * b[k];
    }
  }
  const coef = new Array<number>(m).fill(0);
  for (let k = m - 1; k >= 0; k--) {
    let s = b[k];
    for (let c = k + 1; c < m; c++) s -= A[k * m + c] * coef[c];
    coef[k] = s / A[k * m + k];
  }
  return coef;
}

export async function runLlcSweep(p: LlcSweepParams, ctx: JobContext<LlcSweepPoint>, env: TaskEnv): Promise<LlcSweepResult> {
  const points: LlcSweepPoint[] = [];
  const jobs = p.ops.flatMap((op) => p.ps.map((pp) => ({ op, p: pp })));
  const { note: _note, ...recipe } = DEFAULT_RECIPES[p.arch];
  for (let i = 0; i < jobs.length; i++) {
    const { op, p: prime } = jobs[i];
    const lo = i / jobs.length, hi = (i + 1) / jobs.length;
    let pt: LlcSweepPoint;
    try {
      const model = await runInitModel({ config: { arch: p.arch, p: prime, e: p.e, h: p.h }, seed: p.seed, data: { kind: 'modadd', p: prime, trainFraction: p.trainFraction, seed: p.seed, op } }, createJobContext());
      const trained = await runTrain({ model, opts: { ...recipe, steps: p.steps, seed: p.seed, evalEvery: p.steps, checkpointEvery: 0 } }, subContext(ctx, lo, lo + (hi - lo) * 0.6, `${op} p=${prime}: training`) as JobContext<never>, env);
      const ds = await datasetFor(trained.model, env);
      const r = await estimateLlc(trained.model, ds, p.opts, subContext(ctx, lo + (hi - lo) * 0.6, hi, `${op} p=${prime}: SGLD`) as JobContext<SgldPartial>);
      const last = trained.history[trained.history.length - 1];
      pt = { p: prime, op, llc: r.llc, trainAcc: last?.trainAcc, testAcc: last?.testAcc };
    } catch (e) {
      if (e instanceof Error && e.name === 'CancelledError') throw e;
      pt = { p: prime, op, llc: null, error: e instanceof Error ? e.message : String(e) };
    }
    points.push(pt);
    ctx.partial(pt);
  }
  const fit = (op: 'sum' | 'random') => {
    const pts = points.filter((q) => q.op === op && q.llc && Number.isFinite(q.llc.mean));
    if (pts.length < 2) return null;
    const x = pts.map((q) => q.p), y = pts.map((q) => q.llc!.mean);
    return { linear: polyfit(x, y, 1), quadratic: pts.length >= 3 ? polyfit(x, y, 2) : [] };
  };
  return { points, fits: { sum: fit('sum'), random: fit('random') } };
}

/** A teaching landscape: exact V(ε) and λ(ε) on a log grid, the contour grid, and SGLD samples. */
export interface LandscapeParams { spec: LandscapeSpec; epsLo?: number; epsHi?: number; points?: number; grid?: number; sampler?: LandscapeSamplerOptions }
export interface LandscapeResult { label: string; formula: string; dim: 1 | 2; limit: { llc: number; multiplicity: number }; curve: LlcCurve; contour: ContourGrid; samples: LandscapeSamples | null }

export async function runLandscape(p: LandscapeParams, ctx: JobContext): Promise<LandscapeResult> {
  let l;
  try {
    l = makeLandscape(p.spec);
  } catch (e) {
    throw new BadInputError(e instanceof Error ? e.message : String(e));
  }
  const eps = logGrid(p.epsLo ?? 1e-6, p.epsHi ?? Math.min(1, l.maxLoss), p.points ?? 61);
  ctx.progress(0.1, 'V(ε) and λ(ε)');
  const curve = llcCurve(l, eps);
  await ctx.checkpoint();
  ctx.progress(0.7, 'contours');
  const contour = contourGrid(l, p.grid ?? (l.dim === 2 ? 161 : 401));
  await ctx.checkpoint();
  const samples = p.sampler ? sampleLandscape(l, p.sampler) : null;
  ctx.progress(1, 'done');
  return { label: l.label, formula: l.formula, dim: l.dim, limit: l.limit, curve, contour, samples };
}
