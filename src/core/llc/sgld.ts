/**
 * The SGLD estimator of the local learning coefficient (Lau, Murfet & Wei; seed 003; SCIENCE.md §5).
 *
 * From w₀ = w*, each chain runs
 *
 *   w_{t+1} = w_t − (ε_s/2)·(nβ ∇L_{B_t}(w_t) + γ (w_t − w*)) + N(0, ε_s I)            (SGLD)
 *
 * which samples (approximately, for small ε_s) the localized tempered posterior
 * ∝ exp(−nβ L(w) − (γ/2)‖w − w*‖²), and reports
 *
 *   λ̂ = nβ · (mean over draws t of L_{B_t}(w_t) − L(w*)),                               (LLC)
 *
 * as mean ± std over chains. Conventions (they matter for comparing numbers):
 * - L is the training loss (mean cross-entropy, or nn.MSELoss's mean over every element for
 *   matfac; train/losses.ts) or the behavioral loss L_B(w | w*) = (1/n) Σ_x ‖f_w(x) − f_w*(x)‖²
 *   (sum over outputs, mean over rows; SCIENCE.md §2). The result always says which.
 * - L(w*) is the FULL training-data loss. The per-draw L(w_t) is the loss of the minibatch B_t that
 *   step t used, at w_t before the step (as devinterp records it): one forward pass per step serves
 *   both the gradient and the draw. `fullLossEvery` adds full-data L(w_t) at every k-th draw as a
 *   diagnostic (it is not used in λ̂).
 * - Step t ∈ [0, burnin) is burn-in; draws are steps burnin … burnin + draws − 1 (one draw per step).
 * - nβ defaults to n / log n with n the number of training rows ('n/log n'); 'batch/log batch' is
 *   devinterp's default_nbeta; 'explicit' takes `nBeta` as given.
 * - Noise and minibatch order come from seeded streams (rng.ts), one pair per chain, generated on
 *   the host and uploaded: a run is reproducible for a given seed on a given backend. Minibatches
 *   are drawn without replacement, epoch by epoch, dropping an incomplete last batch.
 * - Partials (SgldPartial) carry the points added since the previous one: append them.
 *
 * The MALA diagnostic (`mala: true`) computes, for each transition w_t → w_{t+1}, the
 * Metropolis–Hastings acceptance probability the Langevin proposal would have had for the target
 * exp(−U), U(w) = nβ L(w) + (γ/2)‖w − w*‖², without rejecting anything:
 *
 *   log α = U(w_t) − U(w_{t+1}) − (ε_s/8)‖s‖² + (√ε_s/2)⟨s, ξ_t⟩,   s = ∇U(w_t) + ∇U(w_{t+1}),
 *
 * which is log π(w_{t+1}) q(w_t | w_{t+1}) − log π(w_t) q(w_{t+1} | w_t) for the Gaussian proposal
 * q(y | x) = N(x − (ε_s/2)∇U(x), ε_s I), with the ‖ξ‖² terms cancelled analytically (they would
 * cancel catastrophically in float32 at d ~ 10⁵). U and ∇U at w_{t+1} come from step t+1, so with
 * minibatches the two values are from consecutive batches (as devinterp's MalaAcceptanceRate) and the
 * rate is only indicative; with batchSize 'full' it is the exact MALA acceptance. Healthy: ≈ 0.9.
 *
 * On the backend: w is a tf.Variable, w*, the training rows and (for the behavioral loss) f_w*(x)
 * stay resident; per step only the noise vector and the minibatch indices are uploaded, and the
 * step's scalars (L, ‖w − w*‖², log α) are read back in groups of `readEvery` steps, so the device
 * is not stalled by a read every step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import { gatherRows } from '../data/types';
import { BadInputError } from '../errors';
import { createJobContext, type JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { inputDim, isClassifier, layoutFor, outputDim, type ModelConfig } from '../models/config';
import { forward } from '../models/forward';
import type { ParamLayout } from '../params';
import { makeRng, permutation, type Rng } from '../rng';
import { lossFor } from '../train/losses';
import { lossAndGradient } from '../train/trainer';
import { ensureWasmTrainingKernels } from '../train/wasmKernels';
import { DEFAULT_BATCH, defaultSgldSettings } from './defaults';

export { DEFAULT_BATCH, defaultSgldSettings, type SgldDefaults } from './defaults';

export type SgldLossKind = 'train' | 'behavioral';
export type NBetaMode = 'n/log n' | 'batch/log batch' | 'explicit';

export interface SgldOptions {
  /** Inverse temperature times n. Giving it without nBetaMode means 'explicit'. */
  nBeta?: number;
  /** How nβ is chosen (default 'n/log n', or 'explicit' when nBeta is given). */
  nBetaMode?: NBetaMode;
  /** Localization strength γ (default: defaultSgldSettings(config).gamma). */
  gamma?: number;
  /** SGLD step size ε_s (default: defaultSgldSettings(config).stepSize). */
  stepSize?: number;
  /** Independent chains, each with its own seeded noise and minibatch streams (default 4). */
  chains?: number;
  /** Draws per chain after burn-in (default 200). */
  draws?: number;
  /** Burn-in steps per chain (default = draws). */
  burnin?: number;
  /** Rows per step (default min(n, 512)), or 'full'. */
  batchSize?: number | 'full';
  /** Which L (default 'train'). */
  loss?: SgldLossKind;
  seed?: number;
  /** Compute the MALA acceptance probability of every step as a diagnostic (default false). */
  mala?: boolean;
  /** Evaluate the full-data L(w_t) at every k-th draw (default 0: never). */
  fullLossEvery?: number;
  /** Steps between reads of the step scalars, divergence checks, progress and partials (default 10). */
  readEvery?: number;
}

