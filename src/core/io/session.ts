/**
 * A whole session in one file: the current model, the training run with its checkpoints and
 * curves, the computed spectrum, and the shareable settings. The container is safetensors (so
 * the arrays stay binary and exact): arrays are tensors, everything else is JSON in
 * `__metadata__.session`. Reading validates the structure and refuses anything malformed:
 * one SessionFileError naming the part, the element and what is wrong (a NaN or infinite weight
 * in the model or a checkpoint, a non-finite eigenvalue, …), never a partly read session.
 */
import { readSafetensors, toFloat32, writeSafetensors, type StDtype } from './safetensors';
import type { ModelBundle } from '../models/bundle';
import { decodeModelFile, encodeModelFile } from './modelFile';
import type { EigenLoadings } from '../spectrum/loadings';
import type { ProjectionPoint } from '../spectrum/projection';
import type { SpectrumResult } from '../tasks/spectrum';
import { layoutFor } from '../models/config';
import { nonFiniteSummary } from '../params';
import { isPlainObject } from './json';
import { validateTrainOptions, type Metrics, type TrainOptions } from '../train/options';

export const SESSION_FORMAT = 'slt-explorer-session/1';

export class SessionFileError extends Error {
  override name = 'SessionFileError';
}

export interface SessionRun {
  baseName: string;
  opts: TrainOptions;
  history: Metrics[];
  checkpoints: { step: number; theta: Float32Array }[];
}

/** A loss as JSON keeps it: a number, or null for NaN (a split with no rows). */
const lossOf = (v: unknown): number | undefined => (v === null ? NaN : typeof v === 'number' && !Number.isNaN(v) ? v : undefined);

/**
 * The run's recipe, checked field by field with the trainer's own validation (no cast): a bad
 * field is refused with its name and what was expected.
 */
export function sessionTrainOptions(raw: unknown): TrainOptions {
  if (!isPlainObject(raw)) throw new SessionFileError('The session run has no recipe (opts)');
  const o = raw as unknown as TrainOptions;
  const known: (keyof TrainOptions)[] = ['optimizer', 'lr', 'weightDecay', 'batchSize', 'steps', 'seed', 'momentum', 'schedule', 'evalEvery', 'checkpointEvery'];
  const errs = validateTrainOptions(o);
  if (errs.length) throw new SessionFileError(`The session run's recipe is invalid: ${errs.join('; ')}`);
  const out = {} as Record<string, unknown>;
  for (const k of known) if (raw[k] !== undefined) out[k] = raw[k];
  return out as unknown as TrainOptions;
}

/** The run's history, each entry a step with its losses (null = NaN) and accuracies in [0, 1]. */
export function sessionHistory(raw: unknown): Metrics[] {
  if (!Array.isArray(raw)) throw new SessionFileError('The session run\'s history is not a list');
  return raw.map((m: unknown, i: number): Metrics => {
    const bad = (why: string) => new SessionFileError(`The session run's history entry ${i} is malformed: ${why} (${JSON.stringify(m)?.slice(0, 80)})`);
    if (!isPlainObject(m)) throw bad('not an object');
    if (!Number.isSafeInteger(m.step) || (m.step as number) < 0) throw bad('step is not an integer ≥ 0');
    const trainLoss = lossOf(m.trainLoss), testLoss = lossOf(m.testLoss);
    if (trainLoss === undefined) throw bad('trainLoss is not a number');
    if (testLoss === undefined) throw bad('testLoss is not a number');
    const out: Metrics = { step: m.step as number, trainLoss, testLoss };
    for (const k of ['trainAcc', 'testAcc'] as const) {
      if (m[k] === undefined) continue;
      const v = lossOf(m[k]);
      if (v === undefined || (Number.isFinite(v) && (v < 0 || v > 1))) throw bad(`${k} is not a fraction in [0, 1]`);
      out[k] = v;
    }
    return out;
  });
}

