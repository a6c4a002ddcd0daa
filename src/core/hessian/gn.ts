/**
 * Gauss–Newton products H·v for the behavioral loss (docs/science.md §2, (S1)–(S3)):
 *
 *   H = (2/n) Σ_x J_xᵀ J_x,   J_x = ∂f_θ(x)/∂θ at θ*,   H·v = (2/n) Jᵀ(J v),
 *
 * and the optional KL variant H = (1/n) Σ_x J_xᵀ (diag(q) − q qᵀ) J_x, q = softmax f_θ*(x).
 *
 * Each product is one forward-mode pass (the tangent v pushed through the layers beside the
 * forward pass at θ*, giving u = J v) and one backward pass (u pulled back, giving Jᵀu), both
 * written out by hand per architecture (its gnEngine in src/core/arch/<id>/compute.ts, built on
 * the shared engines ./stack.ts and ./pairs.ts, which return an ./engine.ts Engine): nested
 * tf.grad is silently wrong in tfjs 4.22 (docs/platform.md §1.1), and hand-written passes are
 * also much faster than autodiff. Everything that
 * depends only on θ* and the data (layer inputs and their transposes, ReLU masks, GELU
 * derivatives, softmax probabilities) is computed once when the operator is built and stays on
 * the backend, so an apply is only the tangent work.
 *
 * Layout tricks, all exact:
 * - Biases ride in the matMuls: layer inputs carry a constant-1 column, and the tangent of a
 *   layer is uploaded as one [in+1, out] matrix [Ẇᵀ; ḃ], so z = [h | 1]·[Ẇᵀ; ḃ] and the bias
 *   gradient is the last row of [h | 1]ᵀ·δ. The host builds these tangent matrices from v and
 *   scatters the gradient blocks back into the flat layout (O(d) loops), so the device runs only
 *   matMuls, gathers and masks.
 * - Input columns that are zero on every row (MNIST's border pixels) are dropped from the first
 *   layer: their weights have exactly zero Jacobian.
 * - Modular addition: only p token embeddings exist, so the first-layer tangent of pair (a, b) is
 *   TL[a] + TR[b] with p×h tables (one small matMul per apply), gathered per row. In the backward
 *   pass the first-layer gradient is summed per token before it meets E and W: when the rows are
 *   distinct pairs covering a good part of the p×p grid, by gathering the rows into the grid and
 *   summing its axes; otherwise by a segment sum.
 *
 * wasm facts this is written around (measured here, 1 thread): tf.gather of 2,247 rows of a
 * [106, 256] table took 25 ms, tf.gatherND with [n, 1] indices 0.3 ms; tf.unsortedSegmentSum of
 * [2247, 256] 2.2 ms (a JS kernel), the grid gather plus two axis sums about 1.7 ms; a batched
 * [2, 53, 256]·[2, 256, 128] matMul 3 ms (plain 2-D matMuls instead); ones[1, p]·X as a column sum
 * 2–3 ms when X is new each call (XNNPACK repacks the right operand), so biases ride in the
 * matMuls instead; a matMul with transpose flags is 12–16× slower than a plain one on
 * pre-transposed data (docs/platform.md §1.3).
 *
 * Default sizes on wasm in Node (2 shared cores): modadd (86,197 params, 2,247 pairs) 11–19 ms
 * per product, 272 MFLOP; mnist-mlp (42,310 params, 8,000 digits) 40–50 ms, 1.26 GFLOP, of which
 * the two first-layer matMuls ([8000, 668]·[668, 50] and its transpose) are ~90 %.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import type { ModelBundle } from '../models/bundle';
import { isClassifier, layoutFor, outputDim, type AnyModelConfig } from '../models/config';
import { getArch, getArchSpec } from '../arch/registry';
import '../arch/builtin';
import type { ParamLayout } from '../params';
import { ensureWasmTrainingKernels } from '../train/wasmKernels';
import { residentGn } from '../train/engines';
import { webgpuDevice } from '../backend';
import { openGpuGn, type GnProgram } from '../gpu/gnStack';
import type { Engine, Flat, Named } from './engine';

export interface GnOptions {
  /**
   * 'mse' (default): the behavioral loss of docs/science.md §2, H = (2/n) Σ J_xᵀ J_x.
   * 'kl': H = (1/n) Σ J_xᵀ (diag(q) − q qᵀ) J_x with q = softmax f_θ*(x); classifiers only.
   */
  loss?: 'mse' | 'kl';
  /** Rows per pass. Default: all rows when they fit in one pass, else the largest chunk that does. */
  chunkSize?: number;
  /**
   * The WGSL product (gpu/gnStack.ts, gpu/gnPairs.ts): by default on the webgpu backend's own device when that
   * backend is active and the loss is 'mse'; a GPUDevice to use that one wherever the tfjs passes
   * would run (the resident CPU engine keeps precedence on wasm/cpu); false for the tfjs passes.
   * Where it cannot be had the tfjs passes run and `fallback` says why.
   */
  gpu?: GPUDevice | false;
}

