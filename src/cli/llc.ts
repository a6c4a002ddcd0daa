/**
 * The LLC commands of `slt`: one estimate (llc), λ̂ along the loss-scale axis (llc-curve), over
 * training checkpoints (llc-checkpoints) and seed 003's generalizing-vs-memorizing sweep
 * (llc-sweep). Every estimate carries its health verdict and, when calibrated, the settings the
 * calibration chose with the reason for each.
 */
import { parseArgs } from 'node:util';
import type { JobContext } from '../core/jobs';
import { createJobContext } from '../core/jobs';
import { runInitModel } from '../core/tasks/model';
import { runTrain, type TrainPartial } from '../core/tasks/train';
import { DEFAULT_RECIPES } from '../core/train/recipes';
import { DEFAULT_CONFIGS, ARCH_IDS, type ArchId, type ModelConfig } from '../core/models/config';
import { defaultDataSpec } from '../core/data/spec';
import { runLlc, runLlcCheckpoints, runLlcCurve, runLlcSweep } from '../core/tasks/llc';
import type { SgldOptions, SgldResult } from '../core/llc/sgld';
import type { CalibrationReport } from '../core/llc/calibrate';
import type { Health } from '../core/llc/health';
import { UsageError, env, int, list, num, readModel, stderrContext } from './common';

export const LLC_USAGE = `  llc <file> [--loss nll|train|behavioral --nbeta N --nbeta-mode M --gamma G --step S --chains C --draws D
              --burnin B --batch N|full --seed S --budget SECONDS --no-calibrate --no-mala --normal-to-gradient]
                                                  SGLD estimate of the local learning coefficient: self-calibrated γ, ε_s,
                                                  burn-in and draws (unless given), a health verdict and its reasons
  llc-curve <file> --eps E1,E2,…  [llc options]   λ̂ at each loss scale ε (nβ = 1/ε), one calibration at n/log n
  llc-checkpoints <ckpt1> <ckpt2> … [llc options]  λ̂ at each stored checkpoint (files in training order), one calibration
  llc-checkpoints --arch A --every K [--steps N --init-seed N --data-seed N] [llc options]
                                                  trains with the recipe, keeps θ every K steps, then λ̂ at each
  llc-sweep [--ps 17,23,31 --ops sum,random --seeds N --arch modadd|modadd-gelu --e N --h N --steps N
             --train-fraction F --seed S] [llc options]   seed 003: λ̂ of generalizing vs memorizing models over p`;

export const SGLD_CLI_OPTIONS = {
  nbeta: { type: 'string' }, 'nbeta-mode': { type: 'string' }, gamma: { type: 'string' }, step: { type: 'string' }, chains: { type: 'string' },
  draws: { type: 'string' }, burnin: { type: 'string' }, batch: { type: 'string' }, loss: { type: 'string', default: 'nll' }, seed: { type: 'string' },
  budget: { type: 'string' }, 'no-calibrate': { type: 'boolean', default: false }, 'no-mala': { type: 'boolean', default: false },
  'normal-to-gradient': { type: 'boolean', default: false }, 'mala-every': { type: 'string' },
} as const;

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;
const s = (v: Values, k: string) => v[k] as string | undefined;

export function sgldOptionsFrom(values: Values): SgldOptions {
  const loss = s(values, 'loss') ?? 'nll';
  if (loss !== 'nll' && loss !== 'train' && loss !== 'behavioral') throw new UsageError(`--loss must be nll, train or behavioral (got "${loss}")`);
  const mode = s(values, 'nbeta-mode');
  if (mode !== undefined && !['n/log n', 'batch/log batch', 'explicit'].includes(mode)) throw new UsageError('--nbeta-mode must be "n/log n", "batch/log batch" or "explicit"');
  const b = s(values, 'batch');
  const opts: SgldOptions = {
    nBeta: num('nbeta', s(values, 'nbeta')), nBetaMode: mode as SgldOptions['nBetaMode'], gamma: num('gamma', s(values, 'gamma')),
    stepSize: num('step', s(values, 'step')), chains: int('chains', s(values, 'chains')), draws: int('draws', s(values, 'draws')),
    burnin: int('burnin', s(values, 'burnin')), batchSize: b === undefined ? undefined : b === 'full' ? 'full' : int('batch', b),
    loss, seed: int('seed', s(values, 'seed')), budgetSeconds: num('budget', s(values, 'budget')), malaEvery: int('mala-every', s(values, 'mala-every')),
    mala: values['no-mala'] ? false : undefined, calibrate: values['no-calibrate'] ? false : undefined,
    normalToGradient: values['normal-to-gradient'] ? true : undefined,
  };
  for (const k of Object.keys(opts) as (keyof SgldOptions)[]) if (opts[k] === undefined) delete opts[k];
  return opts;
}

const fin = (x: number | undefined | null) => (x !== undefined && x !== null && Number.isFinite(x) ? x : null);

