/**
 * Selected eigenvectors of a symmetric tridiagonal T, one at a time, by inverse iteration (the
 * scheme of LAPACK's dstein: Gaussian elimination of T − λI with partial pivoting, tiny pivots
 * replaced by ε‖T‖, a few solves from a random start, and Gram–Schmidt against the earlier vectors
 * of the same cluster). O(m) memory and O(m) work per vector and iteration, where a dense
 * eigensolve is O(m²) memory and O(m³) work: what the Ritz vectors of a Lanczos run of 10⁴ steps
 * need (the MNIST top-8,000), where the divide and conquer would hold 0.8 GB per copy of T's
 * eigenvectors.
 *
 * Accuracy: for an eigenvalue computed to O(ε‖T‖) (the QL of eigh.ts), one solve gives a vector
 * whose angle to the true one is O(ε‖T‖ / gap), gap the distance to the nearest other eigenvalue,
 * and so are the inner products of two computed vectors. Eigenvalues closer than `clusterTol`·‖T‖
 * (default 1e-8, so |yᵢᵀyⱼ| stays ≲ 1e-7 between clusters) form a cluster whose vectors are
 * orthogonalized against each other (modified Gram–Schmidt, each iteration). dstein's own cluster
 * rule (gap ≤ 10⁻³‖T‖) would join thousands of the small eigenvalues of a Lanczos T into one
 * cluster and cost O(m·c²).
 */
import { makeRng } from '../rng';

export interface InverseIterationOptions {
  /** Seed of the random start vectors. */
  seed?: number;
  /** Relative gap (to ‖T‖) below which neighbouring eigenvalues form a cluster; default 1e-8. */
  clusterTol?: number;
  /** Solves per vector (default 3; dstein stops after at most 5). */
  iterations?: number;
}

/**
 * For i = 0..lambdas.length − 1 (eigenvalues of T = tridiag(beta, alpha, beta), sorted, descending
 * or ascending), computes the unit eigenvector y_i and calls visit(i, y) — `y` is reused between
 * calls, copy it to keep it. The sign is fixed so that the largest-magnitude entry is positive.
 */
export function tridiagInverseIteration(
  alpha: ArrayLike<number>, beta: ArrayLike<number>, lambdas: ArrayLike<number>,
  visit: (i: number, y: Float64Array) => void, opts: InverseIterationOptions = {},
): void {
  const m = alpha.length;
  if (beta.length < m - 1) throw new RangeError(`tridiagInverseIteration: need ${m - 1} off-diagonals, got ${beta.length}`);
  let tnorm = 0;
  for (let j = 0; j < m; j++) tnorm = Math.max(tnorm, Math.abs(alpha[j]) + (j > 0 ? Math.abs(beta[j - 1]) : 0) + (j < m - 1 ? Math.abs(beta[j]) : 0));
  if (tnorm === 0) tnorm = 1;
  const tiny = Number.EPSILON * tnorm;
  const gapTol = (opts.clusterTol ?? 1e-8) * tnorm;
  const its = opts.iterations ?? 3;
  const rng = makeRng(opts.seed ?? 0);
  // LU of T − λI with partial pivoting: U has diagonals u0 (main), u1, u2 (first and second
  // super-diagonals); l the multipliers; swap[j] when rows j and j+1 were exchanged at step j.
  const u0 = new Float64Array(m), u1 = new Float64Array(m), u2 = new Float64Array(m), l = new Float64Array(m);
  const swap = new Uint8Array(m);
  const y = new Float64Array(m);
  const cluster: Float64Array[] = [];
  let prev = NaN;
  for (let i = 0; i < lambdas.length; i++) {
    const lam = lambdas[i];
    if (!(Math.abs(lam - prev) <= gapTol)) cluster.length = 0;
    prev = lam;
    // Factor (dlagtf-style elimination, column by column).
    let d = alpha[0] - lam, e = m > 1 ? beta[0] : 0; // current row: diagonal and super-diagonal
    for (let j = 0; j < m - 1; j++) {
      const b = beta[j]; // sub-diagonal below the pivot
      const dn = alpha[j + 1] - lam, en = j + 1 < m - 1 ? beta[j + 1] : 0;
      if (Math.abs(d) >= Math.abs(b)) {
        swap[j] = 0;
        const piv = d === 0 ? tiny : d;
        const mult = b / piv;
        u0[j] = piv; u1[j] = e; u2[j] = 0; l[j] = mult;
        d = dn - mult * e; e = en;
      } else {
        swap[j] = 1;
        const mult = d / b;
        u0[j] = b; u1[j] = dn; u2[j] = en; l[j] = mult;
        d = e - mult * dn; e = -mult * en;
      }
    }
    u0[m - 1] = d;
    for (let j = 0; j < m; j++) if (Math.abs(u0[j]) < tiny) u0[j] = u0[j] < 0 ? -tiny : tiny;
    // Random start, then `its` solves (T − λI) y ← y with normalisation and cluster MGS.
    for (let j = 0; j < m; j++) y[j] = rng.normal();
    for (let it = 0; it < its; it++) {
      // y ← L⁻¹ P y
      for (let j = 0; j < m - 1; j++) {
        if (swap[j]) { const t = y[j]; y[j] = y[j + 1]; y[j + 1] = t - l[j] * y[j]; } else y[j + 1] -= l[j] * y[j];
      }
      // y ← U⁻¹ y
      y[m - 1] /= u0[m - 1];
      if (m > 1) y[m - 2] = (y[m - 2] - u1[m - 2] * y[m - 1]) / u0[m - 2];
      for (let j = m - 3; j >= 0; j--) y[j] = (y[j] - u1[j] * y[j + 1] - u2[j] * y[j + 2]) / u0[j];
      for (const c of cluster) {
        let s = 0;
        for (let j = 0; j < m; j++) s += c[j] * y[j];
        for (let j = 0; j < m; j++) y[j] -= s * c[j];
      }
      let nrm = 0, big = 0;
      for (let j = 0; j < m; j++) { nrm += y[j] * y[j]; if (Math.abs(y[j]) > Math.abs(big)) big = y[j]; }
      const inv = (big < 0 ? -1 : 1) / Math.sqrt(nrm);
      for (let j = 0; j < m; j++) y[j] *= inv;
    }
    cluster.push(y.slice());
    visit(i, y);
  }
}
