/**
 * Synchronized-neuron blocks from pairwise pattern statistics (docs/science.md §6; degeneracy paper
 * eq. 14–20): the types of a sync analysis and the pure re-grouping the views call as the
 * tolerance slider moves (no tfjs here, so the page can import it).
 */
import { eighSync } from '../linalg/eigh';
import type { JobContext } from '../jobs';

export type SyncMeasure = 'fraction' | 'eq17';

export interface SyncOptions {
  /** Approximate-synchrony tolerance (default 0: exact blocks). */
  tol?: number;
  measure?: SyncMeasure;
  /** Relative singular-value tolerance for s_a (eq. 19): σ > rankTol·σ_max counts (default 1e-4). */
  rankTol?: number;
  ctx?: JobContext;
}

/** What `regroup` needs, computed once per layer. Each matrix is width × width, row-major. */
export interface SyncPairData {
  /** #{x : r_i(x) ≠ r_j(x)} (symmetric). */
  disagreements: Int32Array;
  /** e(i ← j) = (1/n) Σ_{x: r_i ≠ r_j} p_j(x)² at [i·w + j] (eq. 17 pair terms; not symmetric). */
  eq17: Float64Array;
  /** (1/n) Σ_x p_i(x)². */
  meanSquare: Float64Array;
  /** (1/n) Σ_x p_i(x) p_j(x): the preactivation Gram the block ranks s_a come from. */
  preGram: Float64Array;
}

export interface SyncLayer {
  /** "hidden" (modadd) or "fc1", "fc2", … (mnist-mlp): the layer whose preactivations these are. */
  name: string;
  width: number;
  /** Blocks S_a (neuron indices ascending), ordered by size (desc), then firing fraction (desc). */
  blocks: number[][];
  /** s_a (eq. 19), one per block. */
  blockRanks: number[];
  /** |r_a|² of eq. 17 (corrected indices, see SyncMeasure) per block, in preactivation² units. */
  blockMeasure: number[];
  /** N = Σ_a s_a² (eq. 20). */
  freeDirections: number;
  /** Neurons that never fire on the data. */
  dead: number[];
  /** Neurons that fire on every row. */
  alwaysOn: number[];
  /**
   * Firing patterns, ONE BYTE PER ENTRY (0/1), neuron-major: patterns[i·n + r] = r_i(x_{rows[r]}),
   * i.e. [width × n]. (Bit-packed copies are used internally for the pair counts.)
   */
  patterns: Uint8Array;
  /** Fraction of rows on which each neuron fires. */
  firingFraction: Float32Array;
  /** Neurons in raster order: block by block as in `blocks`. */
  neuronOrder: Int32Array;
  /** Index of the block of each neuron. */
  blockOf: Int32Array;
  pairs: SyncPairData;
}

export interface SyncResult {
  layers: SyncLayer[];
  /** Data rows analysed (count), in the order of the pattern columns. */
  n: number;
  rows: Int32Array;
  tol: number;
  measure: SyncMeasure;
  rankTol: number;
  /**
   * Permutations of 0..n−1 (positions into `rows`) for sorting the raster's data axis:
   * modular addition: 'a', 'b' (token, then the other token) and 'sum' ((a+b) mod p, then a);
   * classifiers: 'label'.
   */
  pointOrders: Record<string, Int32Array>;
  /** Why there are no layers (architectures without ReLU), or other remarks. */
  note?: string;
  timings: Record<string, number>;
}



/** Neighbour test for a pair under a measure and tolerance. */
function pairWithin(pd: SyncPairData, w: number, n: number, i: number, j: number, tol: number, measure: SyncMeasure): boolean {
  if (measure === 'fraction') return pd.disagreements[i * w + j] <= Math.floor(tol * n + 1e-9);
  if (pd.disagreements[i * w + j] === 0) return true;
  const mi = pd.meanSquare[i], mj = pd.meanSquare[j];
  const eij = mj > 0 ? pd.eq17[i * w + j] / mj : 0; // ẽ(i ← j)
  const eji = mi > 0 ? pd.eq17[j * w + i] / mi : 0; // ẽ(j ← i)
  return Math.max(eij, eji) <= tol;
}

