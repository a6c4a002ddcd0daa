/**
 * The precomputed-analysis sidecar of a shipped model (issue 13, "open on an answer"):
 * public/models/<id>.analysis.json, written by `npm run models` (scripts/analysis.ts) and read by
 * the app at startup so the Spectrum view opens with an answer drawn, without a job.
 *
 * Plain JSON (no tfjs, no DOM): the top-k eigenvalues and residuals, the SLQ quadrature (density
 * and d1(ε) error bands), the projection curve with k*, the float32 floor estimate, a summary of
 * the synchronized blocks and of the Fourier circuits, and how and when it was computed. No
 * eigenvectors (the eigenvector loadings need a recompute).
 *
 * Validated on load like a session file: wrong format/version, a different model (fingerprint of
 * θ*, d, architecture), wrong shapes, NaN/Inf or unsorted eigenvalues are refused with one precise
 * message (an AnalysisFileError) and nothing of the current state is touched.
 */
import { BadInputError } from '../errors';
import type { ProjectionCurve, ProjectionPoint } from '../spectrum/projection';
import type { FloorEstimate } from '../spectrum/floor';
import type { SpectrumResult } from '../tasks/spectrum';

export const ANALYSIS_FORMAT = 'slt-analysis';
export const ANALYSIS_VERSION = 1;
/** Refuse sidecars larger than this before parsing (the shipped ones are tens of kB). */
export const ANALYSIS_MAX_BYTES = 4 * 1024 * 1024;

export class AnalysisFileError extends BadInputError {
  constructor(message: string) {
    super(message);
    this.name = 'AnalysisFileError';
  }
}

/** How the Lanczos run ended when it stopped before all k pairs converged. */
export interface StoppedShort {
  /** Why ('time limit', 'cancelled', 'memory'). */
  reason: string;
  requested: number;
  /** Leading eigenpairs that converged (what is kept). */
  converged: number;
  /** Seconds spent. */
  seconds: number;
  /** Operator applications per second measured during the run. */
  matvecsPerSecond: number;
  /** The estimate of what reaching `requested` (or seed 002's k) would cost, in words and numbers. */
  estimate?: { k: number; seconds: number; bytes: number; note: string };
}

export interface AnalysisFile {
  format: typeof ANALYSIS_FORMAT;
  version: number;
  model: {
    /** The shipped model id (file stem), e.g. "modadd". */
    id: string;
    arch: string;
    d: number;
    /** FNV-1a 32 of θ*'s float32 bytes, hex: ties the analysis to exactly one parameter vector. */
    fingerprint: string;
    trainAcc?: number;
    testAcc?: number;
  };
  computed: {
    /** ISO date. */
    date: string;
    by: string;
    backend: string;
    method: 'dense' | 'lanczos';
    /** Eigenpairs asked for (Lanczos) or d (dense). */
    k: number;
    tol?: number;
    seconds: number;
    matvecs: number;
    storage?: string;
    stoppedShort?: StoppedShort;
    timings?: Record<string, number>;
  };
  spectrum: {
    n: number;
    loss: 'mse' | 'kl';
    split: 'train' | 'all';
    /** Descending. */
    eigenvalues: number[];
    /** Verified ‖Hv − hv‖ per pair; null where not computed (dense beyond the first 1,000). */
    residuals: (number | null)[];
    aboveFloor: number;
    trace?: { mean: number; stderr: number };
    slq?: { nodes: number[][]; weights: number[][] };
  };
  projection?: ProjectionCurve;
  floor: FloorEstimate;
  sync?: { note?: string; layers: { name: string; width: number; blocks: number; blockRanks: number[]; freeDirections: number; dead: number; alwaysOn: number }[] };
  fourier?: { p: number; keyFrequencies: number[]; keyEnergyFraction: number; norms: number[] };
}

/** FNV-1a (32 bit) of the float32 bytes of θ, as 8 hex digits. */
export function thetaFingerprint(theta: Float32Array): string {
  const bytes = new Uint8Array(theta.buffer, theta.byteOffset, theta.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Rounds to 9 significant digits (keeps the JSON small; far below every error bar shown). */
export const sig = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(9)) : x);

// ---------------------------------------------------------------------------------------------
// Validation.

type Json = unknown;
const isObj = (x: Json): x is Record<string, Json> => typeof x === 'object' && x !== null && !Array.isArray(x);

