/**
 * Gauss–Newton products H·v for the behavioral loss (docs/science.md §2, (S1)–(S3)):
 *
 *   H = (2/n) Σ_x J_xᵀ J_x,   J_x = ∂f_θ(x)/∂θ at θ*,   H·v = (2/n) Jᵀ(J v),
 *
 * and the optional KL variant H = (1/n) Σ_x J_xᵀ (diag(q) − q qᵀ) J_x, q = softmax f_θ*(x).
 *
 * Each product is one forward-mode pass (the tangent v pushed through the layers beside the
 * forward pass at θ*, giving u = J v) and one backward pass (u pulled back, giving Jᵀu), both
 * written out by hand per architecture: nested tf.grad is silently wrong in tfjs 4.22
 * (docs/platform.md §1.1), and hand-written passes are also much faster than autodiff. Everything that
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
import { isClassifier, layoutFor, outputDim, type ModelConfig } from '../models/config';
import { slot, type ParamLayout } from '../params';
import { ensureWasmTrainingKernels } from '../train/wasmKernels';

export interface GnOptions {
  /**
   * 'mse' (default): the behavioral loss of docs/science.md §2, H = (2/n) Σ J_xᵀ J_x.
   * 'kl': H = (1/n) Σ J_xᵀ (diag(q) − q qᵀ) J_x with q = softmax f_θ*(x); classifiers only.
   */
  loss?: 'mse' | 'kl';
  /** Rows per pass. Default: all rows when they fit in one pass, else the largest chunk that does. */
  chunkSize?: number;
}

export interface GnOperator {
  /** Parameter count (length of v). */
  d: number;
  /** Number of data rows the operator averages over. */
  n: number;
  /** H·v with v and the result in Float64 (the product itself runs in float32 on the backend). */
  apply(v: Float64Array): Promise<Float64Array>;
  applyF32(v: Float32Array): Promise<Float32Array>;
  /** Releases the tensors held for θ* and the data; the operator cannot be used afterwards. */
  dispose(): void;
  /** Floating-point operations of the matMuls in one apply (2 × multiply-adds). */
  flopsPerApply: number;
}

/** Largest number of float32 values one per-row tensor of a chunk may hold (64 MB). */
const CHUNK_ELEMENTS = 1 << 24;
/** jacobianDense refuses matrices with more entries than this. */
const MAX_DENSE_JACOBIAN = 2e7;

type Named = Record<string, tf.Tensor>;
type Flat = Float32Array | Float64Array;

interface ChunkShape {
  /** Data rows in the chunk. */
  rows: number;
  /** Rows of the chunk's tensors: `rows`, plus placeholder rows whose tangent is always 0. */
  padded: number;
}

/**
 * What an architecture provides: the forward-mode pass (J v) and the backward pass (Jᵀ δ) over
 * chunks of rows, with everything at θ* precomputed.
 */
interface Engine {
  outDim: number;
  chunks: ChunkShape[];
  /** f_θ*(x) per chunk, [padded, outDim] (dropped once the operator is built). */
  outputs: tf.Tensor2D[];
  /** Uploads the tangent v in the shapes the passes use (built on the host). */
  prepare(v: Float32Array): Named;
  /** u = J v for one chunk, [padded, outDim] (placeholder rows are exactly 0). */
  jvp(prep: Named, chunk: number): tf.Tensor2D;
  /** Partial sums of Jᵀ δ for one chunk, summed over chunks and then passed to finish. */
  vjp(delta: tf.Tensor2D, chunk: number): Named;
  /** The gradient blocks that unpack reads, in order. */
  finish(acc: Named): tf.Tensor[];
  /** Writes scale · (the gradient blocks, concatenated flat) into the parameter layout. */
  unpack(blocks: Float32Array, out: Flat, scale: number): void;
  /** Matrix-multiply flops per apply: 2 × multiply-adds. */
  flops: number;
  /** Everything held for θ* and the data. */
  constants: tf.Tensor[];
}

function mm(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
}

function chunkRanges(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

function chunkSizeFor(n: number, widestRow: number, requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1) throw new Error(`chunkSize must be a positive integer (got ${requested})`);
    return Math.min(requested, n);
  }
  return Math.max(1, Math.min(n, Math.floor(CHUNK_ELEMENTS / Math.max(1, widestRow))));
}

