/**
 * The projected matrix T = Vᵀ H V of a Lanczos run and its thick restart (Wu & Simon, SIAM J.
 * Matrix Anal. Appl. 22 (2000) 602–616).
 *
 * T (m×m, leading dimension m) is tridiagonal until the first thick restart, then an arrowhead
 * block [diag(θ) s; sᵀ α] followed by a tridiagonal tail. `al`/`be` hold a tridiagonal with the
 * same eigenvalues and the same last eigenvector components (equal to T's own tridiagonal before a
 * restart; after one, the arrowhead block is reduced by Householder with its hub fixed), so the
 * convergence checks cost O(size²) instead of a dense O(size³) solve.
 */
import type { JobContext } from '../jobs';
import { eighSync, tridiagEigen, tridiagonalForm } from './eigh';
import type { KrylovStore } from './krylovBasis';
import { tridiagInverseIteration } from './tridiagVectors';

export class ProjectedMatrix {
  readonly m: number;
  /**
   * T itself, dense (m² doubles), allocated at the first thick restart: before it T is the
   * tridiagonal `al`/`be` (a run that never restarts — the MNIST top-8,000, m ≈ 10⁴ — never
   * holds the 0.8 GB this would take).
   */
  T: Float64Array = new Float64Array(0);
  readonly al: Float64Array;
  readonly be: Float64Array;
  /** Size of the arrowhead block (0 before the first restart). */
  arrow = 0;

  constructor(m: number) {
    this.m = m;
    this.al = new Float64Array(m);
    this.be = new Float64Array(m);
  }

  /** Couples v_j to v_{j−1} by β (the three-term recurrence; not after a restart, where the arrowhead holds the couplings). */
  couple(j: number, beta: number): void {
    const { T, m } = this;
    if (this.arrow > 0) {
      T[j * m + j - 1] = beta;
      T[(j - 1) * m + j] = beta;
    }
    this.be[j - 1] = beta;
  }

  /** α_j = v_jᵀ H v_j on the diagonal. */
  setDiagonal(j: number, alpha: number): void {
    if (this.arrow > 0) this.T[j * this.m + j] = alpha;
    this.al[j] = alpha;
  }

  /** Ritz values (descending) and last components of T, from the equivalent tridiagonal. */
  ritzLast(size: number): { values: Float64Array; last: Float64Array } {
    const r = tridiagEigen(this.al.subarray(0, size), this.be.subarray(0, Math.max(0, size - 1)), { last: true });
    return { values: r.values, last: r.last ?? new Float64Array(size) };
  }

  /**
   * T's eigenvectors for `values` (the leading eigenvalues, descending, from ritzLast), streamed
   * one at a time: by inverse iteration on the tridiagonal before any restart (O(size) memory
   * each), else columns of the dense eigensolve. `visit`'s vector is reused between calls.
   */
  ritzStream(size: number, values: Float64Array, visit: (i: number, y: Float64Array) => void, seed = 0): void {
    if (this.arrow === 0) {
      tridiagInverseIteration(this.al.subarray(0, size), this.be.subarray(0, Math.max(0, size - 1)), values, visit, { seed });
      return;
    }
    const { vectors: Y } = this.ritzFull(size);
    const y = new Float64Array(size);
    for (let r = 0; r < values.length; r++) {
      for (let i = 0; i < size; i++) y[i] = Y[i * size + r];
      visit(r, y);
    }
  }

  /** Full eigen-decomposition of T (values descending, vectors one per column). */
  ritzFull(size: number): { values: Float64Array; vectors: Float64Array } {
    const { T, m } = this;
    if (this.arrow === 0) {
      const r = tridiagEigen(this.al.subarray(0, size), this.be.subarray(0, Math.max(0, size - 1)), true);
      return { values: r.values, vectors: r.vectors ?? new Float64Array(0) };
    }
    const c = new Float64Array(size * size);
    for (let i = 0; i < size; i++) c.set(T.subarray(i * m, i * m + size), i * size);
    const r = eighSync(c, size);
    return { values: r.values, vectors: r.vectors ?? new Float64Array(0) };
  }

  /**
   * Thick restart of a full basis of `size` vectors: keeps the top `keep` Ritz vectors (the basis is
   * rotated onto them) coupled to the next vector through s = β y_m, and makes T the arrowhead
   * [diag(θ) s; sᵀ ·]. `beforeRotate` runs once the Ritz vectors are known (progress report).
   */
  async thickRestart(basis: KrylovStore, size: number, keep: number, betaPrev: number, beforeRotate: () => void, ctx?: JobContext): Promise<void> {
    const { m } = this;
    const { values, vectors } = this.ritzFull(size);
    const ysel = new Float64Array(size * keep);
    for (let i = 0; i < size; i++) for (let r = 0; r < keep; r++) ysel[i * keep + r] = vectors[i * size + r];
    beforeRotate();
    await basis.rotate(ysel, keep, ctx);
    if (this.T.length === 0) this.T = new Float64Array(m * m);
    const T = this.T;
    T.fill(0);
    // Arrowhead [diag(θ) s; sᵀ ·] with the hub (index keep) first, reduced with the hub fixed.
    const hub = new Float64Array((keep + 1) * (keep + 1));
    for (let r = 0; r < keep; r++) {
      const s = betaPrev * vectors[(size - 1) * size + r];
      T[r * m + r] = values[r];
      T[r * m + keep] = s;
      T[keep * m + r] = s;
      hub[(r + 1) * (keep + 1) + r + 1] = values[r];
      hub[(r + 1) * (keep + 1)] = s;
      hub[r + 1] = s;
    }
    const red = tridiagonalForm(hub, keep + 1);
    for (let t = 0; t < keep; t++) {
      this.al[t] = red.d[keep - t];
      this.be[t] = red.e[keep - 1 - t];
    }
    this.arrow = keep;
  }
}
