/**
 * Model files: safetensors with PyTorch state_dict names and shapes (docs/science.md §1), so
 * `safetensors.torch.save_file(model.state_dict(), path)` from PyTorch loads here and our
 * exports load there with `model.load_state_dict(load_file(path), strict=False)`.
 *
 * `__metadata__` (all values strings, as safetensors requires):
 *   format  "slt-explorer/1"
 *   arch    modadd | modadd-gelu | mnist-mlp | matfac
 *   sizes   "p", "e", "h" (modadd, modadd-gelu); "hidden": "50,50" (mnist-mlp); "widths": "20,20,20" (matfac)
 *   params  parameter count
 *   data    JSON of the DataSpec
 *   name    the model's name
 *   ...     any free-form provenance from ModelBundle.metadata
 * Optional data tensors: "data.train_idx" (I32 [n], modadd pair indices a·p + b) and
 * "data.x" / "data.y" (F32 [n, in] / [n, out], matfac).
 *
 * A file without metadata (plain PyTorch) is recognised from its tensor names and shapes.
 * Decoding either returns a complete, validated bundle or throws one ModelFileError that lists
 * every problem found.
 */
import type { ModelBundle } from '../models/bundle';
import {
  asModelConfig, describeConfig, inputDim, layoutFor, outputDim, validateConfig,
  type AnyModelConfig, type ModelConfig,
} from '../models/config';
import { archIds, archSpecs, getArchSpec, hasArch } from '../arch/registry';
import type { FileConfigReader } from '../arch/types';
import { defaultDataSpec, type DataSpec } from '../data/spec';
import { firstNonFinite, nonFiniteSummary, type ParamLayout } from '../params';
import { SafetensorsError, readSafetensors, toFloat32, toInt32, writeSafetensors, type StDtype, type StTensor } from './safetensors';

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

export const MODEL_FILE_FORMAT = 'slt-explorer/1';

/** Metadata keys this module writes itself; a bundle's own metadata cannot override them. */
const RESERVED_KEYS = new Set(['format', 'arch', 'p', 'e', 'h', 'hidden', 'widths', 'n', 'l', 'params', 'data', 'name']);

const TRAIN_IDX = 'data.train_idx';
const DATA_X = 'data.x';
const DATA_Y = 'data.y';
const DATA_TENSORS = new Set([TRAIN_IDX, DATA_X, DATA_Y]);

const FLOAT_DTYPES: readonly StDtype[] = ['F32', 'F64', 'F16', 'BF16'];
const INT_DTYPES: readonly StDtype[] = ['I64', 'I32', 'I16', 'I8', 'U8'];

/** PyTorch wrappers that prefix every state_dict key (DataParallel, torch.compile). */
const WRAPPER_PREFIXES = ['module.', '_orig_mod.'];

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Problems with a data spec for this config (empty when valid). */
function dataSpecProblems(spec: unknown, c: AnyModelConfig): string[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return ['the data spec must be a JSON object'];
  const s = spec as Record<string, unknown>;
  const arch = getArchSpec(c.arch);
  const want = arch.dataKind;
  if (s.kind !== want) return [`data spec kind ${JSON.stringify(s.kind)} does not fit a ${c.arch} model (expected "${want}")`];
  const errs: string[] = [];
  const int = (k: string, min: number, max: number) => {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) errs.push(`data spec ${k} must be an integer in [${min}, ${max}] (got ${JSON.stringify(v)})`);
  };
  const mustEqual = (k: string, v: number, what: string) => {
    if (s[k] !== v) errs.push(`data spec ${k}=${JSON.stringify(s[k])} does not match the model's ${what} (${v})`);
  };
  switch (want) {
    case 'modadd':
      if (arch.tokens) mustEqual('p', arch.tokens.vocab(c), 'p');
      if (typeof s.trainFraction !== 'number' || !(s.trainFraction > 0 && s.trainFraction <= 1)) {
        errs.push(`data spec trainFraction must be a number in (0, 1] (got ${JSON.stringify(s.trainFraction)})`);
      }
      int('seed', -(2 ** 53 - 1), 2 ** 53 - 1);
      if (s.op !== 'sum' && s.op !== 'random') errs.push(`data spec op must be "sum" or "random" (got ${JSON.stringify(s.op)})`);
      break;
    case 'mnist':
      if (s.source !== 'builtin') errs.push(`data spec source must be "builtin" (got ${JSON.stringify(s.source)})`);
      break;
    case 'matfac':
      mustEqual('inDim', inputDim(c), 'input width');
      mustEqual('outDim', outputDim(c), 'output width');
      int('nTrain', 1, 1_000_000);
      int('seed', -(2 ** 53 - 1), 2 ** 53 - 1);
      break;
  }
  return errs;
}

