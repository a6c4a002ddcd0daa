/**
 * A whole training step of a token-pair model (modadd: ReLU with a hidden bias and one joined first
 * weight; modadd-gelu: GELU, separate left and right weights) in our wasm kernels, with no tfjs
 * tensors in between (residentEngine.ts has what the engines share). The passes are those of
 * arch/passes.ts `pairsPasses`, with every product on the resident GEMM:
 *   [T_L | T_R] = E·[W_Lᵀ | W_Rᵀ]                 (p × 2h: only p distinct embeddings exist)
 *   pre_r = T_L[a_r] + T_R[b_r] (+ b₁)             (the pair-gather kernel; b₁ folded into T_L)
 *   f = act(pre)·W₂ᵀ + b₂                          (GELU with its derivative in one kernel)
 *   δ = (Δ·W₂) ⊙ act′(pre),  S = [Σ_{a_r = t} δ_r | Σ_{b_r = t} δ_r]   (the pair-sums kernel)
 *   ∇[W_Lᵀ | W_Rᵀ] = Eᵀ·S,  ∇E = S·[W_L; W_R],  ∇b₁ = Σ_t S_L[t],  ∇W₂ᵀ = act(pre)ᵀ·Δ
 * Widths h and p are padded to multiples of 8 and e to 8 with zeros that stay zero. The
 * cross-entropy head runs the softmax kernel of the fused tfjs path (residentEngine.ts).
 *
 * Same numbers as the tfjs path to float32 rounding: tests/unit/stackEngine.test.ts.
 */
import type { PairsPassSpec } from '../arch/passes';
import { slot, type ParamLayout } from '../params';
import type { HeadKind } from './fused';
import { splitRange } from '../wasm/threads';
import { ResidentEngine, SOFTMAX_SLACK, addBias, columnSums, crossEntropyHead, crossEntropyLabels, dataParallelMinMacs, outputBias, pad4, pad8, squaredErrorHead, transpose, type EngineOptimizer, type UnpackStep } from './residentEngine';

export class PairsEngine extends ResidentEngine {
  private readonly p: number;
  private readonly e: number;
  private readonly h: number;
  private readonly eP: number;
  private readonly hP: number;
  private readonly pP: number;
  private readonly p4: number;
  private readonly spec: PairsPassSpec;
  /** Float offsets in a region. */
  private readonly atE: number;
  private readonly atW1: number;
  private readonly atB1: number;
  private readonly atW2: number;
  private readonly atB2: number;
  /** Byte offsets of the buffers. */
  private readonly W1: number;
  private readonly W2: number;
  private readonly T: number;
  private readonly S: number;
  private readonly PAIRS: number;
  private readonly PRE: number;
  private readonly ACT: number;
  private readonly DER: number;
  private readonly LOG: number;
  private readonly D: number;
  private readonly DACT: number;
  private readonly ST: number;
  /** b₂ over the padded width (outputBias). */
  private readonly OB: number;
  private lastSplit = false;
  /** Whether the last `lossAndGradient` ran data-parallel (`lossAndGradientSplit`). */
  get lastStepSplit(): boolean { return this.lastSplit; }
  /** The second thread's partial ∇W2t, ∇b₂ and S in a data-parallel step (−1: one thread). */
  private readonly GW2b: number = -1;
  private readonly GB2b: number = -1;
  private readonly Sb: number = -1;
  private readonly maxRows: number;

