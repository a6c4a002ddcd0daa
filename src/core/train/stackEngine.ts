/**
 * A whole training step of a dense layer stack (mnist-mlp, matfac) in one place, with no tfjs
 * tensors in between: the minibatch rows, the forward pass, the loss head, the backward pass and
 * the optimizer update run over buffers that stay resident in a private instance of our wasm
 * kernels (wasmF32.ts `residentKernels`), the products on its f32x4 GEMM, the rest in JS loops.
 *
 * Why (BENCHMARKS.md, issue 14): an MNIST step at batch 32 is ≈ 8 MFLOP, and through tfjs it ran
 * 50 kernels whose per-kernel dispatch, operand copies and transposes cost more than the products.
 *
 * Layout. Every width is padded to a multiple of 8 (the GEMM's panel) with zeros that stay zero.
 * The weights are held transposed, Wt_l = W_lᵀ [in_l × out_l] (PyTorch's W_l is [out, in]), so
 *   z_l = h_{l−1}·Wt_l + b_l               (row-major A, no copy)
 *   ∇Wt_l = h_{l−1}ᵀ·δ_l                   (A read transposed by the GEMM's strides, no copy)
 *   δ_{l−1} = (δ_l·W_l) ⊙ [z_{l−1} > 0]    (W_l: a transposed copy of Wt_l, refreshed after each
 *                                           update, for l ≥ 1 only — the input layer needs none)
 * Parameters, gradients and optimizer state are one region each in that layout, so an update is
 * one pass over three or four arrays. Batch rows are padded to a multiple of 4; δ's padding rows
 * are zero, so padding rows never reach a gradient.
 *
 * The numbers are those of the tfjs path (the hand-written passes of arch/passes.ts, lossHead of
 * fused.ts and the optimizers of optimizers.ts) to float32 rounding: tests/unit/stackEngine.test.ts
 * runs both on mnist-mlp and matfac sizes, with SGD (momentum, L2) and AdamW.
 */
import type { StackPassSpec } from '../arch/passes';
import { slot, type ParamLayout } from '../params';
import type { HeadKind } from './fused';
import {
  ResidentEngine, SOFTMAX_SLACK, crossEntropyHead, crossEntropyLabels, dataParallelMinMacs, gatherInto, outputBias, pad4, pad8, squaredErrorHead, transpose, type EngineOptimizer, type UnpackStep,
} from './residentEngine';
import { splitRange } from '../wasm/threads';

/** An input held as its rows' nonzeros in the kernels' memory (StackEngine.sparseFor). */
interface SparseRows {
  x: Float32Array;
  /** Byte offsets: the pairs, and the forward (s, e) and backward (s, mid, e) tables of a batch. */
  nzP: number;
  tF: number;
  tB: number;
  /** Pairs the region at nzP holds. */
  capacity: number;
  /** Per row of x: its first pair (and, at n, the end), and its first pair at or past the split column. */
  start: Int32Array;
  midAt: Int32Array;
}

/**
 * The largest fraction of nonzero inputs at which the engine holds them sparse. Measured
 * (2026-12-07, mnist-mlp [50, 50], 512-row loss and gradient, random inputs of a given density,
 * sparse and dense engines alternating): dense/sparse time 3.3× at 10 % nonzero, 2.2× at 20 %
 * (MNIST: 19 %), 1.7× at 30 %, 1.3× at 40 %, 1.07× at 50 % on one thread; on two threads (a
 * loaded machine) 2.2×, 1.24×, 0.92× at 20, 40, 50 %. The break-even is near 50 %, so the bound
 * sits just below it.
 */
export const SPARSE_MAX_DENSITY = 0.45;
/** Multiply–adds of a sparse product from which it runs on the threads. */
export const SPARSE_SPLIT_MIN = 1 << 21;
let sparseSplitMin = SPARSE_SPLIT_MIN;
/** The sparse products' split threshold (tests set 0). */
export function setSparseSplitMin(n: number = SPARSE_SPLIT_MIN): void { sparseSplitMin = n; }
let sparseInputs = true;
/** Whether engines made from now on may hold a mostly-zero input sparse (tests and the bench compare both). */
export function setSparseInputs(on = true): void { sparseInputs = on; }

