/**
 * Symmetric tridiagonal eigensolvers in Float64: implicit QL (leaves, eigenvalue-only problems,
 * first/last eigenvector components for Lanczos and SLQ) and Cuppen's divide and conquer with
 * Gu–Eisenstat's Löwner-formula correction (GVL = Golub & Van Loan, "Matrix Computations", 4th ed.).
 * Used by `eigh` (step 2 of its pipeline) and by `tridiagEigen` (eigh.ts).
 *
 * Layout as in eigh.ts: row-major, eigenvectors one per COLUMN.
 */
import { gemm, GEMM_WORK } from './blas';

const EPS = Number.EPSILON;
/** Tridiagonal blocks up to this size are solved by QL instead of being split further. */
const LEAF = 32;

/** √(a² + b²) without overflow; Math.hypot is much slower in V8. */
export function hyp(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  if (x < y) { const t = x; x = y; y = t; }
  if (x === 0) return 0;
  const r = y / x;
  return x * Math.sqrt(1 + r * r);
}

// ---------------------------------------------------------------------------------------------
// 2a. Implicit QL (leaves, eigenvalue-only problems, first/last components for Lanczos and SLQ).

/**
 * Implicit QL iteration with a Wilkinson-type shift from the leading 2×2 of the active block
 * (GVL §8.3.5; EISPACK tql2 in QL form). d[0..n) diagonal, e[0..n−1) off-diagonal (e[i] couples
 * i and i+1; e needs length ≥ n and is destroyed). `z` is zRows×n row-major: its columns receive
 * the same plane rotations, so z = I gives the eigenvectors (one per column) and z = e₁ᵀ gives the
 * first components only, at O(1) per rotation. Eigenvalues are left unordered in d.
 */
export function qlImplicit(d: Float64Array, e: Float64Array, n: number, z: Float64Array | null, zRows: number): void {
  if (n === 0) return;
  e[n - 1] = 0;
  // Negligible off-diagonals: small relative to their neighbours (keeps tiny eigenvalues of graded
  // matrices accurate) or to ‖T‖ (EISPACK's test; without it a block of rounding-level entries next
  // to O(‖T‖) ones — a big null space — never converges, as each sweep re-injects ε‖T‖ noise).
  let tnorm = 0;
  for (let i = 0; i < n; i++) tnorm = Math.max(tnorm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  const absTol = EPS * tnorm;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const em = Math.abs(e[m]);
        if (em <= absTol || em <= EPS * (Math.abs(d[m]) + Math.abs(d[m + 1]))) break;
      }
      if (m === l) break;
      if (++iter > 90) throw new Error(`QL iteration did not converge for eigenvalue ${l} of ${n}`);
      // Shift: the eigenvalue of the leading 2×2 [d_l e_l; e_l d_{l+1}] closer to d_l.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = hyp(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let split = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = hyp(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // The chase met an exact zero: the block splits; restart on the smaller block.
          d[i + 1] -= p;
          e[m] = 0;
          split = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (z !== null) {
          for (let row = 0, o = 0; row < zRows; row++, o += n) {
            const zi = z[o + i], zk = z[o + i + 1];
            z[o + i + 1] = s * zi + c * zk;
            z[o + i] = c * zi - s * zk;
          }
        }
      }
      if (split) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/** Indices that sort `v` ascending (stable). */
export function argsortAsc(v: Float64Array, n: number): Int32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((x, y) => v[x] - v[y] || x - y);
  return Int32Array.from(idx);
}

// ---------------------------------------------------------------------------------------------
// 2b. Divide and conquer for the tridiagonal eigenproblem.

export interface DcWork {
  n: number;
  /** Eigenvector matrix of T (row-major n×n, one eigenvector per column), block-diagonal while merging. */
  q: Float64Array;
  /** n×n scratch matrices for the merges. */
  w1: Float64Array;
  w2: Float64Array;
  w3: Float64Array;
  /** Length-n scratch vectors, reused by every merge (fewer allocations → fewer GC pauses). */
  f: Float64Array[];
  ix: Int32Array[];
  /** gemm packing buffer. */
  pk: Float64Array;
}

