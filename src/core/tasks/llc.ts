/**
 * The LLC jobs (docs/science.md §4–5): an SGLD estimate with streamed traces, the ε_s × nβ
 * calibration grid, SGLD points along the loss-scale axis (nβ = 1/ε), λ̂ over training
 * checkpoints, the generalizing-vs-memorizing sweep over p, and the teaching landscapes.
 */
import type { JobContext } from '../jobs';
import { createJobContext, subContext } from '../jobs';
import { BadInputError } from '../errors';
import type { ModelBundle } from '../models/bundle';
import { calibrationGrid, estimateLlc, type CalibrationCell, type CalibrationOptions, type CalibrationResult, type SgldOptions, type SgldPartial, type SgldResult } from '../llc/sgld';
import type { Health } from '../llc/health';
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

/** λ̂ with its verdict, as the series jobs report each point. */
export interface LlcPointEstimate { mean: number; std: number; stderr: number }

/**
 * The settings every point of a series shares: the calibrated (or given) γ, ε_s, burn-in and draws
 * of one estimate at `model` (the first point of the series), so the points differ only in what
 * the series varies. Returns that estimate too.
 */
export async function calibrateOnce(model: ModelBundle, ds: Awaited<ReturnType<typeof datasetFor>>, opts: SgldOptions, ctx: JobContext<SgldPartial>): Promise<{ first: SgldResult; fixed: SgldOptions }> {
  const first = await estimateLlc(model, ds, opts, ctx);
  const o = first.options;
  // The other points start at their own w*, without the calibration's warm start: they need the
  // burn-in of a cold start.
  const burnin = first.calibration?.warmStart ? first.calibration.coldBurnin : o.burnin;
  const fixed: SgldOptions = { ...opts, gamma: o.gamma, stepSize: o.stepSize, burnin, draws: o.draws, calibrate: false };
  return { first, fixed };
}

/** SGLD λ̂ at each loss scale ε (nβ = 1/ε), fixed γ: the points of the λ(ε) view. */
export interface LlcCurveParams { model: ModelBundle; eps: number[]; opts: Omit<SgldOptions, 'nBeta' | 'nBetaMode'> }
export interface LlcCurvePoint { eps: number; nBeta: number; llc: LlcPointEstimate | null; error?: string; meanAcceptance?: number; health?: Health; stepSize?: number }

/**
 * γ is calibrated once at the default temperature (nβ = n/log n) unless given; at each ε the step
 * shrinks with the temperature (ε_s · min(1, nβ₀/nβ): the drift nβ∇L grows with nβ), and each point
 * carries its own health verdict.
 */
