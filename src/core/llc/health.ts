/**
 * How far an SGLD estimate can be trusted: trace statistics (effective sample size, split-R̂,
 * drift between the halves of the draws) and the verdict every estimate carries,
 * {verdict: 'ok' | 'doubtful' | 'failed', reasons}. Pure functions of the traces (no tfjs), so
 * the UI, the CLI and sessions can recompute and explain them.
 *
 * The rules (thresholds named below; a reason names the measured value and the threshold):
 * - failed: a chain diverged or produced NaN; λ̂ < 0 by more than 2 standard errors (the chains
 *   found lower loss than w*: w* is not a local minimum at this temperature); mean MALA acceptance
 *   below FAILED_ACCEPTANCE (the step size is far too large: the sampler does not sample the
 *   posterior).
 * - doubtful: acceptance below LOW_ACCEPTANCE for unadjusted chains (the step is then large enough
 *   to bias λ̂), below MALA_LOW_ACCEPTANCE for Metropolis-adjusted ones (which stay exact: a low
 *   acceptance only slows mixing, which the ESS, R̂ and drift checks measure directly; 0.5 is below
 *   the ≈ 0.574 that is optimal for MALA, Roberts & Rosenthal, JRSS B 60 (1998) 255–268); the draws of a chain drift (the means of its first
 *   and second halves differ by more than DRIFT_Z standard errors, the standard errors from the
 *   halves' effective sample sizes): burn-in too short or the chain still relaxing; chains disagree
 *   (split-R̂ over all chains' draws above RHAT_MAX); too few effective draws (ESS < MIN_ESS) for a
 *   standard error to mean anything; localization dominating (the chains' mean ‖w − w*‖² is more
 *   than LOCALIZED_SHARE of the prior's d/γ, so the loss confines few directions and λ̂ mostly counts
 *   γ; reported unless the γ calibration showed that lowering γ does not raise λ̂); the calibration
 *   could not confirm its γ (λ̂ still rising when γ was lowered, within the budget).
 */

export type Verdict = 'ok' | 'doubtful' | 'failed';

export interface Health {
  verdict: Verdict;
  /** Why, in words a user can act on (empty when ok). */
  reasons: string[];
  /** The measured statistics behind the verdict. */
  checks: HealthChecks;
}

export interface HealthChecks {
  /** Effective sample size of the draws, summed over chains. */
  ess: number;
  /** Split-R̂ over all chains' draws (NaN with fewer than 4 draws in total). */
  rhat: number;
  /** Largest |mean(first half) − mean(second half)| / se over the chains. */
  driftZ: number;
  /** Mean ‖w − w*‖² over the draws divided by d/γ (NaN when γ = 0). */
  localizedShare: number;
  meanAcceptance: number | null;
}

export const FAILED_ACCEPTANCE = 0.5;
export const LOW_ACCEPTANCE = 0.8;
export const MALA_LOW_ACCEPTANCE = 0.5;
export const DRIFT_Z = 4;
export const RHAT_MAX = 1.1;
export const MIN_ESS = 40;
export const LOCALIZED_SHARE = 0.5;

/** Mean and (population) variance. */
function meanVar(x: ArrayLike<number>): { mean: number; variance: number } {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i];
  m /= x.length || 1;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - m) ** 2;
  return { mean: m, variance: x.length ? v / x.length : NaN };
}

/**
 * Effective sample size of a trace by Geyer's initial monotone sequence: τ = −1 + 2 Σ Γ_k over
 * the pairs Γ_k = ρ_{2k} + ρ_{2k+1} while they stay positive (made non-increasing); ESS = N / τ.
 */
export function effectiveSampleSize(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 4) return n;
  const { mean, variance } = meanVar(x);
  if (!(variance > 0)) return n;
  const rho = (lag: number): number => {
    let s = 0;
    for (let i = 0; i + lag < n; i++) s += (x[i] - mean) * (x[i + lag] - mean);
    return s / (n * variance);
  };
  let tau = -1, prev = Infinity;
  for (let k = 0; 2 * k + 1 < n; k++) {
    let g = rho(2 * k) + rho(2 * k + 1);
    if (g <= 0) break;
    g = Math.min(g, prev);
    prev = g;
    tau += 2 * g;
  }
  tau = Math.max(tau, 1 / Math.log10(Math.max(n, 10))); // ESS ≤ N·log10 N (antithetic chains are rare)
  return n / tau;
}

/** Standard error of the mean of a trace, from its effective sample size. */
export function traceStderr(x: ArrayLike<number>): number {
  const { variance } = meanVar(x);
  return Math.sqrt(variance / Math.max(1, effectiveSampleSize(x)));
}

/** The drift statistic: |mean of the first half − mean of the second half| / its standard error. */
export function driftZ(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 8) return NaN;
  const a = Array.prototype.slice.call(x, 0, Math.floor(n / 2)) as number[];
  const b = Array.prototype.slice.call(x, Math.floor(n / 2)) as number[];
  const se = Math.hypot(traceStderr(a), traceStderr(b));
  const diff = Math.abs(meanVar(a).mean - meanVar(b).mean);
  return se > 0 ? diff / se : diff > 0 ? Infinity : 0;
}

