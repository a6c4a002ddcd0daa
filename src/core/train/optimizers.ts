/**
 * Optimizers on the flat parameter vector θ (a 1-D tf.Variable), with PyTorch's update rules so
 * a recipe means the same thing here and in torch.optim. State (moments, momentum buffer) lives
 * on the backend as variables; a step reads nothing back to JavaScript, so it queues without
 * stalling a GPU. Bias corrections are computed in JS doubles from the step count.
 */
import * as tf from '@tensorflow/tfjs';
import { ensureWasmTrainingKernels, fusedAdamW } from './wasmKernels';

/** A non-trainable zero variable; the initial tensor is released (tf.variable keeps its own reference). */
function zerosVariable(size: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros([size]), false));
}

export type OptimizerName = 'adamw' | 'sgd';

export interface FlatOptimizer {
  readonly name: OptimizerName;
  /** Number of updates applied so far. */
  readonly t: number;
  /**
   * One update: mutates θ (assign) and the optimizer's own state. Does not dispose grad.
   * lr overrides the configured rate for this step (what a PyTorch scheduler does to group['lr']).
   */
  apply(theta: tf.Variable, grad: tf.Tensor1D, lr?: number): void;
  /** Releases the state tensors. */
  dispose(): void;
}

export interface AdamWOptions {
  lr: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * torch.optim.AdamW (amsgrad off), in its order of operations:
 *   θ ← θ·(1 − lr·wd)                       (decoupled weight decay)
 *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
 *   θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
 */
export function createAdamW(size: number, o: AdamWOptions): FlatOptimizer {
  if (tf.getBackend() === 'wasm') ensureWasmTrainingKernels();
  const beta1 = o.beta1 ?? 0.9, beta2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8;
  const m = zerosVariable(size);
  const v = zerosVariable(size);
  let t = 0;
  return {
    name: 'adamw',
    get t() { return t; },
    apply(theta, grad, lr = o.lr) {
      t += 1;
      const bc1 = 1 - Math.pow(beta1, t);
      const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
      const stepSize = lr / bc1;
      tf.tidy(() => {
        const f = fusedAdamW(theta as tf.Tensor1D, m as tf.Tensor1D, v as tf.Tensor1D, grad, { lr, weightDecay: o.weightDecay, beta1, beta2, eps, bc1, bc2Sqrt });
        if (f) {
          m.assign(f.m);
          v.assign(f.v);
          theta.assign(f.theta);
          return;
        }
        const decayed = o.weightDecay !== 0 ? tf.mul(theta, 1 - lr * o.weightDecay) : theta;
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), eps);
        m.assign(m1);
        v.assign(v1);
        theta.assign(tf.sub(decayed, tf.mul(tf.div(m1, denom), stepSize)));
      });
    },
    dispose() {
      m.dispose();
      v.dispose();
    },
  };
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  /** L2 penalty added to the gradient (PyTorch SGD's weight_decay), not decoupled. */
  weightDecay?: number;
  dampening?: number;
  nesterov?: boolean;
}

/**
 * torch.optim.SGD:
 *   d = g + wd·θ
 *   with momentum μ: b ← d on the first step, else b ← μ·b + (1 − dampening)·d;
 *                    d = nesterov ? d + μ·b : b
 *   θ ← θ − lr·d
 */
export function createSgd(size: number, o: SgdOptions): FlatOptimizer {
  const mu = o.momentum ?? 0, wd = o.weightDecay ?? 0, damp = o.dampening ?? 0;
  const buf = mu !== 0 ? zerosVariable(size) : null;
  let t = 0;
  return {
    name: 'sgd',
    get t() { return t; },
    apply(theta, grad, lr = o.lr) {
      t += 1;
      tf.tidy(() => {
        let d: tf.Tensor = wd !== 0 ? tf.add(grad, tf.mul(theta, wd)) : grad;
        if (buf) {
          const b1 = t === 1 ? d : tf.add(tf.mul(buf, mu), damp !== 0 ? tf.mul(d, 1 - damp) : d);
          buf.assign(b1 as tf.Tensor1D);
          d = o.nesterov ? tf.add(d, tf.mul(b1, mu)) : b1;
        }
        theta.assign(tf.sub(theta, tf.mul(d, lr)));
      });
    },
    dispose() {
      buf?.dispose();
    },
  };
}
