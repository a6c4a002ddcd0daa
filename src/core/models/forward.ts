/**
 * Forward passes in tfjs from a flat parameter tensor θ (so tf.grad with respect to θ gives
 * the flat gradient directly). Weights are [out, in] (PyTorch); we transpose explicitly and
 * then matMul, because matMul with transposeB falls off wasm's fast path (docs/platform.md §1.3).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamLayout } from '../params';
import { layoutFor, type ModelConfig } from './config';

/** The named tensors of θ as tfjs tensors with their PyTorch shapes. */
export function unflatten(layout: ParamLayout, theta: tf.Tensor1D): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const t of layout.tensors) out[t.name] = tf.reshape(tf.slice(theta, t.offset, t.size), t.shape);
  return out;
}

/** x·Wᵀ + b for a PyTorch-layout weight W [out, in]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor2D {
  const y = tf.matMul(x, tf.transpose(w as tf.Tensor2D));
  return (b ? tf.add(y, b) : y) as tf.Tensor2D;
}

/** GELU with the exact erf form (PyTorch's nn.GELU default). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

export interface ForwardTrace {
  /** Outputs f_θ(x): logits for classifiers, predictions for matfac. [n, out] */
  out: tf.Tensor2D;
  /** Pre-activations of each hidden nonlinear layer, in order. [n, width] each */
  pre: tf.Tensor2D[];
}

/**
 * f_θ(x) with the hidden pre-activations kept (for firing patterns and Gram matrices).
 * x: int32 [n, 2] token pairs for modadd*, float32 [n, in] otherwise. Call inside tf.tidy.
 */
export function forwardTrace(c: ModelConfig, theta: tf.Tensor1D, x: tf.Tensor2D, layout: ParamLayout = layoutFor(c)): ForwardTrace {
  const P = unflatten(layout, theta);
  switch (c.arch) {
    case 'modadd': {
      const a = tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]);
      const b = tf.squeeze(tf.slice(x, [0, 1], [-1, 1]), [1]);
      const emb = tf.concat([tf.gather(P['embed.weight'], a), tf.gather(P['embed.weight'], b)], 1) as tf.Tensor2D;
      const pre = linear(emb, P['hidden.weight'], P['hidden.bias']);
      return { out: linear(tf.relu(pre), P['out.weight'], P['out.bias']), pre: [pre] };
    }
    case 'modadd-gelu': {
      const a = tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]);
      const b = tf.squeeze(tf.slice(x, [0, 1], [-1, 1]), [1]);
      const ea = tf.gather(P['embed.weight'], a) as tf.Tensor2D;
      const eb = tf.gather(P['embed.weight'], b) as tf.Tensor2D;
      const pre = tf.add(linear(ea, P['left.weight']), linear(eb, P['right.weight'])) as tf.Tensor2D;
      return { out: linear(gelu(pre) as tf.Tensor2D, P['out.weight'], P['out.bias']), pre: [pre] };
    }
    case 'mnist-mlp': {
      const pre: tf.Tensor2D[] = [];
      let h = x;
      const nLayers = c.hidden.length + 1;
      for (let i = 1; i <= nLayers; i++) {
        const z = linear(h, P[`fc${i}.weight`], P[`fc${i}.bias`]);
        if (i === nLayers) return { out: z, pre };
        pre.push(z);
        h = tf.relu(z);
      }
      throw new Error('unreachable');
    }
    case 'matfac': {
      let h = x;
      for (let i = 0; i + 1 < c.widths.length; i++) h = linear(h, P[`layers.${i}.weight`]);
      return { out: h, pre: [] };
    }
  }
}

/** f_θ(x) only. Call inside tf.tidy. */
export function forward(c: ModelConfig, theta: tf.Tensor1D, x: tf.Tensor2D, layout?: ParamLayout): tf.Tensor2D {
  return forwardTrace(c, theta, x, layout).out;
}

/** The dataset rows as the tensor forward() takes. */
export function inputTensor(x: Int32Array | Float32Array, n: number, dim: number): tf.Tensor2D {
  return x instanceof Int32Array ? tf.tensor2d(x, [n, dim], 'int32') : tf.tensor2d(x, [n, dim], 'float32');
}