/** Split-R̂ (Gelman et al.): every chain's draws cut in two halves, between- vs within-half variance. */
export function splitRhat(chains: ArrayLike<number>[]): number {
  const halves: number[][] = [];
  for (const c of chains) {
    const h = Math.floor(c.length / 2);
    if (h < 2) continue;
    halves.push(Array.prototype.slice.call(c, 0, h) as number[], Array.prototype.slice.call(c, c.length - h) as number[]);
  }
  if (halves.length < 2) return NaN;
  const n = Math.min(...halves.map((h) => h.length));
  const stats = halves.map((h) => meanVar(h.slice(0, n)));
  const grand = stats.reduce((s, v) => s + v.mean, 0) / stats.length;
  const B = (n / (stats.length - 1)) * stats.reduce((s, v) => s + (v.mean - grand) ** 2, 0);
  const W = stats.reduce((s, v) => s + v.variance * n / (n - 1), 0) / stats.length;
  if (!(W > 0)) return B > 0 ? Infinity : 1;
  const varPlus = ((n - 1) / n) * W + B / n;
  return Math.sqrt(varPlus / W);
}

export interface HealthInput {
  /** Per chain: the draws (after burn-in) of L(w_t) − L(w*), and of ‖w_t − w*‖. */
  draws: ArrayLike<number>[];
  distances: ArrayLike<number>[];
  nBeta: number;
  gamma: number;
  d: number;
  llc: { mean: number; stderr: number };
  meanAcceptance: number | null;
  /** A chain diverged (its message). */
  diverged?: string;
  /** The γ calibration confirmed that lowering γ does not raise λ̂ (skips the localization rule). */
  gammaConfirmed?: boolean;
  /** Reasons the calibration itself gives for doubt (e.g. λ̂ still rising at the smallest γ tried). */
  calibrationDoubts?: string[];
  /** The chains were Metropolis-adjusted: a low acceptance slows mixing but biases nothing. */
  metropolis?: boolean;
}

const f3 = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(2) : v.toPrecision(3));

/** The verdict on an estimate, with its reasons. */
export function assessHealth(h: HealthInput): Health {
  const failed: string[] = [], doubtful: string[] = [];
  const chainEss = h.draws.map((c) => effectiveSampleSize(c));
  const ess = chainEss.reduce((s, v) => s + v, 0);
  const rhat = splitRhat(h.draws);
  const drifts = h.draws.map((c) => driftZ(c));
  const maxDrift = drifts.reduce((m, v) => (Number.isFinite(v) || v === Infinity ? Math.max(m, v) : m), 0);
  let dist2 = 0, cnt = 0;
  for (const c of h.distances) for (let i = 0; i < c.length; i++) { dist2 += c[i] * c[i]; cnt++; }
  const localizedShare = h.gamma > 0 && cnt ? (dist2 / cnt) / (h.d / h.gamma) : NaN;
  const checks: HealthChecks = { ess, rhat, driftZ: maxDrift, localizedShare, meanAcceptance: h.meanAcceptance };

  if (h.diverged) failed.push(h.diverged);
  const anyNaN = h.draws.some((c) => Array.prototype.some.call(c, (v: number) => !Number.isFinite(v))) || !Number.isFinite(h.llc.mean);
  if (anyNaN && !h.diverged) failed.push('the loss became NaN or infinite during sampling');
  if (Number.isFinite(h.llc.mean) && h.llc.mean < 0 && (!(h.llc.stderr > 0) || h.llc.mean < -2 * h.llc.stderr)) {
    failed.push(`λ̂ = ${f3(h.llc.mean)} < 0: the chains found lower loss than at w*, so w* is not a local minimum at this temperature (train further, or use the behavioral loss)`);
  }
  if (h.meanAcceptance !== null && Number.isFinite(h.meanAcceptance)) {
    if (h.metropolis) {
      if (h.meanAcceptance < MALA_LOW_ACCEPTANCE) doubtful.push(`MALA acceptance ${f3(h.meanAcceptance)} < ${MALA_LOW_ACCEPTANCE}: the step size is too large (≈ 0.57 is optimal for MALA); the Metropolis-adjusted chains stay exact but mix slowly`);
    } else if (h.meanAcceptance < FAILED_ACCEPTANCE) failed.push(`MALA acceptance ${f3(h.meanAcceptance)} < ${FAILED_ACCEPTANCE}: the step size is far too large for this posterior`);
    else if (h.meanAcceptance < LOW_ACCEPTANCE) doubtful.push(`MALA acceptance ${f3(h.meanAcceptance)} < ${LOW_ACCEPTANCE}: the step size is too large (healthy ≈ 0.9); λ̂ carries discretization bias`);
  }
  if (!failed.length) {
    if (maxDrift > DRIFT_Z) doubtful.push(`the draws drift: first and second halves of a chain differ by ${f3(maxDrift)} standard errors (> ${DRIFT_Z}); burn-in too short or the chain still relaxing`);
    if (rhat > RHAT_MAX) doubtful.push(`chains disagree: split-R̂ = ${f3(rhat)} > ${RHAT_MAX}`);
    if (ess < MIN_ESS) doubtful.push(`too few effective draws: ESS = ${f3(ess)} < ${MIN_ESS}, the standard error is unreliable`);
    if (!h.gammaConfirmed && localizedShare > LOCALIZED_SHARE) {
      doubtful.push(`localization dominates: E‖w − w*‖² is ${(100 * localizedShare).toFixed(0)} % of the prior's d/γ, so γ = ${f3(h.gamma)} rather than the loss confines most directions and λ̂ may be too small (try a smaller γ)`);
    }
    for (const r of h.calibrationDoubts ?? []) doubtful.push(r);
  }
  const verdict: Verdict = failed.length ? 'failed' : doubtful.length ? 'doubtful' : 'ok';
  return { verdict, reasons: [...failed, ...doubtful], checks };
}
