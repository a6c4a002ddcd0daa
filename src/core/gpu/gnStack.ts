/**
 * The Gauss–Newton product H·v of a dense layer stack (mnist-mlp, matfac: an architecture's
 * `denseStack` StackPassSpec, ReLU or linear hidden layers, biases optional) as WebGPU compute
 * passes over GPU-resident buffers (issue 14, item 3). The math is that of hessian/stack.ts and of
 * the CPU engine's gnProduct (train/stackEngine.ts), with PyTorch shapes (W_l is [out, in]):
 *
 *   forward at θ* (once, when built): z_l = h_{l−1}·W_lᵀ + b_l, h_l = act(z_l), h_0 = x;
 *   tangent (u = J v):  ż_l = h_{l−1}·Ẇ_lᵀ + ḃ_l + ḣ_{l−1}·W_lᵀ, ḣ_l = ż_l ⊙ [z_l > 0] (ReLU), u = ż_L;
 *   backward (Jᵀu):     δ_L = u, ∇W_l = δ_lᵀ·h_{l−1}, ∇b_l = Σ_rows δ_l, δ_{l−1} = (δ_l·W_l) ⊙ [z_{l−1} > 0];
 *   out = scale · ∇ (scale = 2/n for the behavioral loss).
 *
 * Buffers (float32 storage, all allocated when built; gnKernels.ts has the kernels): X [n, kept]
 * (the operator's rows, gathered once, on the kept input columns; the u32 list of those columns), θ* (flat, d), v (flat, d; uploaded each product), G (flat,
 * d; the scaled gradient, written by the kernels at the layout's offsets), H_l [n, w_l] for the
 * hidden layers (activations at θ*, whose sign is the ReLU mask: h > 0 ⇔ z > 0), T_l [n, w_l] per
 * layer (the tangent ż_l, overwritten by the backward pass with δ_l), a 1.0 (bias gradients are
 * δᵀ·1), a MAP_READ staging buffer and one 112-byte uniform per dispatch (written once: the
 * dispatch list is fixed when the operator is built; the gradient steps' scale is rewritten only
 * when it changes).
 *
 * Every step is the one matmul kernel, C = epilogue(A₁·B₁ + A₂·B₂), with strided operand views.
 * Dispatches per product, for L layers: L (tangent; ḣ_{l−1}·W_lᵀ rides in the same dispatch as
 * h_{l−1}·Ẇ_lᵀ + ḃ_l) + L (weight gradients) + L if biased (bias gradients) + L − 1 (δ), plus one
 * reduction for each gradient split over the rows (split-K, gnKernels.ts): mnist-mlp
 * [784, 50, 50, 10] on 8,000 rows 11 + 6 = 17, a two-layer matfac on 20 rows 5. One compute pass,
 * one command buffer, one submission, one copy of G (d floats) to the staging buffer and one
 * mapAsync per product.
 *
 * Input columns that are zero on every row (MNIST's border) are dropped from the first layer, as
 * the tfjs passes and the CPU engine drop them: X holds the kept columns only, and the first
 * layer's matmuls read Ẇ_1 and write ∇W_1 through the list of kept columns (the dropped columns'
 * gradient entries stay 0). Not yet done: tile sizes were chosen on SwiftShader, not tuned on a GPU. A lost device makes the pending read-back
 * throw an Error that names the loss, instead of hanging.
 */
import type { StackPassSpec } from '../arch/passes';
import { getArch } from '../arch/registry';
import '../arch/builtin';
import type { AnyModelConfig } from '../models/config';
import { slot, type ParamLayout } from '../params';

import { buildScoped, checkLimits, GnProgram, GpuGnUnavailable, view, type MatmulStep } from './gnKernels';
import { GpuGnPairs } from './gnPairs';

export { GnProgram, GpuGnUnavailable };

/** What the stack operator needs from the model: its spec, layout and θ*, and the rows. */
export interface GpuGnStackInput {
  spec: StackPassSpec;
  layout: ParamLayout;
  theta: Float32Array;
  /** Float rows [*, widths[0]] and the operator's row indices into them. */
  x: Float32Array;
  rows: Int32Array;
}

export class GpuGnStack extends GnProgram {
  /** Input columns the first layer runs on (those nonzero on some row). */
  readonly keptColumns: number;

