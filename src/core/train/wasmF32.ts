/**
 * Float32 elementwise kernels on WebAssembly SIMD (f32x4) for the tails of the training and SGLD
 * steps, where tfjs-backend-wasm 4.22 is slow: its Exp and Erf kernels are scalar and took
 * 20–35 ns an element here (a modadd-gelu training step spent 4.7 of its 7.8 ms in them: the
 * GELU's erf and exp, the softmax's two exps). These take ≈ 1–2 ns an element.
 *
 * - `exp(inP, outP, n16)`: out = eˣ over n16 groups of sixteen floats (in place allowed). Cody–Waite
 *   range reduction x = n·ln 2 + r, |r| ≤ ½ ln 2, Cephes' expf polynomial for eʳ (≈ 1 ulp), and
 *   2ⁿ built in the exponent bits. Inputs are clamped to [−87.3, 88.3], so eˣ of x below −87.3
 *   reads ≈ 1.2e−38 instead of a denormal or 0, and above 88.3 ≈ 2.2e38 instead of ∞; NaN stays NaN.
 * - `gelu(xP, actP, derP, n16)`: GELU(x) = x·Φ(x) and GELU′(x) = Φ(x) + x·φ(x) (PyTorch's exact,
 *   erf-based GELU), with Φ from erfc(|x|/√2) = t·P(t)·e^{−x²/2} (P a polynomial fit to erfcx,
 *   relative error 1.6e−7 in float32, see ERFCX_P; e^{−x²/2} is φ's too), so Φ keeps its relative accuracy
 *   in the left tail where 1 + erf(x/√2) in float32 cancels.
 *
 * JS wrappers copy the operands into the module's own memory (grown on demand) and the results
 * back; at our sizes (10⁵ floats) the copies cost ≈ 0.03 ms. Without WebAssembly SIMD
 * `elementwiseKernels()` returns null and callers keep the tfjs ops.
 */
import {
  ADD, AND, BLOCK, END, EQZ, F32, F32X4, F64X2, I32X4, LOOP, LT_U, MUL, SHL, SHR_U, V128_AND, V128_BITSELECT, body, br, brIf, get, i32c, i32load,
  load32splat, moduleOf, set, simd, tee, v128load, v128store, zero128,
} from '../wasm/asm';
import { attachShared, runHere, splitRange, threadPool, type Attached, type Segment, type ThreadPool } from '../wasm/threads';

const LOG2E = Math.LOG2E, LN2_HI = 0.693359375, LN2_LO = -2.12194440e-4;
/** Cephes expf: eʳ ≈ 1 + r + r²·P(r) on |r| ≤ ½ ln 2. */
const EXP_P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
/**
 * erfc(z) ≈ t·P(t)·exp(−z²), t = 1/(1 + z/2) ∈ (0, 1] for z ≥ 0: P(t) = erfcx(z)/t, a degree-11 fit
 * in relative error to erfcx(z) = e^{z²}·erfc(z) at 600 Chebyshev nodes of t (least squares with
 * weights 1/value on erfcx from Python's math.erfc, its asymptotic series beyond z = 25; max
 * relative error 1e-8 in Float64, 1.6e-7 by Horner in float32). Coefficients from t⁰ up. One exp,
 * shared with φ(x): Numerical Recipes' erfcc, t·exp(−z² + Q(t)), needed a second one, and a
 * modadd-gelu step spent 0.5 of its 1.7 ms in this kernel (now 0.33).
 */
const ERFCX_P = [0.2820947943880495, 0.2820939677299649, 0.246875257238815, 0.17547246050859866, 0.09212725108113864, -0.05261759163033093,
  0.1120107632494093, -0.4155866228344746, 0.44451260472120235, -0.19675531432916954, 0.02668077216865026, 0.003091664889440772];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const { mul, add, sub, div, pmin, pmax, abs, neg, ge } = F32X4;

/**
 * Constants live in a table at the start of the module's memory (four copies of each float) and
 * are loaded with v128.load: V8 builds a v128.const from immediates in 3–4 instructions, a load
 * from L1 is one, and these kernels use ~30 constants per group of four floats.
 */
const CONSTS: number[] = [];
const splat = (x: number): number[] => {
  let i = CONSTS.indexOf(x);
  if (i < 0) { i = CONSTS.length; CONSTS.push(x); }
  return [...i32c(0), ...v128load(16 * i)];
};
/** Bytes reserved for the constant table; operands start here. */
const DATA = 1024;
/** 1.5·2²³: adding it rounds a float32 of magnitude < 2²² to an integer, held in the low mantissa bits. */
const ROUND = 12582912;

/** Locals of one group of four floats in a kernel that interleaves G groups. */
interface Lanes { x: number; n: number; r: number; p: number }

/**
 * e^(local x) into local p, as a list of steps (each a few instructions) so that several groups'
 * steps can be interleaved: every step here depends on the one before, and a single chain of them
 * runs at the latency of the FP units (≈ 4 cycles an instruction), not their throughput.
 * x is clamped in place; n and r are scratch. The rounding n = round(x·log₂e) adds 1.5·2²³ (no
 * f32x4.nearest, no float→int conversion): the sum's bits are 0x4B400000 + n, and shifting
 * (bits + 127) left by 23 drops the 0x4B4… part and leaves n + 127 in the exponent field, i.e. 2ⁿ,
 * for −126 ≤ n ≤ 127.
 */
function expSteps(l: Lanes): number[][] {
  const { x, n, r, p } = l;
  const steps: number[][] = [
    [...get(x), ...splat(-87.3), ...pmax, ...splat(88.3), ...pmin, ...set(x)],
    [...get(x), ...splat(LOG2E), ...mul, ...splat(ROUND), ...add, ...set(n)], // n: the biased sum until 2ⁿ is built
    [...get(n), ...splat(ROUND), ...sub, ...set(r)],
    [...get(x), ...get(r), ...splat(LN2_HI), ...mul, ...sub, ...get(r), ...splat(LN2_LO), ...mul, ...sub, ...set(r)],
    [...splat(EXP_P[0]), ...set(p)],
  ];
  for (let i = 1; i < EXP_P.length; i++) steps.push([...get(p), ...get(r), ...mul, ...splat(EXP_P[i]), ...add, ...set(p)]);
  steps.push([...get(p), ...get(r), ...get(r), ...mul, ...mul, ...get(r), ...add, ...splat(1), ...add, ...set(p)]);
  steps.push([...get(p), ...get(n), ...i32c(127), ...I32X4.splat, ...I32X4.add, ...i32c(23), ...I32X4.shl, ...mul, ...set(p)]);
  return steps;
}

/** Steps of G groups interleaved: step i of group 0, of group 1, …, then step i + 1. */
function interleave(groups: number[][][]): number[] {
  const out: number[] = [];
  const len = Math.max(...groups.map((g) => g.length));
  for (let i = 0; i < len; i++) for (const g of groups) if (i < g.length) out.push(...g[i]);
  return out;
}

/** Groups of four floats per pass: independent chains the CPU can overlap. */
const G = 4;

/** Params (i32): 0 inP, 1 outP, 2 n16 (groups of sixteen floats). */
function expCode(): number[] {
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s of xs) c.push(...s); };
  const lanes = (g: number): Lanes => ({ x: 3 + 4 * g, n: 4 + 4 * g, r: 5 + 4 * g, p: 6 + 4 * g });
  e(BLOCK, get(2), [EQZ], brIf(0), LOOP);
  e(interleave(Array.from({ length: G }, (_, g) => [
    [...get(0), ...v128load(16 * g), ...set(lanes(g).x)],
    ...expSteps(lanes(g)),
    [...get(1), ...get(lanes(g).p), ...v128store(16 * g)],
  ])));
  e(get(0), i32c(16 * G), [ADD], set(0), get(1), i32c(16 * G), [ADD], set(1));
  e(get(2), i32c(-1), [ADD], tee(2), brIf(0), END, END);
  return body(0, 4 * G, c);
}