/** Options after defaults, as the run used them. */
export interface ResolvedSgldOptions {
  nBeta: number;
  nBetaMode: NBetaMode;
  gamma: number;
  stepSize: number;
  chains: number;
  draws: number;
  burnin: number;
  /** Rows per step (n when full batch). */
  batchSize: number;
  fullBatch: boolean;
  loss: SgldLossKind;
  seed: number;
  mala: boolean;
  fullLossEvery: number;
  readEvery: number;
}

export interface SgldChainResult {
  /** λ̂ of this chain: nβ (mean of the draws of L − L(w*)). */
  llc: number;
  /** L(w_t) per step (minibatch loss at w_t, before the step), burn-in included: length burnin + draws. */
  lossTrace: Float32Array;
  /** L(w_t) − L(w*): the summand of λ̂ / nβ (same length). */
  excessTrace: Float32Array;
  /** L(w_t) minus this chain's mean over its draws (same length): for comparing chains' fluctuations. */
  centeredTrace: Float32Array;
  /** ‖w_t − w*‖ per step (same length). */
  distanceTrace: Float32Array;
  /** MALA acceptance probability of the transition w_t → w_{t+1} (mala only; NaN for the last step). */
  acceptanceTrace?: Float32Array;
  /** Fraction of draws with L(w_t) < L(w*). */
  fractionBelowInit: number;
  /** Mean MALA acceptance over the draws (mala only). */
  meanAcceptance?: number;
  /** Full-data L(w_t) at every fullLossEvery-th draw: steps (0-based, burn-in included) and values. */
  fullLoss?: { steps: Int32Array; loss: Float64Array };
}

export interface SgldResult {
  /** λ̂ over chains: mean, sample standard deviation, and standard error (std/√chains). */
  llc: { mean: number; std: number; stderr: number };
  chains: SgldChainResult[];
  loss: SgldLossKind;
  /** What L is, for axis labels: e.g. "training loss (cross-entropy)". */
  lossLabel: string;
  /** L(w*) over the full training data. */
  initLoss: number;
  options: ResolvedSgldOptions;
  /** Training rows and parameter count. */
  n: number;
  d: number;
  /** Over all chains' draws. */
  fractionBelowInit: number;
  meanAcceptance?: number;
  backend: string;
  ms: number;
  /** SGLD steps per second (burn-in included; one draw per step). */
  stepsPerSecond: number;
  /** Conventions of this run in words (minibatch draws, MALA caveat...). */
  notes: string[];
}

/**
 * Streamed every readEvery steps: the new points of one chain (append them), and λ̂ so far.
 * fromStep is the 0-based step index of loss[0] within the chain (burn-in included).
 */
export interface SgldPartial {
  chain: number;
  chains: number;
  fromStep: number;
  stepsPerChain: number;
  burnin: number;
  loss: Float32Array;
  distance: Float32Array;
  acceptance?: Float32Array;
  fullLoss?: { steps: Int32Array; loss: Float64Array };
  /** This chain's λ̂ from its draws so far (NaN during burn-in). */
  runningLlc: number;
  /** λ̂ of the chains already finished. */
  finishedLlcs: number[];
  initLoss: number;
  nBeta: number;
}