// ---------------------------------------------------------------------------------------------
// Dense layer stacks: mnist-mlp (ReLU, biases) and matfac (linear, no biases).
// ---------------------------------------------------------------------------------------------

interface StackLayer {
  /** Weight [out, in] and bias [out] offsets in the flat vector (bias −1 when absent). */
  w: number;
  b: number;
  out: number;
  in: number;
  /** Input columns kept (all for hidden layers; the nonzero ones for the first layer). */
  cols: Int32Array;
}

/**
 * z_l = [h_{l-1} | 1]·Θ_l with Θ_l = [W_lᵀ; b_l] (rows of kept columns), h_l = act(z_l), f = z_L.
 * Forward mode: ż_l = [h_{l-1} | 1]·[Ẇ_lᵀ; ḃ_l] + ḣ_{l-1}·W_lᵀ, ḣ_l = mask_l ⊙ ż_l (ḣ_0 = 0).
 * Backward: [gW_lᵀ; gb_l] = [h_{l-1} | 1]ᵀ·δ_l, δ_{l-1} = mask_{l-1} ⊙ (δ_l·W_l).
 */
function stackEngine(layers: StackLayer[], relu: boolean, theta: Float32Array, xs: Float32Array[], rows: number[]): Engine {
  const L = layers.length;
  const biased = layers.map((l) => l.b >= 0);
  const width = (l: number): number => layers[l].cols.length + (biased[l] ? 1 : 0);
  /** [Ẇᵀ (kept rows); ḃ] of layer l from a flat vector. */
  const augmented = (flat: Float32Array, l: number): Float32Array => {
    const { w, b, out, in: inDim, cols } = layers[l];
    const m = new Float32Array(width(l) * out);
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k];
      for (let r = 0; r < out; r++) m[k * out + r] = flat[w + r * inDim + c];
    }
    if (b >= 0) m.set(flat.subarray(b, b + out), cols.length * out);
    return m;
  };
  const Wt: tf.Tensor2D[] = [], W: tf.Tensor2D[] = [];
  for (let l = 1; l < L; l++) {
    const { w, out, in: inDim } = layers[l];
    W[l] = tf.tensor2d(theta.subarray(w, w + out * inDim), [out, inDim]);
    Wt[l] = tf.transpose(W[l]);
  }
  const thetaAug = layers.map((_, l) => tf.tensor2d(augmented(theta, l), [width(l), layers[l].out]));
  const inputs: tf.Tensor2D[][] = [], inputsT: tf.Tensor2D[][] = [], masks: tf.Tensor2D[][] = [], outputs: tf.Tensor2D[] = [];
  xs.forEach((x, c) => {
    const m = rows[c];
    const hs: tf.Tensor2D[] = [tf.tensor2d(x, [m, width(0)])];
    const ms: tf.Tensor2D[] = [];
    for (let l = 0; l < L; l++) {
      const z = mm(hs[l], thetaAug[l]);
      if (l === L - 1) { outputs.push(z); break; }
      let h: tf.Tensor2D = z;
      if (relu) {
        ms.push(tf.cast(tf.greater(z, 0), 'float32') as tf.Tensor2D);
        h = tf.relu(z);
      }
      hs.push(biased[l + 1] ? tf.concat([h, tf.ones([m, 1])], 1) : h);
    }
    inputs.push(hs);
    inputsT.push(hs.map((h) => tf.transpose(h)));
    masks.push(ms);
  });
  let mac = 0;
  for (const m of rows) {
    for (let l = 0; l < L; l++) {
      const io = layers[l].out * layers[l].in;
      // J v: [h | 1]·[Ẇᵀ; ḃ] (+ ḣ·Wᵀ past the first layer); Jᵀδ: [h | 1]ᵀ·δ (+ δ·W).
      mac += 2 * m * width(l) * layers[l].out + (l > 0 ? 2 * m * io : 0);
    }
  }
  const blockSizes = layers.map((l, i) => width(i) * l.out);
  return {
    outDim: layers[L - 1].out,
    chunks: rows.map((m) => ({ rows: m, padded: m })),
    outputs,
    flops: 2 * mac,
    constants: [...W.slice(1), ...Wt.slice(1), ...inputs.flat(), ...inputsT.flat(), ...masks.flat()],
    prepare(v) {
      const out: Named = {};
      layers.forEach((l, i) => { out[i] = tf.tensor2d(augmented(v, i), [width(i), l.out]); });
      return out;
    },
    jvp(prep, c) {
      let hd: tf.Tensor | null = null;
      let z: tf.Tensor | null = null;
      for (let l = 0; l < L; l++) {
        z = mm(inputs[c][l], prep[l]);
        if (hd) z = tf.add(z, mm(hd, Wt[l]));
        if (l < L - 1) hd = relu ? tf.mul(z, masks[c][l]) : z;
      }
      return z as tf.Tensor2D;
    },
    vjp(delta, c) {
      const out: Named = {};
      let d: tf.Tensor = delta;
      for (let l = L - 1; l >= 0; l--) {
        out[l] = mm(inputsT[c][l], d);
        if (l > 0) {
          d = mm(d, W[l]);
          if (relu) d = tf.mul(d, masks[c][l - 1]);
        }
      }
      return out;
    },
    finish: (acc) => layers.map((_, l) => acc[l]),
    unpack(blocks, out, scale) {
      let o = 0;
      layers.forEach(({ w, b, out: nOut, in: inDim, cols }, l) => {
        for (let k = 0; k < cols.length; k++) {
          const col = cols[k];
          for (let r = 0; r < nOut; r++) out[w + r * inDim + col] = blocks[o + k * nOut + r] * scale;
        }
        if (b >= 0) for (let r = 0; r < nOut; r++) out[b + r] = blocks[o + cols.length * nOut + r] * scale;
        o += blockSizes[l];
      });
    },
  };
}