/** GELU and GELU′ of the four floats at byte offset 16·g from the pointers; v128 locals from l. */
function geluSteps(g: number, l: number): number[][] {
  const V = l, Z = l + 1, T = l + 2, A = l + 4, EC = l + 5, CDF = l + 6, S = l + 7;
  const eQ: Lanes = { x: S, n: l + 10, r: l + 11, p: S };
  const off = 16 * g;
  const steps: number[][] = [
    [...get(0), ...v128load(off), ...set(V)],
    [...get(V), ...abs, ...splat(Math.SQRT1_2), ...mul, ...set(Z)],
    [...splat(1), ...splat(1), ...get(Z), ...splat(0.5), ...mul, ...add, ...div, ...set(T)],
    [...get(Z), ...get(Z), ...mul, ...neg, ...set(S)],
    // A = P(t) by Horner from the top coefficient: erfc(z) = t·P(t)·e^(−z²).
    [...splat(ERFCX_P[ERFCX_P.length - 1]), ...set(A)],
  ];
  for (let i = ERFCX_P.length - 2; i >= 0; i--) steps.push([...get(A), ...get(T), ...mul, ...splat(ERFCX_P[i]), ...add, ...set(A)]);
  // e^(−z²) = e^(−x²/2), shared by erfc and φ (one exp, not two).
  for (const st of expSteps(eQ)) steps.push(st);
  steps.push([...get(T), ...get(A), ...mul, ...get(S), ...mul, ...set(EC)]);
  steps.push(
    [...get(EC), ...splat(0.5), ...mul, ...set(EC)], // ½ erfc(|x|/√2) = Φ(−|x|)
    [...splat(1), ...get(EC), ...sub, ...get(EC), ...get(V), ...splat(0), ...ge, ...V128_BITSELECT, ...set(CDF)],
    [...get(1), ...get(V), ...get(CDF), ...mul, ...v128store(off)],
    // GELU′ = Φ + x·φ(x), φ(x) = e^(−z²)/√(2π).
    [...get(2), ...get(CDF), ...get(V), ...get(S), ...mul, ...splat(INV_SQRT_2PI), ...mul, ...add, ...v128store(off)],
  );
  return steps;
}

/** Params (i32): 0 xP, 1 actP, 2 derP, 3 n16 (groups of sixteen floats). */
function geluCode(): number[] {
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s of xs) c.push(...s); };
  e(BLOCK, get(3), [EQZ], brIf(0), LOOP);
  e(interleave(Array.from({ length: G }, (_, g) => geluSteps(g, 4 + 12 * g))));
  for (const p of [0, 1, 2]) e(get(p), i32c(16 * G), [ADD], set(p));
  e(get(3), i32c(-1), [ADD], tee(3), brIf(0), END, END);
  return body(0, 12 * G, c);
}

/** Byte offset of the four tail masks (mask t: lanes < t all ones) in the constant area. */
const MASKS = 768;

/**
 * Row-wise softmax for the cross-entropy head. Params (i32): 0 inP, 1 outP, 2 statP, 3 B, 4 k,
 * 5 div (the batch's rows: a part of a batch divides by the whole batch's count).
 * For each of the B rows of k floats at inP (row-major, any alignment): m = max, then
 * e_j = exp(x_j − m), s = Σ e_j, and out_j = e_j/(div·s) written at outP (same layout; the last
 * group's store may run up to 3 floats past the row, so outP needs 3 floats of slack at the end);
 * stat gets [m, s] per row. A row's last k mod 4 floats are loaded as a group with the lanes past
 * the row masked to −∞ (so they add 0).
 */
function xentCode(): number[] {
  const R = 6, PI = 7, PO = 8, J = 9, NF = 10, TAIL = 11, PS = 12; // i32 locals
  const M = 13, S = 14, X = 15, N = 16, RR = 17, P = 18, TM = 19; // v128 locals
  const lanes: Lanes = { x: X, n: N, r: RR, p: P };
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  /** Loop over the row's full groups: body(ptrIn, ptrOut) with J counting down from NF. */
  const groups = (inner: number[]): void => {
    e(get(NF), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);
    e(inner);
    e(get(PI), i32c(16), [ADD], set(PI), get(PO), i32c(16), [ADD], set(PO));
    e(get(J), i32c(-1), [ADD], tee(J), brIf(0), END, END);
  };
  const tailLoad = [...get(PI), ...v128load(0), ...splat(-Infinity), ...get(TM), ...V128_BITSELECT];
  const hmax = (v: number): number[] => [...get(v), ...F32.extractLane(0), ...get(v), ...F32.extractLane(1), ...F32.max, ...get(v), ...F32.extractLane(2), ...F32.max, ...get(v), ...F32.extractLane(3), ...F32.max];
  const hsum = (v: number): number[] => [...get(v), ...F32.extractLane(0), ...get(v), ...F32.extractLane(1), ...F32.add, ...get(v), ...F32.extractLane(2), ...F32.add, ...get(v), ...F32.extractLane(3), ...F32.add];
  e(get(4), i32c(2), [SHR_U], set(NF));
  e(get(4), i32c(3), [AND], set(TAIL));
  e(get(TAIL), i32c(4), [SHL], v128load(MASKS), set(TM));
  e(get(2), set(PS), get(3), set(R));
  e(BLOCK, get(R), [EQZ], brIf(0), LOOP);
  // Pass 1: the row max.
  e(get(0), set(PI), get(1), set(PO), splat(-Infinity), set(M));
  groups([...get(M), ...get(PI), ...v128load(0), ...pmax, ...set(M)]);
  e(BLOCK, get(TAIL), [EQZ], brIf(0), get(M), tailLoad, pmax, set(M), END);
  e(hmax(M), F32.splat, set(M));
  e(get(PS), get(M), F32.extractLane(0), F32.store(0));
  // Pass 2: e_j = exp(x_j − m) stored, s = Σ e_j.
  e(get(0), set(PI), get(1), set(PO), splat(0), set(S));
  groups([...get(PI), ...v128load(0), ...get(M), ...sub, ...set(X), ...expSteps(lanes).flat(), ...get(PO), ...get(P), ...v128store(0), ...get(S), ...get(P), ...add, ...set(S)]);
  e(BLOCK, get(TAIL), [EQZ], brIf(0), tailLoad, get(M), sub, set(X), expSteps(lanes).flat(), get(P), get(TM), V128_AND, set(P));
  e(get(PO), get(P), v128store(0), get(S), get(P), add, set(S), END);
  e(get(PS), hsum(S), F32.store(4));
  // Pass 3: out_j = e_j / (div·s).
  e(splat(1), hsum(S), get(5), F32.convertI32S, F32.mul, F32.splat, div, set(S));
  e(get(1), set(PO));
  groups([...get(PO), ...get(PO), ...v128load(0), ...get(S), ...mul, ...v128store(0)]);
  e(BLOCK, get(TAIL), [EQZ], brIf(0), get(PO), get(PO), v128load(0), get(S), mul, v128store(0), END);
  // Next row.
  e(get(4), i32c(4), [MUL], set(J));
  e(get(0), get(J), [ADD], set(0), get(1), get(J), [ADD], set(1), get(PS), i32c(8), [ADD], set(PS));
  e(get(R), i32c(-1), [ADD], tee(R), brIf(0), END, END);
  return body(7, 7, c);
}

/**
 * C[M × N] = A[M × K]·B[K × N], B and C row-major Float32, M a multiple of 4 and N of 8 (the
 * caller pads). A is strided: element (i, q) at aP + i·aRow + q·aStep bytes — aRow = 4K, aStep = 4
 * for a row-major A; aRow = 4, aStep = 4·lda for A stored transposed ([K × lda], the weight
 * gradients hᵀ·δ of train/stackEngine.ts). Params (i32): 0 aP, 1 bP, 2 cP, 3 M, 4 N, 5 K, 6 aRow,
 * 7 aStep. A 4 × 8 block of C lives in eight v128 accumulators over the whole of K (no packing: for
 * the small K this serves, one 8-column panel of B, K·32 bytes, stays in L1 while every row quad of
 * A streams past it). Per k: two loads of B, four splat loads of A, eight multiplies and eight adds.
 * `accumulate` (the gemmAcc export): C += A·B, the accumulators starting from C — a K-blocked
 * product in chunks gives bitwise the result of one call over the whole of K.
 */