export function makeDcWork(n: number): DcWork {
  const nn = n * n;
  return {
    n, q: new Float64Array(nn), w1: new Float64Array(nn), w2: new Float64Array(nn), w3: new Float64Array(nn),
    f: Array.from({ length: 10 }, () => new Float64Array(n)),
    ix: Array.from({ length: 8 }, () => new Int32Array(n)),
    pk: new Float64Array(Math.min(GEMM_WORK, nn)),
  };
}

/** Solves the leaf block lo..hi−1 by QL; writes its eigenvectors into the diagonal block of q. */
function dcLeaf(d: Float64Array, e: Float64Array, lo: number, hi: number, ws: DcWork): void {
  const m = hi - lo;
  const n = ws.n;
  const dl = d.slice(lo, hi);
  const el = new Float64Array(m);
  for (let i = 0; i < m - 1; i++) el[i] = e[lo + i];
  const z = new Float64Array(m * m);
  for (let i = 0; i < m; i++) z[i * m + i] = 1;
  qlImplicit(dl, el, m, z, m);
  const ord = argsortAsc(dl, m);
  for (let r = 0; r < m; r++) {
    const qo = (lo + r) * n + lo;
    const zo = r * m;
    for (let c = 0; c < m; c++) ws.q[qo + c] = z[zo + ord[c]];
  }
  for (let c = 0; c < m; c++) d[lo + c] = dl[ord[c]];
}

/**
 * Roots of the secular equation f(λ) = 1 + ρ Σ_j z_j² / (d_j − λ) for d ascending and distinct,
 * ρ > 0 (GVL §8.4.3). Root i lies in (d_i, d_{i+1}) (the last one in (d_{k−1}, d_{k−1} + ρ‖z‖²]).
 * Each root is stored relative to its nearer pole, λ_i = d[org[i]] + tau[i], so that the differences
 * d_j − λ_i = (d_j − d_org) − tau are accurate (the basis of Gu–Eisenstat's orthogonality).
 * Iteration: the two-pole rational model that matches ψ' and φ' separately ("middle way", Li 1994),
 * safeguarded by bisection on the bracket.
 */
function solveSecular(k: number, dk: Float64Array, z2: Float64Array, rho: number, org: Int32Array, tau: Float64Array): void {
  let zz = 0;
  for (let j = 0; j < k; j++) zz += z2[j];
  const dl = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let o: number, lo: number, hi: number, t: number;
    if (i < k - 1) {
      const half = (dk[i + 1] - dk[i]) / 2;
      let fm = 1;
      for (let j = 0; j < k; j++) fm += (rho * z2[j]) / (dk[j] - dk[i] - half);
      if (fm >= 0) { o = i; lo = 0; hi = half; t = half; } else { o = i + 1; lo = (dk[i] - dk[i + 1]) / 2; hi = 0; t = lo; }
    } else {
      o = i; lo = 0; hi = rho * zz; t = hi;
    }
    const dO = dk[o];
    for (let j = 0; j < k; j++) dl[j] = dk[j] - dO;
    for (let iter = 0; iter < 200; iter++) {
      let psi = 0, dpsi = 0, phi = 0, dphi = 0, abs = 0;
      for (let j = 0; j <= i; j++) {
        const del = dl[j] - t;
        const q = z2[j] / del;
        psi += q; dpsi += q / del; abs -= q;
      }
      for (let j = i + 1; j < k; j++) {
        const del = dl[j] - t;
        const q = z2[j] / del;
        phi += q; dphi += q / del; abs += q;
      }
      const g = 1 + rho * (psi + phi);
      // Rounding bound on g: each term is accurate to a few ulps, plus the ulp of t itself.
      const err = EPS * (8 * (1 + rho * abs) + Math.abs(t) * rho * (dpsi + dphi));
      if (Math.abs(g) <= err) break;
      if (g < 0) lo = t; else hi = t;
      if (hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) break;
      // Model g(t + η) ≈ c + S/(a − η) + R/(b − η) with a, b the adjacent poles relative to t.
      const a = dl[i] - t;
      const S = a * a * rho * dpsi;
      let eta: number;
      if (i < k - 1) {
        const b = dl[i + 1] - t;
        const R = b * b * rho * dphi;
        const c = g - S / a - R / b;
        const B = c * (a + b) + S + R;
        const C = c * a * b + S * b + R * a;
        if (c === 0) {
          eta = C / B;
        } else {
          const disc = Math.sqrt(Math.max(0, B * B - 4 * c * C));
          const qq = (B + (B >= 0 ? disc : -disc)) / 2;
          const e1 = qq / c, e2 = qq !== 0 ? C / qq : NaN;
          eta = e1 > a && e1 < b ? e1 : e2;
        }
      } else {
        const c = g - S / a;
        eta = c > 0 ? a + S / c : NaN;
      }
      let tn = t + eta;
      if (!(tn > lo && tn < hi)) tn = 0.5 * (lo + hi);
      if (tn === t) break;
      t = tn;
    }
    org[i] = o;
    tau[i] = t;
  }
}

