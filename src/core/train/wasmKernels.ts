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
 *
 * Kernels of our own replace slow ones or chains of small ones (BENCHMARKS.md "Our wasm kernels"):
 * BatchMatMul by our f32x4 GEMM where it measures faster (wasmF32.ts; `gemmServes`), GatherNd of
 * whole rows as row copies, GELU with its derivative, softmax cross-entropy with its cotangent and
 * the per-token sums of a token-pair batch (f32x4, wasmF32.ts), and one-kernel AdamW and unadjusted
 * Langevin steps (JS over heap views). The fused ones are called through `geluWithDerivative`,
 * `fusedSoftmaxCrossEntropy`, `fusedPairSums`, `fusedAdamW` and `fusedLangevinStep`, which fall back to tfjs ops on other backends, without WebAssembly SIMD
 * and when switched off (`setFusedKernelsEnabled`).
 */
import * as tf from '@tensorflow/tfjs';
import { elementwiseKernels } from './wasmF32';

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

let fusedOn = true, gemmOn = true;

/** Switch our kernels (fused tails, GEMM, row gathers) off or on (tests run both paths; default on). */
export function setFusedKernelsEnabled(on: boolean): void { fusedOn = on; }

/** Whether our kernels are switched on (the whole-step training engine follows the same switch). */
export function fusedKernelsEnabled(): boolean { return fusedOn; }

/** Switch our GEMM alone off or on (the bench measures what it adds to a whole step; default on). */
export function setGemmEnabled(on: boolean): void { gemmOn = on; }

const GELU = 'SltGeluWithDerivative', SOFTMAX_XENT = 'SltSoftmaxCrossEntropy', ADAMW = 'SltAdamW', LANGEVIN = 'SltLangevinStep';
const PAIR_SUMS = 'SltPairSums';

/** The constants of an unadjusted Langevin step on U(w) = nβ·L(w) + (γ/2)‖w − w*‖² with step ε. */
export interface LangevinConsts { nBeta: number; gamma: number; eps: number }

/**
 * One unadjusted Langevin step: w′ = w − (ε/2)(nβ·g + γ(w − w*)) + √ε·ξ, written to `out`
 * (which may be w); returns ‖w − w*‖² at w (before the step). Float64 per element.
 */
export function langevinUpdate(w: Float32Array, wStar: Float32Array, g: Float32Array, xi: Float32Array, c: LangevinConsts, out: Float32Array): number {
  const h = c.eps / 2, a = h * c.nBeta, b = h * c.gamma, s = Math.sqrt(c.eps);
  let dist2 = 0;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i], diff = wi - wStar[i];
    dist2 += diff * diff;
    out[i] = wi - (a * g[i] + b * diff) + s * xi[i];
  }
  return dist2;
}

/** AdamW's step constants (see optimizers.ts createAdamW; bc1 = 1 − β1ᵗ, bc2Sqrt = √(1 − β2ᵗ)). */
export interface AdamWStep { lr: number; weightDecay: number; beta1: number; beta2: number; eps: number; bc1: number; bc2Sqrt: number }

/**
 * One AdamW update over flat Float32 θ, m, v and g (outputs may alias inputs), in torch.optim.AdamW's
 * order of operations, each element in Float64 and rounded once.
 */
export function adamWUpdate(theta: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, s: AdamWStep, outTheta: Float32Array, outM: Float32Array, outV: Float32Array): void {
  const decay = 1 - s.lr * s.weightDecay, stepSize = s.lr / s.bc1, b1 = s.beta1, b2 = s.beta2, c1 = 1 - b1, c2 = 1 - b2;
  const invBc2 = 1 / s.bc2Sqrt, eps = s.eps;
  for (let i = 0; i < theta.length; i++) {
    const gi = g[i];
    const mi = Math.fround(b1 * m[i] + c1 * gi);
    const vi = Math.fround(b2 * v[i] + c2 * gi * gi);
    outM[i] = mi;
    outV[i] = vi;
    outTheta[i] = theta[i] * decay - stepSize * (mi / (Math.sqrt(vi) * invBc2 + eps));
  }
}

