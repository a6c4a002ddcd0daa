/**
 * Self-calibration of the SGLD estimator: γ, ε_s, burn-in and the number of draws chosen per model
 * from short pilot chains (the same sampler, the same batches, seeded apart from the estimate), by
 * these criteria (README "How the LLC estimate calibrates itself" says the same in prose):
 *
 * 1. ε_s — the largest step on a ×3 ladder whose exact full-batch MALA acceptance (chain.ts) is at
 *    least TARGET_ACCEPTANCE on a short pilot, searched from the architecture's default; rechecked on
 *    the longer γ pilot, where the chain has spread out (a pilot below RECHECK_ACCEPTANCE there cuts
 *    ε_s by 3 and reruns).
 * 2. γ — walk down GAMMA_LADDER (×10 per rung). At each rung a pilot chain runs until its draws stop
 *    drifting (length doubled from PILOT_STEPS up to the budget); λ̂(γ) is its mean over the second
 *    half. The chosen γ is the largest rung at which λ̂ no longer rises when γ is lowered further,
 *    a fall beyond FALL_Z s.e. keeps γ with a doubt (the localization cannot lower λ̂ that way: the
 *    chains left w*'s neighbourhood for lower loss); a rise ≤ PLATEAU_REL·λ̂, measured to within
 *    2·PLATEAU_REL·λ̂ (2 s.e.), keeps γ; a rise that is
 *    within 2 s.e. of the tolerance, or a "no rise" too noisy to tell (after lengthening the pilots),
 *    takes the smaller γ and stops, since the localization can only lower λ̂ (noise must not favour
 *    the larger γ); a clear rise goes on down the ladder. Lowering γ lets the chains reach the
 *    directions the loss barely confines (nβ h ≪ γ), so λ̂ rises until the localization no longer
 *    dominates; below that, only the time to relax grows (as 2/(ε_s γ)). The walk also stops when a
 *    rung's chain leaves a bounded region (diverges, or its ‖w − w*‖ keeps drifting), or when the
 *    next rung does not fit the budget; then the last γ is used and, if λ̂ was still rising, the
 *    verdict says so.
 * 3. burn-in — twice the pilot's measured relaxation (the first step after which a windowed mean of
 *    the loss trace reaches the mean of the second half), at least the pilot's own burn-in share
 *    and MIN_BURNIN; the estimate's health verdict checks it again on every chain's trace.
 * 4. draws — enough for a relative standard error of TARGET_REL_SE on λ̂ from the pilot's variance
 *    and autocorrelation (ESS), and for COVER_RELAXATIONS slowest relaxation times 2/(ε_s γ) per
 *    chain, between MIN_DRAWS and MAX_DRAWS and within the budget.
 *
 * A setting the user gives is kept and reported as given; nβ is never calibrated (n / log n unless
 * given: it is the temperature the LLC is defined at).
 */
import { createJobContext, subContext, type JobContext } from '../jobs';
import { effectiveSampleSize, driftZ } from './health';
import { fmtSmall, sampleLlc, type ResolvedSgldOptions, type SgldPartial, type SgldResult } from './chain';
import type { SgldTarget } from './target';

export const TARGET_ACCEPTANCE = 0.9;
export const RECHECK_ACCEPTANCE = 0.85;
export const GAMMA_LADDER = [100, 10, 1, 0.1, 0.01];
export const PLATEAU_REL = 0.05;
/**
 * The smallest |λ̂| the plateau tolerance is relative to. (It was 0.5, which let a normal crossing
 * with λ̂ ≈ 0.3 "plateau" across a 17 % rise; the learning coefficients of one- and two-parameter
 * losses are 1/6 … 1/2, so the tolerance must scale with λ̂ itself.)
 */
