/**
 * The Gauss–Newton product H·v of a token-pair model (modadd: ReLU, hidden.weight = [W_L | W_R]
 * with a hidden bias; modadd-gelu: left/right weights, GELU, no hidden bias: an architecture's
 * `pairsSpec` PairsPassSpec) as WebGPU compute passes over GPU-resident buffers (issue 14, item 3).
 * The math is that of hessian/pairs.ts (PyTorch shapes; E [p, e], W_L, W_R [h, e], W2 [K, h]):
 *
 *   at θ* (once, on the CPU in Float64, uploaded): z_r = E[a_r]·W_Lᵀ + E[b_r]·W_Rᵀ (+ b1),
 *     g = act(z), D = act′(z) (ReLU: [z > 0]; GELU: Φ(z) + z·φ(z)), both [n, h];
 *   tangent: the p×h tables ṪL = Ė·W_Lᵀ + E·Ẇ_Lᵀ (+ ḃ1), ṪR = Ė·W_Rᵀ + E·Ẇ_Rᵀ (only p embeddings
 *     exist), ġ_r = D_r ⊙ (ṪL[a_r] + ṪR[b_r]), u = ġ·W2ᵀ + g·Ẇ2ᵀ + ḃ2;
 *   backward: δ = u, ∇W2 = δᵀ·g, ∇b2 = δᵀ·1, δz = D ⊙ (δ·W2), GA[t] = Σ_{a_r = t} δz_r,
 *     GB[t] = Σ_{b_r = t} δz_r, ∇W_L = GAᵀ·E, ∇W_R = GBᵀ·E, ∇b1 = GAᵀ·1, ∇E = GA·W_L + GB·W_R;
 *   out = scale · ∇.
 *
 * Buffers: θ*, v, G (flat, d), the pairs (u32 [n, 2]), g and D [n, h], the tables [2p, h] (ṪL
 * then ṪR), ġ [n, h], u/δ [n, K], δz [n, h], GA|GB [2p, h], and the rows of each token as a CSR
 * list (offsets [2p + 1], row indices [2n]: segment t < p lists the rows with a = t, segment p + t
 * those with b = t), built once on the CPU: WGSL has no float atomics, so the per-token sums are a
 * gather over these lists. Dispatches per product: 2 (tables) + 1 (gather) + 1 (u) + 2 (∇W2, ∇b2)
 * + 1 (δz) + 1 (per-token sums) + 2 (∇W_L, ∇W_R) + 1 if biased (∇b1) + 1 (∇E) = 11 or 12, plus one
 * reduction for each gradient split over the rows (∇W2 and ∇b2 at the default 2,247 pairs: 14
 * for modadd), in one compute pass, one submission, one read-back of d floats.
 */
import type { PairsPassSpec } from '../arch/passes';
import { slot, type ParamLayout } from '../params';
import { buildScoped, checkLimits, GnProgram, GpuGnUnavailable, view } from './gnKernels';

export interface GpuGnPairsInput {
  spec: PairsPassSpec;
  layout: ParamLayout;
  theta: Float32Array;
  /** int32 token pairs [*, 2] and the operator's row indices into them. */
  x: Int32Array;
  rows: Int32Array;
}

/** erfc(x) for x ≥ 0 (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7 everywhere: below float32's). */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

/** Φ(z), the standard normal CDF. */
function phiCdf(z: number): number {
  const c = 0.5 * erfc(Math.abs(z) / Math.SQRT2);
  return z >= 0 ? 1 - c : c;
}

export interface PairOffsets { E: number; wL: number; wR: number; stride: number; b1: number; W2: number; b2: number; K: number }