export class StackEngine extends ResidentEngine {
  private readonly L: number;
  private readonly widths: number[];
  /** Padded widths: pw[l] for layer l's input, pw[l + 1] its output. */
  private readonly pw: number[];
  private readonly relu: boolean;
  private readonly hasBias: boolean[];
  private readonly wNames: string[];
  private readonly bNames: (string | null)[];
  /** Float offsets inside a region (Wt_l, then b_l). */
  private readonly wAt: number[] = [];
  private readonly bAt: number[] = [];
  /** Byte offsets of the buffers in the kernels' memory. */
  private readonly WT: number[] = [];
  private readonly X: number;
  private readonly H: number[] = [];
  private readonly D: [number, number];
  private readonly ST: number;
  /** The output layer's bias over its padded width (outputBias). */
  private readonly OB: number;
  private readonly maxRows: number;
  /** The x whose rows all sit in X, in order (a full batch: the next full batch of it skips the copy). */
  private xAll: Float32Array | null = null;
  /** The input held as its rows' nonzeros (`sparseFor`), or null: dense rows gathered into X. */
  private sp: SparseRows | null = null;
  /** An x found too dense to hold sparse (checked once). */
  private denseX: Float32Array | null = null;
  /** Nonzeros in the current batch's rows (sparse input). */
  private batchNz = 0;
  private readonly allowSparse = sparseInputs;
  /** The sparse input of the current batch, or null (its rows are in X). */
  private active: SparseRows | null = null;
  /** The second thread's gradient region in a data-parallel step (−1: one thread). */
  private readonly G2: number = -1;
  /**
   * A data-parallel step's hidden δ buffers hold each thread's rows from r0·hiddenWidest on (a fixed
   * stride per thread, whatever the layer's width), alternating between the D buffer the head's δ
   * is not in and D3 (with three or more layers), so that no thread writes rows another still reads.
   */
  private readonly hiddenWidest: number = 0;
  private readonly D3: number = -1;
  /** Forward multiply–adds per row (the padded in·out of every layer; the first layer's as if dense). */
  private readonly macsPerRow: number;
  private lastSplit = false;
  /** Whether the last `lossAndGradient` ran data-parallel (`lossAndGradientSplit`). */
  get lastStepSplit(): boolean { return this.lastSplit; }

  /** `maxBatch`: the most rows a step takes. Throws without WebAssembly SIMD. */
  constructor(spec: StackPassSpec, layout: ParamLayout, head: HeadKind, maxBatch: number, opt: EngineOptimizer) {
    const pw = spec.widths.map(pad8), L = spec.widths.length - 1;
    let size = 0;
    for (let l = 0; l < L; l++) size += pw[l] * pw[l + 1] + (spec.bias(l) !== null ? pw[l + 1] : 0);
    super(layout, head, opt, size);
    const k = this.k;
    this.L = L;
    this.widths = spec.widths.slice();
    this.pw = pw;
    this.relu = spec.relu;
    this.wNames = Array.from({ length: L }, (_, l) => spec.weight(l));
    this.bNames = Array.from({ length: L }, (_, l) => spec.bias(l));
    this.hasBias = this.bNames.map((b) => b !== null);
    let at = 0;
    for (let l = 0; l < L; l++) {
      this.wAt.push(at);
      at += pw[l] * pw[l + 1];
      this.bAt.push(at);
      if (this.hasBias[l]) at += pw[l + 1];
    }
    for (let l = 0; l < L; l++) this.WT.push(l === 0 ? -1 : k.alloc(pw[l] * pw[l + 1]));
    this.maxRows = pad4(maxBatch);
    this.X = k.alloc(this.maxRows * pw[0]);
    for (let l = 0; l < L; l++) this.H.push(k.alloc(this.maxRows * pw[l + 1]));
    const widest = Math.max(...pw);
    this.D = [k.alloc(this.maxRows * widest + SOFTMAX_SLACK), k.alloc(this.maxRows * widest + SOFTMAX_SLACK)];
    this.ST = k.alloc(2 * this.maxRows);
    this.OB = k.alloc(pw[L]);
    if (k.threads > 1) {
      this.G2 = k.alloc(this.regionSize);
      this.hiddenWidest = L > 1 ? Math.max(...pw.slice(1, L)) : 0;
      if (L > 2) this.D3 = k.alloc(this.maxRows * this.hiddenWidest);
    }
    let macs = 0;
    for (let l = 0; l < L; l++) macs += pw[l] * pw[l + 1];
    this.macsPerRow = macs;
  }

