/**
 * The SGLD chain sampler on a target (target.ts): traces, λ̂ and its health verdict for fully
 * resolved options. estimateLlc (sgld.ts) resolves and calibrates the options first; the
 * conventions are in sgld.ts's header.
 */
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../errors';
import type { JobContext } from '../jobs';
import type { ModelConfig } from '../models/config';
import { makeRng, permutation, type Rng } from '../rng';
import { meanStd } from '../stats';
import { DEFAULT_BATCH, defaultSgldSettings } from './defaults';
import { assessHealth, type Health } from './health';
import type { SgldLossKind, SgldTarget } from './target';
import type { CalibrationReport } from './calibrate';

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
const DIVERGENCE_RADII = 20;
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
  if (o.budgetSeconds !== undefined && !(Number.isFinite(o.budgetSeconds) && o.budgetSeconds > 0)) errs.push(`the time budget must be a positive number of seconds (got ${o.budgetSeconds})`);
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

/** Fills `out` with standard normals from the chain's noise stream. */
function normals(rng: Rng, d: number): Float32Array {
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) out[i] = rng.normal();
  return out;
}

export function fmtSmall(v: number): string {
  return v.toExponential(1).replace('e-', 'e−');
}

/** What the calibration hands the sampler besides the options (for the health verdict). */
export interface SampleExtras {
  calibration?: CalibrationReport;
  gammaConfirmed?: boolean;
  calibrationDoubts?: string[];
}

/**
 * SGLD chains on a target with fully resolved options: the traces, λ̂ and its health verdict.
 * Cancellable (ctx.checkpoint every step); progress and partials every readEvery steps. The
 * target stays owned by the caller.
 */