/**
 * Merges the solved halves lo..mid−1 and mid..hi−1, coupled by the off-diagonal `beta`
 * (T = diag(T₁, T₂) + |β| u uᵀ, u = e_last + sign(β) e_first, after the diagonal shifts made at the
 * split). On entry d[lo..hi) holds the two halves' ascending eigenvalues and q's diagonal blocks
 * their eigenvectors; on exit d[lo..hi) is ascending and the block of q holds the merged vectors.
 */
function* dcMerge(d: Float64Array, lo: number, mid: number, hi: number, beta: number, ws: DcWork): Generator<void, void, void> {
  const n = ws.n;
  const q = ws.q;
  const m = hi - lo, m1 = mid - lo, m2 = m - m1;
  const [z, dv, dk, zk, z2, tau, lam, zh, nrm, dvals] = ws.f;
  const [order, kept, defl, org, pos, srcK, dstK, dstD] = ws.ix;
  let rho = Math.abs(beta);
  const sgn = beta < 0 ? -1 : 1;
  // z = Qᵀu / √2 (‖z‖ = 1), ρ → 2ρ: the rank-one problem D + ρ z zᵀ.
  for (let j = 0; j < m1; j++) z[j] = q[(mid - 1) * n + lo + j] * Math.SQRT1_2;
  for (let j = m1; j < m; j++) z[j] = sgn * q[mid * n + lo + j] * Math.SQRT1_2;
  rho *= 2;
  for (let j = 0; j < m; j++) dv[j] = d[lo + j];
  // Column types: 1 = rows 0..m1−1 only, 3 = rows m1..m−1 only, 2 = dense (after a rotation).
  const type = new Int8Array(m);
  type.fill(1, 0, m1);
  type.fill(3, m1, m);
  // Merge the two ascending halves.
  {
    let x = 0, y = m1, o = 0;
    while (x < m1 && y < m) order[o++] = dv[x] <= dv[y] ? x++ : y++;
    while (x < m1) order[o++] = x++;
    while (y < m) order[o++] = y++;
  }
  let dmax = 0;
  for (let j = 0; j < m; j++) dmax = Math.max(dmax, Math.abs(dv[j]));
  const tol = 8 * EPS * Math.max(dmax, rho);
  // Deflation (Dongarra–Sorensen): tiny z_j, or two nearly equal d's merged by a rotation.
  let k = 0, nd = 0;
  let prev = -1;
  for (let o = 0; o < m; o++) {
    const j = order[o];
    if (rho * Math.abs(z[j]) <= tol) { defl[nd++] = j; continue; }
    if (prev < 0) { prev = j; continue; }
    const tt = dv[j] - dv[prev];
    const r = hyp(z[prev], z[j]);
    const c = z[j] / r, s = -z[prev] / r;
    if (Math.abs(tt * c * s) <= tol) {
      // Rotate columns prev, j so that z_prev = 0; the dropped coupling is c·s·(d_j − d_prev).
      z[j] = r;
      z[prev] = 0;
      const dp = dv[prev], dj = dv[j];
      dv[prev] = c * c * dp + s * s * dj;
      dv[j] = s * s * dp + c * c * dj;
      for (let row = 0; row < m; row++) {
        const base = (lo + row) * n + lo;
        const xp = q[base + prev], xj = q[base + j];
        q[base + prev] = c * xp + s * xj;
        q[base + j] = -s * xp + c * xj;
      }
      if (type[prev] !== type[j]) { type[prev] = 2; type[j] = 2; }
      defl[nd++] = prev;
    } else {
      kept[k++] = prev;
    }
    prev = j;
  }
  if (prev >= 0) kept[k++] = prev;
  const w1 = ws.w1, w2 = ws.w2, w3 = ws.w3;
  if (k > 0) {
    for (let s = 0; s < k; s++) { dk[s] = dv[kept[s]]; zk[s] = z[kept[s]]; z2[s] = zk[s] * zk[s]; }
    solveSecular(k, dk, z2, rho, org, tau);
    const dorg = nrm; // scratch: d at each root's origin
    for (let i = 0; i < k; i++) { dorg[i] = dk[org[i]]; lam[i] = dorg[i] + tau[i]; }
    // Δ[j][i] = d_j − λ_i, accurate through the stored origin (w3, k×k).
    for (let j = 0; j < k; j++) {
      const row = j * k;
      const dj = dk[j];
      for (let i = 0; i < k; i++) w3[row + i] = dj - dorg[i] - tau[i];
    }
    // Löwner: the ẑ for which the computed λ are exact eigenvalues of D + ρ ẑẑᵀ (Gu–Eisenstat eq. 3.6):
    // ẑ_j² = (λ_{k−1} − d_j)/ρ · Π_{i<j} (λ_i − d_j)/(d_i − d_j) · Π_{i>j} (λ_{i−1} − d_j)/(d_i − d_j),
    // each factor in (0, 1] by interlacing, so the product neither overflows nor loses sign.
    for (let j = 0; j < k; j++) {
      const row = j * k;
      const dj = dk[j];
      let prod = -w3[row + k - 1] / rho;
      for (let i = 0; i < j; i++) prod *= w3[row + i] / (dj - dk[i]);
      for (let i = j + 1; i < k; i++) prod *= w3[row + i - 1] / (dj - dk[i]);
      zh[j] = (zk[j] >= 0 ? 1 : -1) * Math.sqrt(Math.max(prod, 0));
    }
    // Eigenvectors of the rank-one problem: u_i ∝ (D − λ_i)⁻¹ ẑ (column i of U = w3, rows j).
    nrm.fill(0, 0, k);
    for (let j = 0; j < k; j++) {
      const row = j * k;
      const zj = zh[j];
      for (let i = 0; i < k; i++) {
        const x = zj / w3[row + i];
        w3[row + i] = x;
        nrm[i] += x * x;
      }
    }
    for (let i = 0; i < k; i++) nrm[i] = 1 / Math.sqrt(nrm[i]);
    // Pack the kept columns by type so the products skip the zero blocks of diag(Q₁, Q₂).
    let n1 = 0, n2 = 0;
    for (let s = 0; s < k; s++) { const t = type[kept[s]]; if (t === 1) n1++; else if (t === 2) n2++; }
    {
      let a1 = 0, a2 = n1, a3 = n1 + n2;
      for (let s = 0; s < k; s++) { const t = type[kept[s]]; pos[s] = t === 1 ? a1++ : t === 2 ? a2++ : a3++; }
    }
    // w2 ← U with rows permuted into packed order, columns normalised.
    for (let s = 0; s < k; s++) {
      const src = s * k, dst = pos[s] * k;
      for (let i = 0; i < k; i++) w2[dst + i] = w3[src + i] * nrm[i];
    }
    const p1 = n1 + n2; // columns touching the top rows
    const p2 = k - n1; // columns touching the bottom rows
    const botOff = m1 * p1;
    // Gather lists: packed column → source column of the block.
    for (let s = 0; s < k; s++) srcK[pos[s]] = kept[s];
    for (let r = 0; r < m1; r++) {
      const base = (lo + r) * n + lo, o = r * p1;
      for (let t = 0; t < p1; t++) w1[o + t] = q[base + srcK[t]];
    }
    for (let r = 0; r < m2; r++) {
      const base = (lo + m1 + r) * n + lo, o = botOff + r * p2;
      for (let t = 0; t < p2; t++) w1[o + t] = q[base + srcK[n1 + t]];
    }
    // R = [Q₁ packed · U_top ; Q₂ packed · U_bottom] into w3 (m×k), in row blocks with a yield
    // between them so a large merge can still be cancelled promptly.
    const RB = Math.max(64, Math.floor(5e8 / Math.max(1, k * Math.max(p1, p2))) & ~3); // ≈ 1 GFLOP per block
    for (let r = 0; r < m1; r += RB) {
      gemm(Math.min(RB, m1 - r), k, p1, 1, w1, r * p1, p1, w2, 0, k, false, w3, r * k, k, ws.pk);
      yield;
    }
    for (let r = 0; r < m2; r += RB) {
      gemm(Math.min(RB, m2 - r), k, p2, 1, w1, botOff + r * p2, p2, w2, n1 * k, k, false, w3, (m1 + r) * k, k, ws.pk);
      yield;
    }
  }
  // Deflated values sorted (rotations can perturb their order slightly).
  for (let t = 0; t < nd; t++) dvals[t] = dv[defl[t]];
  const dord = argsortAsc(dvals, nd);
  // Final ascending order: merge the roots (ascending by interlacing) with the deflated values.
  {
    let x = 0, y = 0, o = 0;
    while (x < k || y < nd) {
      if (y >= nd || (x < k && lam[x] <= dvals[dord[y]])) { d[lo + o] = lam[x]; dstK[x++] = o++; } else { d[lo + o] = dvals[dord[y]]; dstD[y++] = o++; }
    }
  }
  // Deflated columns are copied out (w1 is free again) before q's block is overwritten.
  for (let t = 0; t < nd; t++) srcK[t] = defl[dord[t]];
  for (let r = 0; r < m; r++) {
    const base = (lo + r) * n + lo, o = r * nd;
    for (let t = 0; t < nd; t++) w1[o + t] = q[base + srcK[t]];
  }
  for (let r = 0; r < m; r++) {
    const base = (lo + r) * n + lo;
    const ro = r * k, dro = r * nd;
    for (let i = 0; i < k; i++) q[base + dstK[i]] = w3[ro + i];
    for (let t = 0; t < nd; t++) q[base + dstD[t]] = w1[dro + t];
  }
}