  protected loadInto(region: number, theta: Float32Array): void {
    if (theta.length !== this.layout.size) throw new Error(`stack engine: θ has ${theta.length} entries, the layout ${this.layout.size}`);
    const p = this.view(region, this.regionSize);
    p.fill(0);
    for (let l = 0; l < this.L; l++) {
      const s = slot(this.layout, this.wNames[l]);
      const nin = this.widths[l], nout = this.widths[l + 1], po = this.pw[l + 1];
      transpose(theta, s.offset, nin, p, this.wAt[l], po, nout, nin);
      const b = this.bNames[l];
      if (b) p.set(theta.subarray(slot(this.layout, b).offset, slot(this.layout, b).offset + nout), this.bAt[l]);
    }
  }

  protected unpackPlan(): UnpackStep[] {
    const plan: UnpackStep[] = [];
    for (let l = 0; l < this.L; l++) {
      const nin = this.widths[l], nout = this.widths[l + 1];
      plan.push({ kind: 't', s0: this.wAt[l], sStride: this.pw[l + 1], d0: slot(this.layout, this.wNames[l]).offset, dStride: nin, rows: nin, cols: nout });
      const b = this.bNames[l];
      if (b) plan.push({ kind: 'rows', s0: this.bAt[l], stride: nout, d0: slot(this.layout, b).offset, rows: 1, cols: nout });
    }
    return plan;
  }

  /** W_l = Wt_lᵀ for l ≥ 1 (the backward pass's right operand). */
  protected refreshTransposes(): void {
    const f = this.k.f32();
    const p0 = this.P / 4, L = this.L;
    if (this.hasBias[L - 1]) outputBias(f, this.OB / 4, p0 + this.bAt[L - 1], this.widths[L], this.pw[L], this.head === 'cross-entropy');
    for (let l = 1; l < this.L; l++) {
      const pi = this.pw[l], po = this.pw[l + 1];
      transpose(f, p0 + this.wAt[l], po, f, this.WT[l] / 4, pi, pi, po);
    }
  }

  /**
   * x's rows as their nonzeros where at most SPARSE_MAX_DENSITY of its entries are nonzero (MNIST
   * pixels: 19 %), else null. Built once per x, in the kernels' memory: the pairs [value, byte
   * offset of row i of a layer-0 weight block] in row order, and per row the first pair, the first
   * pair at or past the column `mid` that halves the nonzeros (spmmT's two halves), the end.
   */
  private sparseFor(x: Float32Array, n: number): SparseRows | null {
    if (this.sp?.x === x) return this.sp;
    if (this.denseX === x || !this.allowSparse) return null;
    const in0 = this.widths[0];
    let nnz = 0;
    for (let i = 0; i < n * in0; i++) if (x[i] !== 0) nnz++;
    if (nnz > SPARSE_MAX_DENSITY * n * in0) { this.denseX = x; return null; }
    const cols = new Float64Array(in0);
    for (let r = 0; r < n; r++) for (let i = 0; i < in0; i++) if (x[r * in0 + i] !== 0) cols[i]++;
    let mid = 0;
    for (let acc = 0; mid < in0 && acc + cols[mid] <= nnz / 2; mid++) acc += cols[mid];
    const k = this.k;
    // The previous x's region is reused when this one fits (the kernels' memory only grows).
    const old = this.sp;
    const nzP = old && old.capacity >= nnz ? old.nzP : k.alloc(2 * Math.max(nnz, 1));
    const tF = old ? old.tF : k.alloc(2 * this.maxRows), tB = old ? old.tB : k.alloc(3 * this.maxRows);
    const start = new Int32Array(n + 1), midAt = new Int32Array(n);
    const f = k.f32(), iv = new Int32Array(f.buffer, f.byteOffset, f.length);
    const rowBytes = 4 * this.pw[1];
    let j = nzP / 4;
    for (let r = 0; r < n; r++) {
      start[r] = (j - nzP / 4) / 2;
      midAt[r] = -1;
      for (let i = 0; i < in0; i++) {
        const v = x[r * in0 + i];
        if (v === 0) continue;
        if (i >= mid && midAt[r] < 0) midAt[r] = (j - nzP / 4) / 2;
        f[j] = v; iv[j + 1] = i * rowBytes; j += 2;
      }
      if (midAt[r] < 0) midAt[r] = (j - nzP / 4) / 2;
    }
    start[n] = (j - nzP / 4) / 2;
    this.sp = { x, nzP, capacity: old && old.capacity >= nnz ? old.capacity : nnz, tF, tB, start, midAt };
    return this.sp;
  }