function gemmCode(accumulate = false): number[] {
  const I = 8, J = 9, KK = 10, PB = 11, PC = 12, A0 = 13; // i32 locals; A0..A0+3: row pointers
  const ACC = 17, B0 = 25, B1 = 26, AV = 27; // v128 locals
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  /** PC = cP + 4·(I·N + J): the block's first element of C. */
  const blockC = (): void => e(get(2), get(I), get(4), [MUL], get(J), [ADD], i32c(4), [MUL], [ADD], set(PC));
  e(i32c(0), set(J), BLOCK, get(4), [EQZ], brIf(0), LOOP);
  e(i32c(0), set(I), LOOP);
  e(get(0), get(I), get(6), [MUL], [ADD], set(A0));
  for (let r = 1; r < 4; r++) e(get(A0 + r - 1), get(6), [ADD], set(A0 + r));
  e(get(1), get(J), i32c(4), [MUL], [ADD], set(PB));
  if (accumulate) {
    // C += A·B: the accumulators start from the block of C (K-blocked products).
    blockC();
    for (let r = 0; r < 4; r++) {
      e(get(PC), v128load(0), set(ACC + 2 * r), get(PC), v128load(16), set(ACC + 2 * r + 1));
      if (r < 3) e(get(PC), get(4), i32c(4), [MUL], [ADD], set(PC));
    }
  } else {
    for (let q = 0; q < 8; q++) e(zero128, set(ACC + q));
  }
  e(get(5), set(KK), BLOCK, get(KK), [EQZ], brIf(0), LOOP);
  e(get(PB), v128load(0), set(B0), get(PB), v128load(16), set(B1));
  for (let r = 0; r < 4; r++) {
    e(get(A0 + r), load32splat(0), set(AV));
    e(get(ACC + 2 * r), get(AV), get(B0), mul, add, set(ACC + 2 * r));
    e(get(ACC + 2 * r + 1), get(AV), get(B1), mul, add, set(ACC + 2 * r + 1));
    e(get(A0 + r), get(7), [ADD], set(A0 + r));
  }
  e(get(PB), get(4), i32c(4), [MUL], [ADD], set(PB));
  e(get(KK), i32c(-1), [ADD], tee(KK), brIf(0), END, END);
  // Store the block: rows I..I+3, columns J..J+7.
  blockC();
  for (let r = 0; r < 4; r++) {
    e(get(PC), get(ACC + 2 * r), v128store(0), get(PC), get(ACC + 2 * r + 1), v128store(16));
    if (r < 3) e(get(PC), get(4), i32c(4), [MUL], [ADD], set(PC));
  }
  e(get(I), i32c(4), [ADD], tee(I), get(3), [LT_U], brIf(0), END);
  e(get(J), i32c(8), [ADD], tee(J), get(4), [LT_U], brIf(0), END, END);
  return body(9, 11, c);
}

/**
 * Per-token sums of the rows of a token-pair batch. Params (i32): 0 dzP (rows [n × h] float32),
 * 1 xP (int32 pairs [n × 2]: tokens a, b), 2 outP ([p × 2h], zeroed by the caller), 3 n, 4 h4 = h/4.
 * out[a][0..h) += dz[r] and out[b][h..2h) += dz[r] for every row r: the gradients of the two
 * embedding tables, [Σ_{a_r = t} dz_r | Σ_{b_r = t} dz_r], in one pass over dz.
 */
function pairSumsCode(): number[] {
  const R = 5, PA = 6, PB = 7, J = 8, S = 9; // i32 locals
  const X = 10; // v128
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  e(get(4), i32c(5), [SHL], set(S)); // output row stride in bytes: 2h floats = 32·h4
  e(get(3), set(R), BLOCK, get(R), [EQZ], brIf(0), LOOP);
  e(get(2), get(1), i32load(0), get(S), [MUL], [ADD], set(PA));
  e(get(2), get(1), i32load(4), get(S), [MUL], [ADD], get(4), i32c(4), [SHL], [ADD], set(PB));
  e(get(4), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);
  e(get(0), v128load(0), set(X));
  e(get(PA), get(PA), v128load(0), get(X), add, v128store(0));
  e(get(PB), get(PB), v128load(0), get(X), add, v128store(0));
  e(get(0), i32c(16), [ADD], set(0), get(PA), i32c(16), [ADD], set(PA), get(PB), i32c(16), [ADD], set(PB));
  e(get(J), i32c(-1), [ADD], tee(J), brIf(0), END, END);
  e(get(1), i32c(8), [ADD], set(1));
  e(get(R), i32c(-1), [ADD], tee(R), brIf(0), END, END);
  return body(5, 1, c);
}

/**
 * torch.optim.SGD's step over n4 groups of four floats (the whole-step engine's parameter region):
 * d = g + wd·p, b ← μ·b + d, p ← p − lr·b. With the buffer b zero before the first step this is
 * torch's b = d on step 1 (and with μ = 0 the buffer just holds d). Params (i32): 0 pP, 1 gP,
 * 2 bP, 3 n4, 4 cP: [lr, wd, μ] at cP, each four times (16 bytes).
 */
function sgdCode(): number[] {
  const LR = 5, WD = 6, MU = 7, P = 8, B = 9; // v128 locals
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  e(get(4), v128load(0), set(LR), get(4), v128load(16), set(WD), get(4), v128load(32), set(MU));
  e(BLOCK, get(3), [EQZ], brIf(0), LOOP);
  e(get(0), v128load(0), set(P));
  e(get(2), get(MU), get(2), v128load(0), mul, get(1), v128load(0), get(WD), get(P), mul, add, add, tee(B), v128store(0));
  e(get(0), get(P), get(LR), get(B), mul, sub, v128store(0));
  e(get(0), i32c(16), [ADD], set(0), get(1), i32c(16), [ADD], set(1), get(2), i32c(16), [ADD], set(2));
  e(get(3), i32c(-1), [ADD], tee(3), brIf(0), END, END);
  return body(0, 5, c);
}

/**
 * torch.optim.AdamW's step (optimizers.ts) over n4 groups of four floats:
 * m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², p ← p·decay − stepSize·m / (√v·invBc2 + eps).
 * Params (i32): 0 pP, 1 gP, 2 mP, 3 vP, 4 n4, 5 cP: [decay, stepSize, β1, 1 − β1, β2, 1 − β2,
 * invBc2, eps] at cP, each four times.
 */
function adamWCode(): number[] {
  const K = 6, G = 14, M = 15, V = 16; // v128 locals: K..K+7 the constants
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  for (let i = 0; i < 8; i++) e(get(5), v128load(16 * i), set(K + i));
  e(BLOCK, get(4), [EQZ], brIf(0), LOOP);
  e(get(1), v128load(0), set(G));
  e(get(2), get(K + 2), get(2), v128load(0), mul, get(K + 3), get(G), mul, add, tee(M), v128store(0));
  e(get(3), get(K + 4), get(3), v128load(0), mul, get(K + 5), get(G), get(G), mul, mul, add, tee(V), v128store(0));
  e(get(0), get(0), v128load(0), get(K), mul, get(K + 1), get(M), get(V), F32X4.sqrt, get(K + 6), mul, get(K + 7), add, div, mul, sub, v128store(0));
  e(get(0), i32c(16), [ADD], set(0), get(1), i32c(16), [ADD], set(1), get(2), i32c(16), [ADD], set(2), get(3), i32c(16), [ADD], set(3));
  e(get(4), i32c(-1), [ADD], tee(4), brIf(0), END, END);
  return body(0, 11, c);
}

/**
 * The pre-activations of a token-pair batch from the two tables: out[r] = T[a_r][0..h) + T[b_r][h..2h)
 * (the inverse of pairSums). Params (i32): 0 tP ([p × 2h]), 1 xP (int32 pairs [n × 2]), 2 outP
 * ([n × h]), 3 n, 4 h4 = h/4.
 */
