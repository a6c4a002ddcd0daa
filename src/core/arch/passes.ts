/**
 * Hand-written first-order passes: f_w(x) for a batch and the flat gradient ∇_w ⟨Δ, f_w(x)⟩ for
 * an output cotangent Δ (= ∂loss/∂f), one forward and one backward pass per architecture family,
 * with no autodiff tape. The training step (train/trainer.ts) and the SGLD step (llc/target.ts)
 * use them through train/fused.ts; an architecture without `gradPasses` falls back to tfjs
 * autodiff through its forwardTrace (same numbers to float32 rounding; tests/unit/fused.test.ts).
 *
 * Why by hand (measured on wasm, 1 thread, modadd p = 53 at batch 512): autodiff through
 * forwardTrace took 28 ms a step, most of it in tf.gather (6 ms for 512 embedding rows, its
 * gradient a JS segment sum), weight and activation transposes and the concat of the two
 * embeddings. Here the only gathers are gatherND (0.1–1.5 ms), the embedding sums are scatterND
 * (0.08 ms), weights enter as transposed operands of the matMul (on wasm our GEMM takes the
 * transpose while copying them in: train/wasmKernels.ts) and no [B, in] activation is ever transposed:
 * weight gradients are δᵀ·h with δ [B, out] small.
 *
 * Shapes follow PyTorch: a weight W is [out, in], z = h·Wᵀ + b.
 *   stack:  z_l = h_{l−1}·W_lᵀ + b_l, h_l = act(z_l), f = z_L;
 *           ∇W_l = δ_lᵀ·h_{l−1}, ∇b_l = Σ_rows δ_l, δ_{l−1} = (δ_l·W_l) ⊙ act′(z_{l−1}).
 *   pairs:  pre = T_L[a] + T_R[b] (+ b₁) with T_L = E·W_Lᵀ, T_R = E·W_Rᵀ [p, h] (only p distinct
 *           embeddings exist); f = act(pre)·W₂ᵀ + b₂;
 *           δ = (Δ·W₂) ⊙ act′(pre), ∇T_L = Σ_{rows with a} δ (scatterND), ∇W_L = ∇T_Lᵀ·E,
 *           ∇E = ∇T_L·W_L + ∇T_R·W_R.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamLayout } from '../params';
import { slot } from '../params';
import { fusedPairSums, geluWithDerivative } from '../train/wasmKernels';

/** The passes of one architecture at one size. Call inside tf.tidy. */
export interface GradPasses {
  /**
   * f_w(x) for a batch x (int32 [B, 2] token pairs or float32 [B, in]) and a closure giving the
   * flat gradient of ⟨Δ, f_w(x)⟩ with respect to w for a cotangent Δ [B, out].
   */
  forward(w: tf.Tensor1D, x: tf.Tensor2D): { out: tf.Tensor2D; backward(dOut: tf.Tensor2D): tf.Tensor1D };
}

/** The named tensor of the flat w in its PyTorch shape. */
function param(layout: ParamLayout, w: tf.Tensor1D, name: string): tf.Tensor2D {
  const s = slot(layout, name);
  return tf.reshape(tf.slice(w, s.offset, s.size), s.shape as [number, number]);
}

function vector(layout: ParamLayout, w: tf.Tensor1D, name: string): tf.Tensor1D {
  const s = slot(layout, name);
  return tf.slice(w, s.offset, s.size);
}

/** The flat gradient from per-tensor gradients, in layout order; every tensor must have one. */
function flatGrad(layout: ParamLayout, grads: Record<string, tf.Tensor>): tf.Tensor1D {
  return tf.concat(layout.tensors.map((t) => {
    const g = grads[t.name];
    if (!g) throw new Error(`gradient pass: no gradient for ${t.name}`);
    return tf.reshape(g, [t.size]);
  })) as tf.Tensor1D;
}

export interface StackPassSpec {
  /** Layer widths, input first. */
  widths: number[];
  weight(l: number): string;
  bias(l: number): string | null;
  /** ReLU between layers (false: a deep linear network). */
  relu: boolean;
}

