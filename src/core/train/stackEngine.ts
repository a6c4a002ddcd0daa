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
import { residentKernels, type ResidentKernels } from './wasmF32';

const pad8 = (n: number): number => (n + 7) & ~7;

/**
 * dst[d0 + c·dStride + r] = src[s0 + r·sStride + c] for r < rows, c < cols, in 16 × 16 tiles (a
 * plain double loop strides through one of the two arrays and took 0.4 ms for MNIST's 42,310).
 */
function transpose(src: Float32Array, s0: number, sStride: number, dst: Float32Array, d0: number, dStride: number, rows: number, cols: number): void {
  const T = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const si = s0 + r * sStride;
        for (let c = c0; c < c1; c++) dst[d0 + c * dStride + r] = src[si + c];
      }
    }
  }
}
const pad4 = (n: number): number => (n + 3) & ~3;

// The loops of a step, as small functions of their own: inlined in one large method, V8 ran them
// at ~8 ns an element (measured: bias and ReLU over [512 × 56] took 0.24 ms), here at ~2.

/** Rows of x (positions `rows`, or the first B) into X with row stride p0. */
function gatherInto(f: Float32Array, X: number, p0: number, x: Float32Array, in0: number, rows: Int32Array | null, B: number): void {
  for (let r = 0; r < B; r++) {
    const src = (rows ? rows[r] : r) * in0;
    f.set(x.subarray(src, src + in0), X + r * p0);
  }
}

/** z[r, j] += b[j] for r < R, j < no (row stride po). */
function addBias(f: Float32Array, Z: number, b: number, R: number, po: number, no: number): void {
  for (let r = 0; r < R; r++) {
    const o = Z + r * po;
    for (let j = 0; j < no; j++) f[o + j] += f[b + j];
  }
}

/** max(z, 0) in place over n floats (NaN → 0, as tf.step's mask gives). */
function reluInPlace(f: Float32Array, Z: number, n: number): void {
  for (let i = Z, e = Z + n; i < e; i++) if (!(f[i] > 0)) f[i] = 0;
}

/** δ[i] = 0 where h[i] ≤ 0, over n floats. */
function reluMask(f: Float32Array, d: number, h: number, n: number): void {
  for (let i = 0; i < n; i++) if (!(f[h + i] > 0)) f[d + i] = 0;
}

/** out[j] = Σ_{r < B} δ[r, j] for j < po (row stride po). */
function columnSums(f: Float32Array, d: number, out: number, B: number, po: number): void {
  for (let j = 0; j < po; j++) f[out + j] = 0;
  for (let r = 0; r < B; r++) {
    const o = d + r * po;
    for (let j = 0; j < po; j++) f[out + j] += f[o + j];
  }
}

/** Mean softmax cross-entropy of logits rows (stride pOut, k classes) against labels, and δ = (softmax − onehot)/B. */
function crossEntropyHead(f: Float32Array, Z: number, dOut: number, pOut: number, kOut: number, labels: Int32Array, rows: Int32Array | null, B: number): number {
  const invB = 1 / B;
  let loss = 0;
  for (let r = 0; r < B; r++) {
    const o = Z + r * pOut, d = dOut + r * pOut;
    let m = -Infinity;
    for (let j = 0; j < kOut; j++) if (f[o + j] > m) m = f[o + j];
    let s = 0;
    for (let j = 0; j < kOut; j++) { const e = Math.exp(f[o + j] - m); f[d + j] = e; s += e; }
    const lab = labels[rows ? rows[r] : r];
    loss += Math.log(s) - (f[o + lab] - m);
    const c = invB / s;
    for (let j = 0; j < kOut; j++) f[d + j] *= c;
    f[d + lab] -= invB;
  }
  return loss * invB;
}

/** scale·Σ‖f − y‖² over the rows and δ = 2·scale·(f − y). */
function squaredErrorHead(f: Float32Array, Z: number, dOut: number, pOut: number, kOut: number, t: Float32Array, rows: Int32Array | null, B: number, scale: number): number {
  let loss = 0;
  for (let r = 0; r < B; r++) {
    const o = Z + r * pOut, d = dOut + r * pOut, src = (rows ? rows[r] : r) * kOut;
    for (let j = 0; j < kOut; j++) {
      const e = f[o + j] - t[src + j];
      loss += e * e;
      f[d + j] = 2 * scale * e;
    }
  }
  return loss * scale;
}

/** The optimizer the engine applies, with torch.optim's semantics (optimizers.ts). */
export type EngineOptimizer =
  | { kind: 'sgd'; momentum: number; weightDecay: number }
  | { kind: 'adamw'; weightDecay: number; beta1?: number; beta2?: number; eps?: number };

