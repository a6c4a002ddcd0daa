/**
 * What the whole-step engines share (train/stackEngine.ts for dense stacks, train/pairsEngine.ts
 * for the token-pair models): a private resident instance of our wasm kernels (wasmF32.ts
 * `residentKernels`) holding the parameters, the gradient and the optimizer state as one region
 * each in the engine's own padded layout, so that an update is one SIMD pass (torch.optim's SGD or
 * AdamW); and the small JS pieces of a step (row gathers, heads, strided sums) as functions.
 */
import type { ParamLayout } from '../params';
import type { Rng } from '../rng';
import type { HeadKind } from './fused';
import type { LangevinConsts } from './wasmKernels';
import { residentKernels, type ResidentKernels } from './wasmF32';

/** Floats of slack the softmax kernel may write after its output rows (allocate δ with them). */
export const SOFTMAX_SLACK = 16;

export const pad8 = (n: number): number => (n + 7) & ~7;
export const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * dst[d0 + c·dStride + r] = src[s0 + r·sStride + c] for r < rows, c < cols, in 16 × 16 tiles (a
 * plain double loop strides through one of the two arrays and took 0.4 ms for MNIST's 42,310).
 */
export function transpose(src: Float32Array, s0: number, sStride: number, dst: Float32Array, d0: number, dStride: number, rows: number, cols: number): void {
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

/** `transpose` into a Float64 dst, each value times `scale` (a Gauss–Newton product's result). */
export function transposeScaled(src: Float32Array, s0: number, sStride: number, dst: Float64Array, d0: number, dStride: number, rows: number, cols: number, scale: number): void {
  const T = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const si = s0 + r * sStride;
        for (let c = c0; c < c1; c++) dst[d0 + c * dStride + r] = src[si + c] * scale;
      }
    }
  }
}

/**
 * What `unpack` writes: the engine's region `src` to layout order. `rows` (r rows of `cols` floats
 * at stride `stride` in src, to rows of `cols` at `dst` in the layout) and `t` (a block transposed,
 * as `transpose`'s arguments) describe it once, so the same plan serves a Float32 copy and a scaled
 * Float64 one.
 */
export type UnpackStep =
  | { kind: 'rows'; s0: number; stride: number; d0: number; rows: number; cols: number }
  | { kind: 't'; s0: number; sStride: number; d0: number; dStride: number; rows: number; cols: number };

/** Runs an unpack plan from `src` (its float offsets from `base`) into `out` (Float32: a copy; Float64: times scale). */
export function runUnpack(plan: UnpackStep[], src: Float32Array, base: number, out: Float32Array | Float64Array, scale = 1): void {
  for (const st of plan) {
    if (st.kind === 'rows') {
      for (let r = 0; r < st.rows; r++) {
        const a = base + st.s0 + r * st.stride, b = st.d0 + r * st.cols;
        if (out instanceof Float32Array && scale === 1) out.set(src.subarray(a, a + st.cols), b);
        else for (let c = 0; c < st.cols; c++) out[b + c] = src[a + c] * scale;
      }
    } else if (out instanceof Float64Array) transposeScaled(src, base + st.s0, st.sStride, out, st.d0, st.dStride, st.rows, st.cols, scale);
    else {
      if (scale !== 1) throw new Error('runUnpack: a scaled Float32 unpack');
      transpose(src, base + st.s0, st.sStride, out, st.d0, st.dStride, st.rows, st.cols);
    }
  }
}

// The activation loops (ReLU, its mask, products) are wasm kernels, not JS: branching on the sign of
// real pre-activations, a JS loop ran at 6–7 ns an element (mispredicted branches; BENCHMARKS.md).

/** Rows of x (positions `rows`, or the first B) into X with row stride p0. */
export function gatherInto(f: Float32Array, X: number, p0: number, x: Float32Array, in0: number, rows: Int32Array | null, B: number): void {
  for (let r = 0; r < B; r++) {
    const src = (rows ? rows[r] : r) * in0;
    f.set(x.subarray(src, src + in0), X + r * p0);
  }
}

/** z[r, j] += b[j] for r < R, j < no (row stride po). */
export function addBias(f: Float32Array, Z: number, b: number, R: number, po: number, no: number): void {
  for (let r = 0; r < R; r++) {
    const o = Z + r * po;
    for (let j = 0; j < no; j++) f[o + j] += f[b + j];
  }
}

/** out[j] = Σ_{r < B} δ[r, j] for j < width (row stride `stride`, default width). */
export function columnSums(f: Float32Array, d: number, out: number, B: number, width: number, stride = width): void {
  for (let j = 0; j < width; j++) f[out + j] = 0;
  for (let r = 0; r < B; r++) {
    const o = d + r * stride;
    for (let j = 0; j < width; j++) f[out + j] += f[o + j];
  }
}