function pairGatherCode(): number[] {
  const R = 5, PA = 6, PB = 7, J = 8, S = 9; // i32 locals
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  e(get(4), i32c(5), [SHL], set(S)); // table row stride in bytes: 2h floats = 32·h4
  e(get(3), set(R), BLOCK, get(R), [EQZ], brIf(0), LOOP);
  e(get(0), get(1), i32load(0), get(S), [MUL], [ADD], set(PA));
  e(get(0), get(1), i32load(4), get(S), [MUL], [ADD], get(4), i32c(4), [SHL], [ADD], set(PB));
  e(get(4), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);
  e(get(2), get(PA), v128load(0), get(PB), v128load(0), add, v128store(0));
  e(get(2), i32c(16), [ADD], set(2), get(PA), i32c(16), [ADD], set(PA), get(PB), i32c(16), [ADD], set(PB));
  e(get(J), i32c(-1), [ADD], tee(J), brIf(0), END, END);
  e(get(1), i32c(8), [ADD], set(1));
  e(get(R), i32c(-1), [ADD], tee(R), brIf(0), END, END);
  return body(5, 0, c);
}

/**
 * The activation passes of the whole-step engines, over n4 groups of four floats (branch-free: the
 * signs of pre-activations are unpredictable, and a JS loop with a branch ran at 6 ns a float).
 * Params (i32): 0 aP, 1 bP, 2 n4. relu: b = pmax(0, a) = (0 < a ? a : 0). reluMask: a = a where
 * b > 0, else 0 (tf.step's mask: 0 at ±0 and NaN). mulInto: a = a·b. addInto: a = a + b.
 */
function eltCode(kind: 'relu' | 'reluMask' | 'mulInto' | 'addInto'): number[] {
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  e(BLOCK, get(2), [EQZ], brIf(0), LOOP);
  if (kind === 'relu') e(get(1), zero128, get(0), v128load(0), pmax, v128store(0));
  else if (kind === 'reluMask') e(get(0), get(0), v128load(0), get(1), v128load(0), zero128, simd(0x44), V128_AND, v128store(0));
  else if (kind === 'mulInto') e(get(0), get(0), v128load(0), get(1), v128load(0), mul, v128store(0));
  else e(get(0), get(0), v128load(0), get(1), v128load(0), add, v128store(0));
  e(get(0), i32c(16), [ADD], set(0), get(1), i32c(16), [ADD], set(1));
  e(get(2), i32c(-1), [ADD], tee(2), brIf(0), END, END);
  return body(0, 0, c);
}

/**
 * c[r] += b for R rows of n4 groups of four floats (a bias over whole padded rows). Params (i32):
 * 0 cP, 1 bP, 2 R, 3 n4.
 */
function addRowsCode(): number[] {
  const J = 4, PB = 5; // i32 locals
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  e(BLOCK, get(2), [EQZ], brIf(0), LOOP);
  e(get(1), set(PB), get(3), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);
  e(get(0), get(0), v128load(0), get(PB), v128load(0), add, v128store(0));
  e(get(0), i32c(16), [ADD], set(0), get(PB), i32c(16), [ADD], set(PB));
  e(get(J), i32c(-1), [ADD], tee(J), brIf(0), END, END);
  e(get(2), i32c(-1), [ADD], tee(2), brIf(0), END, END);
  return body(2, 0, c);
}

/**
 * out = Σ_r d[r] over R rows of n4 groups of four floats (a bias gradient). Params (i32): 0 dP,
 * 1 outP, 2 R, 3 n4. out is zeroed here.
 */
function colSumsCode(): number[] {
  const J = 4, PO = 5; // i32 locals
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  e(get(1), set(PO), get(3), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);
  e(get(PO), zero128, v128store(0), get(PO), i32c(16), [ADD], set(PO));
  e(get(J), i32c(-1), [ADD], tee(J), brIf(0), END, END);
  e(BLOCK, get(2), [EQZ], brIf(0), LOOP);
  e(get(1), set(PO), get(3), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);
  e(get(PO), get(PO), v128load(0), get(0), v128load(0), add, v128store(0));
  e(get(0), i32c(16), [ADD], set(0), get(PO), i32c(16), [ADD], set(PO));
  e(get(J), i32c(-1), [ADD], tee(J), brIf(0), END, END);
  e(get(2), i32c(-1), [ADD], tee(2), brIf(0), END, END);
  return body(2, 0, c);
}

/**
 * Products with a sparse left operand: rows of an input held as their nonzeros, for inputs that
 * are mostly zeros (MNIST pixels: 81 % zeros), in one of two kinds:
 * - 'spmm' (forward): C[r] = Σ_{nonzeros (i, a) of row r} a·B[i] — C = X·B with X sparse;
 * - 'spmmT' (weight gradient): G[i] += a·D[r] for every nonzero (i, a) of row r, rows in order —
 *   G += Xᵀ·D.
 * Both sum in the order the dense GEMM does (over rows r for G, over i for C; the zero terms
 * skipped add exactly nothing), so the results equal the dense products' bit for bit, but for the
 * sign of zero sums and for infinities or NaN met only through a zero input.
 * The nonzeros are pairs [a (f32), byte offset of B's or G's row i (i32)] at nzP (8 bytes each);
 * row r's are the pairs s..e−1, where (s, e) are the two i32 at tP + r·tStride. Columns go in
 * panels of 32 floats (eight v128 accumulators, or δ's panel in eight registers), then one of 16
 * and one of 8 where they remain.
 * Params (i32): 0 tP, 1 tStride, 2 nzP, 3 bP (spmm: B; spmmT: D, rows of n4 groups), 4 cP (spmm: C,
 * rows of n4 groups; spmmT: G), 5 rows, 6 n4 (N/4, even).
 */
function spmmCode(kind: 'spmm' | 'spmmT'): number[] {
  const PS = 7, PE = 8, P = 9, COL = 10, J = 11, ADDR = 12, RB = 13; // i32 locals
  const ACC = 14, AV = 22; // v128 locals: ACC..ACC+7 (accumulators, or δ's panel), AV
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  /** One panel of `w` v128 columns at COL, for the row's nonzeros PS..PE. */
  const panel = (w: number): void => {
    if (kind === 'spmm') for (let q = 0; q < w; q++) e(zero128, set(ACC + q));
    else for (let q = 0; q < w; q++) e(get(3), get(COL), [ADD], v128load(16 * q), set(ACC + q));
    e(get(PS), set(P));
    e(BLOCK, get(P), get(PE), [LT_U], [EQZ], brIf(0), LOOP);
    e(get(P), load32splat(0), set(AV));
    e(get(kind === 'spmm' ? 3 : 4), get(P), i32load(4), [ADD], get(COL), [ADD], set(ADDR));
    for (let q = 0; q < w; q++) {
      if (kind === 'spmm') e(get(ACC + q), get(AV), get(ADDR), v128load(16 * q), mul, add, set(ACC + q));
      else e(get(ADDR), get(ADDR), v128load(16 * q), get(AV), get(ACC + q), mul, add, v128store(16 * q));
    }
    e(get(P), i32c(8), [ADD], tee(P), get(PE), [LT_U], brIf(0), END, END);
    if (kind === 'spmm') for (let q = 0; q < w; q++) e(get(4), get(COL), [ADD], get(ACC + q), v128store(16 * q));
    e(get(COL), i32c(16 * w), [ADD], set(COL), get(J), i32c(-w), [ADD], set(J));
  };
  e(get(6), i32c(4), [SHL], set(RB));
  e(BLOCK, get(5), [EQZ], brIf(0), LOOP);
  e(get(2), get(0), i32load(0), i32c(3), [SHL], [ADD], set(PS));
  e(get(2), get(0), i32load(4), i32c(3), [SHL], [ADD], set(PE));
  e(i32c(0), set(COL), get(6), set(J));
  e(BLOCK, LOOP, get(J), i32c(8), [LT_U], brIf(1));
  panel(8);
  e(br(0), END, END);
  e(BLOCK, get(J), i32c(4), [LT_U], brIf(0));
  panel(4);
  e(END);
  e(BLOCK, get(J), [EQZ], brIf(0));
  panel(2);
  e(END);
  e(get(0), get(1), [ADD], set(0));
  if (kind === 'spmm') e(get(4), get(RB), [ADD], set(4)); else e(get(3), get(RB), [ADD], set(3));
  e(get(5), i32c(-1), [ADD], tee(5), brIf(0), END, END);
  return body(7, 9, c);
}

