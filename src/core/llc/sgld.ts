/**
 * The SGLD estimator of the local learning coefficient (Lau, Murfet & Wei; seed 003; docs/science.md §5, (S14)–(S15)).
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
 * - L is, by default, the per-sample negative log-likelihood (cross-entropy; for matfac the Gaussian
 *   NLL ½‖y − f(x)‖² summed over outputs), or the training objective, or the behavioral loss
 *   L_B(w | w*) (target.ts). The result always says which, with its scale.
 * - γ, ε_s and burn-in are calibrated from pilot chains unless given (calibrate.ts); every result
 *   carries a health verdict (health.ts).
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
 * batchSize 'full' that is every step's exact MALA acceptance. With minibatches, the chain's own
 * transitions use different batches (their "acceptance" would measure batch noise, not the step), so
 * every `malaEvery`-th step instead runs a full-batch probe: from the chain's w_t, one Langevin
 * proposal on the full-batch localized posterior with fresh noise, and its exact MH ratio (the
 * chain itself is not changed). Healthy: ≈ 0.9.
 *
 * On the backend: w is a tf.Variable, w*, the training rows and (for the behavioral loss) f_w*(x)
 * stay resident; per step only the noise vector and the minibatch indices are uploaded, and the
 * step's scalars (L, ‖w − w*‖², log α) are read back in groups of `readEvery` steps, so the device
 * is not stalled by a read every step.
 */
import { BadInputError } from '../errors';
import { createJobContext, subContext, type JobContext } from '../jobs';
import type { Dataset } from '../data/types';
import type { ModelBundle } from '../models/bundle';
import { defaultSgldSettings } from './defaults';
import { calibrateSgld, type CalibrationReport } from './calibrate';
import { fmtSmall as fmt, resolveSgldOptions, sampleLlc, SgldDivergedError, type SgldOptions, type SgldPartial, type SgldResult } from './chain';
import { lossLabelFor, modelTarget, type SgldLossKind, type SgldTarget } from './target';

export { DEFAULT_BATCH, defaultSgldSettings, type SgldDefaults } from './defaults';
export {
  resolveSgldOptions, sampleLlc, validateSgldOptions, SgldDivergedError, FULL_BATCH_ROWS,
  type NBetaMode, type ResolvedSgldOptions, type SgldChainResult, type SgldOptions, type SgldPartial, type SgldResult,
} from './chain';
export { modelTarget, polynomialTarget, type SgldLossKind, type SgldTarget } from './target';
export type { CalibrationReport } from './calibrate';

/** Default budget for calibration plus estimate: the work the reference machine does in this many seconds (calibrate.ts, nominalStepMs). */
export const DEFAULT_BUDGET_SECONDS = 45;

/**
 * λ̂ on a target: calibrate the settings the user did not give (unless opts.calibrate is false),
 * then sample. Progress: calibration 0–40 %, the estimate the rest.
 */
export async function estimateOnTarget(target: SgldTarget, opts: SgldOptions, ctx: JobContext<SgldPartial>, startStep: number, config: ModelBundle['config'] | null): Promise<SgldResult> {
  // A loss given by formula has no rows: every step sees the whole loss (full batch, Metropolis-adjusted).
  const o = resolveSgldOptions(config, target.n, target.kind === 'formula' && opts.batchSize === undefined ? { ...opts, batchSize: 'full' } : opts);
  const needs = opts.calibrate !== false && (opts.gamma === undefined || opts.stepSize === undefined || opts.burnin === undefined || opts.draws === undefined);
  if (!needs) return sampleLlc(target, o, ctx);
  const budgetSeconds = opts.budgetSeconds ?? DEFAULT_BUDGET_SECONDS;
  const handover: { start?: Float32Array } = {};
  const report: CalibrationReport = await calibrateSgld({
    target, base: o, startStep, budgetSeconds, out: handover,
    given: { gamma: opts.gamma !== undefined, stepSize: opts.stepSize !== undefined, burnin: opts.burnin !== undefined, draws: opts.draws !== undefined },
  }, subContext(ctx as JobContext, 0, 0.4, 'calibrating') as JobContext<never>);
  const run = { ...o, ...report.chosen };
  const main: JobContext<SgldPartial> = { ...subContext(ctx as JobContext, 0.4, 1, 'estimate'), partial: (p: SgldPartial) => ctx.partial(p) };
  return sampleLlc(target, run, main, { calibration: report, gammaConfirmed: report.gammaConfirmed, calibrationDoubts: report.doubts, start: handover.start });
}

/**
 * The SGLD estimate of the LLC at model.theta (w*) on the dataset's training rows, calibrated by
 * default (calibrate.ts). Cancellable (ctx.checkpoint every step); progress and partials every
 * readEvery steps. A diverging chain ends the run with a failed verdict (or throws
 * SgldDivergedError, a BadInputError, with onDivergence: 'throw').
 */
export async function estimateLlc(model: ModelBundle, dataset: Dataset, opts: SgldOptions, ctx: JobContext<SgldPartial>): Promise<SgldResult> {
  const target = modelTarget(model, dataset, (opts.loss ?? 'nll') as SgldLossKind);
  try {
    return await estimateOnTarget(target, opts, ctx, defaultSgldSettings(model.config).stepSize, model.config);
  } finally {
    target.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Calibration grid: λ̂ over ε_s × nβ with health flags (docs/science.md §5), for a heatmap.
// ---------------------------------------------------------------------------------------------

export interface CalibrationOptions extends Omit<SgldOptions, 'stepSize' | 'nBeta' | 'nBetaMode'> {
  stepSizes: number[];
  nBetas: number[];
}

/** A MALA acceptance below this marks a cell (docs/science.md §5: healthy around 0.9). */
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
      const sub = subContext(ctx, k / total, (k + 1) / total, `ε_s = ${fmt(stepSizes[c])}, nβ = ${nBetas[r].toPrecision(3)}`);
      let cell: CalibrationCell;
      try {
        const res = await estimateLlc(model, dataset, { burnin: 50, ...base, gamma: rest.gamma ?? def.gamma, stepSize: stepSizes[c], nBeta: nBetas[r], nBetaMode: 'explicit', calibrate: false, onDivergence: 'throw' }, sub);
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
  const loss = rest.loss ?? 'nll';
  return { stepSizes: [...stepSizes], nBetas: [...nBetas], cells, loss, lossLabel: lossLabelFor(model.config, loss), gamma: rest.gamma ?? def.gamma, ms: performance.now() - t0 };
}