function buildStack(config: Extract<ModelConfig, { arch: 'mnist-mlp' | 'matfac' }>, layout: ParamLayout, theta: Float32Array, dataset: Dataset, rows: Int32Array, chunkSize?: number): Engine {
  const dim = dataset.inputDim;
  const x = dataset.x as Float32Array;
  const mnist = config.arch === 'mnist-mlp';
  const widths = mnist ? [dim, ...config.hidden, 10] : config.widths;
  // Columns that are nonzero on some row: the others contribute nothing to J.
  const used = new Uint8Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) if (x[r * dim + j] !== 0) used[j] = 1;
  used[0] = 1; // keep at least one column, so no layer has an empty input
  const firstCols = Int32Array.from({ length: dim }, (_, j) => j).filter((j) => used[j]);
  const layers: StackLayer[] = widths.slice(1).map((out, l) => {
    const w = slot(layout, mnist ? `fc${l + 1}.weight` : `layers.${l}.weight`).offset;
    const b = mnist ? slot(layout, `fc${l + 1}.bias`).offset : -1;
    const cols = l === 0 ? firstCols : Int32Array.from({ length: widths[l] }, (_, j) => j);
    return { w, b, out, in: widths[l], cols };
  });
  const w0 = firstCols.length + (mnist ? 1 : 0);
  const size = chunkSizeFor(rows.length, Math.max(w0, ...widths.slice(1)), chunkSize);
  const ranges = chunkRanges(rows.length, size);
  // Kept columns of each chunk's rows, with the constant-1 column when layer 1 has a bias.
  const xs = ranges.map(([s0, s1]) => {
    const m = new Float32Array((s1 - s0) * w0);
    for (let i = s0; i < s1; i++) {
      const src = rows[i] * dim, dst = (i - s0) * w0;
      for (let k = 0; k < firstCols.length; k++) m[dst + k] = x[src + firstCols[k]];
      if (mnist) m[dst + firstCols.length] = 1;
    }
    return m;
  });
  return stackEngine(layers, mnist, theta, xs, ranges.map(([s0, s1]) => s1 - s0));
}

// ---------------------------------------------------------------------------------------------
// Token-pair models: modadd (ReLU; hidden.weight = [W_L | W_R] acting on [E[a] | E[b]], with
// hidden.bias) and modadd-gelu (left.weight = W_L, right.weight = W_R, no bias, GELU).
// ---------------------------------------------------------------------------------------------