export interface GnOperator {
  /** Parameter count (length of v). */
  d: number;
  /** Number of data rows the operator averages over. */
  n: number;
  /** H·v with v and the result in Float64 (the product itself runs in float32 on the backend). */
  apply(v: Float64Array): Promise<Float64Array>;
  /** H·v into `out` (length d), no result array per product (linalg/operator.ts SymOperator.applyInto). */
  applyInto(v: Float64Array, out: Float64Array): Promise<void>;
  applyF32(v: Float32Array): Promise<Float32Array>;
  /** Releases the tensors held for θ* and the data; the operator cannot be used afterwards. */
  dispose(): void;
  /** Floating-point operations of the matMuls in one apply (2 × multiply-adds). */
  flopsPerApply: number;
  /** Where the products run: the resident CPU engine, the WGSL kernels, or the tfjs passes. */
  engine?: 'resident' | 'wgsl' | 'tfjs';
  /** Why the WGSL product was not used, where it was asked for (explicitly or by the webgpu backend). */
  fallback?: string;
}

/** jacobianDense refuses matrices with more entries than this. */
const MAX_DENSE_JACOBIAN = 2e7;

function checkInputs(config: AnyModelConfig, theta: Float32Array, layout: ParamLayout, dataset: Dataset, rows: Int32Array): void {
  if (theta.length !== layout.size) throw new Error(`θ has ${theta.length} entries, the ${config.arch} layout needs ${layout.size}`);
  if (rows.length === 0) throw new Error('Gauss–Newton operator: no data rows given');
  for (let i = 0; i < rows.length; i++) {
    if (!(rows[i] >= 0 && rows[i] < dataset.n)) throw new Error(`row ${rows[i]} is outside the dataset (0..${dataset.n - 1})`);
  }
  const spec = getArchSpec(config.arch);
  if (spec.tokens) {
    if (!(dataset.x instanceof Int32Array) || dataset.inputDim !== 2) throw new Error(`${config.arch} needs token-pair data (got ${dataset.kind})`);
    const p = spec.tokens.vocab(config);
    for (const r of rows) {
      const a = dataset.x[2 * r], b = dataset.x[2 * r + 1];
      if (a < 0 || a >= p || b < 0 || b >= p) throw new Error(`row ${r} holds tokens (${a}, ${b}) outside 0..${p - 1}`);
    }
  } else {
    const want = spec.inputDim(config);
    if (!(dataset.x instanceof Float32Array) || dataset.inputDim !== want) {
      throw new Error(`${config.arch} needs ${want}-dimensional float inputs (got ${dataset.inputDim}-dimensional ${dataset.kind} data)`);
    }
  }
}

/** The forward pass at θ* and every per-operator constant (the architecture's gnEngine); temporaries are freed. */
function buildEngine(config: AnyModelConfig, theta: Float32Array, layout: ParamLayout, dataset: Dataset, rows: Int32Array, chunkSize?: number): Engine {
  checkInputs(config, theta, layout, dataset, rows);
  const arch = getArch(config.arch);
  const kept: { engine?: Engine } = {};
  tf.tidy(() => {
    const built = arch.gnEngine(config, layout, theta, dataset, rows, chunkSize);
    kept.engine = built;
    return [...built.constants, ...built.outputs]; // kept
  });
  if (!kept.engine) throw new Error(`${config.arch}: gnEngine returned nothing`);
  return kept.engine;
}