/**
 * SGLD diverged: a loss or distance became non-finite, or the chain left the region the
 * localization confines it to. A user-fixable setting; its name is meant for the bad-input list.
 */
export class SgldDivergedError extends BadInputError {
  readonly chain: number;
  readonly step: number;
  constructor(message: string, chain: number, step: number) {
    super(message);
    this.name = 'SgldDivergedError';
    this.chain = chain;
    this.step = step;
  }
}

/** A chain farther than this many prior standard deviations √(d/γ) from w* is called diverged. */
const DIVERGENCE_RADII = 20;
/** Rows per chunk when evaluating a full-data loss. */
const EVAL_CHUNK = 2048;

/** Problems with options in words a user can act on; empty when valid. */
export function validateSgldOptions(o: SgldOptions): string[] {
  const errs: string[] = [];
  const posInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const natInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (o.nBeta !== undefined && !(Number.isFinite(o.nBeta) && o.nBeta > 0)) errs.push(`nβ must be a positive number (got ${o.nBeta})`);
  if (o.nBetaMode !== undefined && !['n/log n', 'batch/log batch', 'explicit'].includes(o.nBetaMode)) errs.push(`nβ mode must be "n/log n", "batch/log batch" or "explicit" (got ${String(o.nBetaMode)})`);
  if (o.nBetaMode === 'explicit' && o.nBeta === undefined) errs.push('nβ mode "explicit" needs a value for nβ');
  if (o.gamma !== undefined && !(Number.isFinite(o.gamma) && o.gamma >= 0)) errs.push(`γ must be ≥ 0 (got ${o.gamma})`);
  if (o.stepSize !== undefined && !(Number.isFinite(o.stepSize) && o.stepSize > 0)) errs.push(`the step size must be a positive number (got ${o.stepSize})`);
  if (o.chains !== undefined && !posInt(o.chains)) errs.push(`chains must be a whole number ≥ 1 (got ${o.chains})`);
  if (o.draws !== undefined && !posInt(o.draws)) errs.push(`draws must be a whole number ≥ 1 (got ${o.draws})`);
  if (o.burnin !== undefined && !natInt(o.burnin)) errs.push(`burn-in must be a whole number ≥ 0 (got ${o.burnin})`);
  if (o.batchSize !== undefined && o.batchSize !== 'full' && !posInt(o.batchSize)) errs.push(`batch size must be a positive integer or "full" (got ${String(o.batchSize)})`);
  if (o.loss !== undefined && o.loss !== 'train' && o.loss !== 'behavioral') errs.push(`loss must be "train" or "behavioral" (got ${String(o.loss)})`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) errs.push(`seed must be an integer (got ${o.seed})`);
  if (o.fullLossEvery !== undefined && !natInt(o.fullLossEvery)) errs.push(`fullLossEvery must be a whole number ≥ 0 (got ${o.fullLossEvery})`);
  if (o.readEvery !== undefined && !posInt(o.readEvery)) errs.push(`readEvery must be a whole number ≥ 1 (got ${o.readEvery})`);
  return errs;
}

/** The defaults filled in for a model with n training rows. Throws BadInputError on invalid options. */
export function resolveSgldOptions(config: ModelConfig, n: number, o: SgldOptions): ResolvedSgldOptions {
  const errs = validateSgldOptions(o);
  if (errs.length) throw new BadInputError(`Invalid SGLD options: ${errs.join('; ')}`);
  const def = defaultSgldSettings(config);
  const fullBatch = o.batchSize === 'full' || (o.batchSize ?? Math.min(n, DEFAULT_BATCH)) >= n;
  const batchSize = fullBatch ? n : (o.batchSize as number | undefined) ?? Math.min(n, DEFAULT_BATCH);
  const nBetaMode: NBetaMode = o.nBetaMode ?? (o.nBeta !== undefined ? 'explicit' : 'n/log n');
  let nBeta: number;
  if (nBetaMode === 'explicit') nBeta = o.nBeta as number;
  else {
    const m = nBetaMode === 'n/log n' ? n : batchSize;
    // n / log n (Watanabe's optimal inverse temperature β* = 1/log n, times n).
    if (m < 2) throw new BadInputError(`nβ = ${nBetaMode} needs at least 2 rows (have ${m}); give nβ explicitly`);
    nBeta = m / Math.log(m);
  }
  const draws = o.draws ?? 200;
  return {
    nBeta, nBetaMode,
    gamma: o.gamma ?? def.gamma,
    stepSize: o.stepSize ?? def.stepSize,
    chains: o.chains ?? 4,
    draws,
    burnin: o.burnin ?? draws,
    batchSize, fullBatch,
    loss: o.loss ?? 'train',
    seed: o.seed ?? 0,
    mala: o.mala ?? false,
    fullLossEvery: o.fullLossEvery ?? 0,
    readEvery: o.readEvery ?? 10,
  };
}