/** GELU(z) = z Φ(z) and GELU′(z) = Φ(z) + z φ(z) (exact erf form, as PyTorch's nn.GELU). */
function geluAndDerivative(z: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const Phi = tf.mul(tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))), 0.5);
  const phi = tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return [tf.mul(z, Phi) as tf.Tensor2D, tf.add(Phi, tf.mul(z, phi)) as tf.Tensor2D];
}

/**
 * z(a, b) = E[a] W_Lᵀ + E[b] W_Rᵀ (+ b1), g = act(z), f = [g | 1]·[W2ᵀ; b2].
 * Forward mode: ż(a, b) = TL[a] + TR[b] with the p×h tables
 *   [TLᵀ; TRᵀ] = [W_L  Ẇ_L  ḃ1; W_R  Ẇ_R  0]·[Ėᵀ; Eᵀ; 1]   (one [2h, 2e+1]·[2e+1, p] product),
 * ġ = act′(z) ⊙ ż, u = ġ W2ᵀ + [g | 1]·[Ẇ2ᵀ; ḃ2].
 * Backward: [gW2ᵀ; gb2] = [g | 1]ᵀ δ; δz = act′(z) ⊙ (δ W2); GA[t] = Σ_{a=t} δz, GB[t] = Σ_{b=t} δz;
 * [gW_Lᵀ | gW_Rᵀ; gb1 | ·] = [E | 1]ᵀ·[GA | GB]; gE = [GA | GB]·[W_L; W_R].
 */