export async function runLlcCurve(p: LlcCurveParams, ctx: JobContext<LlcCurvePoint>, env: TaskEnv): Promise<LlcCurvePoint[]> {
  const ds = await datasetFor(p.model, env);
  const out: LlcCurvePoint[] = [];
  let base: SgldOptions = p.opts;
  let nBeta0 = NaN;
  if (p.opts.calibrate !== false && (p.opts.gamma === undefined || p.opts.stepSize === undefined)) {
    const sub = subContext(ctx, 0, 0.3, 'calibrating at nβ = n/log n') as JobContext<SgldPartial>;
    const { first, fixed } = await calibrateOnce(p.model, ds, p.opts, sub);
    base = fixed;
    nBeta0 = first.options.nBeta;
  }
  const lo = Number.isFinite(nBeta0) ? 0.3 : 0;
  for (let i = 0; i < p.eps.length; i++) {
    const eps = p.eps[i];
    const nBeta = 1 / eps;
    const sub = subContext(ctx, lo + (1 - lo) * i / p.eps.length, lo + (1 - lo) * (i + 1) / p.eps.length, `ε = ${eps.toExponential(1)}`) as JobContext<SgldPartial>;
    const stepSize = base.stepSize !== undefined && Number.isFinite(nBeta0) ? base.stepSize * Math.min(1, nBeta0 / nBeta) : base.stepSize;
    let pt: LlcCurvePoint;
    try {
      const r = await estimateLlc(p.model, ds, { ...base, stepSize, nBeta, nBetaMode: 'explicit' }, sub);
      pt = { eps, nBeta, llc: r.diverged ? null : r.llc, meanAcceptance: r.meanAcceptance, health: r.health, stepSize: r.options.stepSize, ...(r.diverged ? { error: r.diverged.message } : {}) };
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
export interface LlcCheckpointPoint { step: number; llc: LlcPointEstimate | null; error?: string; health?: Health; meanAcceptance?: number }

/**
 * One setting for every checkpoint (as seed 003: "at a fixed collection of hyperparameters"):
 * calibrated once on the LAST checkpoint (the trained model) unless given, then reused; each
 * point carries its own verdict. `opts.normalToGradient` restricts the steps to the hyperplane
 * normal to the gradient at each checkpoint (seed 003's refinement for points that are not minima).
 */
export async function runLlcCheckpoints(p: LlcCheckpointsParams, ctx: JobContext<LlcCheckpointPoint>, env: TaskEnv): Promise<LlcCheckpointPoint[]> {
  const ds = await datasetFor(p.model, env);
  for (const cp of p.checkpoints) {
    if (cp.theta.length !== p.model.theta.length) throw new BadInputError(`Checkpoint ${cp.step} has ${cp.theta.length} parameters, the model ${p.model.theta.length}`);
  }
  const out: LlcCheckpointPoint[] = new Array(p.checkpoints.length);
  let base = p.opts;
  const order = p.checkpoints.map((_, i) => i);
  let lo = 0;
  if (p.checkpoints.length && p.opts.calibrate !== false && (p.opts.gamma === undefined || p.opts.stepSize === undefined)) {
    const last = p.checkpoints.length - 1;
    const cp = p.checkpoints[last];
    lo = 0.25;
    const { first, fixed } = await calibrateOnce({ ...p.model, theta: cp.theta }, ds, p.opts, subContext(ctx, 0, lo, `calibrating on checkpoint ${cp.step}`) as JobContext<SgldPartial>);
    base = fixed;
    out[last] = { step: cp.step, llc: first.diverged ? null : first.llc, health: first.health, meanAcceptance: first.meanAcceptance };
    order.pop();
  }
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    const cp = p.checkpoints[i];
    const sub = subContext(ctx, lo + (1 - lo) * j / order.length, lo + (1 - lo) * (j + 1) / order.length, `checkpoint ${cp.step}`) as JobContext<SgldPartial>;
    let pt: LlcCheckpointPoint;
    try {
      const r = await estimateLlc({ ...p.model, theta: cp.theta }, ds, base, sub);
      pt = { step: cp.step, llc: r.diverged ? null : r.llc, health: r.health, meanAcceptance: r.meanAcceptance, ...(r.diverged ? { error: r.diverged.message } : {}) };
    } catch (e) {
      if (e instanceof Error && e.name === 'CancelledError') throw e;
      pt = { step: cp.step, llc: null, error: e instanceof Error ? e.message : String(e) };
    }
    out[i] = pt;
    ctx.partial(pt);
  }
  if (out.length && order.length < out.length) ctx.partial(out[out.length - 1]);
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
  /** Independent (training and sampling) seeds per (p, operation), seed, seed+1, … (default 1). */
  seeds?: number;
  opts: SgldOptions;
}
export interface LlcSweepPoint { p: number; op: 'sum' | 'random'; seed: number; llc: LlcPointEstimate | null; trainAcc?: number; testAcc?: number; error?: string; health?: Health; gamma?: number; stepSize?: number; memorized?: number }
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
  const seeds = Array.from({ length: p.seeds ?? 1 }, (_, i) => p.seed + i);
  const jobs = p.ops.flatMap((op) => p.ps.flatMap((pp) => seeds.map((seed) => ({ op, p: pp, seed }))));
  const { note: _note, ...recipe } = DEFAULT_RECIPES[p.arch];
  for (let i = 0; i < jobs.length; i++) {
    const { op, p: prime, seed } = jobs[i];
    const lo = i / jobs.length, hi = (i + 1) / jobs.length;
    let pt: LlcSweepPoint;
    try {
      const model = await runInitModel({ config: { arch: p.arch, p: prime, e: p.e, h: p.h }, seed, data: { kind: 'modadd', p: prime, trainFraction: p.trainFraction, seed, op } }, createJobContext());
      const trained = await runTrain({ model, opts: { ...recipe, steps: p.steps, seed, evalEvery: p.steps, checkpointEvery: 0 } }, subContext(ctx, lo, lo + (hi - lo) * 0.3, `${op} p=${prime} seed ${seed}: training`) as JobContext<never>, env);
      const ds = await datasetFor(trained.model, env);
      const r = await estimateLlc(trained.model, ds, { ...p.opts, seed: (p.opts.seed ?? 0) + seed }, subContext(ctx, lo + (hi - lo) * 0.3, hi, `${op} p=${prime} seed ${seed}: SGLD`) as JobContext<SgldPartial>);
      const last = trained.history[trained.history.length - 1];
      const memorized = op === 'random' ? Math.round((last?.trainAcc ?? 0) * ds.trainIdx.length) : undefined;
      pt = { p: prime, op, seed, llc: r.diverged ? null : r.llc, trainAcc: last?.trainAcc, testAcc: last?.testAcc, health: r.health, gamma: r.options.gamma, stepSize: r.options.stepSize, ...(memorized !== undefined ? { memorized } : {}), ...(r.diverged ? { error: r.diverged.message } : {}) };
    } catch (e) {
      if (e instanceof Error && e.name === 'CancelledError') throw e;
      pt = { p: prime, op, seed, llc: null, error: e instanceof Error ? e.message : String(e) };
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