function checkCompatible(model: ModelBundle, ds: Dataset, layout: ParamLayout): void {
  const c = model.config;
  if (model.theta.length !== layout.size) throw new BadInputError(`θ has ${model.theta.length} entries but this ${c.arch} has ${layout.size} parameters`);
  if (ds.inputDim !== inputDim(c)) throw new BadInputError(`The dataset has inputs of width ${ds.inputDim}, the model expects ${inputDim(c)}`);
  if (ds.outDim !== outputDim(c)) throw new BadInputError(`The dataset has ${ds.outDim} outputs, the model has ${outputDim(c)}`);
  if (ds.trainIdx.length === 0) throw new BadInputError('The dataset has no training rows to sample with');
  for (let i = 0; i < model.theta.length; i++) {
    if (!Number.isFinite(model.theta[i])) throw new BadInputError(`θ[${i}] is ${model.theta[i]}: SGLD needs finite weights`);
  }
}

/** What stays on the backend during a run. */
interface Resident {
  x: tf.Tensor2D;
  /** Labels / targets of the training loss, or f_w*(x) for the behavioral loss. */
  y: tf.Tensor;
  wStar: tf.Tensor1D;
}

/** The mean loss over a batch (what SGLD differentiates): training loss or L_B. Call inside tidy. */
function batchLossFn(config: ModelConfig, kind: SgldLossKind, layout: ParamLayout, x: tf.Tensor2D, y: tf.Tensor): (w: tf.Tensor) => tf.Scalar {
  if (kind === 'train') {
    const loss = lossFor(config);
    return (w) => loss.mean(forward(config, w as tf.Tensor1D, x, layout), y);
  }
  // L_B = (1/rows) Σ_x ‖f_w(x) − f_w*(x)‖² (SCIENCE.md §2: sum over outputs, mean over rows).
  return (w) => tf.div(tf.sum(tf.squaredDifference(forward(config, w as tf.Tensor1D, x, layout), y)), x.shape[0]);
}

/** The full-data loss at w, as a scalar tensor (chunked; the caller reads it). */
function fullLossTensor(config: ModelConfig, kind: SgldLossKind, layout: ParamLayout, res: Resident, w: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const n = res.x.shape[0];
    const loss = lossFor(config);
    let acc: tf.Scalar = tf.scalar(0);
    for (let start = 0; start < n; start += EVAL_CHUNK) {
      const size = Math.min(EVAL_CHUNK, n - start);
      const x = tf.slice(res.x, [start, 0], [size, -1]);
      const y = res.y.rank === 1 ? tf.slice(res.y, [start], [size]) : tf.slice(res.y, [start, 0], [size, -1]);
      const out = forward(config, w, x, layout);
      const s = kind === 'train' ? loss.rowSum(out, y) : tf.sum(tf.squaredDifference(out, y));
      acc = tf.add(acc, s);
    }
    return tf.div(acc, n);
  });
}

function uploadTrainingRows(model: ModelBundle, ds: Dataset, kind: SgldLossKind, layout: ParamLayout): Resident {
  const idx = ds.trainIdx;
  const n = idx.length;
  const xs = gatherRows(ds.x, ds.inputDim, idx);
  const x = xs instanceof Int32Array ? tf.tensor2d(xs, [n, ds.inputDim], 'int32') : tf.tensor2d(xs, [n, ds.inputDim], 'float32');
  const wStar = tf.tensor1d(model.theta, 'float32');
  let y: tf.Tensor;
  if (kind === 'behavioral') {
    // f_w*(x) over the training rows, computed once in chunks and kept as the target.
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < n; start += EVAL_CHUNK) {
      const size = Math.min(EVAL_CHUNK, n - start);
      parts.push(tf.tidy(() => forward(model.config, wStar, tf.slice(x, [start, 0], [size, -1]), layout)));
    }
    y = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    if (parts.length > 1) tf.dispose(parts);
  } else if (isClassifier(model.config)) {
    if (!(ds.y instanceof Int32Array)) throw new BadInputError('A classifier needs int32 labels');
    y = tf.tensor1d(gatherRows(ds.y, 1, idx), 'int32');
  } else {
    if (!(ds.y instanceof Float32Array)) throw new BadInputError(`matfac needs float32 targets [n, ${ds.outDim}]`);
    y = tf.tensor2d(gatherRows(ds.y, ds.outDim, idx), [n, ds.outDim], 'float32');
  }
  return { x, y, wStar };
}