  /** `maxBatch`: the most rows a step takes. Throws without WebAssembly SIMD. */
  constructor(spec: PairsPassSpec, layout: ParamLayout, head: HeadKind, maxBatch: number, opt: EngineOptimizer) {
    const eP = pad8(spec.e), hP = pad8(spec.h), pP = pad8(spec.p), p4 = pad4(spec.p);
    const size = p4 * eP + eP * 2 * hP + (spec.hiddenBias ? hP : 0) + hP * pP + pP;
    super(layout, head, opt, size);
    const k = this.k;
    this.spec = spec;
    this.p = spec.p; this.e = spec.e; this.h = spec.h; this.eP = eP; this.hP = hP; this.pP = pP; this.p4 = p4;
    this.atE = 0;
    this.atW1 = p4 * eP;
    this.atB1 = this.atW1 + eP * 2 * hP;
    this.atW2 = this.atB1 + (spec.hiddenBias ? hP : 0);
    this.atB2 = this.atW2 + hP * pP;
    this.W1 = k.alloc(2 * hP * eP);
    this.W2 = k.alloc(pP * hP);
    this.T = k.alloc(p4 * 2 * hP);
    this.S = k.alloc(p4 * 2 * hP);
    const B4 = (this.maxRows = pad4(maxBatch));
    this.PAIRS = k.alloc(2 * B4);
    this.PRE = k.alloc(B4 * hP);
    this.ACT = k.alloc(B4 * hP);
    this.DER = k.alloc(B4 * hP);
    this.LOG = k.alloc(B4 * pP);
    this.D = k.alloc(B4 * pP + SOFTMAX_SLACK);
    this.DACT = k.alloc(B4 * hP);
    this.ST = k.alloc(2 * B4);
    this.OB = k.alloc(pP);
    if (k.threads > 1) {
      this.GW2b = k.alloc(hP * pP);
      this.GB2b = k.alloc(pP);
      this.Sb = k.alloc(p4 * 2 * hP);
    }
  }

  /** The first layer's PyTorch weights: W_L, W_R [h × e] each, as (offset, row stride) into θ. */
  private firstWeights(): { left: [number, number]; right: [number, number] } {
    const f = this.spec.first, e = this.e;
    if ('joined' in f) {
      const o = slot(this.layout, f.joined).offset;
      return { left: [o, 2 * e], right: [o + e, 2 * e] };
    }
    return { left: [slot(this.layout, f.left).offset, e], right: [slot(this.layout, f.right).offset, e] };
  }

  protected loadInto(region: number, theta: Float32Array): void {
    if (theta.length !== this.layout.size) throw new Error(`pairs engine: θ has ${theta.length} entries, the layout ${this.layout.size}`);
    const r = this.view(region, this.regionSize);
    r.fill(0);
    const { p, e, h, eP, hP, pP } = this;
    const E = slot(this.layout, this.spec.embed).offset;
    for (let t = 0; t < p; t++) r.set(theta.subarray(E + t * e, E + t * e + e), this.atE + t * eP);
    const { left, right } = this.firstWeights();
    // W1t[k, j] = W_L[j, k], W1t[k, hP + j] = W_R[j, k] (row stride 2hP).
    transpose(theta, left[0], left[1], r, this.atW1, 2 * hP, h, e);
    transpose(theta, right[0], right[1], r, this.atW1 + hP, 2 * hP, h, e);
    if (this.spec.hiddenBias) { const o = slot(this.layout, this.spec.hiddenBias).offset; r.set(theta.subarray(o, o + h), this.atB1); }
    transpose(theta, slot(this.layout, this.spec.out).offset, h, r, this.atW2, pP, p, h);
    const ob = slot(this.layout, this.spec.outBias).offset;
    r.set(theta.subarray(ob, ob + p), this.atB2);
  }

  protected unpackPlan(): UnpackStep[] {
    const { p, e, h, eP, hP, pP } = this;
    const { left, right } = this.firstWeights();
    const plan: UnpackStep[] = [
      { kind: 'rows', s0: this.atE, stride: eP, d0: slot(this.layout, this.spec.embed).offset, rows: p, cols: e },
      { kind: 't', s0: this.atW1, sStride: 2 * hP, d0: left[0], dStride: left[1], rows: e, cols: h },
      { kind: 't', s0: this.atW1 + hP, sStride: 2 * hP, d0: right[0], dStride: right[1], rows: e, cols: h },
    ];
    if (this.spec.hiddenBias) plan.push({ kind: 'rows', s0: this.atB1, stride: h, d0: slot(this.layout, this.spec.hiddenBias).offset, rows: 1, cols: h });
    plan.push({ kind: 't', s0: this.atW2, sStride: pP, d0: slot(this.layout, this.spec.out).offset, dStride: h, rows: h, cols: p });
    plan.push({ kind: 'rows', s0: this.atB2, stride: p, d0: slot(this.layout, this.spec.outBias).offset, rows: 1, cols: p });
    return plan;
  }