export class StackEngine {
  private readonly k: ResidentKernels;
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
  private readonly regionSize: number;
  /** Byte offsets of the regions and buffers in the kernels' memory. */
  private readonly P: number;
  private readonly G: number;
  private readonly S1: number;
  private readonly S2: number;
  private readonly WT: number[] = [];
  private readonly X: number;
  private readonly H: number[] = [];
  private readonly D: [number, number];
  private readonly maxRows: number;
  private t = 0;
  /** The x whose rows all sit in X, in order (a full batch: the next full batch of it skips the copy). */
  private xAll: Float32Array | null = null;

  /**
   * `maxBatch`: the most rows a step takes. Throws when the kernels are unavailable (check
   * `stackEngineAvailable` first).
   */
  constructor(spec: StackPassSpec, private readonly layout: ParamLayout, private readonly head: HeadKind, maxBatch: number, private readonly opt: EngineOptimizer) {
    const k = residentKernels();
    if (!k) throw new Error('stack engine: WebAssembly SIMD is not available');
    this.k = k;
    this.L = spec.widths.length - 1;
    this.widths = spec.widths.slice();
    this.pw = spec.widths.map(pad8);
    this.relu = spec.relu;
    this.wNames = Array.from({ length: this.L }, (_, l) => spec.weight(l));
    this.bNames = Array.from({ length: this.L }, (_, l) => spec.bias(l));
    this.hasBias = this.bNames.map((b) => b !== null);
    let at = 0;
    for (let l = 0; l < this.L; l++) {
      this.wAt.push(at);
      at += this.pw[l] * this.pw[l + 1];
      this.bAt.push(at);
      if (this.hasBias[l]) at += this.pw[l + 1];
    }
    this.regionSize = pad4(at);
    this.P = k.alloc(this.regionSize);
    this.G = k.alloc(this.regionSize);
    this.S1 = k.alloc(this.regionSize);
    this.S2 = opt.kind === 'adamw' ? k.alloc(this.regionSize) : this.S1;
    for (let l = 0; l < this.L; l++) this.WT.push(l === 0 ? -1 : k.alloc(this.pw[l] * this.pw[l + 1]));
    this.maxRows = pad4(maxBatch);
    this.X = k.alloc(this.maxRows * this.pw[0]);
    for (let l = 0; l < this.L; l++) this.H.push(k.alloc(this.maxRows * this.pw[l + 1]));
    const widest = Math.max(...this.pw);
    this.D = [k.alloc(this.maxRows * widest), k.alloc(this.maxRows * widest)];
  }

  /** Optimizer steps applied so far. */
  get steps(): number {
    return this.t;
  }

  private view(byteOff: number, floats: number): Float32Array {
    const f = this.k.f32();
    return f.subarray(byteOff / 4, byteOff / 4 + floats);
  }

  /** Sets the parameters from a flat θ in layout order (PyTorch shapes), and W_l's copies. */
  load(theta: Float32Array): void {
    if (theta.length !== this.layout.size) throw new Error(`stack engine: θ has ${theta.length} entries, the layout ${this.layout.size}`);
    const p = this.view(this.P, this.regionSize);
    p.fill(0);
    for (let l = 0; l < this.L; l++) {
      const s = slot(this.layout, this.wNames[l]);
      const nin = this.widths[l], nout = this.widths[l + 1], po = this.pw[l + 1];
      transpose(theta, s.offset, nin, p, this.wAt[l], po, nout, nin);
      const b = this.bNames[l];
      if (b) p.set(theta.subarray(slot(this.layout, b).offset, slot(this.layout, b).offset + nout), this.bAt[l]);
    }
    this.refreshTransposes();
  }

  /** The parameters as a flat θ in layout order (PyTorch shapes). */
  store(out = new Float32Array(this.layout.size)): Float32Array {
    return this.unpack(this.P, out);
  }

  /** The flat gradient of the last `lossAndGradient` in layout order (PyTorch shapes). */
  gradient(out = new Float32Array(this.layout.size)): Float32Array {
    return this.unpack(this.G, out);
  }