/** Mean, sample std and standard error of a list. */
function summarize(v: number[]): { mean: number; std: number; stderr: number } {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : NaN;
  return { mean: m, std, stderr: std / Math.sqrt(v.length) };
}

/** Fills `out` with standard normals from the chain's noise stream. */
function normals(rng: Rng, d: number): Float32Array {
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) out[i] = rng.normal();
  return out;
}

function lossLabelFor(config: ModelConfig, kind: SgldLossKind): string {
  return kind === 'behavioral' ? 'behavioral loss L_B(w | w*) (squared error, sum over outputs, mean over rows)' : `training loss (${lossFor(config).label})`;
}

function fmt(v: number): string {
  return v.toExponential(1).replace('e-', 'e−');
}

/**
 * The SGLD estimate of the LLC at model.theta (w*) on the dataset's training rows. Cancellable
 * (ctx.checkpoint every step); progress and partials every readEvery steps. Throws
 * SgldDivergedError (a BadInputError) naming the chain and step when a chain diverges.
 */
export async function estimateLlc(model: ModelBundle, dataset: Dataset, opts: SgldOptions, ctx: JobContext<SgldPartial>): Promise<SgldResult> {
  const config = model.config;
  const layout = layoutFor(config);
  checkCompatible(model, dataset, layout);
  const n = dataset.trainIdx.length;
  const o = resolveSgldOptions(config, n, opts);
  const d = layout.size;
  if (tf.getBackend() === 'wasm') ensureWasmTrainingKernels();
  const t0 = performance.now();
  const steps = o.burnin + o.draws;
  const { nBeta, gamma, stepSize: eps } = o;
  const sqrtEps = Math.sqrt(eps);
  const maxDist = gamma > 0 ? DIVERGENCE_RADII * Math.sqrt(d / gamma) : Infinity;

  const res = uploadTrainingRows(model, dataset, o.loss, layout);
  const w = tf.variable(res.wStar, false, undefined, 'float32') as tf.Variable<tf.Rank.R1>;
  const chains: SgldChainResult[] = [];
  try {
    ctx.progress(0, 'L(w*) on the full training data');
    // L_B(w* | w*) = 0 by definition; the training loss is read from the device.
    let initLoss = 0;
    if (o.loss === 'train') {
      const l0 = fullLossTensor(config, o.loss, layout, res, res.wStar);
      initLoss = (await l0.data())[0];
      l0.dispose();
      if (!Number.isFinite(initLoss)) throw new BadInputError(`The training loss at w* is ${initLoss}: SGLD needs a finite loss`);
    }
    await ctx.checkpoint();

    const master = makeRng(o.seed);
    const streams = Array.from({ length: o.chains }, () => ({ noise: makeRng(master.fork()), batch: makeRng(master.fork()) }));

    for (let c = 0; c < o.chains; c++) {
      w.assign(res.wStar);
      const noiseRng = streams[c].noise, batchRng = streams[c].batch;
      let order: Int32Array | null = null, cursor = 0;
      const nextRows = (): Int32Array | null => {
        if (o.fullBatch) return null;
        // Epochs of a seeded permutation, like DataLoader(shuffle=True, drop_last=True): every batch
        // has exactly batchSize rows, so the device sees one shape (GPU pipelines compile once).
        if (!order || cursor + o.batchSize > n) { order = permutation(n, batchRng); cursor = 0; }
        const rows = order.subarray(cursor, cursor + o.batchSize);
        cursor += o.batchSize;
        return rows;
      };
      const lossTrace = new Float32Array(steps), distTrace = new Float32Array(steps);
      const accTrace = o.mala ? new Float32Array(steps).fill(NaN) : undefined;
      const fullSteps: number[] = [], fullVals: number[] = [];
      // Per step: [L, ‖w − w*‖²]; with mala, log α of the previous transition; full-data losses.
      let pending: tf.Tensor[] = [];
      let pendingAlpha: { step: number; t: tf.Scalar }[] = [];
      let pendingFull: { step: number; t: tf.Scalar }[] = [];
      let prev: { u: tf.Scalar; drift: tf.Tensor1D; xi: tf.Tensor1D } | null = null;
      let readFrom = 0;
      let drawSum = 0, drawCount = 0;

      const readPending = async (upTo: number): Promise<void> => {
        if (upTo === readFrom) return;
        // One read for everything queued (one GPU round trip): [L, ‖w − w*‖²] per step, then the
        // log α values, then the full-data losses.
        const nA = pendingAlpha.length, nF = pendingFull.length;
        const packed = tf.tidy(() => tf.concat([
          tf.reshape(tf.stack(pending), [-1]),
          ...(nA ? [tf.stack(pendingAlpha.map((a) => a.t))] : []),
          ...(nF ? [tf.stack(pendingFull.map((a) => a.t))] : []),
        ]));
        const all = await packed.data();
        const alphaSteps = pendingAlpha.map((a) => a.step), fullStepList = pendingFull.map((a) => a.step);
        tf.dispose([packed, ...pending, ...pendingAlpha.map((a) => a.t), ...pendingFull.map((a) => a.t)]);
        pending = []; pendingAlpha = []; pendingFull = [];
        const width = 2;
        const vals = all.subarray(0, width * (upTo - readFrom));
        const alphas = nA ? all.subarray(vals.length, vals.length + nA) : null;
        const fulls = nF ? all.subarray(vals.length + nA) : null;
        for (let t = readFrom; t < upTo; t++) {
          const l = vals[(t - readFrom) * width], d2 = vals[(t - readFrom) * width + 1];
          const dist = Math.sqrt(d2);
          if (!Number.isFinite(l) || !Number.isFinite(dist) || dist > maxDist) {
            const what = !Number.isFinite(l) ? `the loss became ${l}` : !Number.isFinite(dist) ? `‖w − w*‖ became ${dist}` : `‖w − w*‖ reached ${dist.toPrecision(3)}, beyond ${DIVERGENCE_RADII}·√(d/γ) = ${maxDist.toPrecision(3)}`;
            throw new SgldDivergedError(
              `SGLD diverged in chain ${c + 1} of ${o.chains} at step ${t + 1} of ${steps}: ${what}. ` +
              `Try a smaller step size (ε_s = ${fmt(eps)} now, e.g. ${fmt(eps / 10)}) or a larger γ (now ${gamma}).`, c, t);
          }
          lossTrace[t] = l;
          distTrace[t] = dist;
          if (t >= o.burnin) { drawSum += l - initLoss; drawCount++; }
        }
        if (alphas && accTrace) alphaSteps.forEach((s, i) => { accTrace[s] = Math.min(1, Math.exp(alphas[i])); });
        if (fulls) fullStepList.forEach((s, i) => { fullSteps.push(s); fullVals.push(fulls[i]); });
        const partial: SgldPartial = {
          chain: c, chains: o.chains, fromStep: readFrom, stepsPerChain: steps, burnin: o.burnin,
          loss: lossTrace.slice(readFrom, upTo), distance: distTrace.slice(readFrom, upTo),
          runningLlc: drawCount > 0 ? nBeta * (drawSum / drawCount) : NaN,
          finishedLlcs: chains.map((ch) => ch.llc), initLoss, nBeta,
        };
        if (accTrace) partial.acceptance = accTrace.slice(readFrom, upTo);
        if (fulls) partial.fullLoss = { steps: Int32Array.from(fullStepList), loss: Float64Array.from(fulls) };
        ctx.partial(partial);
        readFrom = upTo;
        ctx.progress((c * steps + upTo) / (o.chains * steps), `chain ${c + 1}/${o.chains}, ${upTo <= o.burnin ? `burn-in ${upTo}/${o.burnin}` : `draw ${upTo - o.burnin}/${o.draws}`}`);
      };

      try {
        for (let t = 0; t < steps; t++) {
          await ctx.checkpoint();
          const rows = nextRows();
          const xi = normals(noiseRng, d);
          const draw = t - o.burnin;
          if (o.fullLossEvery > 0 && draw >= 0 && draw % o.fullLossEvery === 0) {
            pendingFull.push({ step: t, t: fullLossTensor(config, o.loss, layout, res, w) });
          }
          const out = tf.tidy((): tf.Tensor[] => {
            let xb = res.x, yb = res.y;
            if (rows) {
              const idx = tf.tensor1d(rows, 'int32');
              xb = tf.gather(res.x, idx) as tf.Tensor2D;
              yb = tf.gather(res.y, idx);
            }
            const { value, grad } = o.loss === 'train'
              ? lossAndGradient(config, w, xb, yb, layout)
              : (() => { const r = tf.valueAndGrad(batchLossFn(config, o.loss, layout, xb, yb))(w); return { value: r.value, grad: r.grad as tf.Tensor1D }; })();
            const diff = tf.sub(w, res.wStar);
            const dist2 = tf.sum(tf.square(diff));
            // ∇U = nβ ∇L_B(w) + γ (w − w*)   (SGLD drift)
            const drift = tf.add(tf.mul(grad, nBeta), tf.mul(diff, gamma)) as tf.Tensor1D;
            const noise = tf.tensor1d(xi, 'float32');
            w.assign(tf.add(tf.sub(w, tf.mul(drift, eps / 2)), tf.mul(noise, sqrtEps)) as tf.Tensor1D);
            const stats = tf.stack([value, dist2]);
            if (!o.mala) return [stats];
            const u = tf.add(tf.mul(value, nBeta), tf.mul(dist2, gamma / 2));
            if (!prev) return [stats, u, drift, noise];
            // log α of w_{t−1} → w_t (the MALA ratio in the header comment).
            const s = tf.add(prev.drift, drift);
            const alpha = tf.addN([tf.sub(prev.u, u), tf.mul(tf.sum(tf.square(s)), -eps / 8), tf.mul(tf.sum(tf.mul(s, prev.xi)), sqrtEps / 2)]);
            return [stats, u, drift, noise, alpha];
          });
          pending.push(out[0]);
          if (o.mala) {
            if (out[4]) pendingAlpha.push({ step: t - 1, t: out[4] as tf.Scalar });
            if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
            prev = { u: out[1] as tf.Scalar, drift: out[2] as tf.Tensor1D, xi: out[3] as tf.Tensor1D };
          }
          if ((t + 1) % o.readEvery === 0 || t + 1 === steps) await readPending(t + 1);
        }
      } finally {
        tf.dispose([...pending, ...pendingAlpha.map((a) => a.t), ...pendingFull.map((a) => a.t)]);
        if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
      }

      const draws = lossTrace.subarray(o.burnin);
      let mean = 0, below = 0;
      for (const l of draws) { mean += l; if (l < initLoss) below++; }
      mean /= draws.length;
      const excessTrace = lossTrace.map((l) => l - initLoss);
      const centeredTrace = lossTrace.map((l) => l - mean);
      const chain: SgldChainResult = {
        llc: nBeta * (mean - initLoss), // (LLC)
        lossTrace, excessTrace, centeredTrace, distanceTrace: distTrace,
        fractionBelowInit: below / draws.length,
      };
      if (accTrace) {
        chain.acceptanceTrace = accTrace;
        let s = 0, k = 0;
        for (let t = o.burnin; t < steps; t++) if (!Number.isNaN(accTrace[t])) { s += accTrace[t]; k++; }
        chain.meanAcceptance = k ? s / k : NaN;
      }
      if (o.fullLossEvery > 0) chain.fullLoss = { steps: Int32Array.from(fullSteps), loss: Float64Array.from(fullVals) };
      chains.push(chain);
    }

    const ms = performance.now() - t0;
    const notes = [
      o.fullBatch ? 'Full batch: every draw is the full-data L(w_t).' : `Each draw is L(w_t) on that step's minibatch of ${o.batchSize} rows (as devinterp); L(w*) is over all ${n} training rows.`,
      `nβ = ${nBeta.toPrecision(4)} (${o.nBetaMode}${o.nBetaMode === 'explicit' ? '' : `, ${o.nBetaMode === 'n/log n' ? `n = ${n}` : `batch = ${o.batchSize}`}`}), γ = ${gamma}, ε_s = ${fmt(eps)}.`,
    ];
    if (o.mala && !o.fullBatch) notes.push('MALA acceptance from consecutive minibatches: indicative only (exact with batchSize "full").');
    const all = chains.map((ch) => ch.llc);
    const result: SgldResult = {
      llc: summarize(all),
      chains,
      loss: o.loss,
      lossLabel: lossLabelFor(config, o.loss),
      initLoss,
      options: o,
      n, d,
      fractionBelowInit: chains.reduce((s, ch) => s + ch.fractionBelowInit, 0) / chains.length,
      backend: tf.getBackend(),
      ms,
      stepsPerSecond: (o.chains * steps) / (ms / 1000),
      notes,
    };
    if (o.mala) result.meanAcceptance = chains.reduce((s, ch) => s + (ch.meanAcceptance ?? 0), 0) / chains.length;
    ctx.progress(1, 'done');
    return result;
  } finally {
    w.dispose();
    tf.dispose([res.x, res.y, res.wStar]);
  }
}