  /** W1 = W1tᵀ [2hP × eP] and W2 = W2tᵀ [pP × hP] (the backward pass's right operands). */
  protected refreshTransposes(): void {
    const f = this.k.f32(), P = this.P / 4, { eP, hP, pP } = this;
    outputBias(f, this.OB / 4, P + this.atB2, this.p, pP, this.head === 'cross-entropy');
    transpose(f, P + this.atW1, 2 * hP, f, this.W1 / 4, eP, eP, 2 * hP);
    transpose(f, P + this.atW2, pP, f, this.W2 / 4, hP, hP, pP);
  }

  /** The batch's token pairs into PAIRS (padding rows: token 0, whose rows δ never reaches: δ is zero there). */
  private gatherPairs(x: Int32Array, n: number, rows: Int32Array | null): number {
    const B = rows ? rows.length : n;
    if (B < 1 || B > this.maxRows) throw new Error(`pairs engine: a batch of ${B} rows (at most ${this.maxRows})`);
    const p = this.p, B4 = pad4(B);
    const pairs = new Int32Array(this.k.f32().buffer, this.PAIRS, 2 * B4);
    for (let r = 0; r < B; r++) {
      const src = 2 * (rows ? rows[r] : r), a = x[src], b = x[src + 1];
      if (!(a >= 0 && a < p && b >= 0 && b < p)) throw new Error(`pairs engine: token pair (${a}, ${b}) of row ${rows ? rows[r] : r} is not in [0, ${p})`);
      pairs[2 * r] = a; pairs[2 * r + 1] = b;
    }
    pairs.fill(0, 2 * B, 2 * B4);
    return B;
  }

  /** The forward pass at the parameters over the B4 rows of PAIRS: T, PRE, ACT (and DER for GELU), and the logits LOG with b₂. */
  private forward(B: number): void {
    this.tokenTables();
    this.forwardRows(0, pad4(B), B);
  }

  /** [T_L | T_R] = E·W1t, with b₁ added to T_L's rows. */
  private tokenTables(): void {
    const k = this.k, { eP, hP, p4 } = this;
    k.gemm(this.P + 4 * this.atE, this.P + 4 * this.atW1, this.T, p4, 2 * hP, eP, 4 * eP, 4);
    if (this.spec.hiddenBias) addBias(k.f32(), this.T / 4, this.P / 4 + this.atB1, p4, 2 * hP, hP);
  }

  /** The forward pass from T over rows r0..r1 of PAIRS (r1 − r0 a multiple of 4; the first `real` of them real). */
  private forwardRows(r0: number, r1: number, real: number): void {
    const k = this.k, { hP, pP } = this, m = r1 - r0, nh = m * hP;
    const pre = this.PRE + 4 * r0 * hP, act = this.ACT + 4 * r0 * hP, log = this.LOG + 4 * r0 * pP;
    k.pairGather(this.T, this.PAIRS + 8 * r0, pre, m, hP);
    if (this.spec.activation === 'gelu') k.gelu(pre, act, this.DER + 4 * r0 * hP, nh);
    else k.relu(pre, act, nh);
    k.gemm(act, this.P + 4 * this.atW2, log, m, pP, hP, 4 * hP, 4);
    k.addRows(log, this.OB, real, pP);
  }

  /**
   * Jᵀδ-style backward pass from δ = D ([B4 × pP], rows ≥ B and padding columns zero) at the
   * parameters, into the gradient region: ∇W2t = actᵀ·δ, ∇b₂ = Σ_rows δ, then δz = (δ·W2) ⊙ act′(pre),
   * S = per-token sums of δz, ∇b₁ = Σ_t S_L, ∇W1t = Eᵀ·S, ∇E = S·W1.
   */
  private backward(B: number): void {
    const f = this.k.f32();
    // S = [Σ_{a = t} δ | Σ_{b = t} δ] over the B real rows.
    f.fill(0, this.S / 4, this.S / 4 + this.p4 * 2 * this.hP);
    this.backwardRows(0, pad4(B), B, this.G + 4 * this.atW2, this.G + 4 * this.atB2, this.S);
    this.backwardTokens();
  }