  /** A region (parameters or gradient) as a flat vector in layout order. */
  private unpack(region: number, out: Float32Array): Float32Array {
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
  private refreshTransposes(): void {
    const f = this.k.f32();
    const p0 = this.P / 4;
    for (let l = 1; l < this.L; l++) {
      const pi = this.pw[l], po = this.pw[l + 1];
      transpose(f, p0 + this.wAt[l], po, f, this.WT[l] / 4, pi, pi, po);
    }
  }

  /**
   * The head's loss on the rows `rows` (positions into x's rows; null: all `n` of them) and its
   * gradient into the engine's gradient region. x: [n × in] row-major; y: int32 labels [n]
   * (cross-entropy) or float32 targets [n × out].
   */
  lossAndGradient(x: Float32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array | null): number {
    const B = rows ? rows.length : n;
    if (B < 1 || B > this.maxRows) throw new Error(`stack engine: a batch of ${B} rows (at most ${this.maxRows})`);
    const B4 = pad4(B), L = this.L, pw = this.pw, w = this.widths, k = this.k;
    let f = k.f32();
    // The input rows, padding columns and rows zero.
    const X = this.X / 4, in0 = w[0], p0 = pw[0];
    if (rows || this.xAll !== x) {
      gatherInto(f, X, p0, x, in0, rows, B);
      if (B4 > B) f.fill(0, X + B * p0, X + B4 * p0);
      this.xAll = rows ? null : x;
    }
    // Forward: z_l = h_{l−1}·Wt_l + b_l, ReLU in place below the output.
    for (let l = 0; l < L; l++) {
      const A = l === 0 ? this.X : this.H[l - 1];
      k.gemm(A, this.P + 4 * this.wAt[l], this.H[l], B4, pw[l + 1], pw[l], 4 * pw[l], 4);
      f = k.f32();
      const Z = this.H[l] / 4, po = pw[l + 1];
      if (this.hasBias[l]) addBias(f, Z, this.P / 4 + this.bAt[l], B4, po, w[l + 1]);
      if (l < L - 1 && this.relu) reluInPlace(f, Z, B4 * po);
    }
    // Head: the loss and δ_L = ∂ℓ/∂f (padding rows and columns zero).
    const kOut = w[L], pOut = pw[L], Z = this.H[L - 1] / 4, dOut = this.D[(L - 1) % 2] / 4;
    f.fill(0, dOut, dOut + B4 * pOut);
    const loss = this.head === 'cross-entropy'
      ? crossEntropyHead(f, Z, dOut, pOut, kOut, y as Int32Array, rows, B)
      : squaredErrorHead(f, Z, dOut, pOut, kOut, y as Float32Array, rows, B, this.head === 'half-sse' ? 1 / (2 * B) : this.head === 'sse' ? 1 / B : 1 / (B * kOut));
    // Backward.
    for (let l = L - 1; l >= 0; l--) {
      const dl = this.D[l % 2], pi = pw[l], po = pw[l + 1];
      const A = l === 0 ? this.X : this.H[l - 1];
      // ∇Wt_l = h_{l−1}ᵀ·δ_l: A read transposed (element (i, r) at h + 4i + 4r·pi).
      k.gemm(A, dl, this.G + 4 * this.wAt[l], pi, po, B, 4, 4 * pi);
      f = k.f32();
      if (this.hasBias[l]) columnSums(f, dl / 4, this.G / 4 + this.bAt[l], B, po);
      if (l > 0) {
        const next = this.D[(l - 1) % 2];
        k.gemm(dl, this.WT[l], next, B4, pi, po, 4 * po, 4);
        f = k.f32();
        if (this.relu) reluMask(f, next / 4, this.H[l - 1] / 4, B4 * pi);
      }
    }
    return loss;
  }

  /** One optimizer step from the gradient region at learning rate lr (the parameters' W_l copies follow). */
  applyUpdate(lr: number): void {
    this.t += 1;
    const o = this.opt;
    if (o.kind === 'adamw') {
      const beta1 = o.beta1 ?? 0.9, beta2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8;
      this.k.adamW(this.P, this.G, this.S1, this.S2, this.regionSize, { lr, weightDecay: o.weightDecay, beta1, beta2, eps, bc1: 1 - Math.pow(beta1, this.t), bc2Sqrt: Math.sqrt(1 - Math.pow(beta2, this.t)) });
    } else {
      // The momentum buffer is zero before step 1, so b = μ·0 + d is torch's b = d there.
      this.k.sgd(this.P, this.G, this.S1, this.regionSize, lr, o.weightDecay, o.momentum);
    }
    this.refreshTransposes();
  }

  /** A training step: loss and gradient on the rows, then the update. Returns the loss before the update. */
  step(x: Float32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array | null, lr: number): number {
    const loss = this.lossAndGradient(x, y, n, rows);
    this.applyUpdate(lr);
    return loss;
  }
}