function fail(where: string, what: string): never {
  throw new AnalysisFileError(`Precomputed analysis: ${where} ${what}`);
}

function finiteArray(x: Json, where: string, opts: { nullable?: boolean; min?: number } = {}): number[] {
  if (!Array.isArray(x)) fail(where, 'must be an array of numbers');
  const out = x as (number | null)[];
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v === null && opts.nullable) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}[${i}]`, `is ${v === null ? 'null' : typeof v === 'number' ? String(v) : typeof v}, not a finite number`);
    if (opts.min !== undefined && v < opts.min) fail(`${where}[${i}]`, `is ${v}, below ${opts.min}`);
  }
  return out as number[];
}

function finite(x: Json, where: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(where, `is ${JSON.stringify(x) ?? 'missing'}, not a finite number`);
  return x;
}

function int(x: Json, where: string, min = 0): number {
  const v = finite(x, where);
  if (!Number.isInteger(v) || v < min) fail(where, `is ${v}, not an integer ≥ ${min}`);
  return v;
}

function str(x: Json, where: string): string {
  if (typeof x !== 'string') fail(where, 'must be a string');
  return x;
}

/** What the analysis must match: the model it is shown with. */
export interface AnalysisExpect {
  arch: string;
  d: number;
  theta?: Float32Array;
}

/**
 * Parses and validates a sidecar. Throws AnalysisFileError with the first problem found; returns
 * the file unchanged (plain JSON) otherwise.
 */
export function parseAnalysisFile(input: string | Uint8Array, expect?: AnalysisExpect): AnalysisFile {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > ANALYSIS_MAX_BYTES) throw new AnalysisFileError(`Precomputed analysis: the file is ${size.toLocaleString('en-US')} bytes, more than the ${ANALYSIS_MAX_BYTES.toLocaleString('en-US')} allowed.`);
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AnalysisFileError(`Precomputed analysis: not valid JSON (${(e as Error).message}).`);
  }
  return validateAnalysis(raw, expect);
}

export function validateAnalysis(raw: Json, expect?: AnalysisExpect): AnalysisFile {
  if (!isObj(raw)) fail('the file', 'is not a JSON object');
  if (raw.format !== ANALYSIS_FORMAT) fail('"format"', `is ${JSON.stringify(raw.format)}, expected "${ANALYSIS_FORMAT}"`);
  if (raw.version !== ANALYSIS_VERSION) fail('"version"', `is ${JSON.stringify(raw.version)}; this app reads version ${ANALYSIS_VERSION}`);
  const model = raw.model, computed = raw.computed, spectrum = raw.spectrum, floor = raw.floor;
  if (!isObj(model)) fail('"model"', 'is missing');
  if (!isObj(computed)) fail('"computed"', 'is missing');
  if (!isObj(spectrum)) fail('"spectrum"', 'is missing');
  if (!isObj(floor)) fail('"floor"', 'is missing');
  str(model.id, 'model.id');
  const arch = str(model.arch, 'model.arch');
  const d = int(model.d, 'model.d', 1);
  const fp = str(model.fingerprint, 'model.fingerprint');
  if (expect) {
    if (arch !== expect.arch) fail('model.arch', `is "${arch}" but the model shown is "${expect.arch}"`);
    if (d !== expect.d) fail('model.d', `is ${d.toLocaleString('en-US')} but the model shown has d = ${expect.d.toLocaleString('en-US')} parameters`);
    if (expect.theta && thetaFingerprint(expect.theta) !== fp) fail('model.fingerprint', `(${fp}) does not match the parameters of the model shown (${thetaFingerprint(expect.theta)}): the analysis belongs to another θ*`);
  }
  str(computed.date, 'computed.date');
  if (Number.isNaN(Date.parse(computed.date as string))) fail('computed.date', `is not a date (${JSON.stringify(computed.date)})`);
  str(computed.by, 'computed.by');
  str(computed.backend, 'computed.backend');
  if (computed.method !== 'dense' && computed.method !== 'lanczos') fail('computed.method', `is ${JSON.stringify(computed.method)}, expected "dense" or "lanczos"`);
  const k = int(computed.k, 'computed.k', 1);
  finite(computed.seconds, 'computed.seconds');
  int(computed.matvecs, 'computed.matvecs');

  const ev = finiteArray(spectrum.eigenvalues, 'spectrum.eigenvalues');
  if (ev.length === 0) fail('spectrum.eigenvalues', 'is empty');
  if (ev.length > d) fail('spectrum.eigenvalues', `has ${ev.length} values, more than d = ${d}`);
  if (computed.method === 'dense' && ev.length !== d) fail('spectrum.eigenvalues', `has ${ev.length} values; a dense spectrum has d = ${d}`);
  if (ev.length > k) fail('spectrum.eigenvalues', `has ${ev.length} values, more than the k = ${k} computed`);
  for (let i = 1; i < ev.length; i++) if (ev[i] > ev[i - 1]) fail(`spectrum.eigenvalues[${i}]`, `(${ev[i]}) is larger than the one before (${ev[i - 1]}); eigenvalues must be descending`);
  const res = finiteArray(spectrum.residuals, 'spectrum.residuals', { nullable: true, min: 0 });
  if (res.length !== ev.length) fail('spectrum.residuals', `has ${res.length} entries for ${ev.length} eigenvalues`);
  int(spectrum.n, 'spectrum.n', 1);
  if (spectrum.loss !== 'mse' && spectrum.loss !== 'kl') fail('spectrum.loss', `is ${JSON.stringify(spectrum.loss)}`);
  if (spectrum.split !== 'train' && spectrum.split !== 'all') fail('spectrum.split', `is ${JSON.stringify(spectrum.split)}`);
  int(spectrum.aboveFloor, 'spectrum.aboveFloor');
  if (spectrum.trace !== undefined) {
    if (!isObj(spectrum.trace)) fail('spectrum.trace', 'is not an object');
    finite(spectrum.trace.mean, 'spectrum.trace.mean');
    finite(spectrum.trace.stderr, 'spectrum.trace.stderr');
  }
  if (spectrum.slq !== undefined) {
    const s = spectrum.slq;
    if (!isObj(s) || !Array.isArray(s.nodes) || !Array.isArray(s.weights)) fail('spectrum.slq', 'must hold "nodes" and "weights" arrays');
    const nodes = s.nodes as Json[], weights = s.weights as Json[];
    if (nodes.length !== weights.length || nodes.length === 0) fail('spectrum.slq', `has ${nodes.length} node and ${weights.length} weight probes`);
    nodes.forEach((nd, i) => {
      const a = finiteArray(nd, `spectrum.slq.nodes[${i}]`);
      const w = finiteArray(weights[i], `spectrum.slq.weights[${i}]`, { min: 0 });
      if (a.length !== w.length) fail(`spectrum.slq probe ${i}`, `has ${a.length} nodes and ${w.length} weights`);
      const sum = w.reduce((x, y) => x + y, 0);
      if (Math.abs(sum - 1) > 1e-6) fail(`spectrum.slq.weights[${i}]`, `sum to ${sum}, not 1`);
    });
  }
  const fl = finite(floor.floor, 'floor.floor');
  if (!(fl > 0)) fail('floor.floor', `is ${fl}; the floor of a float32 product is positive`);
  finiteArray(floor.probes, 'floor.probes', { min: 0 });
  str(floor.method, 'floor.method');

  if (raw.projection !== undefined) {
    const p = raw.projection;
    if (!isObj(p)) fail('projection', 'is not an object');
    if (p.metric !== 'accuracy' && p.metric !== 'mse') fail('projection.metric', `is ${JSON.stringify(p.metric)}`);
    const point = (q: Json, where: string): ProjectionPoint => {
      if (!isObj(q)) fail(where, 'is not an object');
      int(q.k, `${where}.k`, 1);
      if ((q.k as number) > d) fail(`${where}.k`, `is ${q.k}, more than d = ${d}`);
      finite(q.trainLoss, `${where}.trainLoss`);
      // testLoss is NaN when the model has no test split: JSON stores null.
      if (q.testLoss !== null) finite(q.testLoss, `${where}.testLoss`);
      if (p.metric === 'accuracy') {
        const a = finite(q.trainAcc, `${where}.trainAcc`);
        if (a < 0 || a > 1) fail(`${where}.trainAcc`, `is ${a}, not in [0, 1]`);
        if (q.testAcc !== undefined && q.testAcc !== null) {
          const t = finite(q.testAcc, `${where}.testAcc`);
          if (t < 0 || t > 1) fail(`${where}.testAcc`, `is ${t}, not in [0, 1]`);
        }
      }
      return q as unknown as ProjectionPoint;
    };
    point(p.original, 'projection.original');
    if (!Array.isArray(p.points) || p.points.length === 0) fail('projection.points', 'must be a non-empty array');
    let prev = 0;
    (p.points as Json[]).forEach((q, i) => {
      const pt = point(q, `projection.points[${i}]`);
      if (pt.k <= prev) fail(`projection.points[${i}].k`, `(${pt.k}) is not larger than the one before (${prev})`);
      if (pt.k > ev.length) fail(`projection.points[${i}].k`, `is ${pt.k}, beyond the ${ev.length} eigenvectors computed`);
      prev = pt.k;
    });
  }
  if (raw.sync !== undefined) {
    const s = raw.sync;
    if (!isObj(s) || !Array.isArray(s.layers)) fail('sync', 'must hold a "layers" array');
    (s.layers as Json[]).forEach((l, i) => {
      if (!isObj(l)) fail(`sync.layers[${i}]`, 'is not an object');
      str(l.name, `sync.layers[${i}].name`);
      const w = int(l.width, `sync.layers[${i}].width`, 1);
      const b = int(l.blocks, `sync.layers[${i}].blocks`, 1);
      if (b > w) fail(`sync.layers[${i}].blocks`, `is ${b}, more than the layer's ${w} neurons`);
      const r = finiteArray(l.blockRanks, `sync.layers[${i}].blockRanks`, { min: 0 });
      if (r.length !== b) fail(`sync.layers[${i}].blockRanks`, `has ${r.length} entries for ${b} blocks`);
      int(l.freeDirections, `sync.layers[${i}].freeDirections`);
      int(l.dead, `sync.layers[${i}].dead`);
      int(l.alwaysOn, `sync.layers[${i}].alwaysOn`);
    });
  }
  if (raw.fourier !== undefined) {
    const f = raw.fourier;
    if (!isObj(f)) fail('fourier', 'is not an object');
    const p = int(f.p, 'fourier.p', 2);
    const norms = finiteArray(f.norms, 'fourier.norms', { min: 0 });
    if (norms.length !== Math.floor((p - 1) / 2)) fail('fourier.norms', `has ${norms.length} entries; p = ${p} has ${Math.floor((p - 1) / 2)} frequencies`);
    finiteArray(f.keyFrequencies, 'fourier.keyFrequencies', { min: 1 });
    finite(f.keyEnergyFraction, 'fourier.keyEnergyFraction');
  }
  return raw as unknown as AnalysisFile;
}

