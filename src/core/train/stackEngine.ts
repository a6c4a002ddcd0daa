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
  ResidentEngine, SOFTMAX_SLACK, crossEntropyHead, gatherInto, outputBias, pad4, pad8, squaredErrorHead, transpose, type EngineOptimizer,
} from './residentEngine';

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

  /** A region (parameters or gradient) as a flat vector in layout order. */
  protected unpack(region: number, out: Float32Array): Float32Array {
    const r = this.view(region, this.regionSize);
    for (let l = 0; l < this.L; l++) {
      const s = slot(this.layout, this.wNames[l]);
      const nin = this.widths[l], nout = this.widths[l + 1], po = this.pw[l + 1];
      transpose(r, this.wAt[l], po, out, s.offset, nin, nin, nout);
      const b = this.bNames[l];
      if (b) out.set(r.subarray(this.bAt[l], this.bAt[l] + nout), slot(this.layout, b).offset);
    }
    return out;
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

  /** The input rows into X (padding columns and rows zero); the batch size. */
  private gather(x: Float32Array, n: number, rows: Int32Array | null): number {
    const B = rows ? rows.length : n;
    if (B < 1 || B > this.maxRows) throw new Error(`stack engine: a batch of ${B} rows (at most ${this.maxRows})`);
    const B4 = pad4(B), X = this.X / 4, in0 = this.widths[0], p0 = this.pw[0];
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
    const B4 = pad4(B), L = this.L, pw = this.pw, k = this.k;
    for (let l = 0; l < L; l++) {
      const A = l === 0 ? this.X : this.H[l - 1];
      k.gemm(A, this.P + 4 * this.wAt[l], this.H[l], B4, pw[l + 1], pw[l], 4 * pw[l], 4);
      const po = pw[l + 1];
      if (l === L - 1 && this.hasBias[l]) k.addRows(this.H[l], this.OB, B4, po);
      else if (this.hasBias[l]) k.addRows(this.H[l], this.P + 4 * this.bAt[l], B4, po);
      if (l < L - 1 && this.relu) k.relu(this.H[l], this.H[l], B4 * po);
    }
  }

  /** Backward from δ_L in D[(L − 1) % 2] (rows ≥ B zero) into the gradient region. */
  private backward(B: number): void {
    const B4 = pad4(B), pw = this.pw, k = this.k;
    for (let l = this.L - 1; l >= 0; l--) {
      const dl = this.D[l % 2], pi = pw[l], po = pw[l + 1];
      const A = l === 0 ? this.X : this.H[l - 1];
      // ∇Wt_l = h_{l−1}ᵀ·δ_l: A read transposed (element (i, r) at h + 4i + 4r·pi).
      k.gemm(A, dl, this.G + 4 * this.wAt[l], pi, po, B, 4, 4 * pi);
      if (this.hasBias[l]) k.colSums(dl, this.G + 4 * this.bAt[l], B, po);
      if (l > 0) {
        const next = this.D[(l - 1) % 2];
        k.gemm(dl, this.WT[l], next, B4, pi, po, 4 * po, 4);
        if (this.relu) k.reluMask(next, this.H[l - 1], B4 * pi);
      }
    }
  }

  lossAndGradient(x: Float32Array | Int32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array | null): number {
    if (!(x instanceof Float32Array)) throw new Error('stack engine: float32 input rows expected');
    this.gnRows = 0;
    const B = this.gather(x, n, rows), B4 = pad4(B), L = this.L, k = this.k;
    this.forward(B);
    // Head: the loss and δ_L = ∂ℓ/∂f (padding rows and columns zero).
    const kOut = this.widths[L], pOut = this.pw[L], Z = this.H[L - 1] / 4, dOut = this.D[(L - 1) % 2] / 4;
    let loss: number;
    if (this.head === 'cross-entropy') {
      loss = crossEntropyHead(k, this.H[L - 1], this.D[(L - 1) % 2], this.ST, B, B4, kOut, pOut, y as Int32Array, rows, this.hasBias[L - 1]);
    } else {
      const f = k.f32();
      f.fill(0, dOut, dOut + B4 * pOut);
      loss = squaredErrorHead(f, Z, dOut, pOut, kOut, y as Float32Array, rows, B, this.head === 'half-sse' ? 1 / (2 * B) : this.head === 'sse' ? 1 / B : 1 / (B * kOut));
    }
    this.backward(B);
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
        k.gemm(this.X, V + 4 * this.wAt[0], zl, B4, po, pi, 4 * pi, 4);
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