/**
 * The mean softmax cross-entropy of logits rows LOG (stride pOut, kOut classes, byte offsets)
 * against labels, and δ = (softmax − onehot)/B into D (padding columns and rows B..B4 zero), on the
 * softmax kernel of the fused tfjs path: padding logits must be −1e30 (`padded`: the output bias
 * made them so, see outputBias; else they are set here) so the kernel can run over whole padded rows. ST: 2·B floats of per-row [max, Σ exp]. D needs SOFTMAX_SLACK floats after B4 rows.
 */
export function crossEntropyHead(k: ResidentKernels, LOG: number, D: number, ST: number, B: number, B4: number, kOut: number, pOut: number, labels: Int32Array, rows: Int32Array | null, padded: boolean): number {
  const f = k.f32(), L = LOG / 4;
  if (pOut > kOut && !padded) for (let r = 0; r < B; r++) f.fill(PAD_LOGIT, L + r * pOut + kOut, L + (r + 1) * pOut);
  k.softmaxRows(LOG, D, ST, B, pOut);
  return crossEntropyLabels(k.f32(), LOG, D, ST, B, B4, pOut, labels, rows);
}

/**
 * `crossEntropyHead` after its softmax kernel (which may have run in parts, each dividing by the
 * whole batch's B): zeroes δ's rows B..B4 and the slack, subtracts 1/B at each row's label and
 * returns the mean loss.
 */
export function crossEntropyLabels(f: Float32Array, LOG: number, D: number, ST: number, B: number, B4: number, pOut: number, labels: Int32Array, rows: Int32Array | null): number {
  const L = LOG / 4, Dd = D / 4, S = ST / 4;
  f.fill(0, Dd + B * pOut, Dd + B4 * pOut + SOFTMAX_SLACK);
  const invB = 1 / B;
  let loss = 0;
  for (let r = 0; r < B; r++) {
    const lab = labels[rows ? rows[r] : r];
    // −log softmax_y = log Σ − (x_y − max)
    loss += Math.log(f[S + 2 * r + 1]) - (f[L + r * pOut + lab] - f[S + 2 * r]);
    f[Dd + r * pOut + lab] -= invB;
  }
  return loss * invB;
}

/** Logits' padding value: the softmax kernel then gives it exactly 0. */
export const PAD_LOGIT = -1e30;

/**
 * The output bias a step adds to its logits with the row kernel: b (kOut floats) then PAD_LOGIT in
 * the padding columns for a cross-entropy head (their weights are zero, so those logits are exactly
 * PAD_LOGIT), else zeros.
 */
export function outputBias(f: Float32Array, dst: number, b: number, kOut: number, pOut: number, crossEntropy: boolean): void {
  f.copyWithin(dst, b, b + kOut);
  f.fill(crossEntropy ? PAD_LOGIT : 0, dst + kOut, dst + pOut);
}

/**
 * A squared-error head (fused.ts's scales: half-sse 1/(2B), sse 1/B, mse 1/(Bk)) on logits rows Z
 * (float offsets, stride pOut, kOut outputs) against targets t: δ = 2·scale·(f − y) into dOut, its
 * padding columns and rows B..B4 zero; returns scale·Σ‖f − y‖².
 */