export function healthJson(h: Health | undefined) {
  if (!h) return null;
  return {
    verdict: h.verdict, reasons: h.reasons,
    checks: Object.fromEntries(Object.entries(h.checks).map(([k, v]) => [k, typeof v === 'number' ? fin(v) : v])),
  };
}

export function calibrationJson(c: CalibrationReport | undefined) {
  if (!c) return null;
  return {
    chosen: c.chosen, reasons: c.reasons, given: c.given, gamma_confirmed: c.gammaConfirmed, doubts: c.doubts,
    budget_seconds: c.budgetSeconds, seconds: c.ms / 1000,
    rungs: c.rungs.map((r) => ({
      gamma: r.gamma, step: r.stepSize, llc: fin(r.llc), stderr: fin(r.stderr), acceptance: fin(r.acceptance), steps: r.steps,
      relaxation_steps: r.relaxSteps, drift_z: fin(r.driftZ), settled: r.settled, diverged: r.diverged, localized_share: fin(r.localizedShare),
      step_trials: r.stepTrials.map((t) => ({ step: t.stepSize, acceptance: fin(t.acceptance), diverged: t.diverged })),
    })),
  };
}

/** The JSON of one estimate. Traces only with `traces` (they are most of the bytes). */
export function llcJson(r: SgldResult, traces = true) {
  return {
    llc_mean: fin(r.llc.mean), llc_std: fin(r.llc.std), llc_stderr: fin(r.llc.stderr),
    health: healthJson(r.health),
    loss: r.loss, loss_label: r.lossLabel, init_loss: r.initLoss, n: r.n, d: r.d,
    settings: r.options,
    calibration: calibrationJson(r.calibration),
    diverged: r.diverged ?? null,
    chains: r.chains.map((c) => ({
      llc: fin(c.llc), fraction_below_init: c.fractionBelowInit, mean_acceptance: fin(c.meanAcceptance),
      ...(traces ? { trace: Array.from(c.lossTrace, fin), distance: Array.from(c.distanceTrace, fin) } : {}),
    })),
    diagnostics: { fraction_below_init: r.fractionBelowInit, mean_acceptance: fin(r.meanAcceptance), steps_per_second: r.stepsPerSecond, seconds: r.ms / 1000, backend: r.backend, notes: r.notes },
  };
}

export async function cmdLlc(args: string[]) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { ...SGLD_CLI_OPTIONS, 'no-traces': { type: 'boolean', default: false } } });
  const m = await readModel(positionals[0]);
  const opts = sgldOptionsFrom(values);
  const r = await runLlc({ model: m, opts }, stderrContext('llc') as never, env);
  return llcJson(r, !values['no-traces']);
}

function numList(name: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (!parts.length || parts.some((x) => !Number.isFinite(x) || x <= 0)) throw new UsageError(`--${name} must be comma-separated positive numbers (got "${v}")`);
  return parts;
}

const pointJson = (llc: { mean: number; std: number; stderr: number } | null) => (llc ? { llc_mean: fin(llc.mean), llc_std: fin(llc.std), llc_stderr: fin(llc.stderr) } : { llc_mean: null, llc_std: null, llc_stderr: null });

export async function cmdLlcCurve(args: string[]) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { ...SGLD_CLI_OPTIONS, eps: { type: 'string' } } });
  const eps = numList('eps', values.eps);
  if (!eps) throw new UsageError('--eps E1,E2,… is required (the loss scales; nβ = 1/ε at each)');
  const m = await readModel(positionals[0]);
  const { nBeta: _b, nBetaMode: _m, ...opts } = sgldOptionsFrom(values);
  const pts = await runLlcCurve({ model: m, eps, opts }, stderrContext('llc-curve') as never, env);
  return {
    n: m.trainIdx?.length ?? null,
    points: pts.map((p) => ({ eps: p.eps, nbeta: p.nBeta, ...pointJson(p.llc), step: p.stepSize ?? null, mean_acceptance: fin(p.meanAcceptance), health: healthJson(p.health), error: p.error ?? null })),
  };
}

