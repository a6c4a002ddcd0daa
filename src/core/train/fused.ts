/**
 * One loss value and its flat gradient for a batch, the work every training and SGLD step does:
 * the architecture's hand-written passes (arch/passes.ts) with the loss's output cotangent written
 * out (a "head"), or, for an architecture without passes, tfjs autodiff through forwardTrace.
 * Both give the same numbers to float32 rounding (tests/unit/fused.test.ts).
 *
 * Heads (mean over the B rows of the batch; k outputs):
 *   cross-entropy  ℓ = −(1/B) Σ log softmax(f)_y          Δ = (softmax(f) − onehot(y)) / B
 *   half-sse       ℓ = (1/2B) Σ ‖f − y‖²                   Δ = (f − y) / B       (Gaussian NLL, σ = 1)
 *   sse            ℓ = (1/B) Σ ‖f − y‖²                    Δ = 2 (f − y) / B     (the behavioral loss)
 *   mse            ℓ = (1/Bk) Σ ‖f − y‖²                   Δ = 2 (f − y) / (Bk)  (nn.MSELoss)
 */
import * as tf from '@tensorflow/tfjs';
import { getArch } from '../arch/registry';
import '../arch/builtin';
import type { GradPasses } from '../arch/passes';
import type { ModelConfig } from '../models/config';
import { forward } from '../models/forward';
import type { ParamLayout } from '../params';
import { ensureWasmTrainingKernels, fusedSoftmaxCrossEntropy } from './wasmKernels';

export type HeadKind = 'cross-entropy' | 'half-sse' | 'sse' | 'mse';

/**
 * The loss of a batch and its cotangent ∂ℓ/∂f. y: int32 labels [B] (cross-entropy) or float32
 * [B, k]. `fused: false` keeps to tfjs ops (the fused cross-entropy kernel on wasm has no
 * gradient, so autodiff through the head needs the ops). Inside tidy.
 */
export function lossHead(kind: HeadKind, out: tf.Tensor2D, y: tf.Tensor, opts: { fused?: boolean } = {}): { value: tf.Scalar; dOut: tf.Tensor2D } {
  const [B, k] = out.shape;
  if (kind === 'cross-entropy') {
    const f = opts.fused === false ? null : fusedSoftmaxCrossEntropy(out, y);
    if (f) return f;
    const logp = tf.sub(out, tf.logSumExp(out, 1, true));
    const oh = tf.oneHot(y as tf.Tensor1D, k);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(logp, oh))), B) as tf.Scalar,
      dOut: tf.div(tf.sub(tf.exp(logp), oh), B) as tf.Tensor2D,
    };
  }
  const r = tf.sub(out, y);
  const sse = tf.sum(tf.square(r));
  const scale = kind === 'half-sse' ? 1 / (2 * B) : kind === 'sse' ? 1 / B : 1 / (B * k);
  return { value: tf.mul(sse, scale) as tf.Scalar, dOut: tf.mul(r, 2 * scale) as tf.Tensor2D };
}

/** Value and flat gradient of a head on a batch, for one model configuration. */
export interface BatchGradient {
  /** Whether the hand-written passes are used (false: autodiff). */
  readonly handWritten: boolean;
  /** ℓ(w) on the batch (x, y) and ∇_w ℓ. Inside tidy. */
  valueAndGrad(w: tf.Tensor1D, x: tf.Tensor2D, y: tf.Tensor): { value: tf.Scalar; grad: tf.Tensor1D };
  /** f_w(x) alone (the passes' forward when there are passes). Inside tidy. */
  outputs(w: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D;
}

/**
 * The batch gradient of a head for this configuration. `autodiff: true` forces the tfjs autodiff
 * path (the reference the hand-written passes are tested against).
 */
export function batchGradient(config: ModelConfig, layout: ParamLayout, kind: HeadKind, opts: { autodiff?: boolean } = {}): BatchGradient {
  if (tf.getBackend() === 'wasm') ensureWasmTrainingKernels();
  const arch = getArch(config.arch);
  const passes: GradPasses | undefined = opts.autodiff ? undefined : arch.gradPasses?.(config, layout);
  if (passes) {
    return {
      handWritten: true,
      valueAndGrad(w, x, y) {
        const f = passes.forward(w, x);
        const { value, dOut } = lossHead(kind, f.out, y);
        return { value, grad: f.backward(dOut) };
      },
      outputs: (w, x) => passes.forward(w, x).out,
    };
  }
  return {
    handWritten: false,
    valueAndGrad(w, x, y) {
      const f = (th: tf.Tensor): tf.Scalar => lossHead(kind, forward(config, th as tf.Tensor1D, x, layout), y, { fused: false }).value;
      const { value, grad } = tf.valueAndGrad(f)(w);
      return { value, grad: grad as tf.Tensor1D };
    },
    outputs: (w, x) => forward(config, w, x, layout),
  };
}

/** Rows `rows` (int32 [B]) of a resident tensor, by gatherND (tf.gather is 4–10× slower on wasm). Inside tidy. */
export function takeRows<T extends tf.Tensor>(t: T, rows: tf.Tensor1D): T {
  return tf.gatherND(t, tf.reshape(rows, [rows.shape[0], 1])) as T;
}

/**
 * Host rows uploaded as consecutive chunks of at most `chunk` rows (cols = 0: a 1-D tensor per
 * chunk). Evaluation loops use these instead of slicing a resident tensor: on wasm, tf.slice of
 * 2,048 rows of a [8000, 784] tensor took 70 ms (a whole MNIST evaluation 280 ms in slices).
 */
export function uploadRowChunks(values: Int32Array | Float32Array, n: number, cols: number, chunk: number): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  const dtype = values instanceof Int32Array ? 'int32' : 'float32';
  const w = Math.max(1, cols);
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const part = values.subarray(s * w, (s + m) * w);
    out.push(cols === 0 ? tf.tensor1d(part, dtype) : tf.tensor2d(part, [m, cols], dtype));
  }
  return out;
}
