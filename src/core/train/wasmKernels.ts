/**
 * Kernels that gradients need but tfjs-backend-wasm 4.22 does not ship.
 *
 * The gradient of tf.gather (the embedding lookup of the modular-addition models) is
 * tf.unsortedSegmentSum, which has no wasm kernel: without this, ∇θ of any modadd loss throws
 * "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'". The wasm backend keeps its
 * tensors in CPU memory, so a kernel written in JavaScript over readSync / makeOutput (the way
 * tfjs-backend-wasm implements its own JS kernels) is exact and cheap at our sizes. webgpu and
 * cpu have their own kernels; this registers for 'wasm' only and never replaces an existing one.
 *
 * The gradient of a matMul is two matMuls with transpose flags, and on wasm a flagged matMul
 * falls off the fast path (docs/platform.md §1.3; measured here: a [2247, 256]·[256, 256]ᵀ product took
 * 139 ms with transposeB and 22 ms as tf.transpose then a plain matMul). Backprop through the
 * modadd model was 0.5 s a step because of it. So, while wasm is the active backend, 2-D matMul
 * gradients are computed with explicit transposes; every other case (other backends, batched
 * matMuls) goes to tfjs's own gradient unchanged.
 */
import * as tf from '@tensorflow/tfjs';

type Values = Float32Array | Int32Array | Uint8Array;

/** The part of tfjs-backend-wasm's BackendWasm this kernel uses (structural, so no import of the package). */
interface WasmBackendLike {
  readSync(dataId: unknown): unknown;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Values): tf.TensorInfo;
}

/** out[s, …] = Σ_{i : ids[i] = s} x[i, …]; ids outside [0, numSegments) are dropped (TensorFlow semantics). */
export function unsortedSegmentSumJs<T extends Float32Array | Int32Array>(x: T, ids: Int32Array, inner: number, numSegments: number): T {
  const out = new (x.constructor as { new (n: number): T })(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner, dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
  return out;
}

type GradConfig = NonNullable<ReturnType<typeof tf.getGradient>>;

/** op(X) = Xᵀ if t else X, as an explicit transpose (so the matMul that follows takes the fast path). */
function opT(x: tf.Tensor, t: boolean): tf.Tensor2D {
  return (t ? tf.transpose(x) : x) as tf.Tensor2D;
}

/**
 * Gradients of C = op_a(A)·op_b(B) for 2-D A, B, with only plain matMuls:
 *   dA = dC·op_b(B)ᵀ (transposed back when transposeA), dB = op_a(A)ᵀ·dC (transposed back when transposeB).
 */
function matMulGrad2d(dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): { a: () => tf.Tensor; b: () => tf.Tensor } {
  return {
    a: () => {
      // d op_a(A) = dC · op_b(B)ᵀ
      const g = tf.matMul(dy as tf.Tensor2D, tf.transpose(opT(b, tb)));
      return ta ? tf.transpose(g) : g;
    },
    b: () => {
      // d op_b(B) = op_a(A)ᵀ · dC
      const g = tf.matMul(tf.transpose(opT(a, ta)), dy as tf.Tensor2D);
      return tb ? tf.transpose(g) : g;
    },
  };
}

function fastMatMulGradient(original: GradConfig): GradConfig {
  return {
    kernelName: 'BatchMatMul',
    inputsToSave: original.inputsToSave ?? ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (tf.getBackend() !== 'wasm' || a.rank !== 2 || b.rank !== 2 || Array.isArray(dy)) return original.gradFunc(dy, saved, attrs);
      return matMulGrad2d(dy, a, b, transposeA, transposeB);
    },
  };
}

let registered = false;

/** Registers the missing wasm kernels once (idempotent; a no-op where tfjs already has them). */
export function ensureWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  const mm = tf.getGradient('BatchMatMul');
  if (mm) tf.registerGradient(fastMatMulGradient(mm));
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const segmentIds = inputs.segmentIds as tf.TensorInfo;
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as WasmBackendLike;
      const idRank = segmentIds.shape.length;
      const m = segmentIds.shape.reduce((a, c) => a * c, 1);
      const innerShape = x.shape.slice(idRank);
      const inner = innerShape.reduce((a, c) => a * c, 1);
      if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum on wasm: unsupported dtype ${x.dtype}`);
      const xs = b.readSync(x.dataId) as Float32Array | Int32Array;
      const rawIds = b.readSync(segmentIds.dataId) as Int32Array | Float32Array;
      const ids = rawIds instanceof Int32Array ? rawIds : Int32Array.from(rawIds);
      if (xs.length !== m * inner) throw new Error(`UnsortedSegmentSum: x has ${xs.length} values, expected ${m}×${inner}`);
      const out = xs instanceof Float32Array ? unsortedSegmentSumJs(xs, ids, inner, numSegments) : unsortedSegmentSumJs(xs, ids, inner, numSegments);
      return b.makeOutput([numSegments, ...innerShape], x.dtype, undefined, out);
    },
  });
}
