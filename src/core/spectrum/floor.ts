/**
 * The numerical floor of the float32 H·v product, estimated per model (issue 13): below it an
 * eigenvalue cannot be told from rounding noise, so ε axes mark it and the default ε stays above it.
 *
 * How: for a few seeded random unit vectors v (rounded to float32), apply the float32 product to
 * v and to 3v and divide the second by 3. In exact arithmetic the two agree (H is linear); in
 * float32 they round differently (3 is not a power of two, so every intermediate has different
 * low bits), and their difference is two independent draws of the rounding error. The floor is the
 * largest ‖fl(H·3v)/3 − fl(H·v)‖ / √2 over the probes, times a safety factor of 2. It costs
 * 2·probes products and needs nothing but the float32 operator itself.
 */
import { makeRng } from '../rng';

export interface F32Operator {
  d: number;
  applyF32(v: Float32Array): Promise<Float32Array>;
}

export interface FloorEstimate {
  /** Estimated ‖fl32(H·v) − H·v‖ for unit v, in eigenvalue units (times the safety factor). */
  floor: number;
  /** The per-probe estimates before the safety factor. */
  probes: number[];
  method: string;
}

export const FLOOR_SAFETY = 2;

export function unitF32(d: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  const v = new Float64Array(d);
  let s = 0;
  for (let i = 0; i < d; i++) { v[i] = rng.normal(); s += v[i] * v[i]; }
  const inv = 1 / Math.sqrt(s);
  return Float32Array.from(v, (x) => x * inv);
}

export async function float32Floor(op: F32Operator, opts: { probes?: number; seed?: number } = {}): Promise<FloorEstimate> {
  const probes = Math.max(1, opts.probes ?? 3);
  const seed = opts.seed ?? 1301;
  const out: number[] = [];
  for (let p = 0; p < probes; p++) {
    const v = unitF32(op.d, seed + p);
    const v3 = Float32Array.from(v, (x) => 3 * x);
    const a = await op.applyF32(v);
    const b = await op.applyF32(v3);
    let s = 0;
    for (let i = 0; i < op.d; i++) { const e = b[i] / 3 - a[i]; s += e * e; }
    out.push(Math.sqrt(s) / Math.SQRT2);
  }
  return { floor: FLOOR_SAFETY * Math.max(...out), probes: out, method: `float32 H·v vs H·(3v)/3 on ${probes} seeded unit vectors, ×${FLOOR_SAFETY}` };
}