/** The fused kernels, registered for wasm when WebAssembly SIMD is there. */
function registerFusedKernels(): void {
  const k = elementwiseKernels();
  if (!k) return;
  tf.registerKernel({
    kernelName: GELU,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      if (x.dtype !== 'float32') throw new Error(`${GELU}: float32 input expected, got ${x.dtype}`);
      const b = backend as unknown as WasmBackendLike;
      const act = b.makeOutput(x.shape, 'float32'), der = b.makeOutput(x.shape, 'float32');
      // Views after every allocation (an allocation can grow the heap and detach earlier views).
      k.gelu(b.typedArrayFromHeap(x) as Float32Array, b.typedArrayFromHeap(act) as Float32Array, b.typedArrayFromHeap(der) as Float32Array);
      return [act, der];
    },
  });
  tf.registerKernel({
    kernelName: SOFTMAX_XENT,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const logits = inputs.logits as tf.TensorInfo, labels = inputs.labels as tf.TensorInfo;
      if (logits.dtype !== 'float32' || logits.shape.length !== 2) throw new Error(`${SOFTMAX_XENT}: float32 [B, k] logits expected`);
      if (labels.dtype !== 'int32' || labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) throw new Error(`${SOFTMAX_XENT}: int32 [B] labels expected`);
      const b = backend as unknown as WasmBackendLike;
      const value = b.makeOutput([], 'float32'), dOut = b.makeOutput(logits.shape, 'float32');
      const loss = k.softmaxCrossEntropy(b.typedArrayFromHeap(logits) as Float32Array, b.typedArrayFromHeap(labels) as Int32Array, logits.shape[1], b.typedArrayFromHeap(dOut) as Float32Array);
      (b.typedArrayFromHeap(value) as Float32Array)[0] = loss;
      return [value, dOut];
    },
  });
  // Per-token sums of a token-pair batch's rows (wasmF32.ts pairSums).
  tf.registerKernel({
    kernelName: PAIR_SUMS,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const dz = inputs.dz as tf.TensorInfo, pairs = inputs.pairs as tf.TensorInfo;
      const { p } = attrs as unknown as { p: number };
      const [n, h] = dz.shape;
      if (dz.dtype !== 'float32' || pairs.dtype !== 'int32' || pairs.shape[0] !== n || pairs.shape[1] !== 2) throw new Error(`${PAIR_SUMS}: float32 [n, h] rows and int32 [n, 2] pairs expected`);
      const b = backend as unknown as WasmBackendLike;
      const pv = b.typedArrayFromHeap(pairs) as Int32Array;
      for (let i = 0; i < pv.length; i++) if (!(pv[i] >= 0 && pv[i] < p)) throw new Error(`${PAIR_SUMS}: token ${pv[i]} is not in [0, ${p})`);
      const out = b.makeOutput([p, 2 * h], 'float32');
      k.pairSums(b.typedArrayFromHeap(dz) as Float32Array, b.typedArrayFromHeap(pairs) as Int32Array, p, h, b.typedArrayFromHeap(out) as Float32Array);
      return out;
    },
  });
}

/**
 * Registers a fused kernel on wasm over equal-length float32 vectors: `inputs` by name, outputs of
 * the given shapes (as functions of the length), `run` on Float32 views of the heap.
 */
function registerVectorKernel(name: string, inputs: string[], outShapes: (n: number) => number[][], run: (ins: Float32Array[], outs: Float32Array[], attrs: unknown) => void): void {
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const ts = inputs.map((k) => (args.inputs as Record<string, tf.TensorInfo>)[k]);
      const n = ts[0].shape[0];
      for (const t of ts) if (t.dtype !== 'float32' || t.shape.length !== 1 || t.shape[0] !== n) throw new Error(`${name}: ${inputs.length} float32 vectors of one length expected`);
      const b = args.backend as unknown as WasmBackendLike;
      const outs = outShapes(n).map((shape) => b.makeOutput(shape, 'float32'));
      // Views after every allocation (an allocation can grow the heap and detach earlier views).
      const f = (t: tf.TensorInfo): Float32Array => b.typedArrayFromHeap(t) as Float32Array;
      run(ts.map(f), outs.map(f), args.attrs);
      return outs;
    },
  });
}

/** The fused AdamW step (JS over the heap: one kernel instead of a dozen, each with its own dispatch). */
function registerAdamW(): void {
  registerVectorKernel(ADAMW, ['theta', 'm', 'v', 'grad'], (n) => [[n], [n], [n]], ([theta, m, v, g], [t1, m1, v1], attrs) => {
    adamWUpdate(theta, m, v, g, attrs as AdamWStep, t1, m1, v1);
  });
}

/**
 * θ, m and v after one AdamW step, from one fused kernel on wasm; null elsewhere (the caller keeps
 * its tfjs ops). Inside tidy.
 */
export function fusedAdamW(theta: tf.Tensor1D, m: tf.Tensor1D, v: tf.Tensor1D, grad: tf.Tensor1D, s: AdamWStep): { theta: tf.Tensor1D; m: tf.Tensor1D; v: tf.Tensor1D } | null {
  if (!fused(ADAMW) || grad.dtype !== 'float32') return null;
  const [t1, m1, v1] = tf.engine().runKernel(ADAMW, { theta, m, v, grad }, s as unknown as tf.NamedAttrMap) as tf.Tensor1D[];
  return { theta: t1, m: m1, v: v1 };
}


