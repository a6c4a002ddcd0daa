/**
 * Synchronized ReLU neurons (seed 000 §3.2, eq. 14–20; docs/science.md §6, (S18)–(S19)).
 *
 * For every ReLU layer, over the given data rows:
 * - firing patterns r_i(x) = [p_i(x) > 0] (eq. 14 for ReLU: r = f/p when p ≠ 0; we record the
 *   0/1 pattern, counting p = 0 as "off"),
 * - blocks S_a of synchronized neurons: exactly (identical patterns on every row) or approximately
 *   under a tolerance (see `SyncMeasure`),
 * - s_a = dim span{p_k | k ∈ S_a} over the data (eq. 19), the numerical rank of the block's
 *   uncentred preactivation Gram (1/n) Σ_x p_S(x) p_S(x)ᵀ, by a Float64 eigensolve: s_a counts
 *   singular values σ > rankTol · σ_max of the block,
 * - the free directions N = Σ_a s_a² (eq. 20; singletons give the usual ReLU rescaling, 1 each),
 * - dead neurons (never fire on the data) and always-on neurons (fire on every row: linear there).
 *
 * Which layers: `modadd` has one ReLU layer ("hidden"), `mnist-mlp` one per hidden layer ("fc1",
 * "fc2", …). `modadd-gelu` (GELU is smooth: no firing patterns) and `matfac` (no nonlinearity)
 * have none; their result has no layers and says so in `note`.
 *
 * Clustering (deterministic): "greedy around representatives". Two neurons are neighbours when
 * their pair measure is ≤ tol. Repeatedly, the unassigned neuron with the most unassigned
 * neighbours (ties: lowest index) becomes a representative, and it and all its unassigned
 * neighbours form a block. At tol = 0 with the 'fraction' measure the relation is an equivalence
 * (identical patterns) and the blocks are exactly its classes. Caveat: approximate synchrony is
 * NOT transitive — every member is within tol of its representative, not necessarily of every
 * other member (with 'fraction', a metric, members are within 2·tol of each other), and a
 * different tie order could give different blocks. Single linkage (union–find) would instead chain
 * arbitrarily distant neurons through intermediates; we avoid that.
 *
 * The pair data `regroup` needs (pairwise disagreement counts, the eq. 17 pair terms and the
 * preactivation Gram, each width² numbers) is kept in the result, so the UI's tolerance slider
 * recomputes blocks without another forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import { gatherRows } from '../data/types';
import type { JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { layoutFor } from '../models/config';
import { getArchSpec } from '../arch/registry';
import { forwardTrace, inputTensor } from '../models/forward';
import { gemm } from '../linalg/blas';

/**
 * How approximate synchrony is measured for a pair of neurons (i, j):
 *
 * - 'fraction': the fraction of data rows on which their patterns differ, #{x : r_i ≠ r_j}/n
 *   (a Hamming distance: a metric).
 * - 'eq17': eq. 17 of seed 000, per pair and normalised. Eq. 17 as printed,
 *   (1/|D|) Σ_x Σ_{i,i'∈S_a} (r_i p_i − r_i p_{i'})², does not vanish for perfectly synchronized
 *   neurons with different preactivations, so its indices are garbled; we use the quantity it
 *   stands for. Mixing neurons of a block by C = I + εA (W^l → C W^l, W^{l+1} → W^{l+1} C⁻¹, eq. 16)
 *   changes f_i by ε Σ_{i'} A_{ii'} (r_i − r_{i'}) p_{i'} to first order, so the error of mixing
 *   i' into i is measured by
 *       e(i ← i') = (1/n) Σ_x (r_i(x) p_{i'}(x) − r_{i'}(x) p_{i'}(x))²,
 *   and |r_a|² = Σ_{i,i'∈S_a} e(i ← i') (reported per block as `blockMeasure`). It is zero for
 *   exactly synchronized neurons. For a dimensionless threshold we divide by the preactivation
 *   energy of the mixed-in neuron, ẽ(i ← i') = e(i ← i') / ((1/n) Σ_x p_{i'}(x)²) ∈ [0, 1] (the
 *   fraction of p_{i'}'s energy that falls on rows where the patterns differ), and call i, j
 *   neighbours when max(ẽ(i ← j), ẽ(j ← i)) ≤ tol. The normalisation makes the criterion
 *   invariant to the positive rescaling p_i → c·p_i — itself one of the free directions counted.
 */