export async function sampleLlc(target: SgldTarget, o: ResolvedSgldOptions, ctx: JobContext<SgldPartial>, extras: SampleExtras = {}): Promise<SgldResult> {
  const t0 = performance.now();
  const d = target.d, n = target.n;
  const steps = o.burnin + o.draws;
  const { nBeta, gamma, stepSize: eps } = o;
  const sqrtEps = Math.sqrt(eps);
  const maxDist = gamma > 0 ? DIVERGENCE_RADII * Math.sqrt(d / gamma) : Infinity;
  const fullBatch = o.fullBatch || n <= o.batchSize;
  const adjust = o.metropolis && fullBatch;
  const w = tf.variable(target.wStar, false, undefined, 'float32') as tf.Variable<tf.Rank.R1>;
  const chains: SgldChainResult[] = [];
  let gHat: tf.Tensor1D | null = null;
  let diverged: SgldResult['diverged'];

  ctx.progress(0, 'L(w*) on the full training data');
  let initLoss = 0;
  try {
    if (target.kind !== 'behavioral') {
      const l0 = tf.tidy(() => target.fullLoss(target.wStar));
      initLoss = (await l0.data())[0];
      l0.dispose();
      if (!Number.isFinite(initLoss)) throw new BadInputError(`The loss at w* is ${initLoss}: SGLD needs a finite loss`);
    }
    if (o.normalToGradient) {
      const g = tf.tidy(() => target.lossAndGrad(target.wStar, null).grad);
      const norm = (await tf.tidy(() => tf.norm(g)).data())[0];
      if (norm > 1e-20) gHat = tf.tidy(() => tf.div(g, norm) as tf.Tensor1D);
      g.dispose();
    }
    await ctx.checkpoint();
    // v − (v·ĝ)ĝ: the step restricted to the hyperplane normal to ∇L(w*).
    const proj = (v: tf.Tensor1D): tf.Tensor1D => (gHat ? tf.sub(v, tf.mul(gHat, tf.sum(tf.mul(v, gHat)))) as tf.Tensor1D : v);
    /** U(w) = nβ L(w) + γ/2 ‖w − w*‖² and its (projected) gradient, from a loss value and gradient. Inside tidy. */
    const potential = (at: tf.Tensor1D, value: tf.Scalar, grad: tf.Tensor1D) => {
      const diff = tf.sub(at, target.wStar);
      const dist2 = tf.sum(tf.square(diff));
      const u = tf.add(tf.mul(value, nBeta), tf.mul(dist2, gamma / 2)) as tf.Scalar;
      const drift = proj(tf.add(tf.mul(grad, nBeta), tf.mul(diff, gamma)) as tf.Tensor1D);
      return { u, drift, dist2 };
    };
    /** log α of a Langevin move x → y with drifts ∇U(x), ∇U(y) and the (projected) noise ξ. Inside tidy. */
    const logAlpha = (u0: tf.Scalar, drift0: tf.Tensor1D, u1: tf.Scalar, drift1: tf.Tensor1D, xi: tf.Tensor1D): tf.Scalar => {
      const s = tf.add(drift0, drift1);
      return tf.addN([tf.sub(u0, u1), tf.mul(tf.sum(tf.square(s)), -eps / 8), tf.mul(tf.sum(tf.mul(s, xi)), sqrtEps / 2)]) as tf.Scalar;
    };

    const master = makeRng(o.seed);
    const streams = Array.from({ length: o.chains }, () => ({ noise: makeRng(master.fork()), batch: makeRng(master.fork()) }));
    const probeStreams = Array.from({ length: o.chains }, () => makeRng(master.fork()));
    // Forked after the others, so the noise and batch streams of a seed are the same with or without it.
    const acceptStreams = Array.from({ length: o.chains }, () => makeRng(master.fork()));

    for (let c = 0; c < o.chains && !diverged; c++) {
      w.assign(target.wStar);
      const noiseRng = streams[c].noise, batchRng = streams[c].batch, probeRng = probeStreams[c], acceptRng = acceptStreams[c];
      let order: Int32Array | null = null, cursor = 0;
      const nextRows = (): Int32Array | null => {
        if (fullBatch) return null;
        // Epochs of a seeded permutation, like DataLoader(shuffle=True, drop_last=True): every batch
        // has exactly batchSize rows, so the device sees one shape (GPU pipelines compile once).
        if (!order || cursor + o.batchSize > n) { order = permutation(n, batchRng); cursor = 0; }
        const rows = order.subarray(cursor, cursor + o.batchSize);
        cursor += o.batchSize;
        return rows;
      };
      const lossTrace = new Float32Array(steps).fill(NaN), distTrace = new Float32Array(steps).fill(NaN);
      const accTrace = o.mala || adjust ? new Float32Array(steps).fill(NaN) : undefined;
      const fullSteps: number[] = [], fullVals: number[] = [];
      // Per step: [L, ‖w − w*‖²]; with mala, log α values (of a transition or a probe); full-data losses.
      let pending: tf.Tensor[] = [];
      let pendingAlpha: { step: number; t: tf.Scalar }[] = [];
      let pendingFull: { step: number; t: tf.Scalar }[] = [];
      let prev: { u: tf.Scalar; drift: tf.Tensor1D; xi: tf.Tensor1D } | null = null;
      // Metropolis-adjusted runs: the current state's L, U, ∇U and ‖w − w*‖² (kept across steps).
      let cur: { value: tf.Scalar; u: tf.Scalar; drift: tf.Tensor1D; dist2: tf.Scalar } | null = null;
      let readFrom = 0;
      let drawSum = 0, drawCount = 0;
      let stoppedAt = -1;

      const readPending = async (upTo: number): Promise<void> => {
        if (upTo === readFrom) return;
        // One read for everything queued (one GPU round trip).
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
        const vals = all.subarray(0, 2 * (upTo - readFrom));
        const alphas = nA ? all.subarray(vals.length, vals.length + nA) : null;
        const fulls = nF ? all.subarray(vals.length + nA) : null;
        for (let t = readFrom; t < upTo; t++) {
          const l = vals[(t - readFrom) * 2], dist = Math.sqrt(vals[(t - readFrom) * 2 + 1]);
          if (!Number.isFinite(l) || !Number.isFinite(dist) || dist > maxDist) {
            const what = !Number.isFinite(l) ? `the loss became ${l}` : !Number.isFinite(dist) ? `‖w − w*‖ became ${dist}` : `‖w − w*‖ reached ${dist.toPrecision(3)}, beyond ${DIVERGENCE_RADII}·√(d/γ) = ${maxDist.toPrecision(3)}`;
            const message = `SGLD diverged in chain ${c + 1} of ${o.chains} at step ${t + 1} of ${steps}: ${what}. ` +
              `Try a smaller step size (ε_s = ${fmtSmall(eps)} now, e.g. ${fmtSmall(eps / 10)}) or a larger γ (now ${gamma}).`;
            if (o.onDivergence === 'throw') throw new SgldDivergedError(message, c, t);
            diverged = { chain: c, step: t, message };
            stoppedAt = t;
            break;
          }
          lossTrace[t] = l;
          distTrace[t] = dist;
          if (t >= o.burnin) { drawSum += l - initLoss; drawCount++; }
        }
        if (alphas && accTrace) alphaSteps.forEach((s, i) => { accTrace[s] = Math.min(1, Math.exp(alphas[i])); });
        if (fulls) fullStepList.forEach((s, i) => { fullSteps.push(s); fullVals.push(fulls[i]); });
        const to = stoppedAt >= 0 ? stoppedAt : upTo;
        const partial: SgldPartial = {
          chain: c, chains: o.chains, fromStep: readFrom, stepsPerChain: steps, burnin: o.burnin,
          loss: lossTrace.slice(readFrom, to), distance: distTrace.slice(readFrom, to),
          runningLlc: drawCount > 0 ? nBeta * (drawSum / drawCount) : NaN,
          finishedLlcs: chains.map((ch) => ch.llc), initLoss, nBeta,
        };
        if (accTrace) partial.acceptance = accTrace.slice(readFrom, to);
        if (fulls) partial.fullLoss = { steps: Int32Array.from(fullStepList), loss: Float64Array.from(fulls) };
        ctx.partial(partial);
        readFrom = upTo;
        ctx.progress((c * steps + upTo) / (o.chains * steps), `chain ${c + 1}/${o.chains}, ${upTo <= o.burnin ? `burn-in ${upTo}/${o.burnin}` : `draw ${upTo - o.burnin}/${o.draws}`}`);
      };

      try {
        for (let t = 0; t < steps && stoppedAt < 0; t++) {
          await ctx.checkpoint();
          const rows = nextRows();
          const xi = normals(noiseRng, d);
          const draw = t - o.burnin;
          if (o.fullLossEvery > 0 && draw >= 0 && draw % o.fullLossEvery === 0) {
            pendingFull.push({ step: t, t: tf.tidy(() => target.fullLoss(w)) });
          }
          // A full-batch MALA probe from w_t (minibatch runs only; the chain is not moved by it).
          if (o.mala && !fullBatch && draw >= 0 && (draw + 1) % o.malaEvery === 0) {
            const probeXi = normals(probeRng, d);
            pendingAlpha.push({
              step: t,
              t: tf.tidy(() => {
                const a = target.lossAndGrad(w, null);
                const p0 = potential(w, a.value, a.grad);
                const z = proj(tf.tensor1d(probeXi, 'float32'));
                const y = tf.add(tf.sub(w, tf.mul(p0.drift, eps / 2)), tf.mul(z, sqrtEps)) as tf.Tensor1D;
                const b = target.lossAndGrad(y, null);
                const p1 = potential(y, b.value, b.grad);
                return logAlpha(p0.u, p0.drift, p1.u, p1.drift, z);
              }),
            });
          }
          if (adjust) {
            // MALA with rejection: propose y = w − (ε/2)∇U(w) + √ε ξ, accept with min(1, α). The draw
            // of step t is the state before the move (as in the unadjusted chain).
            const c0: NonNullable<typeof cur> = cur ?? tf.tidy(() => {
              const a = target.lossAndGrad(w, null);
              const p = potential(w, a.value, a.grad);
              return { value: a.value, u: p.u, drift: p.drift, dist2: p.dist2 as tf.Scalar };
            });
            cur = c0;
            const logU = Math.log(Math.max(acceptRng.next(), 1e-300));
            const out = tf.tidy((): tf.Tensor[] => {
              const noise = proj(tf.tensor1d(xi, 'float32'));
              const y = tf.add(tf.sub(w, tf.mul(c0.drift, eps / 2)), tf.mul(noise, sqrtEps)) as tf.Tensor1D;
              const b = target.lossAndGrad(y, null);
              const p1 = potential(y, b.value, b.grad);
              const la = logAlpha(c0.u, c0.drift, p1.u, p1.drift, noise);
              // A NaN α (a proposal into overflow) compares false: rejected.
              const accept = tf.less(tf.scalar(logU), la);
              w.assign(tf.where(accept, y, w) as tf.Tensor1D);
              return [tf.stack([c0.value, c0.dist2]), la, tf.where(accept, b.value, c0.value), tf.where(accept, p1.u, c0.u), tf.where(accept, p1.drift, c0.drift), tf.where(accept, p1.dist2, c0.dist2)];
            });
            pending.push(out[0]);
            pendingAlpha.push({ step: t, t: out[1] as tf.Scalar });
            tf.dispose([c0.value, c0.u, c0.drift, c0.dist2]);
            cur = { value: out[2] as tf.Scalar, u: out[3] as tf.Scalar, drift: out[4] as tf.Tensor1D, dist2: out[5] as tf.Scalar };
            if ((t + 1) % o.readEvery === 0 || t + 1 === steps) await readPending(t + 1);
            continue;
          }
          const out = tf.tidy((): tf.Tensor[] => {
            const rowsT = rows ? tf.tensor1d(rows, 'int32') : null;
            const { value, grad } = target.lossAndGrad(w, rowsT);
            const { u, drift, dist2 } = potential(w, value, grad);
            const noise = proj(tf.tensor1d(xi, 'float32'));
            w.assign(tf.add(tf.sub(w, tf.mul(drift, eps / 2)), tf.mul(noise, sqrtEps)) as tf.Tensor1D);
            const stats = tf.stack([value, dist2]);
            if (!o.mala || !fullBatch) return [stats];
            if (!prev) return [stats, u, drift, noise];
            // log α of w_{t−1} → w_t on the full batch (the MALA ratio in the header comment).
            return [stats, u, drift, noise, logAlpha(prev.u, prev.drift, u, drift, prev.xi)];
          });
          pending.push(out[0]);
          if (out.length > 1) {
            if (out[4]) pendingAlpha.push({ step: t - 1, t: out[4] as tf.Scalar });
            if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
            prev = { u: out[1] as tf.Scalar, drift: out[2] as tf.Tensor1D, xi: out[3] as tf.Tensor1D };
          }
          if ((t + 1) % o.readEvery === 0 || t + 1 === steps) await readPending(t + 1);
        }
      } finally {
        tf.dispose([...pending, ...pendingAlpha.map((a) => a.t), ...pendingFull.map((a) => a.t)]);
        if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
        if (cur) tf.dispose([cur.value, cur.u, cur.drift, cur.dist2]);
      }

      const drawsArr = lossTrace.subarray(o.burnin);
      let mean = 0, below = 0;
      for (const l of drawsArr) { mean += l; if (l < initLoss) below++; }
      mean /= drawsArr.length;
      const chain: SgldChainResult = {
        llc: nBeta * (mean - initLoss), // (LLC); NaN when the chain diverged
        lossTrace, excessTrace: lossTrace.map((l) => l - initLoss), centeredTrace: lossTrace.map((l) => l - mean), distanceTrace: distTrace,
        fractionBelowInit: below / drawsArr.length,
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
  } finally {
    w.dispose();
    gHat?.dispose();
  }

  const ms = performance.now() - t0;
  const notes = [
    fullBatch ? 'Full batch: every draw is the full-data L(w_t).' : `Each draw is L(w_t) on that step's minibatch of ${o.batchSize} rows (as devinterp); L(w*) is over all ${n} training rows.`,
    `nβ = ${nBeta.toPrecision(4)} (${o.nBetaMode}${o.nBetaMode === 'explicit' ? '' : `, ${o.nBetaMode === 'n/log n' ? `n = ${n}` : `batch = ${o.batchSize}`}`}), γ = ${gamma}, ε_s = ${fmtSmall(eps)}.`,
    `L is the ${target.label}.`,
  ];
  if (adjust) notes.push('Metropolis-adjusted Langevin (MALA with rejection): the chains sample the localized posterior exactly; the acceptance is the mean MH probability of the proposals.');
  else if (o.mala) notes.push(fullBatch ? 'MALA acceptance: exact, of every full-batch transition (not used to reject).' : `MALA acceptance: exact, from a full-batch probe every ${o.malaEvery} draws.`);
  if (o.normalToGradient) notes.push(gHat ? 'Steps restricted to the hyperplane normal to ∇L(w*).' : '∇L(w*) = 0: the normal-to-gradient restriction changes nothing.');
  const llcs = chains.map((ch) => ch.llc);
  const llc = diverged ? { mean: NaN, std: NaN, stderr: NaN } : meanStd(llcs);
  const accs = chains.map((ch) => ch.meanAcceptance).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const meanAcceptance = (o.mala || adjust) && accs.length ? accs.reduce((s, v) => s + v, 0) / accs.length : undefined;
  const health = assessHealth({
    draws: chains.map((ch) => ch.excessTrace.subarray(o.burnin)),
    distances: chains.map((ch) => ch.distanceTrace.subarray(o.burnin)),
    nBeta, gamma, d, llc, meanAcceptance: meanAcceptance ?? null,
    diverged: diverged?.message,
    gammaConfirmed: extras.gammaConfirmed, calibrationDoubts: extras.calibrationDoubts, metropolis: adjust,
  });
  const result: SgldResult = {
    llc, chains, loss: target.kind, lossLabel: target.label, initLoss, options: o, n, d,
    fractionBelowInit: chains.reduce((s, ch) => s + ch.fractionBelowInit, 0) / Math.max(1, chains.length),
    health, backend: tf.getBackend(), ms,
    stepsPerSecond: (chains.length * steps) / (ms / 1000),
    notes,
  };
  if (meanAcceptance !== undefined) result.meanAcceptance = meanAcceptance;
  if (diverged) result.diverged = diverged;
  if (extras.calibration) result.calibration = extras.calibration;
  ctx.progress(1, 'done');
  return result;
}