export interface SessionSpectrum {
  /** The scalar fields of the spectrum result (d, n, method, loss, …) as JSON. */
  info: Record<string, unknown>;
  eigenvalues: Float64Array;
  residuals: Float64Array;
  slq?: { nodes: Float64Array[]; weights: Float64Array[] };
  /** Eigenvector loadings per neuron and tensor (what links the spectrum to neurons). */
  loadings?: EigenLoadings;
}

export interface Session {
  settings: Record<string, unknown>;
  model: ModelBundle | null;
  run: SessionRun | null;
  spectrum: SessionSpectrum | null;
}

interface Entry { name: string; dtype: StDtype; shape: number[]; data: ArrayBufferView }

export function encodeSession(s: Session): Uint8Array {
  const tensors: Entry[] = [];
  const meta: Record<string, unknown> = { format: SESSION_FORMAT, settings: s.settings };
  if (s.model) {
    // The model travels as a complete model file inside the session (bytes as U8).
    const bytes = encodeModelFile(s.model);
    tensors.push({ name: 'model.file', dtype: 'U8', shape: [bytes.length], data: bytes });
  }
  if (s.run) {
    meta.run = { baseName: s.run.baseName, opts: s.run.opts, history: s.run.history, steps: s.run.checkpoints.map((c) => c.step) };
    for (const c of s.run.checkpoints) tensors.push({ name: `run.checkpoint.${c.step}`, dtype: 'F32', shape: [c.theta.length], data: c.theta });
  }
  if (s.spectrum) {
    meta.spectrum = { info: s.spectrum.info, probes: s.spectrum.slq?.nodes.length ?? 0 };
    tensors.push({ name: 'spectrum.eigenvalues', dtype: 'F64', shape: [s.spectrum.eigenvalues.length], data: s.spectrum.eigenvalues });
    tensors.push({ name: 'spectrum.residuals', dtype: 'F64', shape: [s.spectrum.residuals.length], data: s.spectrum.residuals });
    s.spectrum.slq?.nodes.forEach((n, p) => {
      tensors.push({ name: `spectrum.slq.nodes.${p}`, dtype: 'F64', shape: [n.length], data: n });
      tensors.push({ name: `spectrum.slq.weights.${p}`, dtype: 'F64', shape: [s.spectrum!.slq!.weights[p].length], data: s.spectrum!.slq!.weights[p] });
    });
    const L = s.spectrum.loadings;
    if (L) {
      (meta.spectrum as Record<string, unknown>).loadings = { layers: L.layers, tensors: L.tensors, k: L.k, units: L.units };
      tensors.push({ name: 'spectrum.loadings.perUnit', dtype: 'F32', shape: [L.k, L.units], data: L.perUnit });
      tensors.push({ name: 'spectrum.loadings.perTensor', dtype: 'F32', shape: [L.k, L.tensors.length], data: L.perTensor });
    }
  }
  return writeSafetensors(tensors, { session: JSON.stringify(meta) });
}

/** Reads an F64 tensor; `allowNaN` keeps NaN (a residual that was not computed) but still refuses ±Inf. */
function f64(t: { dtype: StDtype; data: Uint8Array }, name: string, allowNaN = false): Float64Array {
  if (t.dtype !== 'F64') throw new SessionFileError(`${name} must be F64 (got ${t.dtype})`);
  const out = new Float64Array(t.data.byteLength / 8);
  new Uint8Array(out.buffer).set(t.data);
  const what = nonFiniteSummary(out, { allowNaN });
  if (what) throw new SessionFileError(`${name} ${what}: the file is corrupt`);
  return out;
}