/** δ = (diag(q) − q qᵀ) u per row: q ⊙ (u − ⟨q, u⟩). */
function klWeight(u: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor2D {
  const qu = tf.mul(q, u);
  return tf.sub(qu, tf.mul(q, tf.sum(qu, 1, true))) as tf.Tensor2D;
}

/** The operator's machinery, shared with jacobianDense. */
class GnEngine {
  readonly d: number;
  readonly n: number;
  readonly K: number;
  /**
   * The tfjs passes (null while the resident engine does the products: its constants, 50 MiB for
   * MNIST, are then freed and rebuilt only if jvp/vjp are asked for).
   */
  private eng: Engine | null;
  private readonly build: () => Engine;
  private readonly flopsPerApply: number;
  private readonly q: tf.Tensor2D[] | null;
  /** The product in a whole-step engine (train/engines.ts residentGn), where one applies; else the tfjs passes. */
  private readonly resident: ReturnType<typeof residentGn>;
  /** The WGSL product (gpu/gnStack.ts, gpu/gnPairs.ts), when attached. */
  private gpu: GnProgram | null = null;
  private disposed = false;

  constructor(config: AnyModelConfig, theta: Float32Array, dataset: Dataset, rows: Int32Array, kl: boolean, chunkSize?: number) {
    if (kl && !isClassifier(config)) throw new Error(`the KL behavioral loss needs a classifier; ${config.arch} is a regression model`);
    const layout = layoutFor(config);
    // UnsortedSegmentSum (the pair models' fallback path) has no wasm kernel in tfjs 4.22.
    if (tf.getBackend() === 'wasm') ensureWasmTrainingKernels();
    this.build = (): Engine => {
      const e = buildEngine(config, theta, layout, dataset, rows, chunkSize);
      tf.dispose(e.outputs);
      e.outputs = [];
      return e;
    };
    const eng = buildEngine(config, theta, layout, dataset, rows, chunkSize);
    this.flopsPerApply = eng.flops; // the count the bench reports, that of the hand-written tfjs passes
    this.q = kl ? eng.outputs.map((o) => tf.softmax(o) as tf.Tensor2D) : null;
    tf.dispose(eng.outputs);
    eng.outputs = [];
    this.d = layout.size;
    this.n = rows.length;
    this.K = outputDim(config);
    this.resident = kl ? null : residentGn(config, layout, theta, dataset.x, rows);
    if (this.resident) tf.dispose(eng.constants);
    this.eng = this.resident ? null : eng;
  }

  get kind(): 'resident' | 'wgsl' | 'tfjs' {
    return this.resident ? 'resident' : this.gpu ? 'wgsl' : 'tfjs';
  }

  /** Products on the WGSL kernels from now on (the tfjs passes' constants are freed, rebuilt if jvp/vjp are asked for). */
  attachGpu(gpu: GnProgram): void {
    this.gpu = gpu;
    if (this.eng) tf.dispose(this.eng.constants);
    this.eng = null;
  }

  get flops(): number {
    return this.flopsPerApply;
  }

  /** The tfjs passes, rebuilt if the resident engine had them freed. */
  private passes(): Engine {
    return (this.eng ??= this.build());
  }

  private check(len: number, want: number, what: string): void {
    if (this.disposed) throw new Error('Gauss–Newton operator used after dispose()');
    if (len !== want) throw new Error(`${what} has ${len} entries, expected ${want}`);
  }

  /** out = scale · Jᵀ W J v (W = I, or the per-row KL weight). */
  async gn(v: Float32Array, out: Flat, scale: number): Promise<void> {
    this.check(v.length, this.d, 'v');
    if (this.resident) { this.resident.apply(v, out, scale); return; }
    if (this.gpu) { await this.gpu.apply(v, out, scale); return; }
    const eng = this.passes();
    const blocks = tf.tidy(() => {
      const prep = eng.prepare(v);
      let acc: Named | null = null;
      for (let c = 0; c < eng.chunks.length; c++) {
        const prev: Named | null = acc;
        acc = tf.tidy(() => {
          const u = eng.jvp(prep, c);
          const part = eng.vjp(this.q ? klWeight(u, this.q[c]) : u, c);
          if (!prev) return part;
          const sum: Named = {};
          for (const k of Object.keys(part)) sum[k] = tf.add(prev[k], part[k]);
          return sum;
        });
        if (prev) tf.dispose(Object.values(prev));
      }
      return tf.concat(eng.finish(acc as Named).map((t) => tf.reshape(t, [-1])));
    });
    try {
      eng.unpack((await blocks.data()) as Float32Array, out, scale);
    } finally {
      blocks.dispose();
    }
  }

  /** u = J v over all rows, row-major [n, K]. */
  async jvp(v: Float32Array): Promise<Float32Array> {
    this.check(v.length, this.d, 'v');
    const eng = this.passes(), { K } = this;
    const u = tf.tidy(() => {
      const prep = eng.prepare(v);
      return tf.concat(eng.chunks.map((_, c) => eng.jvp(prep, c)), 0);
    });
    const all = (await u.data()) as Float32Array;
    u.dispose();
    const out = new Float32Array(this.n * K);
    let src = 0, dst = 0;
    for (const c of eng.chunks) {
      out.set(all.subarray(src * K, (src + c.rows) * K), dst * K);
      src += c.padded;
      dst += c.rows;
    }
    return out;
  }

  /** Jᵀ u for u row-major [n, K]. */
  async vjp(u: Float32Array): Promise<Float64Array> {
    this.check(u.length, this.n * this.K, 'u');
    const eng = this.passes(), { K } = this;
    const blocks = tf.tidy(() => {
      let start = 0;
      let acc: Named | null = null;
      for (let c = 0; c < eng.chunks.length; c++) {
        const { rows, padded } = eng.chunks[c];
        const delta = new Float32Array(padded * K);
        delta.set(u.subarray(start * K, (start + rows) * K));
        start += rows;
        const part = eng.vjp(tf.tensor2d(delta, [padded, K]), c);
        if (!acc) { acc = part; continue; }
        for (const k of Object.keys(part)) acc[k] = tf.add(acc[k], part[k]);
      }
      return tf.concat(eng.finish(acc as Named).map((t) => tf.reshape(t, [-1])));
    });
    const out = new Float64Array(this.d);
    try {
      eng.unpack((await blocks.data()) as Float32Array, out, 1);
    } finally {
      blocks.dispose();
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.eng) tf.dispose(this.eng.constants);
    if (this.q) tf.dispose(this.q);
    this.gpu?.destroy();
  }
}

/**
 * The Gauss–Newton operator of the behavioral loss of `model` over the given data rows (e.g.
 * dataset.trainIdx). Builds the forward pass at θ* once; each apply is one J v and one Jᵀ u.
 */
export async function gaussNewtonOperator(model: ModelBundle, dataset: Dataset, rows: Int32Array, opts: GnOptions = {}): Promise<GnOperator> {
  const kl = (opts.loss ?? 'mse') === 'kl';
  const engine = new GnEngine(model.config, model.theta, dataset, rows, kl, opts.chunkSize);
  const scale = (kl ? 1 : 2) / rows.length;
  // v in float32 with set(), not Float32Array.from(v) or new Float32Array(v): those took 0.6–1 ms for
  // modadd's 86,197 entries (an iterator, per element), a fifth of a product; set() takes 0.05 ms.
  // The resident engine copies v in before it returns, so its products share one scratch.
  let scratch: Float32Array | null = null;
  const f32 = (v: Float64Array): Float32Array => {
    const s = engine.kind === 'resident' && v.length === engine.d ? (scratch ??= new Float32Array(engine.d)) : new Float32Array(v.length);
    s.set(v);
    return s;
  };
  let fallback: string | undefined;
  const device = opts.gpu === false ? undefined : opts.gpu ?? webgpuDevice();
  if (device && engine.kind === 'tfjs') {
    if (kl) fallback = 'the WGSL product covers the mse behavioral loss only';
    else {
      const got = await openGpuGn(device, model.config, layoutFor(model.config), model.theta, dataset.x, rows);
      if (got.gn) engine.attachGpu(got.gn);
      else fallback = got.reason;
    }
  }
  return {
    d: engine.d,
    n: engine.n,
    flopsPerApply: engine.flops,
    engine: engine.kind,
    fallback,
    async apply(v) {
      const out = new Float64Array(engine.d);
      await engine.gn(f32(v), out, scale);
      return out;
    },
    async applyInto(v, out) {
      if (out.length !== engine.d) throw new Error(`out has ${out.length} entries, expected ${engine.d}`);
      await engine.gn(f32(v), out, scale);
    },
    async applyF32(v) {
      const out = new Float32Array(engine.d);
      await engine.gn(v, out, scale);
      return out;
    },
    dispose: () => engine.dispose(),
  };
}

/**
 * The dense Jacobian J = ∂f_θ(x)/∂θ at θ* over the given rows, row-major [rows·K, d] (row
 * r·K + k is output k of data row rows[r]), in Float64. For small models only (tests, exact
 * small spectra): refuses more than 2e7 entries. Uses d forward-mode passes with unit tangents or
 * rows·K backward passes with unit cotangents, whichever is fewer.
 */
export async function jacobianDense(model: ModelBundle, dataset: Dataset, rows: Int32Array): Promise<Float64Array> {
  const d = layoutFor(model.config).size;
  const m = rows.length * outputDim(model.config);
  if (m * d > MAX_DENSE_JACOBIAN) {
    throw new Error(`a dense Jacobian of ${m.toLocaleString('en-US')} × ${d.toLocaleString('en-US')} is too large (limit ${MAX_DENSE_JACOBIAN.toExponential(0)} entries); use the Gauss–Newton operator instead`);
  }
  const engine = new GnEngine(model.config, model.theta, dataset, rows, false);
  const J = new Float64Array(m * d);
  try {
    if (d <= m) {
      const e = new Float32Array(d);
      for (let j = 0; j < d; j++) {
        e[j] = 1;
        const col = await engine.jvp(e);
        e[j] = 0;
        for (let i = 0; i < m; i++) J[i * d + j] = col[i];
      }
    } else {
      const e = new Float32Array(m);
      for (let i = 0; i < m; i++) {
        e[i] = 1;
        J.set(await engine.vjp(e), i * d);
        e[i] = 0;
      }
    }
  } finally {
    engine.dispose();
  }
  return J;
}