/**
 * One unadjusted Langevin step over n4 groups of four floats, in place:
 * d = w − w*, w ← w − (a·g + b·d) + s·(ξ·m) with a = (ε/2)nβ, b = (ε/2)γ, s = √ε and m the 0/1 mask
 * of real entries, and Σ d² (before the step) summed in Float64 (two f64x2 accumulators of d² in
 * float32, stored at outP as four doubles). Params (i32): 0 wP, 1 wStarP, 2 gP, 3 xiP, 4 mP,
 * 5 n4, 6 cP ([a, b, s], each four times), 7 outP.
 */
function langevinCode(): number[] {
  const A = 8, B = 9, S = 10, W = 11, D = 12, DD = 13, ACC0 = 14, ACC1 = 15; // v128 locals
  const c: number[] = [];
  const e = (...xs: number[][]): void => { for (const s2 of xs) c.push(...s2); };
  const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  e(get(6), v128load(0), set(A), get(6), v128load(16), set(B), get(6), v128load(32), set(S));
  e(zero128, set(ACC0), zero128, set(ACC1));
  e(BLOCK, get(5), [EQZ], brIf(0), LOOP);
  e(get(0), v128load(0), tee(W), get(1), v128load(0), sub, tee(D), get(D), mul, set(DD));
  e(get(ACC0), get(DD), F64X2.promoteLow, F64X2.add, set(ACC0));
  e(get(ACC1), get(DD), get(DD), simd(0x0d, ...HIGH_TO_LOW), F64X2.promoteLow, F64X2.add, set(ACC1));
  e(get(0), get(W), get(A), get(2), v128load(0), mul, get(B), get(D), mul, add, sub);
  e(get(S), get(3), v128load(0), get(4), v128load(0), mul, mul, add, v128store(0));
  for (const p of [0, 1, 2, 3, 4]) e(get(p), i32c(16), [ADD], set(p));
  e(get(5), i32c(-1), [ADD], tee(5), brIf(0), END, END);
  e(get(7), get(ACC0), v128store(0), get(7), get(ACC1), v128store(16));
  return body(0, 8, c);
}

function moduleBytes(sharedMaxPages?: number): Uint8Array {
  CONSTS.length = 0;
  const code = moduleOf([3, 4, 5, 8, 6, 7], [
    { name: 'exp', type: 0, code: expCode() }, { name: 'gelu', type: 1, code: geluCode() }, { name: 'xent', type: 4, code: xentCode() },
    { name: 'gemm', type: 3, code: gemmCode() }, { name: 'gemmAcc', type: 3, code: gemmCode(true) }, { name: 'pairSums', type: 2, code: pairSumsCode() },
    { name: 'sgd', type: 2, code: sgdCode() }, { name: 'adamw', type: 4, code: adamWCode() }, { name: 'pairGather', type: 2, code: pairGatherCode() },
    { name: 'relu', type: 0, code: eltCode('relu') }, { name: 'reluMask', type: 0, code: eltCode('reluMask') }, { name: 'mulInto', type: 0, code: eltCode('mulInto') }, { name: 'addInto', type: 0, code: eltCode('addInto') },
    { name: 'addRows', type: 1, code: addRowsCode() }, { name: 'colSums', type: 1, code: colSumsCode() },
    { name: 'spmm', type: 5, code: spmmCode('spmm') }, { name: 'spmmT', type: 5, code: spmmCode('spmmT') },
    { name: 'langevin', type: 3, code: langevinCode() },
  ], sharedMaxPages);
  if (CONSTS.length * 16 > MASKS) throw new Error('wasmF32: constant table overflow');
  return code;
}

interface Exports {
  mem: WebAssembly.Memory;
  exp(inP: number, outP: number, n16: number): void;
  gelu(xP: number, actP: number, derP: number, n16: number): void;
  xent(inP: number, outP: number, statP: number, B: number, k: number, div: number): void;
  gemm(aP: number, bP: number, cP: number, M: number, N: number, K: number, aRow: number, aStep: number): void;
  gemmAcc(aP: number, bP: number, cP: number, M: number, N: number, K: number, aRow: number, aStep: number): void;
  pairSums(dzP: number, xP: number, outP: number, n: number, h4: number): void;
  sgd(pP: number, gP: number, bP: number, n4: number, cP: number): void;
  adamw(pP: number, gP: number, mP: number, vP: number, n4: number, cP: number): void;
  pairGather(tP: number, xP: number, outP: number, n: number, h4: number): void;
  relu(aP: number, bP: number, n4: number): void;
  reluMask(aP: number, bP: number, n4: number): void;
  mulInto(aP: number, bP: number, n4: number): void;
  addInto(aP: number, bP: number, n4: number): void;
  addRows(cP: number, bP: number, R: number, n4: number): void;
  colSums(dP: number, outP: number, R: number, n4: number): void;
  spmm(tP: number, tStride: number, nzP: number, bP: number, cP: number, rows: number, n4: number): void;
  spmmT(tP: number, tStride: number, nzP: number, dP: number, gP: number, rows: number, n4: number): void;
  langevin(wP: number, wStarP: number, gP: number, xiP: number, mP: number, n4: number, cP: number, outP: number): void;
}

/** The kernels over Float32Arrays (operands are copied in and results out). */
export interface ElementwiseKernels {
  /** out[i] = e^{x[i]} (out may be x). */
  exp(x: Float32Array, out: Float32Array): void;
  /** act[i] = GELU(x[i]), der[i] = GELU′(x[i]). */
  gelu(x: Float32Array, act: Float32Array, der: Float32Array): void;
  /**
   * Mean softmax cross-entropy of logits [B, k] (row-major) against labels [B], and its cotangent
   * dOut = (softmax − onehot)/B written to `dOut`; a label outside [0, k) contributes 0 to the loss
   * and no −1/B (what oneHot gives). Max-shifted, sums in Float64.
   */
  softmaxCrossEntropy(logits: Float32Array, labels: Int32Array, k: number, dOut: Float32Array): number;
  /**
   * c = op(a)·op(b) for row-major op(a) [m × k], op(b) [k × n], c [m × n] (Float32 accumulation in
   * k order); op(x) = xᵀ when `ta` / `tb` (a then stored [k × m], b [n × k]), transposed while
   * copied in.
   */
  matMul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, ta?: boolean, tb?: boolean): void;
  /**
   * [Σ_{a_r = t} dz_r | Σ_{b_r = t} dz_r] for tokens t < p into out [p × 2h], from rows dz [n × h]
   * and token pairs [n × 2] (h a multiple of 4; a token outside [0, p) is an error).
   */
  pairSums(dz: Float32Array, pairs: Int32Array, p: number, h: number, out: Float32Array): void;
}

let compiled: WebAssembly.Module | null | undefined;
let compiledShared: WebAssembly.Module | null | undefined;
let instance: ElementwiseKernels | null | undefined;
/** The thread pool `instance` was made for (a new pool makes a new instance). */
let instancePool: ThreadPool | null = null;
/** 1 GiB in 64 KiB pages: the most the shared variant's memory may grow to. */
const SHARED_MAX_PAGES = 16384;
const NAMES = ['exp', 'gelu', 'xent', 'gemm', 'gemmAcc', 'pairSums', 'sgd', 'adamw', 'pairGather', 'relu', 'reluMask', 'mulInto', 'addInto', 'addRows', 'colSums', 'spmm', 'spmmT', 'langevin'];
/**
 * Multiply–adds below which a product stays on the calling thread. Measured in whole steps
 * (BENCHMARKS.md "Threads"): at 2¹⁹ mnist training (batch 32: [32,784]·[784,50]ᵀ, 1.4 M) ran at
 * 0.55× — the transposing copy, moving the operands to the other core and the handshake cost more
 * than half of a 35 µs product — while at 2²¹ no step got slower beyond the noise (modadd
 * training 1.2×, SGLD mnist 1.09×); stricter rules (also m ≥ 64, or k ≥ 64, or n ≥ 64) were never
 * better in two A/B runs of all the steps (tmp experiments recorded in BENCHMARKS.md "Threads").
 */
