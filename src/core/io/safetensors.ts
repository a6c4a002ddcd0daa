/**
 * A from-scratch reader and writer of the safetensors format (huggingface/safetensors):
 *
 *   [8 bytes: header length n, u64 little-endian]
 *   [n bytes: UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}]
 *   [tensor data: raw little-endian bytes; offsets are relative to the start of this buffer]
 *
 * The writer does what the reference serializer does, so a state_dict written here is
 * byte-identical to `safetensors.torch.save_file` of the same tensors: tensors sorted by
 * descending dtype alignment then by name, compact JSON, the header padded with spaces to a
 * multiple of 8 bytes (so every tensor's data starts 8-byte aligned in the file). The reader
 * accepts any tensor order and checks everything the reference checks (contiguous, non-overlapping
 * offsets covering the whole buffer), with messages that say what is wrong.
 *
 * Typed views assume a little-endian host (every browser and Node platform we run on).
 */
import { isPlainObject } from './json';

export type StDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface StTensor {
  dtype: StDtype;
  shape: number[];
  /** Raw little-endian bytes (a private copy, starting at offset 0 of its own buffer). */
  data: Uint8Array;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<StDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export const ST_DTYPES = Object.keys(DTYPE_SIZE) as StDtype[];

/**
 * Rank of each dtype in the reference implementation's `Dtype` enum, which is declared in
 * increasing alignment order (BOOL, U8, I8, I16, F16, BF16, I32, F32, F64, I64 among ours; the
 * reference has more in between). Its serializer writes the highest rank first.
 */
const DTYPE_RANK: Readonly<Record<StDtype, number>> = {
  BOOL: 0, U8: 1, I8: 2, I16: 3, F16: 4, BF16: 5, I32: 6, F32: 7, F64: 8, I64: 9,
};

/** The reference refuses headers over 100 MB; so do we (a header that size is not a model). */
const MAX_HEADER_BYTES = 100_000_000;

const HEADER_ALIGN = 8;

function isDtype(s: unknown): s is StDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

function fmtShape(shape: readonly unknown[]): string {
  return `[${shape.map((x) => JSON.stringify(x)).join(', ')}]`;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** Element count of a validated shape, refusing counts beyond exact double arithmetic. */
function elementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) throw new SafetensorsError(`${what}: shape ${fmtShape(shape)} has too many elements`);
  }
  return n;
}

function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) throw new SafetensorsError(`${what}: "shape" must be a list of non-negative integers (got ${JSON.stringify(shape)})`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new SafetensorsError(`${what}: "shape" must be a list of non-negative integers (got ${fmtShape(shape)})`);
    }
  }
  return [...(shape as number[])];
}

/** UTF-8 bytewise comparison (the reference sorts Rust Strings, i.e. by UTF-8 bytes). */
const encoder = new TextEncoder();
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

interface Entry {
  name: string;
  dtype: StDtype;
  shape: number[];
  begin: number;
  end: number;
}