  private constructor(device: GPUDevice, inp: GpuGnStackInput) {
    const { spec, layout, theta, x, rows } = inp;
    super(device, layout.size, rows.length);
    const { widths, relu } = spec;
    const L = widths.length - 1;
    const n = rows.length;
    const w = widths.slice(1).map((_, l) => slot(layout, spec.weight(l)).offset);
    const b = widths.slice(1).map((_, l) => { const name = spec.bias(l); return name === null ? -1 : slot(layout, name).offset; });

    // Input columns that are zero on every row (MNIST's border) have exactly zero Jacobian: the
    // first layer runs on the kept columns only, reading Ẇ_1 and writing ∇W_1 through their list.
    const in0 = widths[0];
    const used = new Uint8Array(in0);
    for (const r of rows) for (let j = 0; j < in0; j++) if (x[r * in0 + j] !== 0) used[j] = 1;
    used[0] = 1; // keep at least one column
    const cols = Uint32Array.from({ length: in0 }, (_, j) => j).filter((j) => used[j]);
    const c0 = cols.length;
    this.keptColumns = c0;
    const xs = new Float32Array(n * c0);
    for (let i = 0; i < n; i++) for (let k = 0; k < c0; k++) xs[i * c0 + k] = x[rows[i] * in0 + cols[k]];
    const X = this.buffer(n * c0, 'gn x rows (kept columns)', undefined, xs);
    const colIdx = c0 < in0 ? this.buffer(c0, 'gn kept columns', undefined, cols) : null;
    /** Columns of H[l] (the kept ones for the input). */
    const hw = (l: number): number => (l === 0 ? c0 : widths[l]);
    const idx = (l: number, on: 'b' | 'c') => (l === 0 && colIdx ? { idx: { buf: colIdx, on } } : {});
    const thetaBuf = this.buffer(this.d, 'gn θ*', undefined, theta);
    /** H[l] = h_l, [n, widths[l]] (H[0] = X). */
    const H: GPUBuffer[] = [X];
    for (let l = 1; l < L; l++) H.push(this.buffer(n * widths[l], `gn h${l}`));
    /** T[l] = ż_l, then δ_l, [n, widths[l]], l = 1..L. */
    const T: GPUBuffer[] = [X];
    for (let l = 1; l <= L; l++) T.push(this.buffer(n * widths[l], `gn ż${l}/δ${l}`));

    /** Layer l's weight [out, in] in a flat buffer as the right operand of h·Wᵀ: B[k, j] = W[j, k]. */
    const wT = (buf: GPUBuffer, l: number) => view(buf, w[l], 1, widths[l]);
    /** …and as the right operand of δ·W: B[k, j] = W[k, j]. */
    const wN = (buf: GPUBuffer, l: number) => view(buf, w[l], widths[l], 1);
    const rowMajor = (buf: GPUBuffer, cols: number) => view(buf, 0, cols, 1);
    const sign = (buf: GPUBuffer, cols: number) => ({ ...rowMajor(buf, cols), mode: 'sign' as const });

    // Forward at θ*: h_l = act(h_{l−1}·W_lᵀ + b_l), hidden layers only (f itself is not needed).
    const forward: MatmulStep[] = [];
    for (let l = 0; l < L - 1; l++) {
      forward.push({
        label: `forward ${l + 1}`, M: n, N: widths[l + 1], K1: hw(l), ...idx(l, 'b'),
        a1: rowMajor(H[l], hw(l)), b1: wT(thetaBuf, l), c: rowMajor(H[l + 1], widths[l + 1]),
        bias: b[l] >= 0 ? { buf: thetaBuf, off: b[l] } : undefined, relu,
      });
    }
    this.runOnce(forward);
    // Tangent: ż_l = h_{l−1}·Ẇ_lᵀ + ḃ_l + ḣ_{l−1}·W_lᵀ, masked by h_l > 0 below the output (ḣ_l).
    for (let l = 0; l < L; l++) {
      this.matmul({
        label: `tangent ${l + 1}`, M: n, N: widths[l + 1], K1: hw(l), ...idx(l, 'b'),
        a1: rowMajor(H[l], hw(l)), b1: wT(this.vBuf, l),
        ...(l > 0 ? { a2: rowMajor(T[l], widths[l]), b2: wT(thetaBuf, l), K2: widths[l] } : {}),
        bias: b[l] >= 0 ? { buf: this.vBuf, off: b[l] } : undefined,
        mask: relu && l < L - 1 ? sign(H[l + 1], widths[l + 1]) : undefined,
        c: rowMajor(T[l + 1], widths[l + 1]),
      });
    }
    // Backward from δ_L = u = ż_L.
    for (let l = L - 1; l >= 0; l--) {
      const out = widths[l + 1], inn = widths[l];
      const deltaT = view(T[l + 1], 0, 1, out); // A[m, k] = δ[k, m]
      this.matmul({ label: `∇W${l + 1}`, M: out, N: hw(l), K1: n, a1: deltaT, b1: rowMajor(H[l], hw(l)), c: view(this.gBuf, w[l], inn, 1), ...idx(l, 'c'), scaled: true });
      if (b[l] >= 0) this.matmul({ label: `∇b${l + 1}`, M: out, N: 1, K1: n, a1: deltaT, b1: view(this.one, 0, 0, 0), c: view(this.gBuf, b[l], 1, 0), scaled: true });
      if (l > 0) {
        this.matmul({
          label: `δ${l}`, M: n, N: inn, K1: out, a1: rowMajor(T[l + 1], out), b1: wN(thetaBuf, l),
          mask: relu ? sign(H[l], inn) : undefined, c: rowMajor(T[l], inn),
        });
      }
    }
  }