export const PAR_GEMM_MIN = 1 << 21;
let parGemmMin = PAR_GEMM_MIN;
/** The split threshold in multiply–adds (the bench measures around it; tests set 0 to force splits). */
export function setGemmSplitMin(n: number = PAR_GEMM_MIN): void { parGemmMin = n; }

/** Writes the constant table and the tail masks the kernels read at the start of their memory. */
function initTables(ex: Exports): void {
  const f32 = new Float32Array(ex.mem.buffer);
  CONSTS.forEach((x, i) => f32.fill(x, 4 * i, 4 * i + 4));
  const masks = new Int32Array(ex.mem.buffer, MASKS, 16);
  for (let t = 0; t < 4; t++) for (let l = 0; l < t; l++) masks[4 * t + l] = -1;
}

function make(ex: Exports, par: { pool: ThreadPool; attached: Attached } | null): ElementwiseKernels {
  initTables(ex);
  let f32 = new Float32Array(ex.mem.buffer);
  const D = DATA / 4;
  /** The memory as floats, grown to hold `floats` operand floats after the constant table. */
  const heap = (floats: number): Float32Array => {
    const bytes = DATA + floats * 4;
    if (ex.mem.buffer.byteLength < bytes) ex.mem.grow(Math.ceil((bytes - ex.mem.buffer.byteLength) / 65536));
    if (f32.buffer !== ex.mem.buffer) f32 = new Float32Array(ex.mem.buffer);
    return f32;
  };
  /** Operands are padded to whole passes of 4·G floats. */
  const pad = (n: number): number => Math.ceil(n / (4 * G)) * 4 * G;
  return {
    exp(x, out) {
      const n = x.length, h = heap(pad(n));
      h.set(x, D);
      ex.exp(DATA, DATA, pad(n) / (4 * G));
      out.set(h.subarray(D, D + n));
    },
    gelu(x, act, der) {
      const n = x.length, m = pad(n), h = heap(3 * m);
      h.set(x, D);
      ex.gelu(DATA, DATA + 4 * m, DATA + 8 * m, m / (4 * G));
      act.set(h.subarray(D + m, D + m + n));
      der.set(h.subarray(D + 2 * m, D + 2 * m + n));
    },
    softmaxCrossEntropy(logits, labels, k, dOut) {
      const B = labels.length, n = B * k;
      if (logits.length !== n || dOut.length !== n) throw new Error(`softmaxCrossEntropy: logits have ${logits.length} values, expected ${B}×${k}`);
      // Layout after the constants: logits (n + 4 slack), softmax/B (n + 4 slack), [max, sum] per row.
      const o1 = pad(n + 4), o2 = 2 * o1, h = heap(o2 + 2 * B);
      h.set(logits, D);
      ex.xent(DATA, DATA + 4 * o1, DATA + 4 * o2, B, k, B);
      dOut.set(h.subarray(D + o1, D + o1 + n));
      const invB = 1 / B;
      let loss = 0;
      for (let r = 0, o = 0, st = D + o2; r < B; r++, o += k, st += 2) {
        const y = labels[r];
        if (y < 0 || y >= k) continue;
        // −log softmax_y = log s − (x_y − m)
        loss += Math.log(h[st + 1]) - (logits[o + y] - h[st]);
        dOut[o + y] -= invB;
      }
      return loss * invB;
    },
    pairSums(dz, pairs, p, h, out) {
      const n = pairs.length / 2;
      if (h % 4 !== 0 || dz.length !== n * h || out.length !== 2 * p * h) throw new Error(`pairSums: sizes do not match (n ${n}, h ${h}, p ${p})`);
      for (let i = 0; i < pairs.length; i++) if (!(pairs[i] >= 0 && pairs[i] < p)) throw new Error(`pairSums: token ${pairs[i]} is not in [0, ${p})`);
      const oX = n * h, oOut = oX + 2 * n, hp = heap(oOut + 2 * p * h);
      hp.set(dz, D);
      new Int32Array(hp.buffer, DATA + 4 * oX, 2 * n).set(pairs);
      hp.fill(0, D + oOut, D + oOut + 2 * p * h);
      ex.pairSums(DATA, DATA + 4 * oX, DATA + 4 * oOut, n, h / 4);
      out.set(hp.subarray(D + oOut, D + oOut + 2 * p * h));
    },
    matMul(a, b, c, m, k, n, ta = false, tb = false) {
      if (a.length !== m * k || b.length !== k * n || c.length !== m * n) throw new Error(`matMul: sizes do not match [${m}, ${k}]·[${k}, ${n}]`);
      const m4 = (m + 3) & ~3, n8 = (n + 7) & ~7;
      const oB = m4 * k, oC = oB + k * n8, h = heap(oC + m4 * n8);
      if (!ta) h.set(a, D);
      else for (let q = 0; q < k; q++) for (let i = 0, src = q * m, dst = D + q; i < m; i++, dst += k) h[dst] = a[src + i];
      h.fill(0, D + m * k, D + oB);
      if (tb) {
        for (let j = 0; j < n; j++) for (let q = 0, src = j * k, dst = D + oB + j; q < k; q++, dst += n8) h[dst] = b[src + q];
        if (n8 !== n) for (let q = 0; q < k; q++) h.fill(0, D + oB + q * n8 + n, D + oB + (q + 1) * n8);
      } else if (n8 === n) h.set(b, D + oB);
      else for (let r = 0; r < k; r++) { const o = D + oB + r * n8; h.set(b.subarray(r * n, r * n + n), o); h.fill(0, o + n, o + n8); }
      if (par !== null && m4 >= 8 && m4 * n8 * k >= parGemmMin) {
        // Split the rows of C (multiples of 4) over the threads; each reads all of B.
        const gi = NAMES.indexOf('gemm');
        const jobs = splitRange(m4, par.pool.threads, 4).map(([r0, r1]) => [{ fn: gi, count: 1, args: [DATA + 4 * r0 * k, DATA + 4 * oB, DATA + 4 * (oC + r0 * n8), r1 - r0, n8, k, 4 * k, 4] }]);
        par.pool.run(par.attached, jobs);
      } else {
        ex.gemm(DATA, DATA + 4 * oB, DATA + 4 * oC, m4, n8, k, 4 * k, 4);
      }
      if (n8 === n) c.set(h.subarray(D + oC, D + oC + m * n));
      else for (let r = 0; r < m; r++) c.set(h.subarray(D + oC + r * n8, D + oC + r * n8 + n), r * n);
    },
  };
}

/**
 * The kernels (one instance per thread pool), or null without WebAssembly SIMD. With a pool
 * (wasm/threads.ts) the memory is shared and large products are split over the threads.
 */
export function elementwiseKernels(): ElementwiseKernels | null {
  const pool = threadPool();
  if (instance !== undefined && (instance === null || pool === instancePool)) return instance;
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes() as BufferSource);
    } catch {
      compiled = null;
    }
  }
  instancePool = pool;
  if (compiled === null) return (instance = null);
  if (pool !== null) {
    if (compiledShared === undefined) {
      try {
        compiledShared = new WebAssembly.Module(moduleBytes(SHARED_MAX_PAGES) as BufferSource);
      } catch {
        compiledShared = null;
      }
    }
    // Where no shared memory of that size can be had: the unshared instance below, on one thread.
    const sh = compiledShared === null ? null : attachShared(pool, compiledShared, SHARED_MAX_PAGES, NAMES, true);
    if (sh !== null) {
      const ex = Object.fromEntries(NAMES.map((k, i) => [k, sh.attached.fns[i]]));
      return (instance = make({ ...ex, mem: sh.memory } as unknown as Exports, { pool, attached: sh.attached }));
    }
  }
  return (instance = make(new WebAssembly.Instance(compiled, {}).exports as unknown as Exports, null));
}

/**
 * A private instance of the kernels whose memory holds a caller's buffers between calls (no copies
 * in and out): the whole-step engines (train/residentEngine.ts). With a thread pool its memory is
 * shared and large products split over the threads (`residentKernels`).
 */