export function readSafetensors(bytes: Uint8Array): { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new SafetensorsError('Expected the file contents as a Uint8Array');
  if (bytes.length < 8) {
    throw new SafetensorsError(`File is too short to be safetensors: ${plural(bytes.length, 'byte')}, but the header length alone takes 8`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const after = bytes.length - 8;
  // The u64 is split in two u32s; hi > 0 means ≥ 4 GiB, beyond any buffer we are handed.
  if (hi !== 0 || lo > after) {
    const n = (BigInt(hi) << 32n) | BigInt(lo);
    throw new SafetensorsError(
      `Header length ${n.toLocaleString('en-US')} bytes is beyond the end of the file (only ${plural(after, 'byte')} follow the 8-byte length): the file is truncated or not safetensors`,
    );
  }
  const n = lo;
  if (n > MAX_HEADER_BYTES) throw new SafetensorsError(`Header length ${n.toLocaleString('en-US')} bytes is larger than the 100 MB safetensors allows`);
  if (n === 0) throw new SafetensorsError('Header is empty (length 0): not a safetensors file');

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('Header is not valid UTF-8: the file is corrupt or not safetensors');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`Header is not valid JSON (${(e as Error).message}): the file is corrupt or not safetensors`);
  }
  if (!isPlainObject(header)) {
    const got = header === null ? 'null' : Array.isArray(header) ? 'a list' : `a ${typeof header}`;
    throw new SafetensorsError(`Header must be a JSON object of tensor entries (got ${got})`);
  }

  const metaPairs: [string, string][] = [];
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (raw === null) continue;
      if (!isPlainObject(raw)) throw new SafetensorsError('"__metadata__" must be an object of string values');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new SafetensorsError(`"__metadata__" value for "${k}" must be a string (got ${JSON.stringify(v)})`);
        metaPairs.push([k, v]);
      }
      continue;
    }
    const what = `Tensor "${name}"`;
    if (!isPlainObject(raw)) throw new SafetensorsError(`${what}: header entry must be an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: offs } = raw;
    if (dtype === undefined) throw new SafetensorsError(`${what}: header entry has no "dtype"`);
    if (!isDtype(dtype)) {
      throw new SafetensorsError(`${what}: unknown or unsupported dtype ${JSON.stringify(dtype)} (supported: ${ST_DTYPES.join(', ')})`);
    }
    if (shape === undefined) throw new SafetensorsError(`${what}: header entry has no "shape"`);
    const sh = checkShape(shape, what);
    if (
      !Array.isArray(offs) || offs.length !== 2 ||
      !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new SafetensorsError(`${what}: "data_offsets" must be [begin, end], two non-negative integers (got ${JSON.stringify(offs)})`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw new SafetensorsError(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
    const count = elementCount(sh, what);
    const need = count * DTYPE_SIZE[dtype];
    if (end - begin !== need) {
      throw new SafetensorsError(
        `${what}: data_offsets [${begin}, ${end}] span ${plural(end - begin, 'byte')}, but dtype ${dtype} × shape ${fmtShape(sh)} needs ${plural(need, 'byte')}`,
      );
    }
    entries.push({ name, dtype, shape: sh, begin, end });
  }

  // Offsets must tile the data buffer exactly, in any header order (the reference sorts by offset).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + n;
  const present = bytes.length - dataStart;
  const expected = entries.length ? entries[entries.length - 1].end : 0;
  let pos = 0;
  let prev: Entry | null = null;
  for (const e of entries) {
    if (e.begin < pos && prev) {
      throw new SafetensorsError(
        `Tensors "${prev.name}" (bytes ${prev.begin}–${prev.end}) and "${e.name}" (bytes ${e.begin}–${e.end}) overlap in the data buffer`,
      );
    }
    if (e.begin > pos) {
      throw new SafetensorsError(
        `Tensor data has a gap: bytes ${pos}–${e.begin} of the data buffer belong to no tensor (before "${e.name}")`,
      );
    }
    pos = e.end;
    prev = e;
  }
  if (expected > present) {
    throw new SafetensorsError(
      `File is truncated: the header describes ${plural(expected, 'byte')} of tensor data but only ${plural(present, 'byte')} are present ` +
      `(expected a file of ${plural(dataStart + expected, 'byte')}, got ${bytes.length.toLocaleString('en-US')})`,
    );
  }
  if (expected < present) {
    throw new SafetensorsError(
      `File has ${plural(present - expected, 'unexpected byte')} after the last tensor (the header describes ${plural(expected, 'byte')} of tensor data, the file has ${present.toLocaleString('en-US')})`,
    );
  }

  // fromEntries defines own properties, so even a key named "__proto__" survives.
  const metadata: Record<string, string> = Object.fromEntries(metaPairs);
  const tensors = new Map<string, StTensor>();
  for (const e of entries) {
    // slice() copies into a fresh buffer: aligned for typed views and independent of `bytes`.
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: bytes.slice(dataStart + e.begin, dataStart + e.end) });
  }
  return { tensors, metadata };
}

export function writeSafetensors(
  tensors: { name: string; dtype: StDtype; shape: number[]; data: ArrayBufferView }[],
  metadata?: Record<string, string>,
): Uint8Array {
  const seen = new Set<string>();
  for (const t of tensors) {
    const what = `Tensor "${t.name}"`;
    if (typeof t.name !== 'string' || t.name === '') throw new SafetensorsError('Tensor names must be non-empty strings');
    if (t.name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    if (seen.has(t.name)) throw new SafetensorsError(`${what} appears twice`);
    seen.add(t.name);
    if (!isDtype(t.dtype)) throw new SafetensorsError(`${what}: unknown dtype ${JSON.stringify(t.dtype)} (supported: ${ST_DTYPES.join(', ')})`);
    checkShape(t.shape, what);
    const need = elementCount(t.shape, what) * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== need) {
      throw new SafetensorsError(`${what}: data has ${plural(t.data.byteLength, 'byte')}, but dtype ${t.dtype} × shape ${fmtShape(t.shape)} needs ${plural(need, 'byte')}`);
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`Metadata value for "${k}" must be a string (got ${typeof v})`);
    }
  }

  const order = [...tensors].sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareUtf8(a.name, b.name));
  // Compact JSON built by hand so key order is exactly ours: __metadata__ (keys sorted), then
  // tensors in data order, each as {dtype, shape, data_offsets} like the reference.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const t of order) {
    const len = t.data.byteLength;
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + len}]}`);
    offset += len;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const n = Math.ceil(json.length / HEADER_ALIGN) * HEADER_ALIGN;
  const out = new Uint8Array(8 + n + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, n % 2 ** 32, true);
  dv.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let pos = 8 + n;
  for (const t of order) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** IEEE 754 half → double (exact). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const FLOAT32_MAX = 3.4028234663852886e38;

