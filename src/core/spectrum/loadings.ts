/**
 * Where an eigenvector lives in the network: the share of its squared mass on each parameter
 * tensor and on the parameters attached to each hidden unit (its incoming weights and bias, and
 * its outgoing weights), Σ_{i∈P} v_i². This is what links a selected eigenvector to neurons
 * (and a selected neuron to the eigenvectors that move it) across the views.
 *
 * An outgoing weight of unit j in layer l is also an incoming weight of a unit in layer l+1, so
 * per-unit shares of one vector sum to more than the covered mass; per-tensor shares partition it.
 */
import type { ModelConfig } from '../models/config';
import { layoutFor } from '../models/config';
import { slot, type ParamLayout } from '../params';
import { getArchSpec } from '../arch/registry';

/** A hidden node layer whose units carry loadings (names as in the internals views: "hidden", "fc1", "layers.0"). */
export interface UnitLayer {
  name: string;
  width: number;
  /** Offset of its first unit in the per-unit row. */
  offset: number;
}

export interface EigenLoadings {
  layers: UnitLayer[];
  tensors: string[];
  /** Eigenvectors covered (the top k, in the spectrum's order). */
  k: number;
  /** Total units U = Σ widths. */
  units: number;
  /** [k × U]: share of ‖v_i‖² on unit u's parameters. */
  perUnit: Float32Array;
  /** [k × T]: share of ‖v_i‖² on each tensor (sums to 1 per vector). */
  perTensor: Float32Array;
}

/** For every unit, the flat parameter indices attached to it (incoming then outgoing). */
export function unitParameterIndices(c: ModelConfig): { layers: UnitLayer[]; indices: Int32Array[] } {
  const L: ParamLayout = layoutFor(c);
  const layers: UnitLayer[] = [];
  const indices: Int32Array[] = [];
  let offset = 0;
  for (const u of getArchSpec(c.arch).hiddenUnits?.(c) ?? []) {
    layers.push({ name: u.name, width: u.width, offset });
    offset += u.width;
    for (let j = 0; j < u.width; j++) {
      const idx: number[] = [];
      for (const name of u.rows) {
        const t = slot(L, name);
        const inn = t.shape.length === 1 ? 1 : t.shape[1];
        if (t.shape[0] !== u.width) throw new Error(`${name} has ${t.shape[0]} rows, layer ${u.name} has ${u.width} units`);
        for (let q = 0; q < inn; q++) idx.push(t.offset + j * inn + q);
      }
      for (const name of u.cols) {
        const t = slot(L, name);
        if (t.shape[1] !== u.width) throw new Error(`${name} has ${t.shape[1]} columns, layer ${u.name} has ${u.width} units`);
        for (let r = 0; r < t.shape[0]; r++) idx.push(t.offset + r * u.width + j);
      }
      indices.push(Int32Array.from(idx));
    }
  }
  return { layers, indices };
}

/**
 * Loadings of the first `k` eigenvectors (`vector(i)` returns eigenvector i, any scale: shares
 * are relative to its own squared norm).
 */
export async function eigenLoadings(c: ModelConfig, vector: (i: number) => ArrayLike<number>, k: number, checkpoint?: () => Promise<void>): Promise<EigenLoadings> {
  const L = layoutFor(c);
  const { layers, indices } = unitParameterIndices(c);
  const U = indices.length;
  const T = L.tensors.length;
  const perUnit = new Float32Array(k * U);
  const perTensor = new Float32Array(k * T);
  for (let i = 0; i < k; i++) {
    const v = vector(i);
    if (v.length !== L.size) throw new Error(`eigenvector ${i} has ${v.length} entries, the model has ${L.size} parameters`);
    let total = 0;
    for (let q = 0; q < v.length; q++) total += v[q] * v[q];
    const inv = total > 0 ? 1 / total : 0;
    L.tensors.forEach((t, ti) => {
      let s = 0;
      for (let q = t.offset; q < t.offset + t.size; q++) s += v[q] * v[q];
      perTensor[i * T + ti] = s * inv;
    });
    for (let u = 0; u < U; u++) {
      const idx = indices[u];
      let s = 0;
      for (let q = 0; q < idx.length; q++) s += v[idx[q]] * v[idx[q]];
      perUnit[i * U + u] = s * inv;
    }
    if (checkpoint && (i & 31) === 31) await checkpoint();
  }
  return { layers, tensors: L.tensors.map((t) => t.name), k, units: U, perUnit, perTensor };
}

/** Loadings of eigenvector i on the units of one layer (a view, no copy). */
export function unitLoadings(l: EigenLoadings, i: number, layer: string): Float32Array | null {
  const ly = l.layers.find((x) => x.name === layer);
  if (!ly || i < 0 || i >= l.k) return null;
  return l.perUnit.subarray(i * l.units + ly.offset, i * l.units + ly.offset + ly.width);
}

/** One unit's share in every covered eigenvector (index i = eigenvector i). */
export function unitProfile(l: EigenLoadings, layer: string, unit: number): Float32Array | null {
  const ly = l.layers.find((x) => x.name === layer);
  if (!ly || unit < 0 || unit >= ly.width) return null;
  const out = new Float32Array(l.k);
  for (let i = 0; i < l.k; i++) out[i] = l.perUnit[i * l.units + ly.offset + unit];
  return out;
}