// ---------------------------------------------------------------------------------------------
// Calibration grid: λ̂ over ε_s × nβ with health flags (SCIENCE.md §5), for a heatmap.
// ---------------------------------------------------------------------------------------------

export interface CalibrationOptions extends Omit<SgldOptions, 'stepSize' | 'nBeta' | 'nBetaMode'> {
  stepSizes: number[];
  nBetas: number[];
}

/** A MALA acceptance below this marks a cell (SCIENCE.md §5: healthy around 0.9). */
export const LOW_ACCEPTANCE = 0.8;

export type CellHealth = 'ok' | 'diverged' | 'negative' | 'low-acceptance';

export interface CalibrationCell {
  stepSize: number;
  nBeta: number;
  /** Row (nβ index) and column (step-size index) in the heatmap. */
  row: number;
  col: number;
  /** λ̂ (NaN when diverged). */
  llc: { mean: number; std: number; stderr: number };
  diverged: boolean;
  /** λ̂ < 0: the chains found lower loss than w* (not at a minimum, or too large a step). */
  negative: boolean;
  meanAcceptance?: number;
  lowAcceptance: boolean;
  /** The worst problem, for the cell's colour. */
  health: CellHealth;
  message?: string;
}

export interface CalibrationResult {
  stepSizes: number[];
  nBetas: number[];
  /** Row-major: cells[row * stepSizes.length + col] with row = nβ index. */
  cells: CalibrationCell[];
  loss: SgldLossKind;
  lossLabel: string;
  gamma: number;
  ms: number;
}