export function squaredErrorHead(f: Float32Array, Z: number, dOut: number, pOut: number, kOut: number, t: Float32Array, rows: Int32Array | null, B: number, B4: number, head: Exclude<HeadKind, 'cross-entropy'>): number {
  const scale = head === 'half-sse' ? 1 / (2 * B) : head === 'sse' ? 1 / B : 1 / (B * kOut);
  f.fill(0, dOut, dOut + B4 * pOut);
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

/**
 * Forward multiply–adds of a step (rows × the layers' padded in·out) from which an engine runs its
 * loss and gradient data-parallel over the kernels' threads (each thread half the rows, from the
 * gather to its share of the gradient; the shares summed at the end), where there are two or more.
 * Measured in whole steps (BENCHMARKS.md "Threads").
 */
export const DATA_PARALLEL_MIN = 1 << 20;
let dataParallelMin = DATA_PARALLEL_MIN;
/** The data-parallel threshold (tests set 0 to force it, Infinity to keep one thread). */
export function setDataParallelMin(n: number = DATA_PARALLEL_MIN): void { dataParallelMin = n; }
/** The data-parallel threshold now in force. */
export function dataParallelMinMacs(): number { return dataParallelMin; }

/** The optimizer an engine applies, with torch.optim's semantics (optimizers.ts). */
export type EngineOptimizer =
  | { kind: 'sgd'; momentum: number; weightDecay: number }
  | { kind: 'adamw'; weightDecay: number; beta1?: number; beta2?: number; eps?: number };

/** A model's training step (or SGLD gradient) held whole in our kernels. */
export abstract class ResidentEngine {
  protected readonly k: ResidentKernels;
  /** Floats in each region (parameters, gradient, optimizer state), a multiple of 4. */
  protected readonly regionSize: number;
  /** Byte offsets of the regions. */
  protected readonly P: number;
  protected readonly G: number;
  protected readonly S1: number;
  protected readonly S2: number;
  private t = 0;

  /** `regionSize`: floats of the engine's parameter layout. Throws without WebAssembly SIMD. */
  protected constructor(protected readonly layout: ParamLayout, protected readonly head: HeadKind, protected readonly opt: EngineOptimizer, regionSize: number) {
    const k = residentKernels();
    if (!k) throw new Error('whole-step engine: WebAssembly SIMD is not available');
    this.k = k;
    this.regionSize = pad4(regionSize);
    this.P = k.alloc(this.regionSize);
    this.G = k.alloc(this.regionSize);
    this.S1 = k.alloc(this.regionSize);
    this.S2 = opt.kind === 'adamw' ? k.alloc(this.regionSize) : this.S1;
  }

  /** Optimizer steps applied so far. */
  get steps(): number {
    return this.t;
  }

  protected view(byteOff: number, floats: number): Float32Array {
    const f = this.k.f32();
    return f.subarray(byteOff / 4, byteOff / 4 + floats);
  }

  /** Sets the parameters from a flat θ in layout order (PyTorch shapes), and what derives from them. */
  load(theta: Float32Array): void {
    this.loadInto(this.P, theta);
    this.refreshTransposes();
  }

  /** A flat vector in layout order (PyTorch shapes) into a region of the engine's layout. */
  protected abstract loadInto(region: number, theta: Float32Array): void;
  /** How a region maps to layout order (PyTorch shapes), as float offsets into the region. */
  protected abstract unpackPlan(): UnpackStep[];
  private plan: UnpackStep[] | null = null;

  /** A region (parameters or gradient) as a flat vector in layout order (PyTorch shapes); into a Float64 out, times scale. */
  protected unpack<T extends Float32Array | Float64Array>(region: number, out: T, scale = 1): T {
    runUnpack(this.plan ??= this.unpackPlan(), this.k.f32(), region / 4, out, scale);
    return out;
  }
  /** Refreshes what the engine derives from the parameters (transposed copies) after they change. */
  protected abstract refreshTransposes(): void;
  /**
   * The head's loss on the rows `rows` (positions into x's rows; null: all `n` of them) and its
   * gradient into the gradient region. y: int32 labels [n] (cross-entropy) or float32 targets [n × out].
   */
  abstract lossAndGradient(x: Float32Array | Int32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array | null): number;
  /**
   * Prepares Gauss–Newton products H·v = scale·Jᵀ(J v) of the outputs at the loaded parameters
   * (θ*) over the rows of x at positions `rows`: the forward pass at θ*, once.
   */
  abstract prepareGn(x: Float32Array | Int32Array, rows: Int32Array): void;
  /** scale·Jᵀ(J v) into out (layout order) over the prepared rows. */
  abstract gnProduct(v: Float32Array, out: Float32Array | Float64Array, scale: number): void;

  /** The parameters as a flat θ in layout order (PyTorch shapes). */
  store(out: Float32Array = new Float32Array(this.layout.size)): Float32Array {
    return this.unpack(this.P, out);
  }

  /** The flat gradient of the last `lossAndGradient` in layout order (PyTorch shapes). */
  gradient(out: Float32Array = new Float32Array(this.layout.size)): Float32Array {
    return this.unpack(this.G, out);
  }

  /** out = scale · the gradient region, in layout order (a Gauss–Newton product's result). */
  protected scaledGradient(out: Float32Array | Float64Array, scale: number): void {
    if (out instanceof Float64Array) { this.unpack(this.G, out, scale); return; }
    this.unpack(this.G, out);
    for (let i = 0; i < out.length; i++) out[i] *= scale;
  }

  /** One optimizer step from the gradient region at learning rate lr. */
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

  /** Regions of an SGLD chain run in the engine (byte offsets; −1 until `startLangevin`): w*, the noise, the 0/1 mask of real entries. */
  private anchor = -1;
  private noise = -1;
  private mask = -1;

  /**
   * Starts unadjusted Langevin steps held in the engine (SGLD with the parameters resident between
   * draws): w* = `wStar`, the parameters set to `start` (both in layout order).
   */
  startLangevin(wStar: Float32Array, start: Float32Array): void {
    if (this.anchor < 0) {
      this.anchor = this.k.alloc(this.regionSize);
      this.noise = this.k.alloc(this.regionSize);
      this.mask = this.k.alloc(this.regionSize);
      this.loadInto(this.mask, new Float32Array(this.layout.size).fill(1));
    }
    this.loadInto(this.anchor, wStar);
    this.load(start);
  }

  /**
   * One unadjusted Langevin step w ← w − (ε/2)(nβ·∇L + γ(w − w*)) + √ε·ξ from the gradient region
   * (the last `lossAndGradient`, at the current parameters), in float32 SIMD (wasmF32.ts
   * langevinCode; `langevinUpdate` does it per element in Float64). ξ: standard normals from `rng`
   * drawn in the engine's own order (its padded layout, the padding masked to zero), so a seed's chain differs from the tfjs path's, which draws
   * them in layout order; `lastNoise` gives this step's ξ in layout order. Returns ‖w − w*‖² before
   * the step.
   */
  langevinStep(rng: Rng, c: LangevinConsts): number {
    if (this.anchor < 0) throw new Error('engine: startLangevin first');
    const n = this.regionSize;
    rng.fillNormal(this.view(this.noise, n));
    // One SIMD pass (the mask zeroing ξ in the padding inside it), Σ(w − w*)² in Float64: 0.03 ms
    // for MNIST's 48,064 floats, against 0.2 ms for langevinUpdate's JS loop and the mask pass.
    const dist2 = this.k.langevin(this.P, this.anchor, this.G, this.noise, this.mask, n, c);
    this.refreshTransposes();
    return dist2;
  }

  /** ‖w − w*‖² (Float64 sum) of the chain started by `startLangevin`. */
  langevinDistance2(): number {
    const n = this.regionSize, f = this.k.f32(), p = this.P / 4, a = this.anchor / 4;
    let d2 = 0;
    for (let i = 0; i < n; i++) { const d = f[p + i] - f[a + i]; d2 += d * d; }
    return d2;
  }

  /** Regions of a Metropolis-adjusted step: w and ∇L(w) saved while the proposal is scored (−1 until used). */
  private savedP = -1;
  private savedG = -1;

  /**
   * A Metropolis-adjusted step, part 1: saves w and ∇L(w) (the gradient region must hold ∇L at
   * the current parameters), draws ξ as `langevinStep` does and moves the parameters to the Langevin
   * proposal y = w − (ε/2)∇U(w) + √ε·ξ. Returns ‖w − w*‖². Score y with `lossAndGradient`, then
   * `metropolisTerms`, then keep y or `restoreSaved`.
   */
  proposeLangevin(rng: Rng, c: LangevinConsts): number {
    const n = this.regionSize;
    if (this.savedP < 0) { this.savedP = this.k.alloc(n); this.savedG = this.k.alloc(n); }
    const f = this.k.f32();
    f.copyWithin(this.savedP / 4, this.P / 4, this.P / 4 + n);
    f.copyWithin(this.savedG / 4, this.G / 4, this.G / 4 + n);
    return this.langevinStep(rng, c);
  }

  /**
   * A Metropolis-adjusted step, part 2, with the gradient region holding ∇L(y): ‖y − w*‖² and the
   * sums of log α's proposal-density terms, ‖s‖² and ⟨s, ξ⟩ with s = ∇U(w) + ∇U(y) (Float64 sums).
   */
  metropolisTerms(c: LangevinConsts): { dist2: number; s2: number; sXi: number } {
    const n = this.regionSize, f = this.k.f32();
    const y = this.P / 4, gy = this.G / 4, x = this.savedP / 4, gx = this.savedG / 4, a = this.anchor / 4, xi = this.noise / 4;
    const nb = c.nBeta, g = c.gamma;
    let dist2 = 0, s2 = 0, sXi = 0;
    for (let i = 0; i < n; i++) {
      const ws = f[a + i], dy = f[y + i] - ws;
      const s = nb * f[gx + i] + g * (f[x + i] - ws) + nb * f[gy + i] + g * dy;
      dist2 += dy * dy;
      s2 += s * s;
      sXi += s * f[xi + i];
    }
    return { dist2, s2, sXi };
  }

  /** Rejects the proposal: back to the saved w and ∇L(w). */
  restoreSaved(): void {
    const n = this.regionSize, f = this.k.f32();
    f.copyWithin(this.P / 4, this.savedP / 4, this.savedP / 4 + n);
    f.copyWithin(this.G / 4, this.savedG / 4, this.savedG / 4 + n);
    this.refreshTransposes();
  }

  /** The noise of the last `langevinStep` in layout order (PyTorch shapes). */
  lastNoise(out: Float32Array = new Float32Array(this.layout.size)): Float32Array {
    return this.unpack(this.noise, out);
  }

  /** A training step: loss and gradient on the rows, then the update. Returns the loss before the update. */
  step(x: Float32Array | Int32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array | null, lr: number): number {
    const loss = this.lossAndGradient(x, y, n, rows);
    this.applyUpdate(lr);
    return loss;
  }
}
