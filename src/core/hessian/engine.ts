/**
 * The shape of a hand-written Gauss–Newton pass pair (hessian/gn.ts): what each architecture's
 * `gnEngine` (src/core/arch/<id>/compute.ts) returns, and the small helpers they share. The
 * engines themselves: ./stack.ts (dense layer stacks), ./pairs.ts (token-pair models).
 */
import * as tf from '@tensorflow/tfjs';

/** Largest number of float32 values one per-row tensor of a chunk may hold (64 MB). */
export const CHUNK_ELEMENTS = 1 << 24;

export type Named = Record<string, tf.Tensor>;
export type Flat = Float32Array | Float64Array;

export interface ChunkShape {
  /** Data rows in the chunk. */
  rows: number;
  /** Rows of the chunk's tensors: `rows`, plus placeholder rows whose tangent is always 0. */
  padded: number;
}

/**
 * What an architecture provides: the forward-mode pass (J v) and the backward pass (Jᵀ δ) over
 * chunks of rows, with everything at θ* precomputed.
 */
export interface Engine {
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

export function mm(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
}

/** [start, end) ranges of `size` rows covering 0..n. */
export function chunkRanges(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

/** Rows per chunk: the requested size, or as many as keep a [rows, widestRow] tensor within CHUNK_ELEMENTS. */
export function chunkSizeFor(n: number, widestRow: number, requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1) throw new Error(`chunkSize must be a positive integer (got ${requested})`);
    return Math.min(requested, n);
  }
  return Math.max(1, Math.min(n, Math.floor(CHUNK_ELEMENTS / Math.max(1, widestRow))));
}
