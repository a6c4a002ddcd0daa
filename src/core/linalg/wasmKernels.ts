/**
 * Float64 kernels on WebAssembly SIMD (f64x2) for the dense eigensolver. Scalar JS reaches ≈ 6
 * GFLOP/s on these loops (V8 does not vectorize and JS has no f64 SIMD); two f64 lanes per
 * instruction and values kept in registers roughly double that to triple it.
 *
 * The module is a few hundred bytes, assembled here by hand (no toolchain, nothing fetched),
 * compiled synchronously (allowed for small modules on every thread). Each user gets its own
 * instance, hence its own memory, grown on demand: growing one memory never detaches another
 * user's views. Where WebAssembly SIMD is unavailable `wasmInstance` returns null and the callers
 * stay in JS.
 *
 * Functions (byte addresses; i32 arguments):
 * - `macro(aP, bP, cP, mc, nc, kc, ldcBytes)`: C[mc × nc] += Ã · B̃ with Ã packed as mc/4 panels of
 *   [kc][4] (four rows interleaved per k) and B̃ as nc/4 panels of [kc][4]; C row-major. mc, nc
 *   multiples of 4, kc > 0. A 4×4 block of C lives in eight f64x2 registers (the GotoBLAS/BLIS
 *   micro-kernel: Goto & van de Geijn, ACM TOMS 34(3), 2008).
 * - `sweep(aP, vP, wP, uP, pP, rowBytes, s, i0, i1)`: the rectangular part of householder.ts's
 *   fused sweep for the row quads i = i0, i0+4, … < i1 over the first 2⌊(i−s)/2⌋ columns j ≥ s:
 *   A[r][j] ← A[r][j] − v_r w_j − w_r v_j, then p_r += Σ_j A[r][j] u_j and p_j += Σ_r A[r][j] u_r.
 */

import {
  ADD, BLOCK, END, EQZ, F64X2, F64_ADD, GE_S, LOOP, LT_U, MUL, SHR_U, SUB, body, br, brIf, f64load, f64store, get, i32c,
  load64zero, loadSplat64, moduleOf, set, tee, v128load, v128store, zero128,
} from '../wasm/asm';
import { attachShared, threadPool, type Attached, type ThreadPool } from '../wasm/threads';

const { add: VADD, sub: VSUB, mul: VMUL, lane, promoteLow: PROMOTE } = F64X2;

/**
 * The Krylov-basis kernels for R rows at a time (R independent accumulator chains), rows stored
 * as f32 (`f32`: each pair of floats loaded with v128.load64_zero and promoted) or f64:
 * - dots: h[r] = Σ_q row_r[q]·w[q] for r < R, over `nq` f64x2 steps (2 entries each);
 * - axpy: w[q] −= Σ_r h[r]·row_r[q].
 * Params (i32): 0 vP (first row), 1 wP, 2 hP, 3 rowBytes, 4 nq.
 */
function krylovCode(R: number, f32: boolean, axpy: boolean): number[] {
  const P = 5, WP = P + R, CNT = WP + 1; // i32 locals
  const ACC = CNT + 1, X = ACC + R; // v128 locals: R accumulators or splat coefficients, then x
  const step = f32 ? 8 : 16;
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const x of xs) c.push(...x); };
  const row = (r: number): number[] => (f32 ? [...get(P + r), ...load64zero(0), ...PROMOTE] : [...get(P + r), ...v128load(0)]);
  e(get(0), set(P));
  for (let r = 1; r < R; r++) e(get(P + r - 1), get(3), [ADD], set(P + r));
  e(get(1), set(WP), get(4), set(CNT));
  for (let r = 0; r < R; r++) e(axpy ? [...get(2), ...loadSplat64(8 * r)] : zero128, set(ACC + r));
  e(BLOCK, get(CNT), [EQZ], brIf(0), LOOP);
  if (axpy) {
    e(get(WP), v128load(0), set(X));
    for (let r = 0; r < R; r++) e(get(X), get(ACC + r), row(r), VMUL, VSUB, set(X));
    e(get(WP), get(X), v128store(0));
  } else {
    e(get(WP), v128load(0), set(X));
    for (let r = 0; r < R; r++) e(get(ACC + r), row(r), get(X), VMUL, VADD, set(ACC + r));
  }
  for (let r = 0; r < R; r++) e(get(P + r), i32c(step), [ADD], set(P + r));
  e(get(WP), i32c(16), [ADD], set(WP));
  e(get(CNT), i32c(-1), [ADD], tee(CNT), brIf(0), END, END);
  if (!axpy) for (let r = 0; r < R; r++) e(get(2), get(ACC + r), lane(0), get(ACC + r), lane(1), F64_ADD, f64store(8 * r));
  return body(R + 2, R + 1, c);
}