function buildPairs(config: Extract<ModelConfig, { arch: 'modadd' | 'modadd-gelu' }>, layout: ParamLayout, theta: Float32Array, dataset: Dataset, rows: Int32Array, chunkSize?: number): Engine {
  const { p, e, h } = config;
  const relu = config.arch === 'modadd';
  const bias = relu ? 1 : 0;
  const offE = slot(layout, 'embed.weight').offset;
  const offW2 = slot(layout, 'out.weight').offset;
  const offB2 = slot(layout, 'out.bias').offset;
  const offB1 = relu ? slot(layout, 'hidden.bias').offset : -1;
  /** Offset of W_s[i, k] (s = 0 left, 1 right) in the flat vector. */
  const wAt: (s: number, i: number, k: number) => number = relu
    ? ((o) => (s, i, k) => o + i * 2 * e + s * e + k)(slot(layout, 'hidden.weight').offset)
    : ((oL, oR) => (s, i, k) => (s === 0 ? oL : oR) + i * e + k)(slot(layout, 'left.weight').offset, slot(layout, 'right.weight').offset);
  const E = theta.subarray(offE, offE + p * e);
  const tw = 2 * e + bias; // inner width of the table product
  /** Left factor of the tables, [2h, 2e+bias]: row s·h+i = [W_s[i] | Ẇ_s[i] | ḃ1[i] if s = 0]. */
  const tableLeft = (v: Float32Array): Float32Array => {
    const m = new Float32Array(2 * h * tw);
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < h; i++) {
        const row = (s * h + i) * tw;
        for (let k = 0; k < e; k++) {
          m[row + k] = theta[wAt(s, i, k)];
          m[row + e + k] = v[wAt(s, i, k)];
        }
        if (bias && s === 0) m[row + 2 * e] = v[offB1 + i];
      }
    }
    return m;
  };
  /** Right factor of the tables, [2e+bias, p] = [Ėᵀ; Eᵀ; 1]. */
  const tableRight = (v: Float32Array): Float32Array => {
    const m = new Float32Array(tw * p);
    for (let t = 0; t < p; t++) {
      for (let k = 0; k < e; k++) {
        m[k * p + t] = v[offE + t * e + k];
        m[(e + k) * p + t] = E[t * e + k];
      }
      if (bias) m[2 * e * p + t] = 1;
    }
    return m;
  };
  /** [W2ᵀ; b2] [h+1, p]. */
  const outT = (flat: Float32Array): Float32Array => {
    const m = new Float32Array((h + 1) * p);
    for (let r = 0; r < p; r++) for (let i = 0; i < h; i++) m[i * p + r] = flat[offW2 + r * h + i];
    m.set(flat.subarray(offB2, offB2 + p), h * p);
    return m;
  };
  /** [E | 1]ᵀ [e+bias, p]. */
  const eOneT = new Float32Array((e + bias) * p);
  for (let t = 0; t < p; t++) {
    for (let k = 0; k < e; k++) eOneT[k * p + t] = E[t * e + k];
    if (bias) eOneT[e * p + t] = 1;
  }
  /** [W_L; W_R] [2h, e]. */
  const wStack = new Float32Array(2 * h * e);
  for (let s = 0; s < 2; s++) for (let i = 0; i < h; i++) for (let k = 0; k < e; k++) wStack[(s * h + i) * e + k] = theta[wAt(s, i, k)];

  const EOneT = tf.tensor2d(eOneT, [e + bias, p]);
  const WStack = tf.tensor2d(wStack, [2 * h, e]);
  const W2 = tf.tensor2d(theta.subarray(offW2, offW2 + p * h), [p, h]);
  const W2t = tf.transpose(W2);
  /** [TL | TR] as [2p, h] (row 2t: TL[t], row 2t+1: TR[t]) from the table factors. */
  const tables = (left: Float32Array, right: Float32Array): tf.Tensor2D =>
    tf.reshape(tf.transpose(mm(tf.tensor2d(left, [2 * h, tw]), tf.tensor2d(right, [tw, p]))), [2 * p, h]);
  // At θ*: the tangent slots carry θ* itself and the Ė rows are zero, which gives E W_sᵀ (+ b1).
  const table0 = tables(tableLeft(theta).map((x, j) => (j % tw < e ? 0 : x)), tableRight(theta).map((x, j) => (j < e * p ? 0 : x)));
  const out0 = tf.tensor2d(outT(theta), [h + 1, p]);

  const size = chunkSizeFor(rows.length, Math.max(h + 1, p), chunkSize);
  const ranges = chunkRanges(rows.length, size);
  const chunks: ChunkShape[] = [];
  const ia: tf.Tensor2D[] = [], ib: tf.Tensor2D[] = [], deriv: tf.Tensor2D[] = [], actAug: tf.Tensor2D[] = [], actAugT: tf.Tensor2D[] = [];
  const grid: (tf.Tensor2D | null)[] = [], ta: (tf.Tensor1D | null)[] = [], tb: (tf.Tensor1D | null)[] = [];
  const outputs: tf.Tensor2D[] = [];
  const x = dataset.x as Int32Array;
  for (const [s0, s1] of ranges) {
    const m = s1 - s0;
    // Grid path when the rows are distinct pairs filling a good part of the p×p grid (and the
    // [p², h] grid fits a chunk's budget): one placeholder row (index m, tangent always 0)
    // stands for the absent pairs.
    const slotOf = new Int32Array(p * p).fill(-1);
    let distinct = true;
    for (let i = s0; i < s1; i++) {
      const cell = x[2 * rows[i]] * p + x[2 * rows[i] + 1];
      if (slotOf[cell] >= 0) distinct = false;
      slotOf[cell] = i - s0;
    }
    const useGrid = distinct && 4 * m >= p * p && p * p * h <= CHUNK_ELEMENTS;
    const padded = m + (useGrid ? 1 : 0);
    chunks.push({ rows: m, padded });
    const a2 = new Int32Array(padded), b2 = new Int32Array(padded);
    const a = new Int32Array(m), b = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      a[i] = x[2 * rows[s0 + i]]; b[i] = x[2 * rows[s0 + i] + 1];
      a2[i] = 2 * a[i]; b2[i] = 2 * b[i] + 1;
    }
    if (useGrid) {
      a2[m] = 0; b2[m] = 1;
      grid.push(tf.tensor2d(slotOf.map((r) => (r < 0 ? m : r)), [p * p, 1], 'int32'));
      ta.push(null); tb.push(null);
    } else {
      grid.push(null);
      ta.push(tf.tensor1d(a, 'int32')); tb.push(tf.tensor1d(b, 'int32'));
    }
    const ci = ia.length;
    ia.push(tf.tensor2d(a2, [padded, 1], 'int32'));
    ib.push(tf.tensor2d(b2, [padded, 1], 'int32'));
    const z = tf.add(tf.gatherND(table0, ia[ci]), tf.gatherND(table0, ib[ci])) as tf.Tensor2D;
    let [g, dg] = relu ? [tf.relu(z), tf.cast(tf.greater(z, 0), 'float32') as tf.Tensor2D] : geluAndDerivative(z);
    const valid = tf.tensor2d(Float32Array.from({ length: padded }, (_, i) => (i < m ? 1 : 0)), [padded, 1]);
    if (useGrid) { g = tf.mul(g, valid); dg = tf.mul(dg, valid); }
    deriv.push(dg);
    actAug.push(tf.concat([g, valid], 1));
    actAugT.push(tf.transpose(actAug[ci]));
    outputs.push(mm(actAug[ci], out0));
  }
  // Tables, then per chunk u = ġ W2ᵀ + [g | 1]·[Ẇ2ᵀ; ḃ2] and [g | 1]ᵀ δ, δ W2, then the finish.
  let mac = 2 * h * tw * p + (e + bias) * p * 2 * h + p * 2 * h * e;
  for (const c of chunks) mac += 2 * c.padded * (2 * h + 1) * p;
  const sizeF1 = (e + bias) * 2 * h, sizeF2 = p * e;
  return {
    outDim: p,
    chunks,
    outputs,
    flops: 2 * mac,
    constants: [EOneT, WStack, W2, W2t, ...ia, ...ib, ...deriv, ...actAug, ...actAugT,
      ...grid.filter((t): t is tf.Tensor2D => t !== null), ...ta.filter((t): t is tf.Tensor1D => t !== null), ...tb.filter((t): t is tf.Tensor1D => t !== null)],
    prepare(v) {
      return { table: tables(tableLeft(v), tableRight(v)), out: tf.tensor2d(outT(v), [h + 1, p]) };
    },
    jvp(prep, c) {
      const zd = tf.add(tf.gatherND(prep.table, ia[c]), tf.gatherND(prep.table, ib[c]));
      return tf.add(mm(tf.mul(zd, deriv[c]), W2t), mm(actAug[c], prep.out)) as tf.Tensor2D;
    },
    vjp(delta, c) {
      const dz = tf.mul(mm(delta, W2), deriv[c]);
      let GA: tf.Tensor, GB: tf.Tensor;
      const gi = grid[c];
      if (gi) {
        // Cell a·p + b of the grid holds row (a, b); absent pairs read the placeholder's zero row.
        const cells = tf.reshape(tf.gatherND(dz, gi), [p, p, h]);
        GA = tf.sum(cells, 1);
        GB = tf.sum(cells, 0);
      } else {
        GA = tf.unsortedSegmentSum(dz, ta[c] as tf.Tensor1D, p);
        GB = tf.unsortedSegmentSum(dz, tb[c] as tf.Tensor1D, p);
      }
      return { out: mm(actAugT[c], delta), S: tf.concat([GA, GB], 1) };
    },
    finish(acc) {
      const S = acc.S as tf.Tensor2D; // [p, 2h] = [GA | GB]
      return [mm(EOneT, S), mm(S, WStack), acc.out];
    },
    unpack(blocks, out, scale) {
      // F1 [e+bias, 2h]: F1[k, s·h + i] = gW_s[i, k] for k < e; F1[e, i] = gb1[i] (i < h).
      for (let s = 0; s < 2; s++) {
        for (let k = 0; k < e; k++) {
          const row = k * 2 * h + s * h;
          for (let i = 0; i < h; i++) out[wAt(s, i, k)] = blocks[row + i] * scale;
        }
      }
      if (relu) for (let i = 0; i < h; i++) out[offB1 + i] = blocks[e * 2 * h + i] * scale;
      // F2 [p, e] = GA W_L + GB W_R.
      for (let j = 0; j < p * e; j++) out[offE + j] = blocks[sizeF1 + j] * scale;
      // [gW2ᵀ; gb2] [h+1, p].
      const o = sizeF1 + sizeF2;
      for (let i = 0; i < h; i++) for (let r = 0; r < p; r++) out[offW2 + r * h + i] = blocks[o + i * p + r] * scale;
      for (let r = 0; r < p; r++) out[offB2 + r] = blocks[o + h * p + r] * scale;
    },
  };
}

