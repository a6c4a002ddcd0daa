/**
 * Forward passes in tfjs from a flat parameter tensor θ (so tf.grad with respect to θ gives
 * the flat gradient directly), by the architecture's registered forwardTrace (src/core/arch).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamLayout } from '../params';
import { getArch } from '../arch/registry';
import type { ForwardTrace } from '../arch/types';
import { unflatten } from '../arch/layers';
import '../arch/builtin';
import { layoutFor, type AnyModelConfig } from './config';

export { gelu, linear, unflatten } from '../arch/layers';
export type { ForwardTrace } from '../arch/types';

/**
 * f_θ(x) with the hidden pre-activations kept (for firing patterns and Gram matrices).
 * x: int32 [n, 2] token pairs for modadd*, float32 [n, in] otherwise. Call inside tf.tidy.
 */
export function forwardTrace(c: AnyModelConfig, theta: tf.Tensor1D, x: tf.Tensor2D, layout: ParamLayout = layoutFor(c)): ForwardTrace {
  return getArch(c.arch).forwardTrace(c, unflatten(layout, theta), x);
}

/** f_θ(x) only. Call inside tf.tidy. */
export function forward(c: AnyModelConfig, theta: tf.Tensor1D, x: tf.Tensor2D, layout?: ParamLayout): tf.Tensor2D {
  return forwardTrace(c, theta, x, layout).out;
}

/** The dataset rows as the tensor forward() takes. */
export function inputTensor(x: Int32Array | Float32Array, n: number, dim: number): tf.Tensor2D {
  return x instanceof Int32Array ? tf.tensor2d(x, [n, dim], 'int32') : tf.tensor2d(x, [n, dim], 'float32');
}