function countOf(t: StTensor, name: string): number {
  const size = DTYPE_SIZE[t.dtype];
  if (size === undefined) throw new SafetensorsError(`Tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)}`);
  if (t.data.byteLength % size !== 0) throw new SafetensorsError(`Tensor "${name}": ${plural(t.data.byteLength, 'byte')} is not a whole number of ${t.dtype} elements`);
  return t.data.byteLength / size;
}

/**
 * The tensor's values as a new Float32Array. F64 values outside the float32 range are refused
 * (rather than silently becoming ±Inf); NaN and ±Inf pass through for the caller to judge.
 */
export function toFloat32(t: StTensor, name: string): Float32Array {
  const n = countOf(t, name);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) {
        const v = dv.getFloat64(8 * i, true);
        if (Number.isFinite(v) && Math.abs(v) > FLOAT32_MAX) {
          throw new SafetensorsError(`Tensor "${name}": element ${i} = ${v} is too large for float32`);
        }
        out[i] = v;
      }
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToNumber(dv.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      throw new SafetensorsError(`Tensor "${name}" has dtype ${t.dtype}; expected a floating-point dtype (F32, F64, F16 or BF16)`);
  }
}

/** The tensor's values as a new Int32Array; values outside the int32 range are refused. */
export function toInt32(t: StTensor, name: string): Int32Array {
  const n = countOf(t, name);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Int32Array(n);
  switch (t.dtype) {
    case 'I64':
      for (let i = 0; i < n; i++) {
        const lo = dv.getUint32(8 * i, true);
        const hi = dv.getInt32(8 * i + 4, true);
        // In int32 range iff the high word is the sign extension of the low word.
        if (hi !== ((lo | 0) < 0 ? -1 : 0)) {
          throw new SafetensorsError(`Tensor "${name}": element ${i} = ${dv.getBigInt64(8 * i, true)} does not fit in int32`);
        }
        out[i] = lo | 0;
      }
      return out;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      return out;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      return out;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return out;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      return out;
    default:
      throw new SafetensorsError(`Tensor "${name}" has dtype ${t.dtype}; expected an integer dtype (I64, I32, I16, I8 or U8)`);
  }
}