/** The Krylov kernels in export order: [name, rows, f32, axpy]. */
const KRYLOV: [string, number, boolean, boolean][] = [];
for (const f32 of [true, false]) {
  for (const axpy of [false, true]) {
    for (const R of [8, 1]) KRYLOV.push([`${axpy ? 'axpy' : 'dots'}${R}_${f32 ? 'f32' : 'f64'}`, R, f32, axpy]);
  }
}

function macroCode(): number[] {
  // params 0 aP, 1 bP, 2 cP, 3 mc, 4 nc, 5 kc, 6 ldc (bytes); i32 locals 7..12, v128 13..23
  const JR = 7, IR = 8, P = 9, AP = 10, BP = 11, CP = 12;
  const ACC = 13; // row r, half h at ACC + 2r + h
  const A = 21, B0 = 22, B1 = 23;
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const x of xs) c.push(...x); };
  e(i32c(0), set(JR), LOOP);
  e(i32c(0), set(IR), LOOP);
  e(get(0), get(IR), get(5), [MUL], i32c(8), [MUL], [ADD], set(AP));
  e(get(1), get(JR), get(5), [MUL], i32c(8), [MUL], [ADD], set(BP));
  for (let r = 0; r < 8; r++) e(zero128, set(ACC + r));
  e(get(5), set(P), LOOP);
  e(get(BP), v128load(0), set(B0), get(BP), v128load(16), set(B1));
  for (let r = 0; r < 4; r++) {
    e(get(AP), loadSplat64(8 * r), set(A));
    e(get(ACC + 2 * r), get(A), get(B0), VMUL, VADD, set(ACC + 2 * r));
    e(get(ACC + 2 * r + 1), get(A), get(B1), VMUL, VADD, set(ACC + 2 * r + 1));
  }
  e(get(AP), i32c(32), [ADD], set(AP), get(BP), i32c(32), [ADD], set(BP));
  e(get(P), i32c(-1), [ADD], tee(P), brIf(0), END);
  e(get(2), get(IR), get(6), [MUL], [ADD], get(JR), i32c(8), [MUL], [ADD], set(CP));
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) e(get(CP), get(CP), v128load(16 * h), get(ACC + 2 * r + h), VADD, v128store(16 * h));
    if (r < 3) e(get(CP), get(6), [ADD], set(CP));
  }
  e(get(IR), i32c(4), [ADD], tee(IR), get(3), [LT_U], brIf(0), END);
  e(get(JR), i32c(4), [ADD], tee(JR), get(4), [LT_U], brIf(0), END);
  return body(6, 11, c);
}

function sweepCode(): number[] {
  // params 0 aP, 1 vP, 2 wP, 3 uP, 4 pP, 5 rowBytes, 6 s, 7 i0, 8 i1
  const I = 9, CNT = 10, R = 11, JP = 15, T = 16; // R..R+3: row pointers
  const U = 17, V = 21, W = 25, S = 29, VJ = 33, WJ = 34, UJ = 35, X = 36, PA = 37;
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const x of xs) c.push(...x); };
  e(get(7), set(I), BLOCK, LOOP);
  e(get(I), get(8), [GE_S], brIf(1));
  e(get(I), get(6), [SUB], i32c(1), [SHR_U], set(CNT));
  e(get(3), get(I), i32c(8), [MUL], [ADD], set(T));
  for (let r = 0; r < 4; r++) e(get(T), loadSplat64(8 * r), set(U + r));
  e(get(1), get(I), i32c(8), [MUL], [ADD], set(T));
  for (let r = 0; r < 4; r++) e(get(T), loadSplat64(8 * r), set(V + r));
  e(get(2), get(I), i32c(8), [MUL], [ADD], set(T));
  for (let r = 0; r < 4; r++) e(get(T), loadSplat64(8 * r), set(W + r));
  for (let r = 0; r < 4; r++) e(zero128, set(S + r));
  e(get(6), i32c(8), [MUL], set(JP));
  e(get(0), get(I), get(5), [MUL], [ADD], get(JP), [ADD], set(R));
  for (let r = 1; r < 4; r++) e(get(R + r - 1), get(5), [ADD], set(R + r));
  e(BLOCK, get(CNT), [EQZ], brIf(0), LOOP);
  e(get(1), get(JP), [ADD], v128load(0), set(VJ));
  e(get(2), get(JP), [ADD], v128load(0), set(WJ));
  e(get(3), get(JP), [ADD], v128load(0), set(UJ));
  e(get(4), get(JP), [ADD], v128load(0), set(PA));
  for (let r = 0; r < 4; r++) {
    e(get(R + r), get(R + r), v128load(0), get(V + r), get(WJ), VMUL, VSUB, get(W + r), get(VJ), VMUL, VSUB, tee(X), v128store(0));
    e(get(S + r), get(X), get(UJ), VMUL, VADD, set(S + r));
    e(get(PA), get(X), get(U + r), VMUL, VADD, set(PA));
  }
  e(get(4), get(JP), [ADD], get(PA), v128store(0));
  for (let r = 0; r < 4; r++) e(get(R + r), i32c(16), [ADD], set(R + r));
  e(get(JP), i32c(16), [ADD], set(JP));
  e(get(CNT), i32c(-1), [ADD], tee(CNT), brIf(0), END, END);
  e(get(4), get(I), i32c(8), [MUL], [ADD], set(T));
  for (let r = 0; r < 4; r++) e(get(T), get(T), f64load(8 * r), get(S + r), lane(0), F64_ADD, get(S + r), lane(1), F64_ADD, f64store(8 * r));
  e(get(I), i32c(4), [ADD], set(I), br(0), END, END);
  return body(8, 21, c);
}