export interface ResidentKernels {
  /** Byte offset of `floats` new zeroed floats, 16-byte aligned. Growing the memory detaches views: take f32() after allocating. */
  alloc(floats: number): number;
  /** The memory as floats (a fresh view when it has grown). */
  f32(): Float32Array;
  /** C = A·B at byte offsets, A strided (see gemmCode): M a multiple of 4, N of 8. */
  gemm(aP: number, bP: number, cP: number, M: number, N: number, K: number, aRow: number, aStep: number): void;
  /** out = max(x, 0) over n floats (a multiple of 4; out may be x). */
  relu(xP: number, outP: number, n: number): void;
  /** d = 0 where h ≤ 0 (or NaN), over n floats (a multiple of 4). */
  reluMask(dP: number, hP: number, n: number): void;
  /** d = d·m over n floats (a multiple of 4). */
  mulInto(dP: number, mP: number, n: number): void;
  /** d = d + m over n floats (a multiple of 4). */
  addInto(dP: number, mP: number, n: number): void;
  /** c[r] += b for R rows of `width` floats (a multiple of 4), b of `width` floats. */
  addRows(cP: number, bP: number, R: number, width: number): void;
  /** out = Σ_{r < R} d[r] for rows of `width` floats (a multiple of 4), in row order. */
  colSums(dP: number, outP: number, R: number, width: number): void;
  /**
   * C = X·B with X's rows sparse (see spmmCode): row r's nonzeros are the pairs (s, e) at
   * tP + r·tStride; C [rows × N] and B rows of N floats (N a multiple of 8). `split`: rows over
   * the threads.
   */
  spmm(tP: number, tStride: number, nzP: number, bP: number, cP: number, rows: number, N: number, split: boolean): void;
  /**
   * G += Xᵀ·D with X's rows sparse, in two halves by column of X: the table at tP holds
   * (s, mid, e) per row (12 bytes), the nonzeros s..mid−1 in G's rows below the split and mid..e−1
   * above it, so the halves write disjoint rows of G and may run on two threads (`split`).
   */
  spmmT(tP: number, nzP: number, dP: number, gP: number, rows: number, N: number, split: boolean): void;
  /** act = GELU(x), der = GELU′(x) over n floats (a multiple of 16) at byte offsets. */
  gelu(xP: number, actP: number, derP: number, n: number): void;
  /**
   * An unadjusted Langevin step in place over n floats (a multiple of 4) at byte offsets (see
   * langevinCode): w ← w − (ε/2)(nβ·g + γ(w − w*)) + √ε·(ξ·mask); returns ‖w − w*‖² before the step.
   */
  langevin(wP: number, wStarP: number, gP: number, xiP: number, maskP: number, n: number, c: { nBeta: number; gamma: number; eps: number }): number;
  /**
   * Softmax of logits [B × k] (contiguous, 4 floats of slack after them) divided by `div` (default
   * B: a part of a batch passes the whole batch's rows) into outP, and [max, Σ exp(x − max)] per
   * row into statP (the cross-entropy kernel of `softmaxCrossEntropy`).
   */
  softmaxRows(inP: number, outP: number, statP: number, B: number, k: number, div?: number): void;
  /** Threads `parallel` runs its parts on (1 without a thread pool or shared memory). */
  readonly threads: number;
  /**
   * Runs the parts at once, part t on thread t (at most `threads` parts): each part is a function
   * calling this instance's kernels, whose calls are recorded (not run) while it runs, then run by
   * the pool as that thread's job. The parts must write disjoint memory. Recorded calls never split
   * over the threads themselves; the optimizer and Langevin kernels (which write a shared constant
   * block) cannot be recorded. Without a pool the parts run here, one after the other.
   */
  parallel(parts: (() => void)[]): void;
  /** out[t] += [Σ_{a_r = t} dz_r | Σ_{b_r = t} dz_r] (out [p × 2h], dz [n × h], pairs int32 [n × 2]; h a multiple of 4). */
  pairSums(dzP: number, pairsP: number, outP: number, n: number, h: number): void;
  /** out[r] = T[a_r][0..h) + T[b_r][h..2h) (T [p × 2h], out [n × h]; h a multiple of 4). */
  pairGather(tP: number, pairsP: number, outP: number, n: number, h: number): void;
  /** torch.optim.SGD over n floats (a multiple of 4) at byte offsets p, g and the momentum buffer b (zero before step 1). */
  sgd(pP: number, gP: number, bP: number, n: number, lr: number, weightDecay: number, momentum: number): void;
  /** torch.optim.AdamW over n floats (a multiple of 4) at byte offsets p, g, m, v (AdamWStep as in optimizers.ts). */
  adamW(pP: number, gP: number, mP: number, vP: number, n: number, s: { lr: number; weightDecay: number; beta1: number; beta2: number; eps: number; bc1: number; bc2Sqrt: number }): void;
}

/**
 * Multiply–adds from which the resident GEMM splits over the threads (besides the general
 * threshold, which tests set to 0 to force splits): measured in whole engine steps, the modadd-gelu
 * step's 6 M products ran slower split (2.8 ms against 1.85 ms a step on one thread: the other
 * core's half of C then crosses caches for the next kernel), modadd's 16–32 M ones faster (5.3
 * against 6.4 ms), MNIST's SGLD products of 22 M likewise.
 */
export const RESIDENT_SPLIT_MIN = 1 << 23;
let residentSplitMin = RESIDENT_SPLIT_MIN;
/** The resident GEMM's own split threshold (tests set 0). */
export function setResidentSplitMin(n: number = RESIDENT_SPLIT_MIN): void { residentSplitMin = n; }

/** K beyond which the resident GEMM goes in K chunks (see its gemm). */
const K_BLOCK_MIN = 1024;

/** Bytes of A a row block of the resident GEMM spans (see its gemm). */
const ROW_BLOCK_BYTES = 96 * 1024;

/**
 * A new resident instance, or null without WebAssembly SIMD. With a thread pool (wasm/threads.ts)
 * its memory is shared with the helpers and products of at least the split threshold run on all
 * threads, by rows of C (`setGemmSplitMin`); without one, or without shared memory, on this thread.
 */