export function decodeSession(bytes: Uint8Array): Session {
  let file;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    throw new SessionFileError(`Not a session file: ${e instanceof Error ? e.message : String(e)}`);
  }
  let meta: { format?: string; settings?: Record<string, unknown>; run?: { baseName: string; opts: unknown; history: unknown; steps: number[] }; spectrum?: { info: Record<string, unknown>; probes: number; loadings?: unknown } };
  try {
    meta = JSON.parse(file.metadata.session ?? 'null');
  } catch {
    throw new SessionFileError('The session metadata is not valid JSON');
  }
  if (!meta || meta.format !== SESSION_FORMAT) throw new SessionFileError(`Not a session file of this explorer (expected format ${SESSION_FORMAT}${meta?.format ? `, got ${meta.format}` : ''}); model files are opened with “Open file…”`);
  const get = (name: string) => {
    const t = file.tensors.get(name);
    if (!t) throw new SessionFileError(`The session is missing ${name}`);
    return t;
  };
  let model: ModelBundle | null = null;
  if (meta.settings !== undefined && !isPlainObject(meta.settings)) throw new SessionFileError('The session settings are malformed (not a JSON object)');
  if (file.tensors.has('model.file')) {
    const t = get('model.file');
    try {
      model = decodeModelFile(t.data);
    } catch (e) {
      // The model file's own checks (NaN / Inf weights by tensor and element, shapes, sizes…).
      throw new SessionFileError(`The session's model: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  let run: SessionRun | null = null;
  if (meta.run) {
    if (!Array.isArray(meta.run.steps) || !Array.isArray(meta.run.history)) throw new SessionFileError('The session run is malformed');
    const seen = new Set<number>();
    for (const step of meta.run.steps) {
      if (!Number.isSafeInteger(step) || step < 0) throw new SessionFileError(`The session run lists a checkpoint at step ${JSON.stringify(step)}; steps are integers ≥ 0`);
      if (seen.has(step)) throw new SessionFileError(`The session run lists the checkpoint at step ${step} twice`);
      seen.add(step);
    }
    const history = sessionHistory(meta.run.history);
    const opts = sessionTrainOptions(meta.run.opts);
    const layout = model ? layoutFor(model.config) : null;
    run = {
      baseName: String(meta.run.baseName), opts, history,
      checkpoints: meta.run.steps.map((step) => {
        const name = `run.checkpoint.${step}`;
        let theta: Float32Array;
        try {
          theta = toFloat32(get(name), name);
        } catch (e) {
          if (e instanceof SessionFileError) throw e;
          throw new SessionFileError(`Checkpoint at step ${step}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        if (model && theta.length !== model.theta.length) throw new SessionFileError(`Checkpoint ${step} has ${theta.length} parameters, the model ${model.theta.length}`);
        const what = nonFiniteSummary(theta, { layout: layout ?? undefined });
        if (what) throw new SessionFileError(`Checkpoint at step ${step} (${name}): ${what}; a session with a non-finite checkpoint is refused`);
        return { step, theta };
      }),
    };
  }
  let spectrum: SessionSpectrum | null = null;
  if (meta.spectrum) {
    const probes = Number(meta.spectrum.probes) || 0;
    if (!Number.isSafeInteger(probes) || probes < 0 || probes > 10_000) throw new SessionFileError(`The session spectrum has ${JSON.stringify(meta.spectrum.probes)} SLQ probes`);
    if (meta.spectrum.info !== undefined && !isPlainObject(meta.spectrum.info)) throw new SessionFileError('The session spectrum info is malformed (not a JSON object)');
    spectrum = {
      info: meta.spectrum.info ?? {},
      eigenvalues: f64(get('spectrum.eigenvalues'), 'spectrum.eigenvalues'),
      // NaN marks a residual that was not computed (dense method beyond its top pairs).
      residuals: f64(get('spectrum.residuals'), 'spectrum.residuals', true),
      slq: probes ? {
        nodes: Array.from({ length: probes }, (_, p) => f64(get(`spectrum.slq.nodes.${p}`), `spectrum.slq.nodes.${p}`)),
        weights: Array.from({ length: probes }, (_, p) => f64(get(`spectrum.slq.weights.${p}`), `spectrum.slq.weights.${p}`)),
      } : undefined,
      loadings: meta.spectrum.loadings === undefined ? undefined : readLoadings(meta.spectrum.loadings, get),
    };
  }
  return { settings: meta.settings ?? {}, model, run, spectrum };
}

