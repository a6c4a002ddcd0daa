/**
 * Gauss–Newton passes for token-pair models (modadd: ReLU, hidden.weight = [W_L | W_R] acting on
 * [E[a] | E[b]], with hidden.bias; modadd-gelu: left.weight = W_L, right.weight = W_R, no bias,
 * GELU). Only p token embeddings exist, so the first-layer tangent of pair (a, b) is
 * TL[a] + TR[b] with p×h tables (one small matMul per apply), gathered per row. In the backward
 * pass the first-layer gradient is summed per token before it meets E and W: when the rows are
 * distinct pairs covering a good part of the p×p grid, by gathering the rows into the grid and
 * summing its axes; otherwise by a segment sum (hessian/gn.ts has the measurements behind this).
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import { fusedPairSums, geluWithDerivative } from '../train/wasmKernels';
import { CHUNK_ELEMENTS, chunkRanges, chunkSizeFor, mm, type ChunkShape, type Engine } from './engine';

/** Where a token-pair model's tensors sit in θ, and its hidden nonlinearity. */
export interface PairNet {
  p: number;
  e: number;
  h: number;
  activation: 'relu' | 'gelu';
  /** Offsets of embed [p, e], out weight [p, h] and out bias [p]; hidden bias [h] (−1 when absent). */
  offE: number;
  offW2: number;
  offB2: number;
  offB1: number;
  /** Offset of W_s[i, k] (s = 0 left, 1 right) in the flat vector. */
  wAt(s: number, i: number, k: number): number;
}

/**
 * z(a, b) = E[a] W_Lᵀ + E[b] W_Rᵀ (+ b1), g = act(z), f = [g | 1]·[W2ᵀ; b2].
 * Forward mode: ż(a, b) = TL[a] + TR[b] with the p×h tables
 *   [TLᵀ; TRᵀ] = [W_L  Ẇ_L  ḃ1; W_R  Ẇ_R  0]·[Ėᵀ; Eᵀ; 1]   (one [2h, 2e+1]·[2e+1, p] product),
 * ġ = act′(z) ⊙ ż, u = ġ W2ᵀ + [g | 1]·[Ẇ2ᵀ; ḃ2].
 * Backward: [gW2ᵀ; gb2] = [g | 1]ᵀ δ; δz = act′(z) ⊙ (δ W2); GA[t] = Σ_{a=t} δz, GB[t] = Σ_{b=t} δz;
 * [gW_Lᵀ | gW_Rᵀ; gb1 | ·] = [E | 1]ᵀ·[GA | GB]; gE = [GA | GB]·[W_L; W_R].
 */
export function pairsEngine(net: PairNet, theta: Float32Array, dataset: Dataset, rows: Int32Array, chunkSize?: number): Engine {
  const { p, e, h, offE, offW2, offB2, offB1 } = net;
  const relu = net.activation === 'relu';
  const bias = offB1 >= 0 ? 1 : 0;
  const wAt = (s: number, i: number, k: number): number => net.wAt(s, i, k);
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
  /** Per chunk, the token pair of each (padded) row for the fused per-token sums (placeholder row: 0, 0; its dz is 0). */
  const px: tf.Tensor2D[] = [];
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
    const pairs = new Int32Array(2 * padded);
    for (let i = 0; i < m; i++) { pairs[2 * i] = a[i]; pairs[2 * i + 1] = b[i]; }
    px.push(tf.tensor2d(pairs, [padded, 2], 'int32'));
    const ci = ia.length;
    ia.push(tf.tensor2d(a2, [padded, 1], 'int32'));
    ib.push(tf.tensor2d(b2, [padded, 1], 'int32'));
    const z = tf.add(tf.gatherND(table0, ia[ci]), tf.gatherND(table0, ib[ci])) as tf.Tensor2D;
    // GELU and GELU′ (exact erf form, as PyTorch's nn.GELU) from the shared fused kernel.
    const gelu = relu ? null : geluWithDerivative(z);
    let [g, dg] = gelu ? [gelu.act as tf.Tensor2D, gelu.derivative() as tf.Tensor2D] : [tf.relu(z), tf.cast(tf.greater(z, 0), 'float32') as tf.Tensor2D];
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
    constants: [EOneT, WStack, W2, W2t, ...ia, ...ib, ...px, ...deriv, ...actAug, ...actAugT,
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
      const fusedS = fusedPairSums(dz as tf.Tensor2D, px[c], p);
      if (fusedS) return { out: mm(actAugT[c], delta), S: fusedS };
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
      if (bias) for (let i = 0; i < h; i++) out[offB1 + i] = blocks[e * 2 * h + i] * scale;
      // F2 [p, e] = GA W_L + GB W_R.
      for (let j = 0; j < p * e; j++) out[offE + j] = blocks[sizeF1 + j] * scale;
      // [gW2ᵀ; gb2] [h+1, p].
      const o = sizeF1 + sizeF2;
      for (let i = 0; i < h; i++) for (let r = 0; r < p; r++) out[offW2 + r * h + i] = blocks[o + i * p + r] * scale;
      for (let r = 0; r < p; r++) out[offB2 + r] = blocks[o + h * p + r] * scale;
    },
  };
}