export function pairOffsets(spec: PairsPassSpec, layout: ParamLayout): PairOffsets {
  const { p, e, h } = spec;
  const need = (name: string, size: number): number => {
    const s = slot(layout, name);
    if (s.size !== size) throw new GpuGnUnavailable(`${name} has ${s.size} entries, expected ${size}`);
    return s.offset;
  };
  const E = need(spec.embed, p * e);
  let wL: number, wR: number, stride: number;
  if ('joined' in spec.first) {
    wL = need(spec.first.joined, h * 2 * e);
    wR = wL + e;
    stride = 2 * e;
  } else {
    wL = need(spec.first.left, h * e);
    wR = need(spec.first.right, h * e);
    stride = e;
  }
  const b1 = spec.hiddenBias ? need(spec.hiddenBias, h) : -1;
  const outSlot = slot(layout, spec.out);
  const K = outSlot.shape[0];
  const W2 = need(spec.out, K * h);
  const b2 = need(spec.outBias, K);
  const covered = p * e + 2 * h * e + (b1 >= 0 ? h : 0) + K * h + K;
  if (covered !== layout.size) throw new GpuGnUnavailable(`the layout has ${layout.size} parameters, the pair model's tensors ${covered}`);
  return { E, wL, wR, stride, b1, W2, b2, K };
}

export class GpuGnPairs extends GnProgram {
  private constructor(device: GPUDevice, inp: GpuGnPairsInput, o: PairOffsets) {
    const { spec, layout, theta, x, rows } = inp;
    super(device, layout.size, rows.length);
    const { p, e, h } = spec;
    const n = rows.length, K = o.K;
    const relu = spec.activation === 'relu';

    // The forward pass at θ*, in Float64 on the CPU: tables, z, act and act′.
    const TL = new Float64Array(p * h), TR = new Float64Array(p * h);
    for (let t = 0; t < p; t++) {
      for (let i = 0; i < h; i++) {
        let l = 0, r = 0;
        for (let k = 0; k < e; k++) {
          const et = theta[o.E + t * e + k];
          l += et * theta[o.wL + i * o.stride + k];
          r += et * theta[o.wR + i * o.stride + k];
        }
        TL[t * h + i] = l + (o.b1 >= 0 ? theta[o.b1 + i] : 0);
        TR[t * h + i] = r;
      }
    }
    const g = new Float32Array(n * h), D = new Float32Array(n * h), pairs = new Uint32Array(2 * n);
    const count = new Uint32Array(2 * p + 1);
    for (let r = 0; r < n; r++) {
      const a = x[2 * rows[r]], b = x[2 * rows[r] + 1];
      pairs[2 * r] = a;
      pairs[2 * r + 1] = b;
      count[a + 1]++;
      count[p + b + 1]++;
      for (let i = 0; i < h; i++) {
        const z = TL[a * h + i] + TR[b * h + i];
        if (relu) {
          g[r * h + i] = z > 0 ? z : 0;
          D[r * h + i] = z > 0 ? 1 : 0;
        } else {
          const cdf = phiCdf(z);
          g[r * h + i] = z * cdf;
          D[r * h + i] = cdf + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);
        }
      }
    }
    // CSR lists of the rows of each token (first as a, then as b).
    for (let t = 0; t < 2 * p; t++) count[t + 1] += count[t];
    const fill = count.slice(0, 2 * p), rowsOf = new Uint32Array(2 * n);
    for (let r = 0; r < n; r++) {
      rowsOf[fill[pairs[2 * r]]++] = r;
      rowsOf[fill[p + pairs[2 * r + 1]]++] = r;
    }

    const thetaBuf = this.buffer(this.d, 'gn θ*', undefined, theta);
    const gBufAct = this.buffer(n * h, 'gn g = act(z)', undefined, g);
    const DBuf = this.buffer(n * h, "gn act′(z)", undefined, D);
    const pairBuf = this.buffer(2 * n, 'gn pairs', undefined, pairs);
    const offBuf = this.buffer(2 * p + 1, 'gn token offsets', undefined, count);
    const rowsBuf = this.buffer(2 * n, 'gn token rows', undefined, rowsOf);
    const T = this.buffer(2 * p * h, 'gn tangent tables');
    const Gd = this.buffer(n * h, 'gn ġ');
    const U = this.buffer(n * K, 'gn u/δ');
    const Dz = this.buffer(n * h, 'gn δz');
    const S = this.buffer(2 * p * h, 'gn per-token sums');
    const G = this.gBuf, v = this.vBuf;