/** The fused unadjusted Langevin step (JS over the heap, one kernel for what took a dozen). */
function registerLangevin(): void {
  registerVectorKernel(LANGEVIN, ['w', 'wStar', 'grad', 'noise'], (n) => [[n], []], ([w, wStar, g, xi], [next, dist2], attrs) => {
    dist2[0] = langevinUpdate(w, wStar, g, xi, attrs as LangevinConsts, next);
  });
}

/**
 * The next point of an unadjusted Langevin step and ‖w − w*‖² at w, from one fused kernel on wasm;
 * null elsewhere (the caller keeps its tfjs ops). Inside tidy.
 */
export function fusedLangevinStep(w: tf.Tensor1D, wStar: tf.Tensor1D, grad: tf.Tensor1D, noise: tf.Tensor1D, c: LangevinConsts): { next: tf.Tensor1D; dist2: tf.Scalar } | null {
  if (!fused(LANGEVIN) || grad.dtype !== 'float32') return null;
  const [next, dist2] = tf.engine().runKernel(LANGEVIN, { w, wStar, grad, noise }, c as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { next: next as tf.Tensor1D, dist2: dist2 as tf.Scalar };
}

/**
 * Where our f32x4 GEMM (wasmF32.ts) beats tfjs-backend-wasm's BatchMatMul (`npm run bench:kernels`,
 * BENCHMARKS.md "Our wasm kernels"). tfjs's kernel is XNNPACK with the operator, and B packed into
 * it, cached per B tensor: good when B is a constant reused call after call (the Gauss–Newton
 * products), slower when B is new every call (training and SGLD steps: fresh weights and
 * activations). Ours copies A and B into its own memory and pads N to a multiple of 8, so it loses
 * on large operands against the cached kernel and, with a small K, on a ragged N (the rows are
 * copied out one by one). Rule: ours when K ≤ 512, or when N ≤ 256, K ≤ 4,096 and A has at most
 * 2²² entries — but not with K < 128, N not a multiple of 8 and C of 2¹⁶ entries or more; tfjs
 * otherwise (1024³, the [8000, 669]-row products of MNIST's Gauss–Newton passes), and for operands
 * over 256 MiB.
 */
export function gemmServes(m: number, k: number, n: number): boolean {
  if (k < 128 && n % 8 !== 0 && m * n >= 65536) return false;
  return (k <= 512 || (n <= 256 && k <= 4096 && m * k <= 2 ** 22)) && (m * k + k * n + m * n) * 4 <= 256 * 2 ** 20;
}

/**
 * BatchMatMul on wasm: 2-D (or one-batch 3-D) float32 products by our GEMM where it is faster,
 * transposes included (taken while copying the operands in). A transposed product our GEMM does
 * not serve is given to tfjs's kernel as an explicit transpose and a plain product: tfjs's own
 * transposed products leave its fast path (a [2247, 256]·[256, 256]ᵀ took 139 ms against 22 ms).
 */
function fastMatMul(original: tf.KernelConfig): tf.KernelConfig {
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  return {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const k = elementwiseKernels();
      const rank = a.shape.length;
      const oneBatch = rank === 2 || (rank === 3 && a.shape[0] === 1 && b.shape.length === 3 && b.shape[0] === 1);
      if (!oneBatch || b.shape.length !== rank || a.dtype !== 'float32' || b.dtype !== 'float32') return original.kernelFunc(args);
      const [a0, a1] = a.shape.slice(-2), [b0, b1] = b.shape.slice(-2);
      const [m, kk] = transposeA ? [a1, a0] : [a0, a1], [kb, n] = transposeB ? [b1, b0] : [b0, b1];
      if (kb !== kk) return original.kernelFunc(args);
      const be = args.backend as unknown as WasmBackendLike;
      if (k && fusedOn && gemmOn && gemmServes(m, kk, n)) {
        const out = be.makeOutput(rank === 2 ? [m, n] : [1, m, n], 'float32');
        k.matMul(be.typedArrayFromHeap(a) as Float32Array, be.typedArrayFromHeap(b) as Float32Array, be.typedArrayFromHeap(out) as Float32Array, m, kk, n, transposeA, transposeB);
        return out;
      }
      if ((!transposeA && !transposeB) || !transposeKernel || rank !== 2) return original.kernelFunc(args);
      const temps: tf.TensorInfo[] = [];
      const plain = (x: tf.TensorInfo, t: boolean): tf.TensorInfo => {
        if (!t) return x;
        const y = transposeKernel.kernelFunc({ inputs: { x }, attrs: { perm: [1, 0] }, backend: args.backend }) as tf.TensorInfo;
        temps.push(y);
        return y;
      };
      const out = original.kernelFunc({ ...args, inputs: { a: plain(a, transposeA), b: plain(b, transposeB) }, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as tf.TensorInfo;
      for (const t of temps) (args.backend as unknown as { disposeData(id: unknown): void }).disposeData(t.dataId);
      return out;
    },
  };
}

/**
 * GatherNd on wasm for whole rows of 64 values or more by [B, 1] indices (minibatch rows): a row
 * copy each, from views of the heap. tfjs-wasm's kernel took 0.25 ms
 * for 512 rows of MNIST (784 floats). Every other form goes to tfjs's kernel.
 */
function fastGatherNd(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'GatherNd',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { params, indices } = args.inputs as { params: tf.TensorInfo; indices: tf.TensorInfo };
      const rank = params.shape.length;
      const C = params.shape.length === 2 ? params.shape[1] : 0;
      // Rows narrower than 64 values (embedding tables, label vectors) stay with tfjs's kernel: a
      // JS loop per row measured slower there.
      if (!fusedOn || indices.dtype !== 'int32' || indices.shape.length !== 2 || indices.shape[1] !== 1 || rank !== 2 || C < 64 || (params.dtype !== 'float32' && params.dtype !== 'int32')) return original.kernelFunc(args);
      const be = args.backend as unknown as WasmBackendLike;
      const B = indices.shape[0], R = params.shape[0];
      const idx = be.typedArrayFromHeap(indices) as Int32Array;
      for (let i = 0; i < B; i++) if (!(idx[i] >= 0 && idx[i] < R)) throw new Error(`GatherNd: index ${idx[i]} is not in [0, ${R})`);
      const out = be.makeOutput([B, C], params.dtype);
      // Views after the allocation (it can grow the heap and detach earlier views).
      const pv = be.typedArrayFromHeap(params) as Float32Array | Int32Array, iv = be.typedArrayFromHeap(indices) as Int32Array;
      const ov = be.typedArrayFromHeap(out) as Float32Array | Int32Array;
      for (let i = 0; i < B; i++) {
        const r = iv[i];
        ov.set(pv.subarray(r * C, r * C + C), i * C);
      }
      return out;
    },
  };
}