/** Loadings from the session: shapes consistent with their description, shares finite and in [0, 1]. */
function readLoadings(raw: unknown, get: (name: string) => { dtype: StDtype; data: Uint8Array; shape: number[] }): EigenLoadings {
  const bad = (why: string) => new SessionFileError(`The session's eigenvector loadings are malformed: ${why}`);
  if (!isPlainObject(raw)) throw bad('not a JSON object');
  const { layers, tensors, k, units } = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(k) || (k as number) < 0 || !Number.isSafeInteger(units) || (units as number) < 0) throw bad('k and units must be integers ≥ 0');
  if (!Array.isArray(tensors) || !tensors.every((t) => typeof t === 'string')) throw bad('tensors must be a list of names');
  if (!Array.isArray(layers)) throw bad('layers must be a list');
  let offset = 0;
  const ls = layers.map((l, i) => {
    if (!isPlainObject(l) || typeof l.name !== 'string' || !Number.isSafeInteger(l.width) || l.offset !== offset) throw bad(`layer ${i} (${JSON.stringify(l)?.slice(0, 60)})`);
    offset += l.width as number;
    return { name: l.name, width: l.width as number, offset: l.offset as number };
  });
  if (offset !== units) throw bad(`the layers hold ${offset} units, not ${String(units)}`);
  const read = (name: string, rows: number, cols: number): Float32Array => {
    const t = get(name);
    if (t.dtype !== 'F32' || t.data.byteLength !== rows * cols * 4) throw bad(`${name} must be F32 [${rows}, ${cols}]`);
    const out = new Float32Array(rows * cols);
    new Uint8Array(out.buffer).set(t.data);
    const i = out.findIndex((v) => !(v >= 0 && v <= 1 + 1e-5));
    if (i >= 0) throw bad(`${name} element ${i} is ${out[i]} (shares lie in [0, 1])`);
    return out;
  };
  return { layers: ls, tensors: tensors as string[], k: k as number, units: units as number, perUnit: read('spectrum.loadings.perUnit', k as number, units as number), perTensor: read('spectrum.loadings.perTensor', k as number, tensors.length) };
}

/** A spectrum as the page keeps it: core/tasks/spectrum.ts's `SpectrumResult` minus what sessions do not carry. */
export type SessionSpectrumResult = Omit<SpectrumResult, 'kronecker' | 'floor' | 'stoppedShort'>;

/**
 * The spectrum of a decoded session as a result the views can draw, and the model it belongs to
 * (`info.of`, else `fallbackOf`). Every field of `info` is checked, never cast: integers and finite
 * numbers where numbers belong, the enumerations, strings, and shapes consistent with the arrays.
 * One SessionFileError names the first field that is wrong.
 */
