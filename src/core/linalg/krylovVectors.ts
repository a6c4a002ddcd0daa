/**
 * Vector helpers shared by Lanczos (lanczos.ts) and SLQ (slq.ts): norms, the checked operator
 * application, random starts, and the invariant-subspace threshold with its fresh direction.
 */
import type { JobContext } from '../jobs';
import type { Rng } from '../rng';
import type { KrylovStore } from './krylovBasis';
import type { SymOperator } from './operator';

export function norm2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** y = op.apply(x) (or op.applyInto), checked for length and finite values, in `out`. */
export async function applyChecked(op: SymOperator, x: Float64Array, out: Float64Array): Promise<Float64Array> {
  if (op.applyInto && out.length === op.d) {
    await op.applyInto(x, out);
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw new RangeError(`operator returned a non-finite value at index ${i}`);
    }
    return out;
  }
  const y = await op.apply(x);
  if (y.length !== op.d) throw new RangeError(`operator returned ${y.length} entries, expected d = ${op.d}`);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw new RangeError(`operator returned a non-finite value at index ${i}`);
  }
  out.set(y);
  return out;
}

/** A Gaussian random unit vector from `rng`. */
export function randomUnit(d: number, rng: Rng, out: Float64Array = new Float64Array(d)): Float64Array {
  for (let i = 0; i < d; i++) out[i] = rng.normal();
  const s = 1 / norm2(out);
  for (let i = 0; i < d; i++) out[i] *= s;
  return out;
}

/**
 * β below this fraction of ‖H‖ (estimated by max ‖H v_j‖) is treated as an exact zero: the Krylov
 * space is invariant to working accuracy (for a float64 operator β is then ~1e−16 ‖H‖; a float32
 * operator leaves ~1e−7 ‖H‖ of noise, which is harmless — it is just another direction).
 */
export const INVARIANT_TOL = 1e-10;

/**
 * A random unit vector orthogonal to the basis (two Gram–Schmidt sweeps), or null if the basis
 * already spans everything the random vector had (numerically the whole space).
 */
export async function randomOrthogonal(basis: KrylovStore, rng: Rng, out: Float64Array, h: Float64Array, ctx?: JobContext): Promise<Float64Array | null> {
  randomUnit(basis.d, rng, out);
  await basis.project(out, h, ctx);
  await basis.project(out, h, ctx);
  const nv = norm2(out);
  if (nv < 1e-8) return null;
  for (let i = 0; i < out.length; i++) out[i] /= nv;
  return out;
}
