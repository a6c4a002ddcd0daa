/**
 * The project-wide symmetric-operator interface (H·v products of every Hessian), and the dense
 * matrix of a small operator.
 */
import type { JobContext } from '../jobs';

/**
 * A symmetric (positive semi-definite in our use) linear operator y = H v of dimension d. `apply`
 * may run on a GPU in float32 behind the scenes; callers own the returned array.
 */
export interface SymOperator {
  readonly d: number;
  apply(v: Float64Array): Promise<Float64Array>;
  /**
   * H·v written into `out` (length d), where the operator offers it: no result array per product.
   * (Allocating a fresh 0.7 MB Float64Array, and its float32 copy of v, for every modadd product made
   * V8's collector pause often enough to lift the 90th-percentile product from 7.3 to 10–12 ms.)
   */
  applyInto?(v: Float64Array, out: Float64Array): Promise<void>;
}

export interface FromMatvecOptions {
  ctx?: JobContext;
  /** Return (A + Aᵀ)/2 (default true): a float32 operator is only symmetric to rounding. */
  symmetrize?: boolean;
}

/**
 * The dense d×d matrix of a SymOperator, column j = op.apply(e_j) (d applies: for small d only).
 * Reports progress and checkpoints per column when a JobContext is given.
 */
export async function symmetricFromMatvec(op: SymOperator, opts: FromMatvecOptions = {}): Promise<Float64Array> {
  const n = op.d;
  const A = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const col = await op.apply(unit);
    if (col.length !== n) throw new RangeError(`symmetricFromMatvec: operator returned ${col.length} entries, expected ${n}`);
    for (let i = 0; i < n; i++) A[i * n + j] = col[i];
    if (opts.ctx) {
      opts.ctx.progress((j + 1) / n, `matrix column ${j + 1}/${n}`);
      await opts.ctx.checkpoint();
    }
  }
  if (opts.symmetrize ?? true) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const s = 0.5 * (A[i * n + j] + A[j * n + i]);
        A[i * n + j] = s;
        A[j * n + i] = s;
      }
    }
  }
  return A;
}

/** max |A_ij − A_ji| / max |A_ij|: how far a matrix built from a float32 operator is from symmetric. */
export function symmetryDefect(A: Float64Array, n: number): number {
  let diff = 0, big = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = A[i * n + j];
      big = Math.max(big, Math.abs(x));
      if (j < i) diff = Math.max(diff, Math.abs(x - A[j * n + i]));
    }
  }
  return big === 0 ? 0 : diff / big;
}