/** Greedy-representative clustering (see the module comment). Blocks come back unsorted. */
function clusterBlocks(pd: SyncPairData, w: number, n: number, tol: number, measure: SyncMeasure): number[][] {
  const adj: number[][] = Array.from({ length: w }, () => []);
  for (let i = 0; i < w; i++) {
    for (let j = i + 1; j < w; j++) {
      if (pairWithin(pd, w, n, i, j, tol, measure)) { adj[i].push(j); adj[j].push(i); }
    }
  }
  const deg = Int32Array.from(adj, (a) => a.length);
  const assigned = new Uint8Array(w);
  const blocks: number[][] = [];
  let left = w;
  while (left > 0) {
    let lead = -1;
    for (let i = 0; i < w; i++) if (!assigned[i] && (lead < 0 || deg[i] > deg[lead])) lead = i;
    const block = [lead];
    for (const j of adj[lead]) if (!assigned[j]) block.push(j);
    for (const j of block) assigned[j] = 1;
    for (const j of block) for (const k of adj[j]) deg[k]--;
    left -= block.length;
    block.sort((a, b) => a - b);
    blocks.push(block);
  }
  return blocks;
}

/** s_a: numerical rank of the block's preactivation Gram (eq. 19), Float64. */
export function blockRank(preGram: Float64Array, w: number, block: readonly number[], rankTol: number): number {
  const m = block.length;
  const sub = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) sub[a * m + b] = preGram[block[a] * w + block[b]];
  const ev = m === 1 ? Float64Array.of(sub[0]) : eighSync(sub, m, { vectors: false }).values;
  const top = ev[0];
  if (!(top > 0)) return 0;
  // σ_k > rankTol·σ_max  ⇔  λ_k > rankTol²·λ_max (λ = σ² of the data matrix / n).
  const cut = rankTol * rankTol * top;
  let r = 0;
  for (const v of ev) if (v > cut) r++;
  return r;
}

/** Blocks, ranks, measures and raster order of a layer for a tolerance (the part `regroup` redoes). */
export function grouping(pd: SyncPairData, w: number, n: number, firing: Float32Array, tol: number, measure: SyncMeasure, rankTol: number) {
  const raw = clusterBlocks(pd, w, n, tol, measure);
  const meanFire = (b: number[]) => b.reduce((s, i) => s + firing[i], 0) / b.length;
  raw.sort((x, y) => y.length - x.length || meanFire(y) - meanFire(x) || x[0] - y[0]);
  const blockRanks = raw.map((b) => blockRank(pd.preGram, w, b, rankTol));
  const blockMeasure = raw.map((b) => {
    let s = 0;
    for (const i of b) for (const j of b) if (i !== j) s += pd.eq17[i * w + j];
    return s;
  });
  const neuronOrder = Int32Array.from(raw.flat());
  const blockOf = new Int32Array(w);
  raw.forEach((b, a) => { for (const i of b) blockOf[i] = a; });
  return { blocks: raw, blockRanks, blockMeasure, freeDirections: blockRanks.reduce((s, r) => s + r * r, 0), neuronOrder, blockOf };
}

/**
 * Blocks for a new tolerance (and optionally another measure) from the kept pair data, without a
 * forward pass: O(width²) for the neighbour graph plus one small eigensolve per block. Patterns,
 * firing fractions and pair data are shared with `result` (not copied).
 */
export function regroup(result: SyncResult, tol: number, measure: SyncMeasure = result.measure): SyncResult {
  if (!(tol >= 0)) throw new RangeError(`sync tolerance must be ≥ 0 (got ${tol})`);
  const layers = result.layers.map((L) => ({ ...L, ...grouping(L.pairs, L.width, result.n, L.firingFraction, tol, measure, result.rankTol) }));
  return { ...result, tol, measure, layers };
}
