/**
 * Predicted Hessian zero directions from the Grams and synchronization at a loss scale ε — a
 * pure function of results already computed (no tfjs), so the views can recount as ε moves.
 */
import { eighSync } from '../linalg/eigh';
import type { GramsResult } from './grams';
import type { SyncResult } from './sync';

// ---------------------------------------------------------------------------------------------
// Predicted Hessian zero directions.

export interface ZeroRow {
  /** The transition (parameter block), e.g. "hidden.weight". */
  name: string;
  /** Parameters in the block (outSize × gSize). */
  params: number;
  gSize: number;
  kSize: number;
  /** Eigenvalues of G^l (resp. K^l) counted as zero at ε (see predictedZeroCount). */
  gZeros: number;
  kZeros: number;
  /** gZeros · d^{l+1}. */
  fanOut: number;
  /** kZeros · (d^l + 1). */
  fanIn: number;
  /** gZeros · kZeros: directions null(K) ⊗ null(G) counted in both fanOut and fanIn. */
  overlap: number;
  /** #{(a, b) : 2 κ_a g_b ≤ ε}: the block's zero count under the Kronecker approximation (eq. 22), for comparison. */
  kronecker: number;
  /** The synchronization count of the layer this transition feeds (eq. 20, N = Σ s_a²), or null (no ReLU / linear layer). */
  sync: number | null;
  /** Σ_a s_a·ρ_a with ρ_a the rank of K^l on block a: sync directions not already among the fan-in/fan-out zeros (see notes). */
  syncDedup: number | null;
  /** Dead / always-on neurons of that layer (from the sync analysis). */
  dead: number;
  alwaysOn: number;
  /** fanOut + fanIn + sync (the paper's counts added as they stand). */
  total: number;
  /** fanOut + fanIn − overlap + syncDedup. */
  dedup: number;
  notes: string;
}

export interface ZeroPrediction {
  /** ε in Hessian eigenvalue units (H = (2/n) Σ JᵀJ, docs/science.md §2), the same ε as d1(ε). */
  eps: number;
  rows: ZeroRow[];
  /** Σ rows.total and Σ rows.dedup. */
  total: number;
  dedupTotal: number;
  /** Parameters covered by the rows, and those no row speaks for (modadd embeddings). */
  covered: number;
  uncovered: number;
  notes: string;
}

function countWhere(a: ArrayLike<number>, pred: (v: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (pred(a[i])) c++;
  return c;
}

function subBlock(A: Float64Array, n: number, idx: readonly number[]): Float64Array {
  const m = idx.length;
  const s = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) s[a * m + b] = A[idx[a] * n + idx[b]];
  return s;
}

/**
 * The Hessian zero directions that G, K and synchronized neurons predict at a shared ε.
 *
 * ε is in Hessian eigenvalue units, so the prediction sits beside the measured d − d1(ε). Under
 * eq. 22 (H_l ≈ 2 K^l ⊗ G^l with our H = (2/n) Σ JᵀJ) the directions u ⊗ v_b that a G-eigenvector
 * v_b spawns have eigenvalues 2 κ_a g_b ≤ 2 κ_max g_b; an eigenvalue g_b counts as a zero of G^l
 * when even the largest of them is ≤ ε: 2 g_b κ_max(K^l) ≤ ε (then all d^{l+1} fan-out directions
 * are below ε). Likewise κ_a is a zero of K^l when 2 κ_a g_max(G^l) ≤ ε. Exact zeros (g = 0)
 * count at every ε ≥ 0; `kronecker` gives the block's finer count #{2 κ_a g_b ≤ ε}.
 *
 * Synchronization (eq. 20) is attached to the transition that produces the ReLU layer (its
 * reparametrisation W^l → C W^l, W^{l+1} → W^{l+1} C⁻¹ mixes this block and the next). Linear
 * hidden layers (matfac) are the all-synchronized case of §3.2: one block of every neuron with
 * s = rank of the layer's activations — for a generic n×n deep linear net this gives the d² = 400
 * zeros of docs/science.md §9.
 */