  /** The input rows into X (padding columns and rows zero), or, for a sparse x, their tables; the batch size. */
  private gather(x: Float32Array, n: number, rows: Int32Array | null): number {
    const B = rows ? rows.length : n;
    if (B < 1 || B > this.maxRows) throw new Error(`stack engine: a batch of ${B} rows (at most ${this.maxRows})`);
    const B4 = pad4(B), X = this.X / 4, in0 = this.widths[0], p0 = this.pw[0];
    const sp = this.sparseFor(x, n);
    this.active = sp;
    if (sp) {
      if (rows || this.xAll !== x) {
        const iv = new Int32Array(this.k.f32().buffer), tF = sp.tF / 4, tB = sp.tB / 4;
        let nz = 0;
        for (let r = 0; r < B; r++) {
          const q = rows ? rows[r] : r, s0 = sp.start[q], e0 = sp.start[q + 1];
          iv[tF + 2 * r] = s0; iv[tF + 2 * r + 1] = e0;
          iv[tB + 3 * r] = s0; iv[tB + 3 * r + 1] = sp.midAt[q]; iv[tB + 3 * r + 2] = e0;
          nz += e0 - s0;
        }
        for (let r = B; r < B4; r++) { iv[tF + 2 * r] = 0; iv[tF + 2 * r + 1] = 0; }
        this.batchNz = nz;
        this.xAll = rows ? null : x;
      }
      return B;
    }
    if (rows || this.xAll !== x) {
      const f = this.k.f32();
      gatherInto(f, X, p0, x, in0, rows, B);
      if (B4 > B) f.fill(0, X + B * p0, X + B4 * p0);
      this.xAll = rows ? null : x;
    }
    return B;
  }

  /** Forward: z_l = h_{l−1}·Wt_l + b_l, ReLU in place below the output (H[L − 1]: the outputs). */
  private forward(B: number): void {
    this.forwardRows(0, pad4(B));
  }

  /** The forward pass over rows r0..r1 (r1 − r0 a multiple of 4) of the batch. */
  private forwardRows(r0: number, r1: number): void {
    const m = r1 - r0, L = this.L, pw = this.pw, k = this.k, sp = this.active;
    for (let l = 0; l < L; l++) {
      const pi = pw[l], po = pw[l + 1], out = this.H[l] + 4 * r0 * po;
      if (l === 0 && sp) k.spmm(sp.tF + 8 * r0, 8, sp.nzP, this.P + 4 * this.wAt[0], out, m, po, this.batchNz * po >= sparseSplitMin);
      else k.gemm((l === 0 ? this.X : this.H[l - 1]) + 4 * r0 * pi, this.P + 4 * this.wAt[l], out, m, po, pi, 4 * pi, 4);
      if (l === L - 1 && this.hasBias[l]) k.addRows(out, this.OB, m, po);
      else if (this.hasBias[l]) k.addRows(out, this.P + 4 * this.bAt[l], m, po);
      if (l < L - 1 && this.relu) k.relu(out, out, m * po);
    }
  }

  /** Backward from δ_L in D[(L − 1) % 2] (rows ≥ B zero) into the gradient region. */
  private backward(B: number): void {
    if (this.active) this.zeroSparseGradient(this.G);
    this.backwardRows(0, pad4(B), B, this.G);
  }

  /** Zeroes a gradient region's first-layer block, which spmmT accumulates into. */
  private zeroSparseGradient(G: number): void {
    const g = G / 4 + this.wAt[0];
    this.k.f32().fill(0, g, g + this.pw[0] * this.pw[1]);
  }

