/**
 * Training losses in tfjs: mean cross-entropy from logits with integer labels (classifiers) and
 * PyTorch's nn.MSELoss default (mean over every element) for matfac. Each loss also has a
 * "row sum" form so evaluation can run in chunks and divide once at the end: for every loss,
 * mean = rowSum / rows. Call these inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs';
import { isClassifier, type ModelConfig } from '../models/config';
import type { HeadKind } from './fused';

/** Per-row cross-entropy −log softmax(z)_y, via a stable log-sum-exp. logits [n, k], labels int32 [n]. */
export function crossEntropyRows(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const k = logits.shape[1];
  // logSumExp subtracts the row max before exponentiating, so large logits cannot overflow.
  const lse = tf.logSumExp(logits, 1);
  const picked = tf.sum(tf.mul(logits, tf.oneHot(labels, k)), 1);
  return tf.sub(lse, picked) as tf.Tensor1D;
}

/**
 * Mean cross-entropy with its gradient written out: ∂/∂z of mean_i(lse(z_i) − z_i,y_i) is
 * (softmax(z) − onehot(y)) / n. Autodiff through logSumExp would differentiate its row max with
 * a broadcast equality mask, a slow kernel on wasm (12 ms of a 97 ms modadd step).
 */
const crossEntropyFromOneHot = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [logits, oneHot, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  const logp = tf.sub(logits, tf.logSumExp(logits, 1, true));
  save([logp, oneHot]);
  const value = tf.neg(tf.div(tf.sum(tf.mul(logp, oneHot)), logits.shape[0])) as tf.Scalar;
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [lp, oh] = saved;
      const g = tf.mul(tf.sub(tf.exp(lp), oh), tf.div(dy, lp.shape[0]));
      return [g, tf.zerosLike(oh)];
    },
  };
});

/** Mean cross-entropy over the rows (PyTorch's F.cross_entropy default reduction). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return crossEntropyFromOneHot(logits, tf.oneHot(labels, logits.shape[1])) as tf.Scalar;
}

/** Per-row mean squared error over the outputs. pred, target [n, k]. */
export function squaredErrorRows(pred: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tf.mean(tf.squaredDifference(pred, target), 1) as tf.Tensor1D;
}

/** nn.MSELoss() default: the mean over all n·k elements. */
export function mse(pred: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.squaredDifference(pred, target));
}

/** Number of rows whose arg-max logit equals the label (float32 scalar). */
export function correctCount(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
}

/** Fraction of rows classified correctly. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.div(correctCount(logits, labels), labels.shape[0]);
}

export type LossKind = 'cross-entropy' | 'mse';

export interface TrainingLoss {
  kind: LossKind;
  /** The same loss as a head of the hand-written passes (train/fused.ts). */
  head: HeadKind;
  /** Axis label for plots, e.g. "cross-entropy". */
  label: string;
  /** The mean loss over a batch (what is differentiated). y: int32 labels [n] or float32 targets [n, k]. */
  mean(out: tf.Tensor2D, y: tf.Tensor): tf.Scalar;
  /** The sum over rows of the per-row loss; mean = rowSum / n. */
  rowSum(out: tf.Tensor2D, y: tf.Tensor): tf.Scalar;
}

const CE: TrainingLoss = {
  kind: 'cross-entropy',
  head: 'cross-entropy',
  label: 'cross-entropy',
  mean: (out, y) => crossEntropy(out, y as tf.Tensor1D),
  rowSum: (out, y) => tf.sum(crossEntropyRows(out, y as tf.Tensor1D)),
};

const MSE: TrainingLoss = {
  kind: 'mse',
  head: 'mse',
  label: 'MSE',
  mean: (out, y) => mse(out, y as tf.Tensor2D),
  rowSum: (out, y) => tf.sum(squaredErrorRows(out, y as tf.Tensor2D)),
};

/** Cross-entropy for classifiers, MSE for matfac (docs/science.md §1). */
export function lossFor(config: ModelConfig): TrainingLoss {
  return isClassifier(config) ? CE : MSE;
}