  /**
   * The WGSL product for a dense stack on `device`, built and its forward pass at θ* submitted.
   * Throws GpuGnUnavailable when a buffer or the dispatch grid exceeds the device's limits or the
   * device refuses the allocations.
   */
  static async open(device: GPUDevice, inp: GpuGnStackInput): Promise<GpuGnStack> {
    const { spec, layout, x, rows } = inp;
    const { widths } = spec;
    const L = widths.length - 1;
    if (L < 1) throw new GpuGnUnavailable('the stack has no layers');
    // Every parameter must be a weight or a bias of the stack (the kernels write all of G).
    let covered = 0;
    for (let l = 0; l < L; l++) {
      const ws = slot(layout, spec.weight(l));
      if (ws.size !== widths[l + 1] * widths[l]) throw new GpuGnUnavailable(`${spec.weight(l)} has ${ws.size} entries, expected ${widths[l + 1]}×${widths[l]}`);
      covered += ws.size;
      const bn = spec.bias(l);
      if (bn !== null) {
        const bs = slot(layout, bn);
        if (bs.size !== widths[l + 1]) throw new GpuGnUnavailable(`${bn} has ${bs.size} entries, expected ${widths[l + 1]}`);
        covered += bs.size;
      }
    }
    if (covered !== layout.size) throw new GpuGnUnavailable(`the layout has ${layout.size} parameters, the stack's weights and biases ${covered}`);
    if (rows.length === 0) throw new GpuGnUnavailable('no data rows');
    for (const r of rows) if (!(r >= 0 && (r + 1) * widths[0] <= x.length)) throw new GpuGnUnavailable(`row ${r} is outside the data`);
    const n = rows.length;
    checkLimits(device, [layout.size, ...widths.map((wd) => n * wd)], Math.max(n, ...widths));
    return buildScoped(device, () => new GpuGnStack(device, inp));
  }
}

/**
 * The WGSL product for a model's Gauss–Newton operator ('mse' loss) on `device`, or the reason
 * there is none (the caller then uses the tfjs passes): dense stacks here, token-pair models in
 * gnPairs.ts; other architectures, or the device's limits or memory, give a reason.
 */
export async function openGpuGn(
  device: GPUDevice, config: AnyModelConfig, layout: ParamLayout, theta: Float32Array, x: Float32Array | Int32Array, rows: Int32Array,
): Promise<{ gn: GnProgram; reason?: undefined } | { gn?: undefined; reason: string }> {
  const arch = getArch(config.arch);
  const stack = x instanceof Float32Array ? arch.denseStack?.(config as never) : undefined;
  const pairs = x instanceof Int32Array ? arch.pairsSpec?.(config as never) : undefined;
  if (!stack && !pairs) return { reason: `no WGSL Gauss–Newton product for ${config.arch} on ${x instanceof Int32Array ? 'token pairs' : 'float rows'} (dense stacks and token-pair models only)` };
  try {
    return { gn: stack ? await GpuGnStack.open(device, { spec: stack, layout, theta, x: x as Float32Array, rows }) : await GpuGnPairs.open(device, { spec: pairs!, layout, theta, x: x as Int32Array, rows }) };
  } catch (e) {
    if (e instanceof GpuGnUnavailable) return { reason: e.message };
    throw e;
  }
}