const LLC_FLOOR = 0.02;
export const TARGET_REL_SE = 0.03;
export const MIN_DRAWS = 200;
export const MAX_DRAWS = 20_000;
/** Draws per chain cover at least this many slowest relaxation times 2/(ε_s γ) (within the budget). */
export const COVER_RELAXATIONS = 2;
export const MIN_BURNIN = 100;
const PILOT_STEPS = 800;
const STEP_PILOT = { burnin: 40, draws: 80 };
const DRIFT_OK = 3;
/**
 * A fall of λ̂ when γ is lowered counts only beyond this many standard errors: it is a strong claim
 * (w* is not a minimum at this temperature). At 2 s.e. one rung comparison in 40 made it by chance:
 * reduced-rank regression 5→3→5 (seed 7, whose w* is the exact least-squares fit) read 7.77 → 7.47
 * ± 0.29 and was called doubtful. The memorizing falls this is for were 5–10 s.e. (11.4 → 2.2).
 */
export const FALL_Z = 3;

export interface StepTrial { stepSize: number; acceptance: number | null; diverged: boolean }

export interface CalibrationRung {
  gamma: number;
  stepSize: number;
  stepTrials: StepTrial[];
  /** The pilot at (γ, ε_s): λ̂ over its second half, its standard error (ESS), acceptance. */
  llc: number;
  stderr: number;
  acceptance: number | null;
  /** Steps the pilot ran (its last, longest attempt), and its measured relaxation. */
  steps: number;
  relaxSteps: number;
  driftZ: number;
  /** The pilot's draws settled (drift within DRIFT_OK standard errors) and stayed bounded. */
  settled: boolean;
  diverged: boolean;
  /** Mean ‖w − w*‖² over the draws as a share of d/γ. */
  localizedShare: number;
  /** Variance and ESS ratio of nβ·(L − L*) per draw (for sizing the estimate). */
  variance: number;
  essPerDraw: number;
  ms: number;
}

export interface CalibrationReport {
  chosen: { gamma: number; stepSize: number; burnin: number; draws: number };
  /** Why each was chosen (or "given"). */
  reasons: { gamma: string; stepSize: string; burnin: string; draws: string };
  given: string[];
  /** The estimate's chains start from the chosen rung's pilot's last state instead of w* (it did not diverge). */
  warmStart: boolean;
  /**
   * The burn-in a chain started at w* needs (twice the chosen pilot's relaxation, at least a quarter
   * of it): what a series that reuses these settings without the warm start must use.
   */
  coldBurnin: number;
  rungs: CalibrationRung[];
  /** Lowering γ below the chosen value was tried and did not raise λ̂. */
  gammaConfirmed: boolean;
  /** Doubts the calibration leaves for the verdict. */
  doubts: string[];
  budgetSeconds: number;
  /** Nominal seconds of work the pilots used (nominalStepMs), out of the budget's calibration share. */
  workSeconds: number;
  /** Wall-clock milliseconds the calibration took. */
  ms: number;
}

export interface CalibrateInput {
  target: SgldTarget;
  /** Everything resolved; gamma/stepSize/burnin/draws are overwritten unless listed in `given`. */
  base: ResolvedSgldOptions;
  given: { gamma?: boolean; stepSize?: boolean; burnin?: boolean; draws?: boolean };
  /** Where the ε_s search starts. */
  startStep: number;
  budgetSeconds: number;
  /** Receives the warm start for the estimate's chains (the chosen rung's pilot's last state), when it did not diverge. */
  out?: { start?: Float32Array };
}

const fmt3 = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e3 || Math.abs(v) < 1e-2 ? v.toExponential(2) : v.toPrecision(3)) : String(v));

/** The step at which a windowed mean of the trace first reaches the mean of its second half. */
export function relaxationSteps(trace: ArrayLike<number>): number {
  const n = trace.length;
  if (n < 20) return 0;
  let m2 = 0;
  for (let i = Math.floor(n / 2); i < n; i++) m2 += trace[i];
  m2 /= n - Math.floor(n / 2);
  const win = Math.max(5, Math.floor(n / 40));
  let s = 0;
  for (let i = 0; i < win; i++) s += trace[i];
  const start = s / win;
  const rising = start < m2;
  for (let i = win; i < n; i++) {
    const mean = s / win;
    if (rising ? mean >= m2 : mean <= m2) return i - win;
    s += trace[i] - trace[i - win];
  }
  return n;
}