/** Problems with a bundle's data arrays for this config (empty when valid). */
function dataArrayProblems(c: AnyModelConfig, trainIdx?: Int32Array, dataX?: Float32Array, dataY?: Float32Array, rowsX?: number, rowsY?: number): string[] {
  const errs: string[] = [];
  const arch = getArchSpec(c.arch);
  if (trainIdx) {
    if (!arch.tokens) {
      errs.push(`${TRAIN_IDX} (modular-addition pair indices) does not belong in a ${c.arch} model`);
    } else if (trainIdx.length === 0) {
      errs.push(`${TRAIN_IDX} is empty: a model needs at least one training pair`);
    } else {
      const p = arch.tokens.vocab(c);
      const n = p * p;
      const seen = new Uint8Array(n);
      for (let i = 0; i < trainIdx.length; i++) {
        const v = trainIdx[i];
        if (v < 0 || v >= n) { errs.push(`${TRAIN_IDX}[${i}] = ${v} is outside [0, ${n}) (pair indices a·p + b for p = ${p})`); break; }
        if (seen[v]) { errs.push(`${TRAIN_IDX}[${i}] = ${v} repeats an earlier entry (indices must be unique)`); break; }
        seen[v] = 1;
      }
    }
  }
  if (dataX || dataY) {
    if (arch.dataKind !== 'matfac') {
      errs.push(`${DATA_X} / ${DATA_Y} (regression inputs and targets) do not belong in a ${c.arch} model`);
    } else if (!dataX || !dataY) {
      errs.push(`${dataX ? DATA_Y : DATA_X} is missing: ${DATA_X} and ${DATA_Y} come together`);
    } else {
      const inW = inputDim(c);
      const outW = outputDim(c);
      const nx = rowsX ?? dataX.length / inW;
      const ny = rowsY ?? dataY.length / outW;
      if (!Number.isInteger(nx) || nx * inW !== dataX.length) errs.push(`${DATA_X} has ${dataX.length} values, not a whole number of rows of width ${inW}`);
      else if (!Number.isInteger(ny) || ny * outW !== dataY.length) errs.push(`${DATA_Y} has ${dataY.length} values, not a whole number of rows of width ${outW}`);
      else if (nx !== ny) errs.push(`${DATA_X} has ${nx} rows but ${DATA_Y} has ${ny}: one target per input`);
      else if (nx === 0) errs.push(`${DATA_X} and ${DATA_Y} are empty`);
      for (const [name, a] of [[DATA_X, dataX], [DATA_Y, dataY]] as const) {
        const i = firstNonFinite(a);
        if (i >= 0) errs.push(`${name} element ${i} is ${Number.isNaN(a[i]) ? 'NaN' : 'Inf'}`);
      }
    }
  }
  return errs;
}

function nonFiniteProblem(layout: ParamLayout, theta: Float32Array): string | null {
  const what = nonFiniteSummary(theta, { layout, noun: 'weight' });
  return what && `${what}: the model diverged or the file is corrupt`;
}

