/**
 * Reads back the JSON that `slt llc-sweep` and `slt llc-checkpoints` print, so the LLC view can
 * draw a full-size run made in a terminal with its own charts (and export them as figures). Pure
 * (no tfjs). Anything malformed is refused with a BadInputError naming the field; nothing is
 * partly read.
 */
import { BadInputError } from '../errors';
import type { Health, Verdict } from '../llc/health';
import type { LlcCheckpointPoint, LlcPointEstimate, LlcSweepPoint, LlcSweepResult } from '../tasks/llc';

/** One point of the loss curves a checkpoint run was trained along (CLI `training`). */
export interface TrainingCurvePoint { step: number; trainLoss: number | null; testLoss: number | null; trainAcc: number | null; testAcc: number | null }

export type LlcResultsFile =
  | { kind: 'sweep'; result: LlcSweepResult }
  | { kind: 'checkpoints'; points: LlcCheckpointPoint[]; training: TrainingCurvePoint[] | null; source: string | null };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(where: string, what: string): never {
  throw new BadInputError(`Not a result of slt llc-sweep or llc-checkpoints: ${where} ${what}`);
}

/** A finite number, or null when `nullable` (the CLI writes non-finite numbers as null). */
function num(o: Obj, key: string, where: string, nullable = false): number | null {
  const v = o[key];
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, `has ${key} = ${JSON.stringify(v)}, expected a finite number${nullable ? ' or null' : ''}`);
  return v;
}

function optNum(o: Obj, key: string, where: string): number | undefined {
  if (!(key in o) || o[key] === null) return undefined;
  return num(o, key, where) as number;
}

function estimate(o: Obj, where: string): LlcPointEstimate | null {
  const mean = num(o, 'llc_mean', where, true);
  if (mean === null) return null;
  return { mean, std: num(o, 'llc_std', where, true) ?? NaN, stderr: num(o, 'llc_stderr', where, true) ?? NaN };
}

const VERDICTS: Verdict[] = ['ok', 'doubtful', 'failed'];

function health(v: unknown, where: string): Health | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isObj(v)) fail(where, 'has a health that is not an object');
  if (!VERDICTS.includes(v.verdict as Verdict)) fail(where, `has the verdict ${JSON.stringify(v.verdict)} (expected ok, doubtful or failed)`);
  if (!Array.isArray(v.reasons) || v.reasons.some((r) => typeof r !== 'string')) fail(where, 'has health reasons that are not a list of strings');
  const c = isObj(v.checks) ? v.checks : {};
  const n = (k: string): number => (typeof c[k] === 'number' ? (c[k] as number) : NaN);
  return {
    verdict: v.verdict as Verdict, reasons: v.reasons as string[],
    checks: { ess: n('ess'), rhat: n('rhat'), driftZ: n('driftZ'), localizedShare: n('localizedShare'), meanAcceptance: typeof c.meanAcceptance === 'number' ? c.meanAcceptance : null },
  };
}

/** The point's verdict and error message, where the file has them. */
function withHealthAndError<P extends { health?: Health; error?: string }>(out: P, o: Obj, where: string): P {
  const h = health(o.health, where);
  if (h) out.health = h;
  if (typeof o.error === 'string' && o.error) out.error = o.error;
  return out;
}

function sweepPoint(v: unknown, i: number): LlcSweepPoint {
  const where = `point ${i + 1}`;
  if (!isObj(v)) fail(where, 'is not an object');
  const p = num(v, 'p', where) as number;
  if (!Number.isInteger(p) || p < 2) fail(where, `has p = ${p}, expected a whole number ≥ 2`);
  if (v.op !== 'sum' && v.op !== 'random') fail(where, `has op = ${JSON.stringify(v.op)}, expected "sum" or "random"`);
  const out: LlcSweepPoint = { p, op: v.op, seed: (num(v, 'seed', where) as number), llc: estimate(v, where) };
  const trainAcc = optNum(v, 'train_accuracy', where), testAcc = optNum(v, 'test_accuracy', where);
  const memorized = optNum(v, 'memorized', where), gamma = optNum(v, 'gamma', where), stepSize = optNum(v, 'step', where);
  if (trainAcc !== undefined) out.trainAcc = trainAcc;
  if (testAcc !== undefined) out.testAcc = testAcc;
  if (memorized !== undefined) out.memorized = memorized;
  if (gamma !== undefined) out.gamma = gamma;
  if (stepSize !== undefined) out.stepSize = stepSize;
  return withHealthAndError(out, v, where);
}

function fits(v: unknown): LlcSweepResult['fits'] {
  const out: LlcSweepResult['fits'] = { sum: null, random: null };
  if (!isObj(v)) return out;
  for (const op of ['sum', 'random'] as const) {
    const f = v[op];
    if (!isObj(f)) continue;
    const ok = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!ok(f.linear) || !ok(f.quadratic)) fail(`the ${op} fit`, 'has coefficients that are not lists of finite numbers');
    out[op] = { linear: f.linear, quadratic: f.quadratic };
  }
  return out;
}

function checkpointPoint(v: unknown, i: number): LlcCheckpointPoint {
  const where = `point ${i + 1}`;
  if (!isObj(v)) fail(where, 'is not an object');
  const step = num(v, 'step', where) as number;
  if (!Number.isInteger(step) || step < 0) fail(where, `has step = ${step}, expected a whole number ≥ 0`);
  const out: LlcCheckpointPoint = { step, llc: estimate(v, where) };
  const acc = optNum(v, 'mean_acceptance', where);
  if (acc !== undefined) out.meanAcceptance = acc;
  return withHealthAndError(out, v, where);
}

function trainingCurve(v: unknown): TrainingCurvePoint[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) fail('training', 'is not a list');
  return v.map((m, i) => {
    const where = `training point ${i + 1}`;
    if (!isObj(m)) fail(where, 'is not an object');
    return {
      step: num(m, 'step', where) as number,
      trainLoss: num(m, 'train_loss', where, true), testLoss: num(m, 'test_loss', where, true),
      trainAcc: num(m, 'train_accuracy', where, true), testAcc: num(m, 'test_accuracy', where, true),
    };
  });
}

/** Parses the text of a results file; the kind is told apart by its points (p and op: a sweep; step: checkpoints). */
export function parseLlcResults(text: string): LlcResultsFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BadInputError(`Not JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc.points)) fail('the file', 'has no "points" list');
  if (doc.points.length === 0) fail('the file', 'has no points');
  const first = doc.points[0];
  if (isObj(first) && 'op' in first && 'p' in first) {
    return { kind: 'sweep', result: { points: doc.points.map(sweepPoint), fits: fits(doc.fits) } };
  }
  if (isObj(first) && 'step' in first) {
    const points = doc.points.map(checkpointPoint);
    for (let i = 1; i < points.length; i++) if (points[i].step <= points[i - 1].step) fail(`point ${i + 1}`, `has step ${points[i].step}, not after the previous point's ${points[i - 1].step}`);
    return { kind: 'checkpoints', points, training: trainingCurve(doc.training), source: typeof doc.source === 'string' ? doc.source : null };
  }
  return fail('the first point', 'has neither p and op (a sweep) nor step (checkpoints)');
}