/**
 * [Σ_{a_r = t} dz_r | Σ_{b_r = t} dz_r] for tokens t < p, [p, 2h], from rows dz [n, h] and int32
 * token pairs [n, 2] (the embedding-table gradients of the pair models), as one kernel on wasm;
 * null elsewhere or for h not a multiple of 4 (the caller keeps scatterND or its grid sums).
 * Inside tidy.
 */
export function fusedPairSums(dz: tf.Tensor2D, pairs: tf.Tensor2D, p: number): tf.Tensor2D | null {
  if (!fused(PAIR_SUMS) || dz.dtype !== 'float32' || pairs.dtype !== 'int32' || dz.shape[1] % 4 !== 0) return null;
  return tf.engine().runKernel(PAIR_SUMS, { dz, pairs }, { p }) as tf.Tensor2D;
}

/** Whether a fused kernel runs here (switched on, the wasm backend, registered). */
function fused(name: string): boolean {
  return fusedOn && tf.getBackend() === 'wasm' && tf.getKernel(name, 'wasm') !== undefined;
}

/**
 * GELU(x) = x·Φ(x) and, on demand, GELU′(x) = Φ(x) + x·φ(x) (PyTorch's exact, erf-based GELU).
 * On wasm both come from one fused kernel; elsewhere from tfjs ops (Φ shared). Inside tidy.
 */
export function geluWithDerivative(x: tf.Tensor): { act: tf.Tensor; derivative(): tf.Tensor } {
  if (fused(GELU)) {
    const [act, der] = tf.engine().runKernel(GELU, { x }, {}) as tf.Tensor[];
    return { act, derivative: () => der };
  }
  const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);
  return {
    act: tf.mul(x, cdf),
    derivative: () => tf.add(cdf, tf.mul(x, tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI)))),
  };
}

/**
 * Mean softmax cross-entropy of logits [B, k] against int32 labels [B] and its cotangent
 * (softmax − onehot)/B: on wasm one fused kernel, or null where the caller should use tfjs ops.
 * Inside tidy.
 */
export function fusedSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor): { value: tf.Scalar; dOut: tf.Tensor2D } | null {
  if (!fused(SOFTMAX_XENT) || labels.dtype !== 'int32' || labels.rank !== 1) return null;
  const [value, dOut] = tf.engine().runKernel(SOFTMAX_XENT, { logits, labels }, {}) as tf.Tensor[];
  return { value: value as tf.Scalar, dOut: dOut as tf.Tensor2D };
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
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (matMul && elementwiseKernels()) {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(fastMatMul(matMul));
  }
  const gatherNd = tf.getKernel('GatherNd', 'wasm');
  if (gatherNd) {
    tf.unregisterKernel('GatherNd', 'wasm');
    tf.registerKernel(fastGatherNd(gatherNd));
  }
  registerFusedKernels();
  registerAdamW();
  registerLangevin();
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