export async function cmdLlcCheckpoints(args: string[]) {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true,
    options: { ...SGLD_CLI_OPTIONS, arch: { type: 'string' }, every: { type: 'string' }, steps: { type: 'string' }, 'init-seed': { type: 'string' }, 'data-seed': { type: 'string' } },
  });
  const opts = sgldOptionsFrom(values);
  let model;
  let checkpoints: { step: number; theta: Float32Array }[] = [];
  let source: string;
  let training: { step: number; train_loss: number | null; test_loss: number | null; train_accuracy: number | null; test_accuracy: number | null }[] | null = null;
  if (values.arch !== undefined) {
    if (positionals.length) throw new UsageError('give either checkpoint files or --arch (training mode), not both');
    const arch = values.arch as ArchId;
    if (!ARCH_IDS.includes(arch)) throw new UsageError(`--arch must be one of ${ARCH_IDS.join(', ')} (got "${arch}")`);
    const every = int('every', values.every);
    if (!every || every <= 0) throw new UsageError('--every K (a checkpoint every K training steps) is required with --arch');
    const config = DEFAULT_CONFIGS[arch] as ModelConfig;
    const init = await runInitModel({ config, seed: int('init-seed', values['init-seed']) ?? 0, data: defaultDataSpec(config, int('data-seed', values['data-seed']) ?? 0) }, createJobContext());
    const { note: _note, ...recipe } = DEFAULT_RECIPES[arch];
    const steps = int('steps', values.steps) ?? recipe.steps;
    const log = stderrContext('train');
    const ctx: JobContext<TrainPartial> = createJobContext<TrainPartial>({
      onProgress: (f, phase) => log.progress(f, phase),
      onPartial: (p) => { if (p.kind === 'checkpoint') checkpoints.push({ step: p.step, theta: p.theta }); },
    });
    const trained = await runTrain({ model: init, opts: { ...recipe, steps, checkpointEvery: every, evalEvery: every } }, ctx, env);
    model = trained.model;
    source = `trained ${arch} for ${steps} steps, a checkpoint every ${every}`;
    // The loss curves the checkpoints sit on (evaluated at every checkpoint), for the figure.
    training = trained.history.map((m) => ({ step: m.step, train_loss: fin(m.trainLoss), test_loss: fin(m.testLoss), train_accuracy: fin(m.trainAcc), test_accuracy: fin(m.testAcc) }));
  } else {
    if (positionals.length < 1) throw new UsageError('give checkpoint files (in training order) or --arch A --every K');
    const models = [];
    for (const f of positionals) models.push(await readModel(f));
    const a = JSON.stringify(models[0].config);
    for (let i = 1; i < models.length; i++) {
      if (JSON.stringify(models[i].config) !== a) throw new UsageError(`${positionals[i]} is a different architecture from ${positionals[0]}; checkpoints must share one`);
    }
    model = models[models.length - 1];
    checkpoints = models.map((mm, i) => ({ step: Number(mm.metadata?.step ?? i), theta: mm.theta }));
    source = `${positionals.length} files`;
  }
  const pts = await runLlcCheckpoints({ model, checkpoints, opts }, stderrContext('llc-checkpoints') as never, env);
  return {
    source,
    points: pts.map((p) => ({ step: p.step, ...pointJson(p.llc), mean_acceptance: fin(p.meanAcceptance), health: healthJson(p.health), error: p.error ?? null })),
    training,
  };
}

export async function cmdLlcSweep(args: string[]) {
  const { values } = parseArgs({
    args, allowPositionals: false,
    options: {
      ...SGLD_CLI_OPTIONS, ps: { type: 'string', default: '17,23,31' }, ops: { type: 'string', default: 'sum,random' }, seeds: { type: 'string', default: '1' },
      arch: { type: 'string', default: 'modadd-gelu' }, e: { type: 'string' }, h: { type: 'string' }, steps: { type: 'string' }, 'train-fraction': { type: 'string' },
      'sweep-seed': { type: 'string', default: '0' },
    },
  });
  const arch = values.arch as string;
  if (arch !== 'modadd' && arch !== 'modadd-gelu') throw new UsageError(`--arch must be modadd or modadd-gelu (got "${arch}")`);
  const ops = (values.ops as string).split(',').map((x) => x.trim());
  if (!ops.length || ops.some((o) => o !== 'sum' && o !== 'random')) throw new UsageError(`--ops must be a comma-separated list of sum, random (got "${values.ops}")`);
  const d = DEFAULT_CONFIGS[arch] as { p: number; e: number; h: number };
  const recipe = DEFAULT_RECIPES[arch];
  const r = await runLlcSweep({
    ps: list('ps', values.ps)!, ops: ops as ('sum' | 'random')[], arch, e: int('e', values.e) ?? d.e, h: int('h', values.h) ?? d.h,
    trainFraction: num('train-fraction', values['train-fraction']) ?? 0.8, steps: int('steps', values.steps) ?? recipe.steps,
    seed: int('sweep-seed', values['sweep-seed']) ?? 0, seeds: int('seeds', values.seeds) ?? 1, opts: sgldOptionsFrom(values),
  }, stderrContext('llc-sweep') as never, env);
  return {
    points: r.points.map((p) => ({
      p: p.p, op: p.op, seed: p.seed, ...pointJson(p.llc), train_accuracy: fin(p.trainAcc), test_accuracy: fin(p.testAcc), memorized: p.memorized ?? null,
      gamma: p.gamma ?? null, step: p.stepSize ?? null, health: healthJson(p.health), error: p.error ?? null,
    })),
    fits: r.fits,
  };
}
