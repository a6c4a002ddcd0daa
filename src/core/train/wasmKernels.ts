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
 *
 * Slice on wasm copies its whole input first (see fastSlice); it is replaced by one that copies
 * only the slice.
 */
import * as tf from '@tensorflow/tfjs';

type Values = Float32Array | Int32Array | Uint8Array;

/** The part of tfjs-backend-wasm's BackendWasm these kernels use (structural, so no import of the package). */
interface WasmBackendLike {
  readSync(dataId: unknown): unknown;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Values): tf.TensorInfo;
  /** A view (no copy) of a tensor's values in the wasm heap; invalidated when the heap grows. */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * tf.slice on wasm without copying the whole input. tfjs-backend-wasm 4.22's Slice reads its input
 * with readSync, which copies every value of x out of the heap before taking the slice: slicing 256
 * values of an 86,197-parameter vector cost as much as copying all of it, 2,048 rows of an MNIST
 * [8000, 784] tensor 70 ms, and the slices of the flat θ 8.7 ms of a 9 ms modadd gradient. This
 * copies only the slice, from a view of the heap taken after the output is allocated (allocation
 * can grow the heap and detach earlier views). Rank 1–2 numeric slices; anything else goes to
 * the original kernel.
 */
function fastSlice(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      if (x.dtype === 'string' || x.shape.length > 2) return original.kernelFunc(args);
      const b = args.backend as unknown as WasmBackendLike;
      const [start, len] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      const out = b.makeOutput(len, x.dtype);
      const xv = b.typedArrayFromHeap(x), ov = b.typedArrayFromHeap(out);
      if (tf.slice_util.isSliceContinous(x.shape, start, len)) {
        const off = tf.slice_util.computeFlatOffset(start, tf.util.computeStrides(x.shape));
        ov.set(xv.subarray(off, off + ov.length));
      } else {
        // Rank 2, a block of columns: one row at a time.
        const cols = x.shape[1], w = len[1];
        let o = 0;
        for (let i = 0; i < len[0]; i++) {
          const src = (start[0] + i) * cols + start[1];
          for (let j = 0; j < w; j++) ov[o++] = xv[src + j];
        }
      }
      return out;
    },
  };
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
  const slice = tf.getKernel('Slice', 'wasm');
  if (slice) {
    tf.unregisterKernel('Slice', 'wasm');
    tf.registerKernel(fastSlice(slice));
  }
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