export function encodeModelFile(b: ModelBundle): Uint8Array {
  const c = b.config;
  const cfgErrs = validateConfig(c);
  if (cfgErrs.length) throw new ModelFileError(`Cannot export ${b.name}: ${cfgErrs.join('; ')}`);
  const layout = layoutFor(c);
  if (b.theta.length !== layout.size) {
    throw new ModelFileError(`Cannot export ${b.name}: θ has ${b.theta.length} entries, ${describeConfig(c)} has ${layout.size} parameters`);
  }
  const problems: string[] = [];
  const nf = nonFiniteProblem(layout, b.theta);
  if (nf) problems.push(nf);
  problems.push(...dataSpecProblems(b.data, c));
  problems.push(...dataArrayProblems(c, b.trainIdx, b.dataX, b.dataY));
  if (problems.length) throw new ModelFileError(`Cannot export ${b.name}: ${problems.join('; ')}`);

  const tensors: { name: string; dtype: StDtype; shape: number[]; data: ArrayBufferView }[] = layout.tensors.map((t) => ({
    name: t.name, dtype: 'F32', shape: t.shape, data: b.theta.subarray(t.offset, t.offset + t.size),
  }));
  if (b.trainIdx) tensors.push({ name: TRAIN_IDX, dtype: 'I32', shape: [b.trainIdx.length], data: b.trainIdx });
  if (b.dataX && b.dataY && getArchSpec(c.arch).dataKind === 'matfac') {
    const inW = inputDim(c);
    const outW = outputDim(c);
    tensors.push({ name: DATA_X, dtype: 'F32', shape: [b.dataX.length / inW, inW], data: b.dataX });
    tensors.push({ name: DATA_Y, dtype: 'F32', shape: [b.dataY.length / outW, outW], data: b.dataY });
  }
  const metadata: Record<string, string> = Object.fromEntries(
    Object.entries(b.metadata ?? {}).filter(([k]) => !RESERVED_KEYS.has(k)).map(([k, v]) => [k, String(v)]),
  );
  Object.assign(metadata, {
    format: MODEL_FILE_FORMAT,
    arch: c.arch,
    ...getArchSpec(c.arch).fileSizes(c),
    params: String(layout.size),
    data: JSON.stringify(b.data),
    name: b.name,
  });
  return writeSafetensors(tensors, metadata);
}

/** A positive integer written as a metadata string ("53"), or an error. */
function parseSize(key: string, v: string): number {
  if (!/^\s*\d+\s*$/.test(v)) throw new ModelFileError(`__metadata__ "${key}" must be a positive integer (got ${JSON.stringify(v)})`);
  return Number(v);
}

function parseSizeList(key: string, v: string): number[] {
  const parts = v.split(',');
  if (v.trim() === '' || parts.some((x) => !/^\s*\d+\s*$/.test(x))) {
    throw new ModelFileError(`__metadata__ "${key}" must be a comma-separated list of positive integers like "50,50" (got ${JSON.stringify(v)})`);
  }
  return parts.map(Number);
}

/** Which architecture a bare state_dict is, from its tensor names alone (the first registered that matches; null if none). */
function inferArch(names: ReadonlySet<string>): string | null {
  return archSpecs().find((s) => s.matchesTensorNames(names))?.id ?? null;
}

/**
 * The model's sizes: from __metadata__ where given (then every shape is checked against them),
 * otherwise read off the tensor shapes (the architecture's configFromFile).
 */
function configFor(arch: string, meta: Record<string, string>, tensors: Map<string, StTensor>): AnyModelConfig {
  const names = new Set(tensors.keys());
  const reader: FileConfigReader = {
    meta,
    names,
    dim(name, axis, size) {
      const t = tensors.get(name);
      if (!t) throw new ModelFileError(`Cannot tell the ${arch} model's ${size}: the file has no ${name} (and no "${size}" in __metadata__)`);
      if (t.shape.length !== 2) throw new ModelFileError(`${name} has shape ${fmtShape(t.shape)}, expected a 2-D weight`);
      return t.shape[axis];
    },
    size: (key) => parseSize(key, meta[key]),
    sizeList: (key) => parseSizeList(key, meta[key]),
    maxIndex(re) {
      let m = -1;
      for (const n of names) {
        const r = re.exec(n);
        if (r) m = Math.max(m, Number(r[1]));
      }
      return m;
    },
    fail: (message) => new ModelFileError(message),
  };
  return getArchSpec(arch).configFromFile(reader);
}