export function sessionSpectrumResult(s: SessionSpectrum, fallbackOf: string | null): { result: SessionSpectrumResult; of: string | null } {
  const info = s.info;
  const bad = (field: string, why: string) => new SessionFileError(`The session spectrum's info.${field} ${why} (got ${(JSON.stringify(info[field]) ?? 'nothing').slice(0, 60)})`);
  const int = (field: string, min: number): number => {
    const v = info[field];
    if (!Number.isSafeInteger(v) || (v as number) < min) throw bad(field, `must be an integer ≥ ${min}`);
    return v as number;
  };
  const oneOf = <T extends string>(field: string, values: readonly T[]): T => {
    const v = info[field];
    if (!values.includes(v as T)) throw bad(field, `must be one of ${values.join(', ')}`);
    return v as T;
  };
  const optional = (field: string): boolean => info[field] === undefined || info[field] === null;
  const d = int('d', 1);
  const n = int('n', 0);
  const method = oneOf('method', ['dense', 'lanczos'] as const);
  const loss = oneOf('loss', ['mse', 'kl'] as const);
  const split = oneOf('split', ['train', 'all'] as const);
  const aboveFloor = int('aboveFloor', 0);
  const matvecs = int('matvecs', 0);
  if (typeof info.backend !== 'string') throw bad('backend', 'must be a string');
  if (!optional('storage') && typeof info.storage !== 'string') throw bad('storage', 'must be a string');
  if (!optional('of') && typeof info.of !== 'string') throw bad('of', 'must be a string');
  const timings = info.timings;
  if (!isPlainObject(timings) || !Object.values(timings).every((t) => Number.isFinite(t))) throw bad('timings', 'must map phases to finite milliseconds');
  let trace: SessionSpectrumResult['trace'];
  if (!optional('trace')) {
    const t = info.trace;
    if (!isPlainObject(t) || !Number.isFinite(t.mean) || !Number.isFinite(t.stderr)) throw bad('trace', 'must be { mean, stderr } with finite numbers');
    trace = { mean: t.mean as number, stderr: t.stderr as number };
  }
  let projection: SessionSpectrumResult['projection'];
  if (!optional('projection')) projection = readProjection(info.projection, d, (why) => bad('projection', why));
  const k = s.eigenvalues.length;
  if (k > d) throw bad('d', `is smaller than the ${k} eigenvalues the session holds`);
  if (s.residuals.length !== k) throw new SessionFileError(`The session holds ${k} eigenvalues but ${s.residuals.length} residuals`);
  if (aboveFloor > k) throw bad('aboveFloor', `exceeds the ${k} eigenvalues the session holds`);
  s.slq?.nodes.forEach((nodes, p) => {
    if (s.slq!.weights[p].length !== nodes.length) throw new SessionFileError(`The session's SLQ probe ${p} has ${nodes.length} nodes but ${s.slq!.weights[p].length} weights`);
  });
  if (s.loadings && s.loadings.k > k) throw new SessionFileError(`The session's eigenvector loadings cover ${s.loadings.k} eigenvectors, more than its ${k} eigenvalues`);
  const result: SessionSpectrumResult = {
    d, n, method, loss, split, aboveFloor, matvecs, backend: info.backend, timings: { ...(timings as Record<string, number>) },
    eigenvalues: s.eigenvalues, residuals: s.residuals, slq: s.slq, loadings: s.loadings,
    ...(trace ? { trace } : {}), ...(projection ? { projection } : {}), ...(typeof info.storage === 'string' ? { storage: info.storage } : {}),
  };
  return { result, of: typeof info.of === 'string' ? info.of : fallbackOf };
}

/** A projection curve from JSON: k integers in 1..d, losses finite or null (JSON's NaN: read back as NaN), accuracies in [0, 1]. */
function readProjection(raw: unknown, d: number, bad: (why: string) => SessionFileError): NonNullable<SessionSpectrumResult['projection']> {
  if (!isPlainObject(raw) || (raw.metric !== 'accuracy' && raw.metric !== 'mse') || !Array.isArray(raw.points)) throw bad('must be { metric, original, points }');
  const point = (p: unknown, where: string): ProjectionPoint => {
    if (!isPlainObject(p) || !Number.isSafeInteger(p.k) || (p.k as number) < 0 || (p.k as number) > d) throw bad(`${where} must have an integer k in 0..${d}`);
    const num = (name: string, optionalField: boolean): number | undefined => {
      const v = p[name];
      if (v === undefined && optionalField) return undefined;
      if (v === null) return NaN;
      if (!Number.isFinite(v)) throw bad(`${where}.${name} must be a finite number`);
      return v as number;
    };
    const out: ProjectionPoint = { k: p.k as number, trainLoss: num('trainLoss', false)!, testLoss: num('testLoss', false)! };
    const trainAcc = num('trainAcc', true);
    const testAcc = num('testAcc', true);
    if (trainAcc !== undefined) out.trainAcc = trainAcc;
    if (testAcc !== undefined) out.testAcc = testAcc;
    return out;
  };
  return { metric: raw.metric, original: point(raw.original, 'original'), points: raw.points.map((p, i) => point(p, `points[${i}]`)) };
}