// ---------------------------------------------------------------------------------------------

function checkInputs(config: ModelConfig, theta: Float32Array, layout: ParamLayout, dataset: Dataset, rows: Int32Array): void {
  if (theta.length !== layout.size) throw new Error(`θ has ${theta.length} entries, the ${config.arch} layout needs ${layout.size}`);
  if (rows.length === 0) throw new Error('Gauss–Newton operator: no data rows given');
  for (let i = 0; i < rows.length; i++) {
    if (!(rows[i] >= 0 && rows[i] < dataset.n)) throw new Error(`row ${rows[i]} is outside the dataset (0..${dataset.n - 1})`);
  }
  if (config.arch === 'modadd' || config.arch === 'modadd-gelu') {
    if (!(dataset.x instanceof Int32Array) || dataset.inputDim !== 2) throw new Error(`${config.arch} needs token-pair data (got ${dataset.kind})`);
    for (const r of rows) {
      const a = dataset.x[2 * r], b = dataset.x[2 * r + 1];
      if (a < 0 || a >= config.p || b < 0 || b >= config.p) throw new Error(`row ${r} holds tokens (${a}, ${b}) outside 0..${config.p - 1}`);
    }
  } else {
    const want = config.arch === 'mnist-mlp' ? 784 : config.widths[0];
    if (!(dataset.x instanceof Float32Array) || dataset.inputDim !== want) {
      throw new Error(`${config.arch} needs ${want}-dimensional float inputs (got ${dataset.inputDim}-dimensional ${dataset.kind} data)`);
    }
  }
}