/**
 * Eigen-decomposition of the symmetric tridiagonal (d, e) by divide and conquer. On exit d is
 * ascending and ws.q (zeroed on entry) holds the eigenvectors, one per column. e is destroyed.
 * Yields the fraction of merge work done.
 */
export function* tridiagDC(d: Float64Array, e: Float64Array, n: number, ws: DcWork): Generator<number, void, void> {
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]));
  for (let i = 0; i < n - 1; i++) scale = Math.max(scale, Math.abs(e[i]));
  if (scale === 0) {
    for (let i = 0; i < n; i++) ws.q[i * n + i] = 1;
    return;
  }
  for (let i = 0; i < n; i++) d[i] /= scale;
  for (let i = 0; i < n - 1; i++) e[i] /= scale;
  const total = n * n * Math.log2(Math.max(2, n / LEAF)) + 1;
  let done = 0;
  function* rec(lo: number, hi: number): Generator<number, void, void> {
    if (hi - lo <= LEAF) { dcLeaf(d, e, lo, hi, ws); return; }
    const mid = lo + ((hi - lo) >> 1);
    const beta = e[mid - 1];
    d[mid - 1] -= Math.abs(beta);
    d[mid] -= Math.abs(beta);
    yield* rec(lo, mid);
    yield* rec(mid, hi);
    for (const _ of dcMerge(d, lo, mid, hi, beta, ws)) yield Math.min(1, done / total);
    done += (hi - lo) * (hi - lo);
    yield Math.min(1, done / total);
  }
  yield* rec(0, n);
  for (let i = 0; i < n; i++) d[i] *= scale;
}