/** Dense layer stacks (mnist-mlp, matfac). */
export function stackPasses(spec: StackPassSpec, layout: ParamLayout): GradPasses {
  const L = spec.widths.length - 1;
  return {
    forward(w, x) {
      const W: tf.Tensor2D[] = [], hs: tf.Tensor2D[] = [x], zs: tf.Tensor2D[] = [];
      let z: tf.Tensor2D = x;
      for (let l = 0; l < L; l++) {
        W.push(param(layout, w, spec.weight(l)));
        z = tf.matMul(hs[l], W[l], false, true);
        const b = spec.bias(l);
        if (b) z = tf.add(z, vector(layout, w, b));
        if (l < L - 1) {
          zs.push(z);
          hs.push(spec.relu ? tf.relu(z) : z);
        }
      }
      return {
        out: z,
        backward(dOut) {
          const grads: Record<string, tf.Tensor> = {};
          let delta = dOut;
          for (let l = L - 1; l >= 0; l--) {
            // δᵀ once: the weight gradient's left operand, and its row sums are the bias gradient
            // (a sum along the last axis; wasm's axis-0 sum transposes first).
            const dT = tf.transpose(delta);
            grads[spec.weight(l)] = tf.matMul(dT, hs[l]);
            const b = spec.bias(l);
            if (b) grads[b] = tf.sum(dT, 1);
            if (l > 0) {
              delta = tf.matMul(delta, W[l]);
              if (spec.relu) delta = tf.mul(delta, tf.step(zs[l - 1]));
            }
          }
          return flatGrad(layout, grads);
        },
      };
    },
  };
}

export interface PairsPassSpec {
  p: number;
  e: number;
  h: number;
  embed: string;
  /** The first layer: one [h, 2e] weight [W_L | W_R] acting on [E[a] | E[b]], or two [h, e] weights. */
  first: { joined: string } | { left: string; right: string };
  hiddenBias: string | null;
  out: string;
  outBias: string;
  activation: 'relu' | 'gelu';
}

/** Token-pair models (modadd, modadd-gelu). */
export function pairsPasses(spec: PairsPassSpec, layout: ParamLayout): GradPasses {
  const { p, e, h } = spec;
  return {
    forward(w, x) {
      const B = x.shape[0];
      const E = param(layout, w, spec.embed);
      let WL: tf.Tensor2D, WR: tf.Tensor2D;
      if ('joined' in spec.first) {
        const W = param(layout, w, spec.first.joined);
        WL = tf.slice(W, [0, 0], [h, e]);
        WR = tf.slice(W, [0, e], [h, e]);
      } else {
        WL = param(layout, w, spec.first.left);
        WR = param(layout, w, spec.first.right);
      }
      const TL = tf.matMul(E, WL, false, true), TR = tf.matMul(E, WR, false, true);
      const a = tf.slice(x, [0, 0], [B, 1]), b = tf.slice(x, [0, 1], [B, 1]);
      let pre = tf.add(tf.gatherND(TL, a), tf.gatherND(TR, b)) as tf.Tensor2D;
      if (spec.hiddenBias) pre = tf.add(pre, vector(layout, w, spec.hiddenBias));
      const gelu = spec.activation === 'gelu' ? geluWithDerivative(pre) : null;
      const act = (gelu ? gelu.act : tf.relu(pre)) as tf.Tensor2D;
      const W2 = param(layout, w, spec.out);
      const out = tf.add(tf.matMul(act, W2, false, true), vector(layout, w, spec.outBias)) as tf.Tensor2D;
      return {
        out,
        backward(dOut) {
          const grads: Record<string, tf.Tensor> = {};
          const dOutT = tf.transpose(dOut);
          grads[spec.out] = tf.matMul(dOutT, act);
          grads[spec.outBias] = tf.sum(dOutT, 1);
          const dAct = tf.matMul(dOut, W2);
          const dPre = tf.mul(dAct, gelu ? gelu.derivative() : tf.step(pre)) as tf.Tensor2D;
          // ∇T_L = Σ_{rows with a} δ and ∇T_R likewise: one kernel for both on wasm, else two scatters.
          const S = fusedPairSums(dPre, x, p);
          const dTL = (S ? tf.slice(S, [0, 0], [p, h]) : tf.scatterND(a, dPre, [p, h])) as tf.Tensor2D;
          const dTR = (S ? tf.slice(S, [0, h], [p, h]) : tf.scatterND(b, dPre, [p, h])) as tf.Tensor2D;
          // Σ_rows δ = Σ_tokens ∇T_L: p rows to sum instead of B.
          if (spec.hiddenBias) grads[spec.hiddenBias] = tf.sum(dTL, 0);
          const gL = tf.matMul(dTL, E, true, false), gR = tf.matMul(dTR, E, true, false);
          if ('joined' in spec.first) grads[spec.first.joined] = tf.concat([gL, gR], 1);
          else { grads[spec.first.left] = gL; grads[spec.first.right] = gR; }
          grads[spec.embed] = tf.add(tf.matMul(dTL, WL), tf.matMul(dTR, WR));
          return flatGrad(layout, grads);
        },
      };
    },
  };
}