/**
 * The budget is counted in work, not measured in time: each sampler step costs a nominal
 *
 *   STEP_MS + d·PARAM_MS + rows·(d·PARAM_ROW_MS + ROW_MS)  milliseconds
 *
 * (d parameters, `rows` rows per gradient; ROW_MS per architecture where activations cost more
 * than their parameters say, SgldDefaults.rowCostMs; a loss given by formula has its own step
 * cost), fitted to measured step times on the project's reference machine (2 cores, wasm, Node;
 * README "How the LLC estimate calibrates itself"); a full-batch MALA probe costs two full-batch
 * steps. So a budget of 45 s means the work the reference machine does in about 45 s: on a
 * faster or a busier machine the same choices are made, only the wall-clock time differs, and a
 * seed reproduces the settings and λ̂ exactly.
 */
export const STEP_MS = 0.025;
export const PARAM_MS = 7.5e-6;
export const PARAM_ROW_MS = 3.6e-8;
export const ROW_MS = 2.5e-5;

/** Nominal milliseconds of one gradient step on `rows` rows of a target. */
export function nominalStepMs(target: Pick<SgldTarget, 'd' | 'kind' | 'cost'>, rows: number): number {
  if (target.cost?.stepMs !== undefined) return target.cost.stepMs;
  const d = target.d;
  return STEP_MS + d * PARAM_MS + rows * (d * PARAM_ROW_MS + (target.cost?.rowMs ?? ROW_MS));
}

/** Nominal milliseconds per step of one chain of a run with options `o` (probes and full-loss diagnostics included). */
export function nominalStepCost(target: SgldTarget, o: ResolvedSgldOptions): number {
  const fullBatch = o.fullBatch || target.n <= o.batchSize;
  let ms = nominalStepMs(target, fullBatch ? target.n : o.batchSize);
  if (o.mala && !fullBatch) ms += (2 * nominalStepMs(target, target.n)) / o.malaEvery;
  if (o.fullLossEvery > 0) ms += nominalStepMs(target, target.n) / (2 * o.fullLossEvery);
  return ms;
}

/** λ̂ pilot statistics over the second half of a one-chain run. */
function pilotStats(r: SgldResult, nBeta: number, d: number, gamma: number) {
  const ch = r.chains[0];
  const steps = ch.excessTrace.length;
  const half = ch.excessTrace.subarray(Math.floor(steps / 2));
  const scaled = Float64Array.from(half, (v) => v * nBeta);
  let mean = 0;
  for (const v of scaled) mean += v;
  mean /= scaled.length;
  let variance = 0;
  for (const v of scaled) variance += (v - mean) ** 2;
  variance /= scaled.length;
  const ess = effectiveSampleSize(scaled);
  const dist = ch.distanceTrace.subarray(Math.floor(steps / 2));
  let d2 = 0;
  for (const v of dist) d2 += v * v;
  d2 /= dist.length;
  // Settled: the loss draws do not drift. (‖w − w*‖ may keep drifting along exactly flat directions,
  // which relax only at the rate of γ and carry no loss; boundedness is the divergence check's job.)
  const dz = driftZ(scaled);
  let acc = 0, k = 0;
  if (ch.acceptanceTrace) for (let t = Math.floor(steps / 2); t < steps; t++) if (!Number.isNaN(ch.acceptanceTrace[t])) { acc += ch.acceptanceTrace[t]; k++; }
  return {
    llc: mean, stderr: Math.sqrt(variance / Math.max(1, ess)), variance, essPerDraw: ess / scaled.length,
    driftZ: dz, relax: relaxationSteps(ch.excessTrace), acceptance: k ? acc / k : null,
    localizedShare: gamma > 0 ? d2 / (d / gamma) : NaN,
  };
}

/**
 * Runs the pilots and returns the chosen settings with the evidence. Cancellable; progress spans
 * the whole calibration. The report's rungs are the "calibration grid" shown beside the estimate.
 */
