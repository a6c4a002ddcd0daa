/**
 * tfjs building blocks the architectures' forward passes share. Weights are [out, in]
 * (PyTorch); we transpose explicitly and then matMul, because matMul with transposeB falls off
 * wasm's fast path (docs/platform.md §1.3).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamLayout } from '../params';

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

/** The token columns a and b of int32 pairs x [n, 2], each [n]. */
export function tokenColumns(x: tf.Tensor2D): [tf.Tensor1D, tf.Tensor1D] {
  const a = tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]) as tf.Tensor1D;
  const b = tf.squeeze(tf.slice(x, [0, 1], [-1, 1]), [1]) as tf.Tensor1D;
  return [a, b];
}
