/**
 * SGLD options and results: what a caller may set (SgldOptions), what a run used
 * (ResolvedSgldOptions, with every default filled in), validation in words a user can act on, and
 * the result and partial types the sampler (chain.ts) produces.
 */
import { BadInputError } from '../errors';
import type { ModelConfig } from '../models/config';
import { DEFAULT_BATCH, defaultSgldSettings } from './defaults';
import type { Health } from './health';
import type { CalibrationReport } from './calibrate';
import type { SgldLossKind } from './target';
export type { SgldLossKind } from './target';
export type NBetaMode = 'n/log n' | 'batch/log batch' | 'explicit';

export interface SgldOptions {
  /** Inverse temperature times n. Giving it without nBetaMode means 'explicit'. */
  nBeta?: number;
  /** How nβ is chosen (default 'n/log n', or 'explicit' when nBeta is given). */
  nBetaMode?: NBetaMode;
  /** Localization strength γ (default: calibrated; without calibration defaultSgldSettings(config).gamma). */
  gamma?: number;
  /** SGLD step size ε_s (default: calibrated; without calibration defaultSgldSettings(config).stepSize). */
  stepSize?: number;
  /** Independent chains, each with its own seeded noise and minibatch streams (default 4). */
  chains?: number;
  /** Draws per chain after burn-in (default: calibrated, at least 200; 200 without calibration). */
  draws?: number;
  /** Burn-in steps per chain (default: calibrated; = draws without calibration). */
  burnin?: number;
  /** Rows per step (default: all rows up to 2,048, else 512), or 'full'. */
  batchSize?: number | 'full';
  /** Which L (default 'nll', the per-sample negative log-likelihood; target.ts). */
  loss?: SgldLossKind;
  seed?: number;
  /** Compute the MALA acceptance (default true; exact on the full batch, see the header). */
  mala?: boolean;
  /**
   * Metropolis-adjust every full-batch step (default: true when the run is full batch and mala is
   * on): the Langevin proposal is accepted with probability min(1, α), so the chain samples the
   * localized posterior exactly at any step size and cannot diverge into stiff regions; the step
   * size then sets only how fast it mixes. Minibatch runs never adjust (their α would measure batch
   * noise).
   */
  metropolis?: boolean;
  /** With minibatches: one full-batch MALA probe every this many steps (default 10). */
  malaEvery?: number;
  /** Evaluate the full-data L(w_t) at every k-th draw (default 0: never). */
  fullLossEvery?: number;
  /** Steps between reads of the step scalars, divergence checks, progress and partials (default 10). */
  readEvery?: number;
  /** Restrict every step to the hyperplane normal to ∇L(w*) (seed 003's refinement for non-minima). */
  normalToGradient?: boolean;
  /** Choose γ, ε_s, burn-in and draws from pilot chains when not given (default true; calibrate.ts). */
  calibrate?: boolean;
  /** Seconds the calibration and the estimate may take together, roughly (default 60). */
  budgetSeconds?: number;
  /** A diverging chain stops the run with SgldDivergedError ('throw') or ends it with a failed verdict ('report', default). */
  onDivergence?: 'throw' | 'report';
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
  /** Full-batch steps are Metropolis-adjusted (MALA with rejection). */
  metropolis: boolean;
  malaEvery: number;
  fullLossEvery: number;
  readEvery: number;
  normalToGradient: boolean;
  onDivergence: 'throw' | 'report';
}