export * from './syncGroups';
import { grouping, type SyncOptions, type SyncPairData, type SyncLayer, type SyncResult } from './syncGroups';

/** ReLU layer names of an architecture, in forwardTrace's `pre` order. */
export function reluLayerNames(model: ModelBundle): string[] {
  return getArchSpec(model.config.arch).reluLayers(model.config).map((l) => l.name);
}

function noReluNote(arch: string): string {
  return getArchSpec(arch).noReluNote ?? `${arch} has no ReLU layer.`;
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Preactivations of every ReLU layer over `rows`, data-major [n × width] Float32 each. */
async function reluPreactivations(model: ModelBundle, ds: Dataset, rows: Int32Array, ctx?: JobContext): Promise<Float32Array[]> {
  const { config } = model;
  const layout = layoutFor(config);
  const relus = getArchSpec(config.arch).reluLayers(config);
  const names = relus.map((l) => l.name);
  const widths = relus.map((l) => l.width);
  const n = rows.length;
  const out = widths.map((w) => new Float32Array(n * w));
  if (names.length === 0) return out;
  const maxW = Math.max(...widths, ds.inputDim);
  const chunk = Math.max(64, Math.floor(4_000_000 / maxW));
  const thetaT = tf.tensor1d(model.theta);
  try {
    for (let s = 0; s < n; s += chunk) {
      if (ctx) await ctx.checkpoint();
      const idx = rows.subarray(s, Math.min(n, s + chunk));
      const xs = gatherRows(ds.x, ds.inputDim, idx);
      const pres = tf.tidy(() => forwardTrace(config, thetaT, inputTensor(xs, idx.length, ds.inputDim), layout).pre.map((p) => tf.keep(p)));
      for (let l = 0; l < widths.length; l++) {
        out[l].set((await pres[l].data()) as Float32Array, s * widths[l]);
      }
      tf.dispose(pres);
      ctx?.progress(Math.min(1, (s + idx.length) / n) * 0.5, 'preactivations');
    }
  } finally {
    thetaT.dispose();
  }
  return out;
}

/** Everything per layer that does not depend on the tolerance. */
function layerPairs(pre: Float32Array, n: number, w: number): { patterns: Uint8Array; firing: Float32Array; counts: Int32Array; pd: SyncPairData } {
  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(w * words);
  const patterns = new Uint8Array(w * n);
  const counts = new Int32Array(w);
  const sq = new Float64Array(w * n); // p_i(x)², neuron-major
  const meanSquare = new Float64Array(w);
  for (let r = 0; r < n; r++) {
    const o = r * w;
    for (let i = 0; i < w; i++) {
      const v = pre[o + i];
      sq[i * n + r] = v * v;
      meanSquare[i] += v * v;
      if (v > 0) {
        patterns[i * n + r] = 1;
        bits[i * words + (r >>> 5)] |= 1 << (r & 31);
        counts[i]++;
      }
    }
  }
  for (let i = 0; i < w; i++) meanSquare[i] /= n;
  const disagreements = new Int32Array(w * w);
  const eq17 = new Float64Array(w * w);
  for (let i = 0; i < w; i++) {
    const bi = i * words;
    for (let j = i + 1; j < w; j++) {
      const bj = j * words;
      let cnt = 0, sij = 0, sji = 0;
      for (let k = 0; k < words; k++) {
        let x = (bits[bi + k] ^ bits[bj + k]) >>> 0;
        if (x === 0) continue;
        cnt += popcount32(x);
        const base = k << 5;
        while (x !== 0) {
          const t = x & -x;
          const r = base + 31 - Math.clz32(t);
          sij += sq[j * n + r]; // e(i ← j): p_j² where the patterns differ
          sji += sq[i * n + r];
          x = (x ^ t) >>> 0;
        }
      }
      disagreements[i * w + j] = cnt;
      disagreements[j * w + i] = cnt;
      eq17[i * w + j] = sij / n;
      eq17[j * w + i] = sji / n;
    }
  }
  // Preactivation Gram (1/n) PᵀP in Float64 (from the float32 preactivations).
  const P = Float64Array.from(pre);
  const Pt = new Float64Array(w * n);
  for (let r = 0; r < n; r++) for (let i = 0; i < w; i++) Pt[i * n + r] = P[r * w + i];
  const preGram = new Float64Array(w * w);
  gemm(w, w, n, 1 / n, Pt, 0, n, P, 0, w, false, preGram, 0, w);
  const firing = Float32Array.from(counts, (c) => c / n);
  return { patterns, firing, counts, pd: { disagreements, eq17, meanSquare, preGram } };
}

/** Sort orders for the raster's data axis. */
function pointOrders(model: ModelBundle, ds: Dataset, rows: Int32Array): Record<string, Int32Array> {
  const n = rows.length;
  const ids = () => Int32Array.from({ length: n }, (_, i) => i);
  const out: Record<string, Int32Array> = {};
  const c = model.config;
  const tokens = getArchSpec(c.arch).tokens;
  if (tokens && ds.x instanceof Int32Array) {
    const p = tokens.vocab(c);
    const a = Int32Array.from(rows, (r) => ds.x[2 * r]);
    const b = Int32Array.from(rows, (r) => ds.x[2 * r + 1]);
    out.a = ids().sort((i, j) => a[i] - a[j] || b[i] - b[j] || i - j);
    out.b = ids().sort((i, j) => b[i] - b[j] || a[i] - a[j] || i - j);
    out.sum = ids().sort((i, j) => ((a[i] + b[i]) % p) - ((a[j] + b[j]) % p) || a[i] - a[j] || i - j);
  }
  if (ds.y instanceof Int32Array) {
    const y = Int32Array.from(rows, (r) => ds.y[r]);
    out.label = ids().sort((i, j) => y[i] - y[j] || i - j);
  }
  return out;
}

/**
 * Firing patterns, synchronized blocks, block ranks s_a and N = Σ s_a² for every ReLU layer of
 * `model` over `dataset` rows `rows` (e.g. dataset.trainIdx). See the module comment.
 */
export async function syncAnalysis(model: ModelBundle, dataset: Dataset, rows: Int32Array, opts: SyncOptions = {}): Promise<SyncResult> {
  const tol = opts.tol ?? 0;
  const measure = opts.measure ?? 'fraction';
  const rankTol = opts.rankTol ?? 1e-4;
  if (!(tol >= 0)) throw new RangeError(`sync tolerance must be ≥ 0 (got ${tol})`);
  if (!(rankTol > 0 && rankTol < 1)) throw new RangeError(`rankTol must be in (0, 1) (got ${rankTol})`);
  const n = rows.length;
  const timings: Record<string, number> = {};
  const names = reluLayerNames(model);
  const base = { n, rows, tol, measure, rankTol, pointOrders: pointOrders(model, dataset, rows), timings };
  if (names.length === 0) return { ...base, layers: [], note: noReluNote(model.config.arch) };
  if (n === 0) throw new RangeError('syncAnalysis needs at least one data row');
  let t0 = performance.now();
  const pres = await reluPreactivations(model, dataset, rows, opts.ctx);
  timings.forward = performance.now() - t0;
  const layers: SyncLayer[] = [];
  for (let l = 0; l < names.length; l++) {
    if (opts.ctx) await opts.ctx.checkpoint();
    const w = pres[l].length / n;
    t0 = performance.now();
    const { patterns, firing, counts, pd } = layerPairs(pres[l], n, w);
    timings[`pairs:${names[l]}`] = performance.now() - t0;
    t0 = performance.now();
    const g = grouping(pd, w, n, firing, tol, measure, rankTol);
    timings[`blocks:${names[l]}`] = performance.now() - t0;
    const dead: number[] = [], alwaysOn: number[] = [];
    counts.forEach((c, i) => { if (c === 0) dead.push(i); else if (c === n) alwaysOn.push(i); });
    layers.push({ name: names[l], width: w, ...g, dead, alwaysOn, patterns, firingFraction: firing, pairs: pd });
    opts.ctx?.progress(0.5 + (0.5 * (l + 1)) / names.length, `synchronized blocks (${names[l]})`);
  }
  return { ...base, layers };
}