function moduleBytes(sharedMaxPages?: number): Uint8Array {
  return moduleOf([7, 9, 5], [
    { name: 'macro', type: 0, code: macroCode() },
    { name: 'sweep', type: 1, code: sweepCode() },
    ...KRYLOV.map(([name, R, f32, axpy]) => ({ name, type: 2, code: krylovCode(R, f32, axpy) })),
  ], sharedMaxPages);
}

/** The exports a threaded instance names, in order (Attached.fns indices). */
export const KERNEL_NAMES = ['macro', 'sweep', ...KRYLOV.map(([name]) => name)];
/** 3.5 GiB in 64 KiB pages: the most a shared kernel memory may grow to (the Krylov basis' bound). */
const SHARED_MAX_PAGES = 57344;

export interface WasmKernels {
  mem: WebAssembly.Memory;
  macro(aP: number, bP: number, cP: number, mc: number, nc: number, kc: number, ldcBytes: number): void;
  sweep(aP: number, vP: number, wP: number, uP: number, pP: number, rowBytes: number, s: number, i0: number, i1: number): void;
  /** Krylov-basis kernels (krylovCode): `${'dots'|'axpy'}${8|1}_${'f32'|'f64'}`(vP, wP, hP, rowBytes, nq). */
  krylov: Record<string, (vP: number, wP: number, hP: number, rowBytes: number, nq: number) => void>;
}

let compiled: WebAssembly.Module | null | undefined;
let compiledShared: WebAssembly.Module | null | undefined;
let enabled = true;

/** A threaded instance: the kernels on a shared memory, also instantiated in the pool's helpers. */
export interface ThreadedKernels extends WasmKernels {
  pool: ThreadPool;
  attached: Attached;
}

/**
 * A fresh instance on its own shared memory, attached to the thread pool (wasm/threads.ts), or
 * null without a pool, without WebAssembly SIMD or threads, or when switched off. `pinned` for a
 * process-wide instance (the pool keeps it however many Krylov bases come and go).
 */
export function wasmThreadedInstance(pinned = false): ThreadedKernels | null {
  const pool = threadPool();
  if (!enabled || pool === null) return null;
  if (compiledShared === undefined) {
    try {
      compiledShared = new WebAssembly.Module(moduleBytes(SHARED_MAX_PAGES) as BufferSource);
    } catch {
      compiledShared = null;
    }
  }
  if (compiledShared === null) return null;
  const sh = attachShared(pool, compiledShared, SHARED_MAX_PAGES, KERNEL_NAMES, pinned);
  if (sh === null) return null;
  const { memory: mem, attached } = sh;
  const fn = (name: string): WasmKernels['krylov'][string] => attached.fns[KERNEL_NAMES.indexOf(name)] as WasmKernels['krylov'][string];
  const krylov: WasmKernels['krylov'] = {};
  for (const [name] of KRYLOV) krylov[name] = fn(name);
  return { mem, macro: fn('macro') as unknown as WasmKernels['macro'], sweep: fn('sweep') as unknown as WasmKernels['sweep'], krylov, pool, attached };
}

/** A fresh instance (own memory) of the kernels, or null without WebAssembly SIMD or when switched off. */
export function wasmInstance(): WasmKernels | null {
  if (!enabled) return null;
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes() as BufferSource);
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return null;
  const ex = new WebAssembly.Instance(compiled, {}).exports as unknown as WasmKernels & Record<string, WasmKernels['krylov'][string]>;
  const krylov: WasmKernels['krylov'] = {};
  for (const [name] of KRYLOV) krylov[name] = ex[name];
  return { mem: ex.mem, macro: ex.macro, sweep: ex.sweep, krylov };
}

/** Whether the wasm kernels are in use (available and not switched off). */
export function wasmKernelsEnabled(): boolean {
  if (!enabled) return false;
  if (compiled === undefined) wasmInstance();
  return compiled !== null;
}

/** Switch the wasm kernels off or on (tests compare both paths; default on). */
export function setWasmKernelsEnabled(on: boolean): void { enabled = on; }

/** Grows `k`'s memory to at least `bytes`; returns a fresh Float64Array view of all of it. */
export function heapOf(k: WasmKernels, bytes: number): Float64Array {
  const have = k.mem.buffer.byteLength;
  if (have < bytes) k.mem.grow(Math.ceil((bytes - have) / 65536));
  return new Float64Array(k.mem.buffer);
}