  /**
   * The backward pass's row part over rows r0..r1 (r1 − r0 a multiple of 4; the first `real` of
   * them real): ∇W2t = actᵀ·δ into gW2, ∇b₂ = Σ_rows δ into gB2, δz = (δ·W2) ⊙ act′(pre), and
   * S += the per-token sums of δz (S zeroed by the caller).
   */
  private backwardRows(r0: number, r1: number, real: number, gW2: number, gB2: number, S: number): void {
    const k = this.k, { hP, pP } = this, m = r1 - r0, nh = m * hP;
    const act = this.ACT + 4 * r0 * hP, d = this.D + 4 * r0 * pP, dact = this.DACT + 4 * r0 * hP;
    k.gemm(act, d, gW2, hP, pP, real, 4, 4 * hP);
    k.colSums(d, gB2, real, pP);
    k.gemm(d, this.W2, dact, m, hP, pP, 4 * pP, 4);
    if (this.spec.activation === 'gelu') k.mulInto(dact, this.DER + 4 * r0 * hP, nh);
    else k.reluMask(dact, this.PRE + 4 * r0 * hP, nh);
    k.pairSums(dact, this.PAIRS + 8 * r0, S, real, hP);
  }

  /** The backward pass's token part, from S: ∇b₁ = Σ_t S_L, ∇W1t = Eᵀ·S, ∇E = S·W1. */
  private backwardTokens(): void {
    const k = this.k, { p, eP, hP, p4 } = this, f = k.f32();
    if (this.spec.hiddenBias) columnSums(f, this.S / 4, this.G / 4 + this.atB1, p, hP, 2 * hP);
    // ∇W1t = Eᵀ·S (E read transposed), ∇E = S·W1.
    k.gemm(this.P + 4 * this.atE, this.S, this.G + 4 * this.atW1, eP, 2 * hP, p, 4, 4 * eP);
    k.gemm(this.S, this.W1, this.G + 4 * this.atE, p4, eP, 2 * hP, 4 * 2 * hP, 4);
  }

  lossAndGradient(x: Float32Array | Int32Array, y: Int32Array | Float32Array, n: number, rows: Int32Array | null): number {
    if (!(x instanceof Int32Array)) throw new Error('pairs engine: int32 token pairs expected');
    this.gnRows = 0;
    const B = this.gatherPairs(x, n, rows), B4 = pad4(B), k = this.k, { p, pP } = this;
    this.lastSplit = this.Sb >= 0 && B4 >= 8 && B * this.hP * this.pP >= dataParallelMinMacs();
    if (this.lastSplit) return this.lossAndGradientSplit(B, y, rows);
    this.forward(B);
    const f = k.f32(), LOG = this.LOG / 4, D = this.D / 4;
    let loss: number;
    if (this.head === 'cross-entropy') {
      loss = crossEntropyHead(k, this.LOG, this.D, this.ST, B, B4, p, pP, y as Int32Array, rows, true);
    } else {
      loss = squaredErrorHead(f, LOG, D, pP, p, y as Float32Array, rows, B, B4, this.head);
    }
    this.backward(B);
    return loss;
  }

  /**
   * `lossAndGradient` data-parallel over the kernels' threads (two halves of the rows, each kept on
   * one thread from the gather to its share of the gradient, so no thread reads rows another core
   * wrote): [T_L | T_R] here; then per half the gather, activation, logits and softmax; then the
   * labels here (JS); then per half ∇W2t, ∇b₂, δz and the token sums S, the second half's into
   * their own buffers; then their sums and the token part here. The same numbers as the one-thread
   * step to float32 rounding (the halves' sums are added at the end instead of in one run).
   */
  private lossAndGradientSplit(B: number, y: Int32Array | Float32Array, rows: Int32Array | null): number {
    const k = this.k, { p, hP, pP, p4 } = this, B4 = pad4(B);
    const parts = splitRange(B4, 2, 4), real = (r0: number, r1: number): number => Math.max(0, Math.min(r1, B) - r0);
    const ce = this.head === 'cross-entropy';
    this.tokenTables();
    k.parallel(parts.map(([r0, r1]) => () => {
      this.forwardRows(r0, r1, real(r0, r1));
      if (ce) k.softmaxRows(this.LOG + 4 * r0 * pP, this.D + 4 * r0 * pP, this.ST + 8 * r0, real(r0, r1), pP, B);
    }));
    const f = k.f32();
    let loss: number;
    if (ce) loss = crossEntropyLabels(f, this.LOG, this.D, this.ST, B, B4, pP, y as Int32Array, rows);
    else loss = squaredErrorHead(f, this.LOG / 4, this.D / 4, pP, p, y as Float32Array, rows, B, B4, this.head);
    const S2 = p4 * 2 * hP;
    f.fill(0, this.S / 4, this.S / 4 + S2);
    f.fill(0, this.Sb / 4, this.Sb / 4 + S2);
    k.parallel(parts.map(([r0, r1], t) => () => {
      if (t === 0) this.backwardRows(r0, r1, real(r0, r1), this.G + 4 * this.atW2, this.G + 4 * this.atB2, this.S);
      else this.backwardRows(r0, r1, real(r0, r1), this.GW2b, this.GB2b, this.Sb);
    }));
    k.addInto(this.S, this.Sb, S2);
    k.addInto(this.G + 4 * this.atW2, this.GW2b, hP * pP);
    k.addInto(this.G + 4 * this.atB2, this.GB2b, pP);
    this.backwardTokens();
    return loss;
  }