/**
 * λ̂ for every (ε_s, nβ) pair with a few draws (defaults: 2 chains, 50 draws, burn-in 50, MALA on).
 * Cells stream through ctx.partial as they finish; a diverged cell is flagged, not thrown.
 */
export async function calibrationGrid(model: ModelBundle, dataset: Dataset, opts: CalibrationOptions, ctx: JobContext<CalibrationCell> = createJobContext()): Promise<CalibrationResult> {
  const { stepSizes, nBetas, ...rest } = opts;
  if (!Array.isArray(stepSizes) || stepSizes.length === 0 || !Array.isArray(nBetas) || nBetas.length === 0) {
    throw new BadInputError('The calibration grid needs at least one step size and one nβ');
  }
  const base: SgldOptions = { chains: 2, draws: 50, mala: true, ...rest };
  const t0 = performance.now();
  const cells: CalibrationCell[] = [];
  const total = stepSizes.length * nBetas.length;
  const def = defaultSgldSettings(model.config);
  for (let r = 0; r < nBetas.length; r++) {
    for (let c = 0; c < stepSizes.length; c++) {
      const k = r * stepSizes.length + c;
      const sub: JobContext<SgldPartial> = {
        signal: ctx.signal,
        checkpoint: () => ctx.checkpoint(),
        waitIfPaused: () => ctx.waitIfPaused(),
        partial: () => undefined,
        progress: (f, phase) => ctx.progress((k + f) / total, `ε_s = ${fmt(stepSizes[c])}, nβ = ${nBetas[r].toPrecision(3)}: ${phase}`),
      };
      let cell: CalibrationCell;
      try {
        const res = await estimateLlc(model, dataset, { ...base, stepSize: stepSizes[c], nBeta: nBetas[r], nBetaMode: 'explicit' }, sub);
        const negative = res.llc.mean < 0;
        const lowAcceptance = res.meanAcceptance !== undefined && res.meanAcceptance < LOW_ACCEPTANCE;
        cell = {
          stepSize: stepSizes[c], nBeta: nBetas[r], row: r, col: c, llc: res.llc, diverged: false, negative,
          meanAcceptance: res.meanAcceptance, lowAcceptance,
          health: negative ? 'negative' : lowAcceptance ? 'low-acceptance' : 'ok',
        };
      } catch (e) {
        if (!(e instanceof SgldDivergedError)) throw e;
        cell = {
          stepSize: stepSizes[c], nBeta: nBetas[r], row: r, col: c, llc: { mean: NaN, std: NaN, stderr: NaN },
          diverged: true, negative: false, lowAcceptance: false, health: 'diverged', message: e.message,
        };
      }
      cells.push(cell);
      ctx.partial(cell);
    }
  }
  const loss = rest.loss ?? 'train';
  return { stepSizes: [...stepSizes], nBetas: [...nBetas], cells, loss, lossLabel: lossLabelFor(model.config, loss), gamma: rest.gamma ?? def.gamma, ms: performance.now() - t0 };
}