  /**
   * The backward pass over rows r0..r1 of the batch (the first `real` of them real; δ_L at stride
   * pOut from row r0 of D[(L − 1) % 2]) into the gradient region G (its sparse first-layer block
   * zeroed by the caller). The hidden δ's alternate between the D buffer the head's δ is not in and
   * D3 (or, without D3, the head's), these rows from r0·hiddenWidest, so that two threads' rows
   * never overlap whatever the layers' widths (see hiddenWidest).
   */
  private backwardRows(r0: number, r1: number, real: number, G: number): void {
    const m = r1 - r0, L = this.L, pw = this.pw, k = this.k, sp = this.active;
    const hiddenBufs = [this.D[L % 2], this.D3 >= 0 ? this.D3 : this.D[(L - 1) % 2]];
    let dl = this.D[(L - 1) % 2] + 4 * r0 * pw[L];
    for (let l = L - 1; l >= 0; l--) {
      const pi = pw[l], po = pw[l + 1];
      // ∇Wt_l = h_{l−1}ᵀ·δ_l: A read transposed (element (i, r) at h + 4i + 4r·pi).
      if (l === 0 && sp) k.spmmT(sp.tB + 12 * r0, sp.nzP, dl, G + 4 * this.wAt[0], real, po, this.batchNz * po >= sparseSplitMin);
      else k.gemm((l === 0 ? this.X : this.H[l - 1]) + 4 * r0 * pi, dl, G + 4 * this.wAt[l], pi, po, real, 4, 4 * pi);
      if (this.hasBias[l]) k.colSums(dl, G + 4 * this.bAt[l], real, po);
      if (l > 0) {
        const next = hiddenBufs[(L - 1 - l) % 2] + 4 * r0 * this.hiddenWidest;
        k.gemm(dl, this.WT[l], next, m, pi, po, 4 * po, 4);
        if (this.relu) k.reluMask(next, this.H[l - 1] + 4 * r0 * pi, m * pi);
        dl = next;
      }
    }
  }

  /** Whether the current batch's input is held as its nonzeros (sparseFor). */
  get sparseInput(): boolean {
    return this.active !== null;
  }

  /** C = X·B for the batch's B4 rows with X sparse (B: a layer-0 weight block at a byte offset). */
  private spmm(bP: number, cP: number, B4: number): void {
    const sp = this.active!, po = this.pw[1];
    this.k.spmm(sp.tF, 8, sp.nzP, bP, cP, B4, po, this.batchNz * po >= sparseSplitMin);
  }

  lossAndGradient(x: Float32Array | Int32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array | null): number {
    if (!(x instanceof Float32Array)) throw new Error('stack engine: float32 input rows expected');
    this.gnRows = 0;
    const B = this.gather(x, n, rows), B4 = pad4(B), L = this.L, k = this.k;
    // A cross-entropy head without an output bias pads its logits in JS (crossEntropyHead): one thread.
    const padsInJs = this.head === 'cross-entropy' && this.pw[L] > this.widths[L] && !this.hasBias[L - 1];
    // The work: a sparse first layer's multiply–adds are its nonzeros' (MNIST: 19 % of the dense).
    const pw = this.pw, macs = B * this.macsPerRow - (this.active ? B * pw[0] * pw[1] - this.batchNz * pw[1] : 0);
    this.lastSplit = this.G2 >= 0 && !padsInJs && B4 >= 8 && macs >= dataParallelMinMacs();
    if (this.lastSplit) return this.lossAndGradientSplit(B, y, rows);
    this.forward(B);
    // Head: the loss and δ_L = ∂ℓ/∂f (padding rows and columns zero).
    const kOut = this.widths[L], pOut = this.pw[L], Z = this.H[L - 1] / 4, dOut = this.D[(L - 1) % 2] / 4;
    let loss: number;
    if (this.head === 'cross-entropy') {
      loss = crossEntropyHead(k, this.H[L - 1], this.D[(L - 1) % 2], this.ST, B, B4, kOut, pOut, y as Int32Array, rows, this.hasBias[L - 1]);
    } else {
      loss = squaredErrorHead(k.f32(), Z, dOut, pOut, kOut, y as Float32Array, rows, B, B4, this.head);
    }
    this.backward(B);
    return loss;
  }