export interface SgldChainResult {
  /** λ̂ of this chain: nβ (mean of the draws of L − L(w*)); NaN if it diverged. */
  llc: number;
  /** L(w_t) per step (minibatch loss at w_t, before the step), burn-in included: length burnin + draws (NaN after a divergence). */
  lossTrace: Float32Array;
  /** L(w_t) − L(w*): the summand of λ̂ / nβ (same length). */
  excessTrace: Float32Array;
  /** L(w_t) minus this chain's mean over its draws (same length): for comparing chains' fluctuations. */
  centeredTrace: Float32Array;
  /** ‖w_t − w*‖ per step (same length). */
  distanceTrace: Float32Array;
  /** MALA acceptance probability per step where measured (NaN elsewhere). */
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
  loss: SgldLossKind | 'formula';
  /** What L is, with its scale, for axis labels: e.g. "negative log-likelihood (cross-entropy, mean over rows)". */
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
  /** The verdict on this estimate and its reasons. */
  health: Health;
  /** How γ, ε_s, burn-in and draws were chosen (absent when all were given). */
  calibration?: CalibrationReport;
  /** The divergence that ended the run, if one did. */
  diverged?: { chain: number; step: number; message: string };
  backend: string;
  ms: number;
  /** SGLD steps per second (burn-in included; one draw per step). */
  stepsPerSecond: number;
  /** Conventions of this run in words (minibatch draws, MALA probes...). */
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
export const DIVERGENCE_RADII = 20;
/** Full batch by default up to this many rows (minibatches of DEFAULT_BATCH above). */
export const FULL_BATCH_ROWS = 2048;
/** Steps between full-batch MALA probes with minibatches. */
const MALA_EVERY = 10;

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
  if (o.loss !== undefined && !['nll', 'train', 'behavioral'].includes(o.loss)) errs.push(`loss must be "nll", "train" or "behavioral" (got ${String(o.loss)})`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) errs.push(`seed must be an integer (got ${o.seed})`);
  if (o.malaEvery !== undefined && !posInt(o.malaEvery)) errs.push(`malaEvery must be a whole number ≥ 1 (got ${o.malaEvery})`);
  if (o.fullLossEvery !== undefined && !natInt(o.fullLossEvery)) errs.push(`fullLossEvery must be a whole number ≥ 0 (got ${o.fullLossEvery})`);
  if (o.readEvery !== undefined && !posInt(o.readEvery)) errs.push(`readEvery must be a whole number ≥ 1 (got ${o.readEvery})`);
  if (o.budgetSeconds !== undefined && !(Number.isFinite(o.budgetSeconds) && o.budgetSeconds > 0)) errs.push(`the budget must be a positive number of seconds (got ${o.budgetSeconds})`);
  if (o.onDivergence !== undefined && o.onDivergence !== 'throw' && o.onDivergence !== 'report') errs.push(`onDivergence must be "throw" or "report" (got ${String(o.onDivergence)})`);
  return errs;
}

/** Fallback γ and ε_s for a loss given by formula (no architecture). */
const GENERIC_DEFAULTS = { gamma: 100, stepSize: 1e-4 };

/**
 * The defaults filled in for a model with n training rows (config null: a formula target).
 * γ and ε_s fall back to the per-architecture constants here; estimateLlc calibrates them first
 * unless told not to. Throws BadInputError on invalid options.
 */
export function resolveSgldOptions(config: ModelConfig | null, n: number, o: SgldOptions): ResolvedSgldOptions {
  const errs = validateSgldOptions(o);
  if (errs.length) throw new BadInputError(`Invalid SGLD options: ${errs.join('; ')}`);
  const def = config ? defaultSgldSettings(config) : GENERIC_DEFAULTS;
  const defaultBatch = n <= FULL_BATCH_ROWS ? n : DEFAULT_BATCH;
  const fullBatch = o.batchSize === 'full' || (o.batchSize ?? defaultBatch) >= n;
  const batchSize = fullBatch ? n : (o.batchSize as number | undefined) ?? defaultBatch;
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
    loss: o.loss ?? 'nll',
    seed: o.seed ?? 0,
    mala: o.mala ?? true,
    metropolis: fullBatch && (o.metropolis ?? (o.mala ?? true)),
    malaEvery: o.malaEvery ?? MALA_EVERY,
    fullLossEvery: o.fullLossEvery ?? 0,
    readEvery: o.readEvery ?? 10,
    normalToGradient: o.normalToGradient ?? false,
    onDivergence: o.onDivergence ?? 'report',
  };
}

/** A step size or other small number for messages: 3.0e−4 (with a real minus sign). */
export function fmtSmall(v: number): string {
  return v.toExponential(1).replace('e-', 'e−');
}