  /** Rows the Gauss–Newton state was prepared for (0: none; a training step invalidates it). */
  private gnRows = 0;

  /**
   * Prepares Gauss–Newton products H·v = scale·Jᵀ(J v) of the outputs at the loaded parameters
   * (θ*) over the rows of x (token pairs) at positions `rows`: the forward pass at θ*, once.
   */
  prepareGn(x: Float32Array | Int32Array, rows: Int32Array): void {
    if (!(x instanceof Int32Array)) throw new Error('pairs engine: int32 token pairs expected');
    const B = this.gatherPairs(x, x.length / 2, rows);
    this.forward(B);
    this.gnRows = B;
  }

  /**
   * scale·Jᵀ(J v) into out (layout order), J the Jacobian of the outputs at θ* over the prepared
   * rows (hessian/pairs.ts has the same passes on tfjs). Forward mode:
   *   [Ṫ_L | Ṫ_R] = Ė·W1t + E·Ẇ1t (+ ḃ₁),  ż = Ṫ_L[a] + Ṫ_R[b],  ġ = act′(z) ⊙ ż,
   *   u = ġ·W2t + g·Ẇ2t + ḃ₂;
   * then the backward pass above with δ = u.
   */
  gnProduct(v: Float32Array, out: Float32Array | Float64Array, scale: number): void {
    const B = this.gnRows;
    if (B === 0) throw new Error('pairs engine: prepareGn first');
    // v goes into the optimizer-state region, which Gauss–Newton products leave unused.
    const k = this.k, { eP, hP, pP, p4 } = this, B4 = pad4(B), V = this.S1, nh = B4 * hP;
    this.loadInto(V, v);
    // Ṫ into T (θ*'s T is no longer needed once PRE holds z), E·Ẇ1t through S as scratch.
    k.gemm(V + 4 * this.atE, this.P + 4 * this.atW1, this.T, p4, 2 * hP, eP, 4 * eP, 4);
    k.gemm(this.P + 4 * this.atE, V + 4 * this.atW1, this.S, p4, 2 * hP, eP, 4 * eP, 4);
    k.addInto(this.T, this.S, p4 * 2 * hP);
    if (this.spec.hiddenBias) addBias(k.f32(), this.T / 4, V / 4 + this.atB1, p4, 2 * hP, hP);
    k.pairGather(this.T, this.PAIRS, this.DACT, B4, hP);
    if (this.spec.activation === 'gelu') k.mulInto(this.DACT, this.DER, nh);
    else k.reluMask(this.DACT, this.PRE, nh);
    // u = ġ·W2t + g·Ẇ2t + ḃ₂ into D (LOG as scratch; θ*'s logits are not needed); padding rows zero.
    k.gemm(this.DACT, this.P + 4 * this.atW2, this.D, B4, pP, hP, 4 * hP, 4);
    k.gemm(this.ACT, V + 4 * this.atW2, this.LOG, B4, pP, hP, 4 * hP, 4);
    k.addInto(this.D, this.LOG, B4 * pP);
    k.addRows(this.D, V + 4 * this.atB2, B, pP);
    const f = k.f32();
    f.fill(0, this.D / 4 + B * pP, this.D / 4 + B4 * pP);
    this.backward(B);
    this.scaledGradient(out, scale);
  }

}