    // Tangent tables: ṪL = Ė·W_Lᵀ + E·Ẇ_Lᵀ (+ ḃ1), ṪR likewise; B[k, j] = W[j, k] = W[j·stride + k].
    const Edot = view(v, o.E, e, 1), Eth = view(thetaBuf, o.E, e, 1);
    this.matmul({
      label: 'ṪL', M: p, N: h, K1: e, a1: Edot, b1: view(thetaBuf, o.wL, 1, o.stride), K2: e, a2: Eth, b2: view(v, o.wL, 1, o.stride),
      bias: o.b1 >= 0 ? { buf: v, off: o.b1 } : undefined, c: view(T, 0, h, 1),
    });
    this.matmul({ label: 'ṪR', M: p, N: h, K1: e, a1: Edot, b1: view(thetaBuf, o.wR, 1, o.stride), K2: e, a2: Eth, b2: view(v, o.wR, 1, o.stride), c: view(T, p * h, h, 1) });
    this.gatherAdd(T, DBuf, pairBuf, Gd, n, h, p);
    // u = ġ·W2ᵀ + g·Ẇ2ᵀ + ḃ2.
    this.matmul({
      label: 'u', M: n, N: K, K1: h, a1: view(Gd, 0, h, 1), b1: view(thetaBuf, o.W2, 1, h), K2: h, a2: view(gBufAct, 0, h, 1), b2: view(v, o.W2, 1, h),
      bias: { buf: v, off: o.b2 }, c: view(U, 0, K, 1),
    });
    // Backward from δ = u.
    const deltaT = view(U, 0, 1, K);
    this.matmul({ label: '∇W2', M: K, N: h, K1: n, a1: deltaT, b1: view(gBufAct, 0, h, 1), c: view(G, o.W2, h, 1), scaled: true });
    this.matmul({ label: '∇b2', M: K, N: 1, K1: n, a1: deltaT, b1: view(this.one, 0, 0, 0), c: view(G, o.b2, 1, 0), scaled: true });
    this.matmul({ label: 'δz', M: n, N: h, K1: K, a1: view(U, 0, K, 1), b1: view(thetaBuf, o.W2, h, 1), mask: { ...view(DBuf, 0, h, 1), mode: 'mul' }, c: view(Dz, 0, h, 1) });
    this.segmentSum(Dz, offBuf, rowsBuf, S, 2 * p, h);
    const GA = view(S, 0, h, 1), GB = view(S, p * h, h, 1);
    this.matmul({ label: '∇W_L', M: h, N: e, K1: p, a1: view(S, 0, 1, h), b1: Eth, c: view(G, o.wL, o.stride, 1), scaled: true });
    this.matmul({ label: '∇W_R', M: h, N: e, K1: p, a1: view(S, p * h, 1, h), b1: Eth, c: view(G, o.wR, o.stride, 1), scaled: true });
    if (o.b1 >= 0) this.matmul({ label: '∇b1', M: h, N: 1, K1: p, a1: view(S, 0, 1, h), b1: view(this.one, 0, 0, 0), c: view(G, o.b1, 1, 0), scaled: true });
    this.matmul({
      label: '∇E', M: p, N: e, K1: h, a1: GA, b1: view(thetaBuf, o.wL, o.stride, 1), K2: h, a2: GB, b2: view(thetaBuf, o.wR, o.stride, 1),
      c: view(G, o.E, e, 1), scaled: true,
    });
  }

  /**
   * The WGSL product for a token-pair model on `device`. Throws GpuGnUnavailable when the layout
   * is not the spec's, a token is out of range, or the device's limits or memory refuse it.
   */
  static async open(device: GPUDevice, inp: GpuGnPairsInput): Promise<GpuGnPairs> {
    const { spec, layout, x, rows } = inp;
    const o = pairOffsets(spec, layout);
    const n = rows.length;
    if (n === 0) throw new GpuGnUnavailable('no data rows');
    for (const r of rows) {
      if (!(r >= 0 && 2 * r + 1 < x.length)) throw new GpuGnUnavailable(`row ${r} is outside the data`);
      const a = x[2 * r], b = x[2 * r + 1];
      if (!(a >= 0 && a < spec.p && b >= 0 && b < spec.p)) throw new GpuGnUnavailable(`row ${r} holds tokens (${a}, ${b}) outside 0..${spec.p - 1}`);
    }
    checkLimits(device, [layout.size, n * spec.h, n * o.K, 2 * n, 2 * spec.p * spec.h], Math.max(n, spec.p, spec.h, spec.e, o.K));
    return buildScoped(device, () => new GpuGnPairs(device, inp, o));
  }
}