function describeTensorList(names: Iterable<string>): string {
  const list = [...names];
  return list.length ? list.join(', ') : '(none)';
}

export function decodeModelFile(bytes: Uint8Array, opts?: { name?: string }): ModelBundle {
  let file: ReturnType<typeof readSafetensors>;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new ModelFileError(`Not a valid safetensors file: ${e.message}`);
    throw e;
  }
  const meta = file.metadata;
  if (meta.format !== undefined && meta.format.startsWith('slt-explorer/') && meta.format !== MODEL_FILE_FORMAT) {
    throw new ModelFileError(`This file's format is ${meta.format}; this version of the explorer reads ${MODEL_FILE_FORMAT}. Update the explorer.`);
  }

  // Weights vs data tensors; strip a wrapper prefix that every weight carries.
  let weights = new Map<string, StTensor>();
  const data = new Map<string, StTensor>();
  for (const [k, t] of file.tensors) (k.startsWith('data.') ? data : weights).set(k, t);
  for (const prefix of WRAPPER_PREFIXES) {
    if (weights.size && [...weights.keys()].every((k) => k.startsWith(prefix))) {
      weights = new Map([...weights].map(([k, t]) => [k.slice(prefix.length), t]));
    }
  }
  const weightNames = new Set(weights.keys());

  let arch: string;
  if (meta.arch !== undefined) {
    if (!hasArch(meta.arch)) {
      throw new ModelFileError(`Unknown architecture "${meta.arch}" in __metadata__ (known: ${archIds().join(', ')})`);
    }
    arch = meta.arch;
  } else {
    const inferred = inferArch(weightNames);
    if (!inferred) {
      const hints = archSpecs().map((a) => `${a.tensorNamesHint} (${a.id})`);
      const expected = hints.length > 1 ? `${hints.slice(0, -1).join(', ')} or ${hints[hints.length - 1]}` : hints.join('');
      throw new ModelFileError(
        `Cannot tell which model this is: its tensors (${describeTensorList(weightNames)}) match none of the known architectures ` +
        `(${archIds().join(', ')}). Expected PyTorch state_dict names such as ${expected}, ` +
        `or an "arch" entry in __metadata__.`,
      );
    }
    arch = inferred;
  }

  const read = configFor(arch, meta, weights);
  const cfgErrs = validateConfig(read);
  if (cfgErrs.length) throw new ModelFileError(`Invalid ${arch} model: ${cfgErrs.join('; ')}`);
  const config: ModelConfig = asModelConfig(read);
  const layout = layoutFor(config);
  const desc = describeConfig(config);

  const problems: string[] = [];
  if (meta.params !== undefined && meta.params.trim() !== String(layout.size)) {
    problems.push(`__metadata__ says params=${meta.params}, but ${desc} has ${layout.size} parameters`);
  }
  const expected = new Set(layout.tensors.map((t) => t.name));
  const missing = layout.tensors.filter((t) => !weights.has(t.name)).map((t) => t.name);
  const extra = [...weightNames].filter((n) => !expected.has(n));
  const extraData = [...data.keys()].filter((n) => !DATA_TENSORS.has(n));
  if (missing.length) problems.push(`missing tensor${missing.length > 1 ? 's' : ''} ${missing.join(', ')} for ${desc}`);
  if (extra.length || extraData.length) {
    const all = [...extra, ...extraData];
    problems.push(
      `unexpected tensor${all.length > 1 ? 's' : ''} ${all.join(', ')} (a ${desc} model has ${[...expected].join(', ')}` +
      `${extraData.length ? `; data tensors may be ${[...DATA_TENSORS].join(', ')}` : ''})`,
    );
  }
  for (const t of layout.tensors) {
    const st = weights.get(t.name);
    if (!st) continue;
    if (st.shape.length !== t.shape.length || st.shape.some((d, i) => d !== t.shape[i])) {
      problems.push(`${t.name} has shape ${fmtShape(st.shape)}, expected ${fmtShape(t.shape)} for ${desc}`);
    }
    if (!FLOAT_DTYPES.includes(st.dtype)) {
      problems.push(`${t.name} has dtype ${st.dtype}; weights must be floating point (${FLOAT_DTYPES.join(', ')})`);
    }
  }
  if (problems.length) throw new ModelFileError(`This file is not a valid ${arch} model: ${problems.join('; ')}`);

  const theta = new Float32Array(layout.size);
  for (const t of layout.tensors) {
    try {
      theta.set(toFloat32(weights.get(t.name)!, t.name), t.offset);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new ModelFileError(e.message);
      throw e;
    }
  }
  const nf = nonFiniteProblem(layout, theta);
  if (nf) throw new ModelFileError(`This ${desc} model cannot be analysed: ${nf}`);

  // Data spec: from metadata, else the architecture's default.
  let spec: DataSpec;
  if (meta.data !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(meta.data);
    } catch (e) {
      throw new ModelFileError(`__metadata__ "data" is not valid JSON (${(e as Error).message})`);
    }
    const errs = dataSpecProblems(parsed, config);
    if (errs.length) throw new ModelFileError(`__metadata__ "data" is not a usable data spec for ${desc}: ${errs.join('; ')}`);
    spec = parsed as DataSpec;
  } else {
    spec = defaultDataSpec(config);
  }

  // Data tensors.
  const dataProblems: string[] = [];
  const readData = <T>(name: string, rank: number, dtypes: readonly StDtype[], conv: (t: StTensor, n: string) => T): T | undefined => {
    const t = data.get(name);
    if (!t) return undefined;
    if (t.shape.length !== rank) { dataProblems.push(`${name} has shape ${fmtShape(t.shape)}, expected ${rank}-D`); return undefined; }
    if (!dtypes.includes(t.dtype)) { dataProblems.push(`${name} has dtype ${t.dtype}, expected one of ${dtypes.join(', ')}`); return undefined; }
    try {
      return conv(t, name);
    } catch (e) {
      if (e instanceof SafetensorsError) { dataProblems.push(e.message); return undefined; }
      throw e;
    }
  };
  const trainIdx = readData(TRAIN_IDX, 1, INT_DTYPES, toInt32);
  const dataX = readData(DATA_X, 2, FLOAT_DTYPES, toFloat32);
  const dataY = readData(DATA_Y, 2, FLOAT_DTYPES, toFloat32);
  const regression = getArchSpec(arch).dataKind === 'matfac';
  if (dataX && regression && data.get(DATA_X)!.shape[1] !== inputDim(config)) {
    dataProblems.push(`${DATA_X} has shape ${fmtShape(data.get(DATA_X)!.shape)}, expected [n, ${inputDim(config)}] (the input width)`);
  }
  if (dataY && regression && data.get(DATA_Y)!.shape[1] !== outputDim(config)) {
    dataProblems.push(`${DATA_Y} has shape ${fmtShape(data.get(DATA_Y)!.shape)}, expected [n, ${outputDim(config)}] (the output width)`);
  }
  if (!dataProblems.length) {
    dataProblems.push(...dataArrayProblems(config, trainIdx, dataX, dataY, data.get(DATA_X)?.shape[0], data.get(DATA_Y)?.shape[0]));
  }
  if (dataProblems.length) throw new ModelFileError(`The data stored with this ${desc} model is invalid: ${dataProblems.join('; ')}`);

  const extraMeta: Record<string, string> = Object.fromEntries(Object.entries(meta).filter(([k]) => !RESERVED_KEYS.has(k)));
  const name = opts?.name || meta.name || arch;
  const bundle: ModelBundle = { name, config, theta, data: spec };
  if (trainIdx) bundle.trainIdx = trainIdx;
  if (dataX) bundle.dataX = dataX;
  if (dataY) bundle.dataY = dataY;
  if (Object.keys(extraMeta).length) bundle.metadata = extraMeta;
  return bundle;
}
