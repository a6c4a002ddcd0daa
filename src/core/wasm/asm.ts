/**
 * A few hundred lines of WebAssembly are assembled by hand in this project (no toolchain, nothing
 * fetched): the Float64 kernels of the dense eigensolver and the Krylov basis
 * (linalg/wasmKernels.ts) and the Float32 elementwise kernels of training and sampling
 * (train/wasmF32.ts). These are the encoders they share: LEB128 integers, sections, and
 * the instructions they use, named as in the WebAssembly spec (core 2.0 with fixed-width SIMD).
 */

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

export function section(id: number, body: number[]): number[] { return [id, ...uleb(body.length), ...body]; }
export function str(s: string): number[] { return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))]; }

/** Value types. */
export const I32 = 0x7f, V128 = 0x7b;

export const get = (i: number): number[] => [0x20, ...uleb(i)];
export const set = (i: number): number[] => [0x21, ...uleb(i)];
export const tee = (i: number): number[] => [0x22, ...uleb(i)];
export const i32c = (v: number): number[] => [0x41, ...sleb(v)];
/** i32 arithmetic and comparisons (single opcodes). */
export const ADD = 0x6a, SUB = 0x6b, MUL = 0x6c, SHR_U = 0x76, LT_U = 0x49, GE_S = 0x4e, EQZ = 0x45;
export const LOOP = [0x03, 0x40], BLOCK = [0x02, 0x40], END = [0x0b];
export const brIf = (d: number): number[] => [0x0d, ...uleb(d)];
export const br = (d: number): number[] => [0x0c, ...uleb(d)];
export const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
/** Memory immediate with an alignment hint of 2^align bytes. */
export const memarg = (offset: number, align = 3): number[] => [align, ...uleb(offset)];
export const v128load = (off: number): number[] => simd(0x00, ...memarg(off));
export const v128store = (off: number): number[] => simd(0x0b, ...memarg(off));
export const loadSplat64 = (off: number): number[] => simd(0x0a, ...memarg(off));
export const load64zero = (off: number): number[] => simd(0x5d, ...memarg(off));
export const f64load = (off: number): number[] => [0x2b, ...memarg(off)];
export const i32load = (off: number): number[] => [0x28, 2, ...uleb(off)];
export const f64store = (off: number): number[] => [0x39, ...memarg(off)];
export const F64_ADD = [0xa0];
export const zero128 = simd(0x0c, ...new Array<number>(16).fill(0));

/** f64x2 */
export const F64X2 = { add: simd(0xf0), sub: simd(0xf1), mul: simd(0xf2), lane: (l: number): number[] => simd(0x21, l), promoteLow: simd(0x5f) };

/** f32x4 and the integer/bitwise operations the Float32 kernels use. */
export const F32X4 = {
  /** v128.const with the same float in all four lanes. */
  splat: (x: number): number[] => simd(0x0c, ...new Uint8Array(new Float32Array([x, x, x, x]).buffer)),
  abs: simd(0xe0), neg: simd(0xe1), sqrt: simd(0xe3), add: simd(0xe4), sub: simd(0xe5), mul: simd(0xe6), div: simd(0xe7),
  /** pmin(a, b) = b < a ? b : a, pmax(a, b) = a < b ? b : a: one instruction each on x64 (min/max propagate NaN with several). */
  pmin: simd(0xea), pmax: simd(0xeb), ge: simd(0x46),
};
/** Scalar f32 instructions and f32x4 lane access. */
export const F32 = {
  add: [0x92], mul: [0x94], div: [0x95], max: [0x97], convertI32S: [0xb2],
  store: (off: number): number[] => [0x38, 2, ...uleb(off)],
  splat: simd(0x13), extractLane: (l: number): number[] => simd(0x1f, l),
};
export const V128_AND = simd(0x4e);
/** i32 bitwise ops. */
export const AND = 0x71, SHL = 0x74;
/** v128.load32_splat: one float (or i32) loaded into all four lanes. */
export const load32splat = (off: number): number[] => simd(0x09, 2, ...uleb(off));
export const I32X4 = { splat: simd(0x11), add: simd(0xae), shl: simd(0xab) };
export const V128_BITSELECT = simd(0x52);

/** A function body: `nI32` i32 locals, then `nV128` v128 locals, then the code. */
export function body(nI32: number, nV128: number, code: number[]): number[] {
  const b = [2, ...uleb(nI32), I32, ...uleb(nV128), V128, ...code, ...END];
  return [...uleb(b.length), ...b];
}

/** The type section for functions of i32 parameters only, no results: one type per arity. */
export function i32TypeSection(arities: number[]): number[] {
  return section(1, [...uleb(arities.length), ...arities.flatMap((n) => [0x60, ...uleb(n), ...new Array<number>(n).fill(I32), 0])]);
}

/**
 * A whole module: functions of i32 parameters (given by type index into `arities`), one exported
 * memory "mem". With `sharedMaxPages` the memory is not the module's own but imported as env.mem, a
 * shared memory of at most that many 64 KiB pages (what wasm/threads.ts runs kernels on).
 */
export function moduleOf(arities: number[], funcs: { name: string; type: number; code: number[] }[], sharedMaxPages?: number): Uint8Array {
  const type = i32TypeSection(arities);
  const func = section(3, [...uleb(funcs.length), ...funcs.flatMap((f) => uleb(f.type))]);
  const mem = sharedMaxPages === undefined
    ? section(5, [1, 0x00, 1])
    : section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x03, 1, ...uleb(sharedMaxPages)]);
  const exports = [...str('mem'), 0x02, 0, ...funcs.flatMap((f, i) => [...str(f.name), 0x00, ...uleb(i)])];
  const exp = section(7, [...uleb(funcs.length + 1), ...exports]);
  const code = section(10, [...uleb(funcs.length), ...funcs.flatMap((f) => f.code)]);
  // Section order: type (1), import (2), function (3), memory (5), export (7), code (10).
  const head = sharedMaxPages === undefined ? [...type, ...func, ...mem] : [...type, ...mem, ...func];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...head, ...exp, ...code]);
}
