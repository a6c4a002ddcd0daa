/** Small pure helpers the architecture specs share (no tfjs). */
import type { DataSpec } from '../data/spec';

/** The train fraction of the default modular-addition split (2,247 of 2,809 pairs at p = 53). */
export const DEFAULT_TRAIN_FRACTION = 0.8;

/** A size check in words, or null when `v` is an integer in [min, max]. */
export function checkInt(name: string, v: unknown, min: number, max: number): string | null {
  if (typeof v !== 'number' || !Number.isInteger(v)) return `${name} must be an integer (got ${String(v)})`;
  if (v < min || v > max) return `${name} must be between ${min} and ${max} (got ${v})`;
  return null;
}

/** W̄ = [W | b] (row-major [out × (in + bias)], Float64) from a PyTorch [out, in] weight and optional bias. */
export function bar(w: ArrayLike<number>, out: number, inn: number, b?: ArrayLike<number>): Float64Array {
  const D = inn + (b ? 1 : 0);
  const r = new Float64Array(out * D);
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < inn; j++) r[i * D + j] = w[i * inn + j];
    if (b) r[i * D + inn] = b[i];
  }
  return r;
}

/** The default modular-addition data for a vocabulary of p tokens. */
export function modAddData(p: number, seed: number): DataSpec {
  return { kind: 'modadd', p, trainFraction: DEFAULT_TRAIN_FRACTION, seed, op: 'sum' };
}

/** A fraction as a percentage with two decimals ("99.86 %"; "NaN %" when absent). */
export function pct(v: number | undefined): string {
  return `${((v ?? NaN) * 100).toFixed(2)} %`;
}