  /**
   * `lossAndGradient` data-parallel over the kernels' threads: each of two halves of the rows runs
   * the forward pass and softmax, then (after the head's labels, here) the backward pass into its
   * own gradient region (the first thread's the engine's, the second's G2), which are summed at the
   * end. Each thread reads only rows it wrote itself. The same numbers as the one-thread step to
   * float32 rounding (the halves' sums are added at the end instead of in one run).
   */
  private lossAndGradientSplit(B: number, y: Int32Array | Float32Array, rows: Int32Array | null): number {
    const k = this.k, L = this.L, pw = this.pw, B4 = pad4(B);
    const parts = splitRange(B4, 2, 4), real = (r0: number, r1: number): number => Math.max(0, Math.min(r1, B) - r0);
    const kOut = this.widths[L], pOut = pw[L], ce = this.head === 'cross-entropy';
    k.parallel(parts.map(([r0, r1]) => () => {
      this.forwardRows(r0, r1);
      if (ce) k.softmaxRows(this.H[L - 1] + 4 * r0 * pOut, this.D[(L - 1) % 2] + 4 * r0 * pOut, this.ST + 8 * r0, real(r0, r1), pOut, B);
    }));
    const f = k.f32(), dOut = this.D[(L - 1) % 2];
    let loss: number;
    if (ce) loss = crossEntropyLabels(f, this.H[L - 1], dOut, this.ST, B, B4, pOut, y as Int32Array, rows);
    else loss = squaredErrorHead(f, this.H[L - 1] / 4, dOut / 4, pOut, kOut, y as Float32Array, rows, B, B4, this.head);
    // spmmT accumulates: both threads' first-layer weight gradients start from zero.
    if (this.active) for (const g of [this.G, this.G2]) this.zeroSparseGradient(g);
    k.parallel(parts.map(([r0, r1], t) => () => this.backwardRows(r0, r1, real(r0, r1), t === 0 ? this.G : this.G2)));
    k.addInto(this.G, this.G2, this.regionSize);
    return loss;
  }

  /** Rows the Gauss–Newton state was prepared for (0: none; a training step invalidates it). */
  private gnRows = 0;
  /** A third activation-sized buffer for the forward-mode pass (allocated by prepareGn). */
  private Z2 = -1;

  /**
   * Prepares Gauss–Newton products H·v = scale·Jᵀ(J v) of the outputs at the loaded parameters
   * (θ*) over the rows of x at positions `rows`: the forward pass at θ*, once.
   */
  prepareGn(x: Float32Array | Int32Array, rows: Int32Array): void {
    if (!(x instanceof Float32Array)) throw new Error('stack engine: float32 input rows expected');
    if (this.Z2 < 0) this.Z2 = this.k.alloc(this.maxRows * Math.max(...this.pw));
    const B = this.gather(x, x.length / this.widths[0], rows);
    this.forward(B);
    this.gnRows = B;
  }

  /**
   * scale·Jᵀ(J v) into out (layout order) over the prepared rows (hessian/stack.ts has the same
   * passes on tfjs). Forward mode with the tangent (Ẇ_l, ḃ_l) of v:
   *   ż_1 = x·Ẇt_1 + ḃ_1,  ż_l = (ż_{l−1} ⊙ [z_{l−1} > 0])·Wt_l + h_{l−1}·Ẇt_l + ḃ_l,  u = ż_L;
   * then the backward pass with δ = u.
   */
  gnProduct(v: Float32Array, out: Float32Array | Float64Array, scale: number): void {
    const B = this.gnRows;
    if (B === 0) throw new Error('stack engine: prepareGn first');
    // v goes into the optimizer-state region, which Gauss–Newton products leave unused.
    const k = this.k, pw = this.pw, L = this.L, B4 = pad4(B), V = this.S1;
    this.loadInto(V, v);
    for (let l = 0; l < L; l++) {
      const zl = this.D[l % 2], po = pw[l + 1], pi = pw[l];
      if (l === 0) {
        if (this.active) this.spmm(V + 4 * this.wAt[0], zl, B4);
        else k.gemm(this.X, V + 4 * this.wAt[0], zl, B4, po, pi, 4 * pi, 4);
      } else {
        const prev = this.D[(l - 1) % 2];
        if (this.relu) k.reluMask(prev, this.H[l - 1], B4 * pi);
        k.gemm(prev, this.P + 4 * this.wAt[l], zl, B4, po, pi, 4 * pi, 4);
        k.gemm(this.H[l - 1], V + 4 * this.wAt[l], this.Z2, B4, po, pi, 4 * pi, 4);
        k.addInto(zl, this.Z2, B4 * po);
      }
      if (this.hasBias[l]) k.addRows(zl, V + 4 * this.bAt[l], B, po);
    }
    const u = this.D[(L - 1) % 2] / 4;
    k.f32().fill(0, u + B * pw[L], u + B4 * pw[L]);
    this.backward(B);
    this.scaledGradient(out, scale);
  }
}