export async function calibrateSgld(inp: CalibrateInput, ctx: JobContext<never> = createJobContext()): Promise<CalibrationReport> {
  const t0 = performance.now();
  const { target, base, given } = inp;
  const budgetMs = inp.budgetSeconds * 1000;
  // The calibration may use about half the budget; the estimate the rest.
  const calBudgetMs = budgetMs * 0.6;
  // Work spent so far, in nominal milliseconds (nominalStepMs): counted, not timed, so the choices
  // do not depend on the machine's load and a seed reproduces them.
  let spent = 0;
  const stepMs = nominalStepCost(target, { ...base, chains: 1, mala: true }); // nominal ms per pilot step
  let seedOffset = 1000;

  let lastState: Float32Array | null = null; // the last pilot's final w
  const pilot = async (gamma: number, stepSize: number, burnin: number, draws: number, label: string, frac: [number, number]): Promise<SgldResult> => {
    const o: ResolvedSgldOptions = {
      ...base, gamma, stepSize, burnin, draws, chains: 1, mala: true, fullLossEvery: 0,
      malaEvery: Math.max(2, Math.min(base.malaEvery, Math.floor(draws / 10))),
      seed: base.seed + seedOffset++, onDivergence: 'report',
    };
    const sub = subContext(ctx as JobContext, frac[0], frac[1], label) as JobContext<SgldPartial>;
    lastState = null;
    const r = await sampleLlc(target, o, sub, { onFinalState: (w) => { lastState = w; } });
    spent += (burnin + draws) * nominalStepCost(target, o);
    return r;
  };
  const frac = (): [number, number] => { const a = Math.min(0.95, spent / calBudgetMs); return [a, Math.min(0.99, a + 0.05)]; };

  const stepPass = (r: SgldResult) => !r.diverged && (r.meanAcceptance ?? 0) >= TARGET_ACCEPTANCE;

  async function findStep(gamma: number, start: number): Promise<{ stepSize: number; trials: StepTrial[]; ok: boolean }> {
    const trials: StepTrial[] = [];
    const probe = async (eps: number) => {
      const r = await pilot(gamma, eps, STEP_PILOT.burnin, STEP_PILOT.draws, `γ = ${fmt3(gamma)}: trying ε_s = ${fmtSmall(eps)}`, frac());
      trials.push({ stepSize: eps, acceptance: r.meanAcceptance ?? null, diverged: !!r.diverged });
      return stepPass(r);
    };
    let eps = start;
    if (await probe(eps)) {
      for (let up = 0; up < (rungs.length ? 1 : 2); up++) {
        if (!(await probe(eps * 3))) return { stepSize: eps, trials, ok: true };
        eps *= 3;
      }
      return { stepSize: eps, trials, ok: true };
    }
    for (let down = 0; down < 6; down++) {
      eps /= 3;
      if (await probe(eps)) return { stepSize: eps, trials, ok: true };
    }
    return { stepSize: eps, trials, ok: false };
  }

  const rungs: CalibrationRung[] = [];
  const states = new Map<CalibrationRung, Float32Array>();
  const doubts: string[] = [];
  const ladder = given.gamma ? [base.gamma] : GAMMA_LADDER;
  let startStep = given.stepSize ? base.stepSize : inp.startStep;
  let chosen: CalibrationRung | null = null;
  let gammaReason = '';
  let confirmed = false;

  /**
   * Whether a settled pilot must run longer to be compared with the previous rung: its rise over
   * the previous λ̂ is within noise of the plateau threshold (2 s.e. dominate the tolerance).
   */
  const needsPrecision = (st: { llc: number; stderr: number }): boolean => {
    if (!chosen) return false;
    const rel = PLATEAU_REL * Math.max(Math.abs(chosen.llc), LLC_FLOOR);
    const se = Math.hypot(st.stderr, chosen.stderr);
    const rise = st.llc - chosen.llc;
    return 2 * se > rel && Math.abs(rise - rel) < 2 * se;
  };

  for (let i = 0; i < ladder.length; i++) {
    const gamma = ladder[i];
    const tr = performance.now();
    // Predicted cost of this rung (step search + the shortest pilot); stop if it does not fit.
    if (rungs.length && spent + stepMs * (3 * (STEP_PILOT.burnin + STEP_PILOT.draws) + PILOT_STEPS) > calBudgetMs) {
      gammaReason = `γ = ${fmt3(rungs[rungs.length - 1].gamma)}: the next rung (γ = ${fmt3(gamma)}) did not fit the work budget (${inp.budgetSeconds} s on the reference machine)`;
      if (chosen && !confirmed) doubts.push(`λ̂ was still rising when γ was lowered to ${fmt3(chosen.gamma)} and smaller γ did not fit the ${inp.budgetSeconds} s budget: the localization may still dominate (raise the budget or give γ)`);
      break;
    }
    const step = given.stepSize ? { stepSize: base.stepSize, trials: [] as StepTrial[], ok: true } : await findStep(gamma, startStep);
    let eps = step.stepSize;
    // The γ pilot: double its length until its draws stop drifting (or the budget is spent).
    // At least the slowest relaxation time 2/(ε_s γ) of the directions only γ confines (within budget).
    const affordable = () => Math.max(PILOT_STEPS, Math.floor((calBudgetMs - spent) / stepMs / 2));
    let steps = Math.max(PILOT_STEPS, Math.min(affordable(), Math.ceil(4 / (eps * gamma)))), r: SgldResult, st: ReturnType<typeof pilotStats>;
    let recheck = 0, outOfBudget = false;
    for (;;) {
      r = await pilot(gamma, eps, Math.floor(steps / 2), steps - Math.floor(steps / 2), `γ = ${fmt3(gamma)}: pilot of ${steps} steps at ε_s = ${fmtSmall(eps)}`, frac());
      st = pilotStats(r, base.nBeta, target.d, gamma);
      if (r.diverged) break;
      if (!given.stepSize && st.acceptance !== null && st.acceptance < RECHECK_ACCEPTANCE && recheck < 2) {
        eps /= 3; recheck++;
        step.trials.push({ stepSize: eps, acceptance: null, diverged: false });
        continue;
      }
      if (st.driftZ <= DRIFT_OK && !needsPrecision(st)) break;
      if (spent + stepMs * steps * 2 > calBudgetMs) { outOfBudget = true; break; }
      steps *= 2;
    }
    const rung: CalibrationRung = {
      gamma, stepSize: eps, stepTrials: step.trials, llc: st.llc, stderr: st.stderr, acceptance: st.acceptance,
      steps, relaxSteps: st.relax, driftZ: st.driftZ, settled: !r.diverged && st.driftZ <= DRIFT_OK, diverged: !!r.diverged,
      localizedShare: st.localizedShare, variance: st.variance, essPerDraw: st.essPerDraw, ms: performance.now() - tr,
    };
    rungs.push(rung);
    if (lastState && !rung.diverged) states.set(rung, lastState);
    startStep = eps;
    if (ladder.length === 1) { chosen = rung; gammaReason = 'given'; break; }
    if (rung.diverged || !rung.settled) {
      // Not settled because the budget ended the pilot's doubling says nothing about the chains at
      // this γ, only that the budget cannot afford its relaxation time.
      const budgetEnded = outOfBudget && !rung.diverged;
      const what = rung.diverged ? 'diverged'
        : budgetEnded ? `had not settled when the budget ended it after ${steps} steps (drift ${fmt3(rung.driftZ)} s.e.; 2/(ε_s γ) = ${fmt3(2 / (eps * gamma))} steps)`
          : `did not settle in ${steps} steps (drift ${fmt3(rung.driftZ)} s.e.)`;
      if (chosen) {
        gammaReason = `γ = ${fmt3(chosen.gamma)}: at γ = ${fmt3(gamma)} the pilot ${what}, so ${budgetEnded ? 'λ̂ there could not be measured' : 'the chains leave the bounded region there'}`;
        if (!confirmed) doubts.push(`λ̂ could not be compared below γ = ${fmt3(chosen.gamma)} (the pilot at γ = ${fmt3(gamma)} ${rung.diverged ? 'diverged' : budgetEnded ? 'ran out of budget before it settled; raise the budget or give γ' : 'did not settle'}): the localization may still dominate`);
      } else {
        chosen = rung;
        gammaReason = `γ = ${fmt3(gamma)}: the first rung; its pilot ${rung.diverged ? 'diverged' : 'did not settle'} within the budget`;
        doubts.push(`the calibration pilot at γ = ${fmt3(gamma)} ${rung.diverged ? 'diverged' : 'did not settle'}`);
      }
      break;
    }
    if (chosen) {
      const rise = rung.llc - chosen.llc;
      const rel = PLATEAU_REL * Math.max(Math.abs(chosen.llc), LLC_FLOOR);
      const se = Math.hypot(rung.stderr, chosen.stderr), se2 = 2 * se;
      if (rise < -FALL_Z * se) {
        // λ̂ fell beyond noise when γ was lowered. The localization can only lower λ̂, so the chains
        // at the smaller γ reached loss below L(w*) away from w* (a cross-entropy minimum that is not
        // one at this temperature, e.g. a memorizing net whose logits can still grow): keep the
        // larger γ, which holds them near w*, and say so.
        confirmed = true;
        gammaReason = `γ = ${fmt3(chosen.gamma)}: lowering γ to ${fmt3(gamma)} lowered λ̂ by ${fmt3(-rise)} (${fmt3(chosen.llc)} → ${fmt3(rung.llc)}), more than ${FALL_Z} s.e. (${fmt3(FALL_Z * se)}); the localization cannot do that, so the chains there left the neighbourhood of w*`;
        doubts.push(`λ̂ fell when γ was lowered below ${fmt3(chosen.gamma)} (${fmt3(chosen.llc)} → ${fmt3(rung.llc)}): away from w* the chains find lower loss, so w* is not a minimum at this temperature and λ̂ depends on γ`);
        break;
      }
      if (rise <= rel && se2 <= 2 * rel) {
        // A plateau: the rise is within the tolerance, and the comparison can tell (its 2-s.e. band
        // is within twice the tolerance). A noisy "no rise" is not a plateau: it goes to the next
        // branch, which keeps the smaller γ.
        confirmed = true;
        gammaReason = `γ = ${fmt3(chosen.gamma)}: lowering γ to ${fmt3(gamma)} changed λ̂ by ${fmt3(rise)} ± ${fmt3(se2)} (${fmt3(chosen.llc)} → ${fmt3(rung.llc)}), within ${(100 * PLATEAU_REL).toFixed(0)} % (${fmt3(rel)}): the largest γ at which λ̂ no longer rises`;
        break;
      }
      if (rise - se2 <= rel) {
        // Rising, or not, but within noise of the tolerance (after needsPrecision lengthened the pilot
        // as far as the budget allowed). The localization can only pull λ̂ down, so the smaller γ is
        // the safer choice. (A short pilot at the larger γ can read high by chance: on the normal
        // crossing (1, 3), seed 2, 0.148 ± 0.038 at γ = 10 against 0.141 ± 0.010 at γ = 1 read as a
        // plateau, and the estimate at γ = 10 gave 0.113 where γ = 1 gives 0.149; λ = 1/6.)
        confirmed = true;
        chosen = rung;
        gammaReason = `γ = ${fmt3(gamma)}: lowering γ from ${fmt3(ladder[i - 1])} changed λ̂ by ${fmt3(rise)} ± ${fmt3(se2)}, not distinguishable from the ${(100 * PLATEAU_REL).toFixed(0)} % tolerance (${fmt3(rel)}); the smaller γ is kept because the localization can only lower λ̂`;
        break;
      }
    }
    chosen = rung;
    if (i === ladder.length - 1) {
      gammaReason = `γ = ${fmt3(gamma)}: the smallest γ on the ladder; λ̂ was still rising`;
      doubts.push(`λ̂ was still rising at the smallest γ tried (${fmt3(gamma)})`);
    }
  }
  if (!chosen) throw new Error('calibration ran no pilot');

  const eps = chosen.stepSize;
  const lastTrial = chosen.stepTrials.find((t) => t.stepSize === eps);
  const stepReason = given.stepSize ? 'given'
    : `ε_s = ${fmtSmall(eps)}: the largest step on a ×3 ladder with full-batch MALA acceptance ≥ ${TARGET_ACCEPTANCE} at γ = ${fmt3(chosen.gamma)}` +
      `${lastTrial?.acceptance != null ? ` (${fmt3(lastTrial.acceptance)} on the short pilot` : ' ('}${chosen.acceptance !== null ? `, ${fmt3(chosen.acceptance)} on the γ pilot)` : ')'}`;
  // Warm start: the chains start where the chosen rung's pilot ended. When it settled, its last
  // state is an approximate draw from this posterior and the burn-in only has to forget that common
  // start; when it did not (the budget ended its doubling), that state is still further along the
  // relaxation than w* (the verdict keeps the doubt), and a burn-in from w* could not do better.
  const start = !given.burnin ? states.get(chosen) : undefined;
  // What a chain started at w* needs: twice the pilot's relaxation, at least a quarter of the pilot.
  const coldBurnin = given.burnin ? base.burnin : Math.max(MIN_BURNIN, 2 * chosen.relaxSteps, Math.floor(chosen.steps / 4));
  const burnin = given.burnin ? base.burnin : start ? MIN_BURNIN : coldBurnin;
  const burnReason = given.burnin ? 'given'
    : start ? `${burnin} steps: the chains start from the last state of the ${chosen.steps}-step pilot at this γ and ε_s (${chosen.settled ? `settled; it relaxed in ${chosen.relaxSteps} steps` : `not settled: its draws still drifted by ${fmt3(chosen.driftZ)} s.e.`}), not from w*; 2/(ε_s γ) = ${fmt3(2 / (eps * chosen.gamma))}`
      : `${burnin} steps: twice the pilot's relaxation (${chosen.relaxSteps} steps to reach its equilibrium mean), at least a quarter of the ${chosen.steps}-step pilot that settled and ${MIN_BURNIN}; 2/(ε_s γ) = ${fmt3(2 / (eps * chosen.gamma))}`;
  if (start && inp.out) inp.out.start = start;
  let draws = base.draws;
  let drawReason = 'given';
  if (!given.draws) {
    const forSe = Math.ceil(chosen.variance / Math.max(1e-12, chosen.essPerDraw * base.chains * (TARGET_REL_SE * Math.max(Math.abs(chosen.llc), 1e-3)) ** 2));
    // The chains share one warm start: each must also outlast the slowest relaxation 2/(ε_s γ)
    // (COVER_RELAXATIONS times) to spread over the posterior; a pilot's ESS cannot see that time
    // when it is longer than the pilot, and the chains then disagree (split-R̂).
    const forCover = Math.ceil(COVER_RELAXATIONS * 2 / (eps * chosen.gamma));
    const want = Math.max(forSe, forCover);
    const remainingMs = budgetMs - spent;
    const affordable = Math.floor(remainingMs / nominalStepCost(target, base) / base.chains) - burnin;
    draws = Math.max(MIN_DRAWS, Math.min(MAX_DRAWS, want, Math.max(MIN_DRAWS, affordable)));
    const needs = `a ${(100 * TARGET_REL_SE).toFixed(0)} % relative standard error from the pilot's variance and ESS needs ${forSe}; ${COVER_RELAXATIONS} relaxation times 2/(ε_s γ) need ${forCover}`;
    drawReason = `${draws} per chain: ${want <= draws ? `enough for both (${needs}; at least ${MIN_DRAWS})`
      : draws === MAX_DRAWS && want > MAX_DRAWS ? `the cap of ${MAX_DRAWS} (${needs})`
        : `the most the ${inp.budgetSeconds} s budget allows (${needs})`}`;
  }
  return {
    chosen: { gamma: chosen.gamma, stepSize: eps, burnin, draws },
    reasons: { gamma: gammaReason, stepSize: stepReason, burnin: burnReason, draws: drawReason },
    given: Object.entries(given).filter(([, v]) => v).map(([k]) => k),
    warmStart: !!start,
    coldBurnin,
    rungs, gammaConfirmed: confirmed, doubts, budgetSeconds: inp.budgetSeconds, workSeconds: spent / 1000, ms: performance.now() - t0,
  };
}