/** The forward pass at θ* and every per-operator constant; temporaries are freed. */
function buildEngine(config: ModelConfig, theta: Float32Array, layout: ParamLayout, dataset: Dataset, rows: Int32Array, chunkSize?: number): Engine {
  checkInputs(config, theta, layout, dataset, rows);
  let eng: Engine | null = null;
  tf.tidy(() => {
    const built = config.arch === 'modadd' || config.arch === 'modadd-gelu'
      ? buildPairs(config, layout, theta, dataset, rows, chunkSize)
      : buildStack(config, layout, theta, dataset, rows, chunkSize);
    eng = built;
    return [...built.constants, ...built.outputs]; // kept
  });
  return eng as unknown as Engine;
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
  private readonly eng: Engine;
  private readonly q: tf.Tensor2D[] | null;
  private disposed = false;

  constructor(config: ModelConfig, theta: Float32Array, dataset: Dataset, rows: Int32Array, kl: boolean, chunkSize?: number) {
    if (kl && !isClassifier(config)) throw new Error(`the KL behavioral loss needs a classifier; ${config.arch} is a regression model`);
    const layout = layoutFor(config);
    // UnsortedSegmentSum (the pair models' fallback path) has no wasm kernel in tfjs 4.22.
    if (tf.getBackend() === 'wasm') ensureWasmTrainingKernels();
    this.eng = buildEngine(config, theta, layout, dataset, rows, chunkSize);
    this.q = kl ? this.eng.outputs.map((o) => tf.softmax(o) as tf.Tensor2D) : null;
    tf.dispose(this.eng.outputs);
    this.eng.outputs = [];
    this.d = layout.size;
    this.n = rows.length;
    this.K = outputDim(config);
  }

  get flops(): number {
    return this.eng.flops;
  }

  private check(len: number, want: number, what: string): void {
    if (this.disposed) throw new Error('Gauss–Newton operator used after dispose()');
    if (len !== want) throw new Error(`${what} has ${len} entries, expected ${want}`);
  }

  /** out = scale · Jᵀ W J v (W = I, or the per-row KL weight). */
  async gn(v: Float32Array, out: Flat, scale: number): Promise<void> {
    this.check(v.length, this.d, 'v');
    const { eng } = this;
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
    const { eng, K } = this;
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
    const { eng, K } = this;
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
    tf.dispose(this.eng.constants);
    if (this.q) tf.dispose(this.q);
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
  return {
    d: engine.d,
    n: engine.n,
    flopsPerApply: engine.flops,
    async apply(v) {
      const out = new Float64Array(engine.d);
      await engine.gn(Float32Array.from(v), out, scale);
      return out;
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