/** What the views need from a validated sidecar, in the shape of a spectrum job's result. */
export type SpectrumFromAnalysis = Omit<SpectrumResult, 'kronecker' | 'loadings' | 'floor'> & { floor: FloorEstimate };

export function spectrumFromAnalysis(a: AnalysisFile): SpectrumFromAnalysis {
  const nan = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : x);
  const pt = (p: ProjectionPoint): ProjectionPoint => ({ ...p, testLoss: nan(p.testLoss), testAcc: p.testAcc === null ? undefined : p.testAcc });
  return {
    d: a.model.d,
    n: a.spectrum.n,
    method: a.computed.method,
    loss: a.spectrum.loss,
    split: a.spectrum.split,
    eigenvalues: Float64Array.from(a.spectrum.eigenvalues),
    residuals: Float64Array.from(a.spectrum.residuals, nan),
    slq: a.spectrum.slq ? { nodes: a.spectrum.slq.nodes.map((x) => Float64Array.from(x)), weights: a.spectrum.slq.weights.map((x) => Float64Array.from(x)) } : undefined,
    trace: a.spectrum.trace,
    projection: a.projection ? { metric: a.projection.metric, original: pt(a.projection.original), points: a.projection.points.map(pt) } : undefined,
    aboveFloor: a.spectrum.aboveFloor,
    storage: a.computed.storage,
    stoppedShort: a.computed.stoppedShort,
    floor: a.floor,
    timings: a.computed.timings ?? { total: a.computed.seconds * 1000 },
    matvecs: a.computed.matvecs,
    backend: a.computed.backend,
  };
}