export function residentKernels(): ResidentKernels | null {
  const shared = elementwiseKernels() === null ? null : threadPool();
  if (!compiled) return null;
  let ex: Exports, par: { pool: ThreadPool; attached: Attached } | null = null;
  const sh = shared && compiledShared ? attachShared(shared, compiledShared, SHARED_MAX_PAGES, NAMES) : null;
  if (sh && shared) {
    ex = { ...Object.fromEntries(NAMES.map((k, i) => [k, sh.attached.fns[i]])), mem: sh.memory } as unknown as Exports;
    par = { pool: shared, attached: sh.attached };
  } else {
    ex = new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
  }
  if (ex.mem.buffer.byteLength < DATA + 16 * 8) ex.mem.grow(1);
  initTables(ex);
  let top = DATA;
  let view = new Float32Array(ex.mem.buffer);
  const CP = top;
  top += 16 * 8;
  const consts = (vals: number[]): number => {
    const f = new Float32Array(ex.mem.buffer, CP, 4 * vals.length);
    vals.forEach((v, i) => f.fill(v, 4 * i, 4 * i + 4));
    return CP;
  };
  const need4 = (n: number): void => { if (n % 4 !== 0) throw new Error(`resident kernels: ${n} floats is not a multiple of 4`); };
  const gi = NAMES.indexOf('gemm'), gai = NAMES.indexOf('gemmAcc');
  const fns = NAMES.map((k) => (ex as unknown as Record<string, (...a: number[]) => void>)[k]);
  const fnIndex = new Map(NAMES.map((k, i) => [k, i]));
  /** The calls of the part `parallel` is recording (null: calls run at once). */
  let rec: Segment[] | null = null;
  /** One kernel call, run now or recorded for `parallel`. */
  const call = (name: string, ...args: number[]): void => {
    const i = fnIndex.get(name)!;
    if (rec) rec.push({ fn: i, count: 1, args });
    else fns[i](...args);
  };
  const noRecord = (what: string): void => { if (rec) throw new Error(`resident kernels: ${what} cannot run inside parallel()`); };
  return {
    threads: par ? par.pool.threads : 1,
    parallel(parts) {
      if (rec) throw new Error('resident kernels: parallel() inside parallel()');
      const threads = par ? par.pool.threads : 1;
      if (par !== null && parts.length > threads) throw new Error(`resident kernels: ${parts.length} parts for ${threads} threads`);
      const jobs = parts.map((part) => {
        rec = [];
        try { part(); return rec; } finally { rec = null; }
      });
      if (par !== null) par.pool.run(par.attached, jobs);
      else for (const segs of jobs) for (const sg of segs) runHere(fns[sg.fn], sg);
    },
    relu(xP, outP, n) { need4(n); call('relu', xP, outP, n / 4); },
    reluMask(dP, hP, n) { need4(n); call('reluMask', dP, hP, n / 4); },
    mulInto(dP, mP, n) { need4(n); call('mulInto', dP, mP, n / 4); },
    addInto(dP, mP, n) { need4(n); call('addInto', dP, mP, n / 4); },
    addRows(cP, bP, R, width) { need4(width); call('addRows', cP, bP, R, width / 4); },
    colSums(dP, outP, R, width) { need4(width); call('colSums', dP, outP, R, width / 4); },
    gelu(xP, actP, derP, n) {
      if (n % 16 !== 0) throw new Error(`gelu: ${n} floats is not a multiple of 16`);
      call('gelu', xP, actP, derP, n / 16);
    },
    // Not split over the threads by itself: measured in whole modadd-gelu steps (108,000 GELU
    // floats, 2,247 softmax rows), halves on two threads made the step slower (1.83–1.92 against
    // 1.77–1.79 ms): the next product reads the other core's half from its cache. The engines'
    // data-parallel steps (`parallel`) keep each thread on its own rows from gather to gradient.
    softmaxRows(inP, outP, statP, B, k, div = B) { call('xent', inP, outP, statP, B, k, div); },
    langevin(wP, wStarP, gP, xiP, maskP, n, c) {
      noRecord('langevin');
      need4(n);
      const h = c.eps / 2;
      ex.langevin(wP, wStarP, gP, xiP, maskP, n / 4, consts([h * c.nBeta, h * c.gamma, Math.sqrt(c.eps)]), CP + 64);
      const d = new Float64Array(ex.mem.buffer, CP + 64, 4);
      return d[0] + d[1] + d[2] + d[3];
    },
    spmm(tP, tStride, nzP, bP, cP, rows, N, split) {
      if (N % 8 !== 0) throw new Error(`spmm: N = ${N} is not a multiple of 8`);
      if (par !== null && split && rows >= 8 && !rec) {
        const si = NAMES.indexOf('spmm');
        par.pool.run(par.attached, splitRange(rows, par.pool.threads, 4).map(([r0, r1]) => [{ fn: si, count: 1, args: [tP + r0 * tStride, tStride, nzP, bP, cP + 4 * r0 * N, r1 - r0, N / 4] }]));
      } else call('spmm', tP, tStride, nzP, bP, cP, rows, N / 4);
    },
    spmmT(tP, nzP, dP, gP, rows, N, split) {
      if (N % 8 !== 0) throw new Error(`spmmT: N = ${N} is not a multiple of 8`);
      const ti = NAMES.indexOf('spmmT');
      const halves = [0, 4].map((o) => [{ fn: ti, count: 1, args: [tP + o, 12, nzP, dP, gP, rows, N / 4] }]);
      if (rec) rec.push(...halves.flat());
      else if (par !== null && split) par.pool.run(par.attached, halves);
      else for (const [h] of halves) runHere(ex.spmmT as (...a: number[]) => void, h);
    },
    pairSums(dzP, pairsP, outP, n, h) {
      if (h % 4 !== 0) throw new Error(`pairSums: h = ${h} is not a multiple of 4`);
      call('pairSums', dzP, pairsP, outP, n, h / 4);
    },
    pairGather(tP, pairsP, outP, n, h) {
      if (h % 4 !== 0) throw new Error(`pairGather: h = ${h} is not a multiple of 4`);
      call('pairGather', tP, pairsP, outP, n, h / 4);
    },
    sgd(pP, gP, bP, n, lr, wd, mu) {
      noRecord('sgd');
      need4(n);
      ex.sgd(pP, gP, bP, n / 4, consts([lr, wd, mu]));
    },
    adamW(pP, gP, mP, vP, n, st) {
      noRecord('adamW');
      need4(n);
      ex.adamw(pP, gP, mP, vP, n / 4, consts([1 - st.lr * st.weightDecay, st.lr / st.bc1, st.beta1, 1 - st.beta1, st.beta2, 1 - st.beta2, 1 / st.bc2Sqrt, st.eps]));
    },
    alloc(floats) {
      const at = top;
      top += Math.ceil(floats / 4) * 16;
      if (ex.mem.buffer.byteLength < top) ex.mem.grow(Math.ceil((top - ex.mem.buffer.byteLength) / 65536));
      return at;
    },
    f32() {
      if (view.buffer !== ex.mem.buffer || view.length * 4 !== ex.mem.buffer.byteLength) view = new Float32Array(ex.mem.buffer);
      return view;
    },
    gemm(aP, bP, cP, M, N, K, aRow, aStep) {
      if (M % 4 !== 0 || N % 8 !== 0) throw new Error(`gemm: M = ${M} must be a multiple of 4 and N = ${N} of 8`);
      // Short K: rows of C in blocks whose rows of A stay in L2 while every panel of B passes them
      // (the kernel sweeps all of A once per 8-column panel: for [512 × 784] rows that was 7 passes
      // over 1.6 MB from memory, and the product ran at half speed).
      const rowBlocked = (r0: number, r1: number): Segment[] => {
        const mb = Math.max(4, Math.min(M, Math.floor(ROW_BLOCK_BYTES / (4 * K)) & ~3));
        const full = Math.floor((r1 - r0) / mb), rest = r1 - r0 - full * mb, out: Segment[] = [];
        if (full) out.push({ fn: gi, count: full, args: [aP + r0 * aRow, bP, cP + 4 * r0 * N, mb, N, K, aRow, aStep], strides: [mb * aRow, 0, 4 * mb * N] });
        const q = r0 + full * mb;
        if (rest) out.push({ fn: gi, count: 1, args: [aP + q * aRow, bP, cP + 4 * q * N, rest, N, K, aRow, aStep] });
        return out;
      };
      // Long K (a weight gradient hᵀ·δ over thousands of rows): K in chunks whose rows of A for
      // these rows of C stay in L2, C accumulating (gemmAcc: bitwise the unblocked sum).
      const kBlocked = (r0: number, r1: number): Segment[] => {
        const kb = Math.max(64, Math.min(K, Math.floor(ROW_BLOCK_BYTES * 2 / (4 * (r1 - r0)))));
        const full = Math.floor(K / kb), rest = K - full * kb, out: Segment[] = [];
        const a = aP + r0 * aRow, cc = cP + 4 * r0 * N;
        out.push({ fn: gi, count: 1, args: [a, bP, cc, r1 - r0, N, kb, aRow, aStep] });
        if (full > 1) out.push({ fn: gai, count: full - 1, args: [a + kb * aStep, bP + 4 * kb * N, cc, r1 - r0, N, kb, aRow, aStep], strides: [kb * aStep, 4 * kb * N] });
        if (rest) out.push({ fn: gai, count: 1, args: [a + full * kb * aStep, bP + 4 * full * kb * N, cc, r1 - r0, N, rest, aRow, aStep] });
        return out;
      };
      const segments = K > K_BLOCK_MIN ? kBlocked : rowBlocked;
      if (rec) rec.push(...segments(0, M));
      else if (par !== null && M >= 8 && M * N * K >= Math.max(parGemmMin, residentSplitMin)) {
        par.pool.run(par.attached, splitRange(M, par.pool.threads, 4).map(([r0, r1]) => segments(r0, r1)));
      } else {
        for (const sg of segments(0, M)) runHere((sg.fn === gi ? ex.gemm : ex.gemmAcc) as (...a: number[]) => void, sg);
      }
    },
  };
}