export function predictedZeroCount(grams: GramsResult, sync: SyncResult | null, eps: number): ZeroPrediction {
  if (!(eps >= 0)) throw new RangeError(`eps must be ≥ 0 (got ${eps})`);
  const L = grams.layers;
  const maxOf = (a: Float64Array) => (a.length ? Math.max(0, a[0]) : 0);
  const zerosG = L.map((l) => countWhere(l.gEigen, (g) => 2 * Math.max(0, g) * maxOf(l.kEigen) <= eps));
  const zerosK = L.map((l) => countWhere(l.kEigen, (k) => 2 * Math.max(0, k) * maxOf(l.gEigen) <= eps));
  const rows: ZeroRow[] = L.map((l, i) => {
    const gZeros = zerosG[i], kZeros = zerosK[i];
    const fanOut = gZeros * l.outSize, fanIn = kZeros * l.gSize, overlap = gZeros * kZeros;
    let kron = 0;
    for (const k of l.kEigen) for (const g of l.gEigen) if (2 * Math.max(0, k) * Math.max(0, g) <= eps) kron++;
    const notes: string[] = [];
    notes.push(`${gZeros} zero(s) of G (${l.gSize}×${l.gSize}) → ${gZeros}×${l.outSize} fan-out; ${kZeros} zero(s) of K (${l.outSize}×${l.outSize}) → ${kZeros}×${l.gSize} fan-in.`);
    if (overlap > 0) notes.push(`The ${overlap} directions u⊗v with u ∈ null K, v ∈ null G lie in both sets: subtracted once in the de-duplicated count.`);
    let syncN: number | null = null, syncDedup: number | null = null, dead = 0, alwaysOn = 0;
    const next = L[i + 1];
    const sl = l.reluLayer && sync ? sync.layers.find((s) => s.name === l.reluLayer) : undefined;
    const gMax = maxOf(l.gEigen);
    const rankK = (idx: readonly number[]) => {
      const sub = subBlock(l.K, l.outSize, idx);
      const ev = idx.length === 1 ? Float64Array.of(sub[0]) : eighSync(sub, idx.length, { vectors: false }).values;
      return countWhere(ev, (k) => 2 * Math.max(0, k) * gMax > eps);
    };
    if (sl) {
      syncN = sl.freeDirections;
      dead = sl.dead.length;
      alwaysOn = sl.alwaysOn.length;
      syncDedup = sl.blocks.reduce((s, b, a) => s + sl.blockRanks[a] * rankK(b), 0);
      notes.push(`Synchronized blocks of "${sl.name}" (tol ${sync!.tol}, ${sync!.measure}): ${sl.blocks.length} blocks, N = Σ s_a² = ${syncN}; with ρ_a = rank of K on the block, Σ s_a·ρ_a = ${syncDedup}.`);
      if (dead > 0) {
        notes.push(`${dead} dead neuron(s): each is a zero of K here (its incoming weights and bias: fan-in) and a zero of G of the next block (its outgoing weights: fan-out). Those are different parameters, so both counts stand — together they free every parameter of the neuron. The dead block's own s_a² directions lie inside them (double counting): ρ_a = 0 removes them from Σ s_a·ρ_a.`);
      }
      notes.push('Why s_a·ρ_a: mixings C = I + εA of a block that vanish on span{p_S} are fan-out zeros (G), those whose range lies in null(K restricted to S) are fan-in zeros (K) — exactly so when the next block is the output layer, approximately deeper down — so A contributes new directions only as a map from span{p_S} (dim s_a) to the block modulo null K (dim ρ_a). Eq. 20 assumes ρ_a = s_a; they differ e.g. for duplicated neurons (s = 1, ρ = 2).');
    } else if (l.activation === 'linear' && next) {
      // All-synchronized linear layer: one block of all neurons, s = rank of its activations
      // (from the zeros of the next block's G), ρ = rank K.
      const sEff = Math.max(0, Math.min(l.outSize, next.gSize - zerosG[i + 1]));
      const rho = l.outSize - kZeros;
      syncN = sEff * sEff;
      syncDedup = sEff * rho;
      notes.push(`Linear layer "${l.outName}": the all-synchronized case of §3.2 (eq. 15–16, any invertible C), one block with s = ${sEff} (rank of its activations), N = s² = ${syncN}; de-duplicated s·ρ = ${syncDedup} (ρ = rank K = ${rho}).`);
    } else if (l.activation === 'gelu') {
      notes.push('GELU layer: no firing patterns, no synchronization count (§3.2 needs piecewise-linear activations).');
    } else if (l.activation === 'relu' && !sync) {
      notes.push('ReLU layer: no sync analysis given, synchronization not counted.');
    }
    const total = fanOut + fanIn + (syncN ?? 0);
    const dedup = fanOut + fanIn - overlap + (syncDedup ?? 0);
    return {
      name: l.name, params: l.paramCount, gSize: l.gSize, kSize: l.outSize, gZeros, kZeros, fanOut, fanIn, overlap, kronecker: kron,
      sync: syncN, syncDedup, dead, alwaysOn, total, dedup, notes: notes.join(' '),
    };
  });
  const uncovered = grams.uncovered.reduce((s, u) => s + u.size, 0);
  const notes = [
    'Zeros in different blocks are different parameters and add up. The de-duplicated total removes the overlaps that are exact (null K ⊗ null G inside a block; sync directions that are fan-in/fan-out zeros); it can still exceed the true nullity where predictions overlap in other ways, and it misses degeneracies of other kinds.',
    uncovered > 0 ? `${uncovered} parameters (${grams.uncovered.map((u) => u.name).join(', ')}) belong to no layer here: their zero directions are not predicted.` : '',
  ].filter(Boolean).join(' ');
  return {
    eps, rows,
    total: rows.reduce((s, r) => s + r.total, 0),
    dedupTotal: rows.reduce((s, r) => s + r.dedup, 0),
    covered: grams.covered, uncovered, notes,
  };
}
