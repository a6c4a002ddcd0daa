/**
 * Gauss–Newton passes for dense layer stacks (mnist-mlp: ReLU with biases; matfac: linear, no
 * biases). Layout tricks (hessian/gn.ts): biases ride in the matMuls as a constant-1 input
 * column, and input columns that are zero on every row (MNIST's border pixels) are dropped from
 * the first layer, since their weights have exactly zero Jacobian.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import { slot, type ParamLayout } from '../params';
import { chunkRanges, chunkSizeFor, mm, type Engine, type Named } from './engine';

export interface StackLayer {
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
export function stackEngine(layers: StackLayer[], relu: boolean, theta: Float32Array, xs: Float32Array[], rows: number[]): Engine {
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

/** A dense stack: widths [in, h1, …, out], layer l's weight (and bias) tensor names, ReLU or linear hidden layers. */
export interface DenseStack {
  widths: number[];
  weight(l: number): string;
  /** The bias tensor of layer l, or null for bias-free layers (all layers alike). */
  bias(l: number): string | null;
  relu: boolean;
}

/** The engine of a dense stack on float rows of `dataset` (the zero input columns dropped). */
export function denseStackEngine(net: DenseStack, layout: ParamLayout, theta: Float32Array, dataset: Dataset, rows: Int32Array, chunkSize?: number): Engine {
  const dim = dataset.inputDim;
  const x = dataset.x as Float32Array;
  const { widths } = net;
  const biased = net.bias(0) !== null;
  // Columns that are nonzero on some row: the others contribute nothing to J.
  const used = new Uint8Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) if (x[r * dim + j] !== 0) used[j] = 1;
  used[0] = 1; // keep at least one column, so no layer has an empty input
  const firstCols = Int32Array.from({ length: dim }, (_, j) => j).filter((j) => used[j]);
  const layers: StackLayer[] = widths.slice(1).map((out, l) => {
    const w = slot(layout, net.weight(l)).offset;
    const bName = net.bias(l);
    const b = bName !== null ? slot(layout, bName).offset : -1;
    const cols = l === 0 ? firstCols : Int32Array.from({ length: widths[l] }, (_, j) => j);
    return { w, b, out, in: widths[l], cols };
  });
  const w0 = firstCols.length + (biased ? 1 : 0);
  const size = chunkSizeFor(rows.length, Math.max(w0, ...widths.slice(1)), chunkSize);
  const ranges = chunkRanges(rows.length, size);
  // Kept columns of each chunk's rows, with the constant-1 column when layer 1 has a bias.
  const xs = ranges.map(([s0, s1]) => {
    const m = new Float32Array((s1 - s0) * w0);
    for (let i = s0; i < s1; i++) {
      const src = rows[i] * dim, dst = (i - s0) * w0;
      for (let k = 0; k < firstCols.length; k++) m[dst + k] = x[src + firstCols[k]];
      if (biased) m[dst + firstCols.length] = 1;
    }
    return m;
  });
  return stackEngine(layers, net.relu, theta, xs, ranges.map(([s0, s1]) => s1 - s0));
}
