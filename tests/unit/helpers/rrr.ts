/**
 * Reduced-rank regression problems with known learning coefficients, built independently of the
 * code under test: Gaussian inputs, targets y = A x + N(0, I) with a rank-r A, and w* the exact
 * maximum-likelihood fit of a bias-free two-layer linear network (in → hidden → out), obtained in
 * Float64 by a Jacobi eigensolver (no src/core linear algebra involved).
 */
import type { Dataset } from '../../../src/core/data/types';
import type { ModelBundle } from '../../../src/core/models/bundle';
import type { ModelConfig } from '../../../src/core/models/config';
import { makeRng } from '../../../src/core/rng';

/**
 * Aoyagi & Watanabe (2005), the learning coefficient of reduced-rank regression with M inputs,
 * N outputs, H hidden units and a true map of rank r ≤ H.
 */
export function aoyagiRrr(M: number, H: number, N: number, r: number): number {
  if (N + r <= M + H && M + r <= N + H && H + r <= M + N) {
    const base = 2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2;
    return ((M + H + N + r) % 2 === 0 ? base : base + 1) / 8;
  }
  if (M + H < N + r) return (H * M - H * r + N * r) / 2;
  if (N + H < M + r) return (H * N - H * r + M * r) / 2;
  return (M * N) / 2; // M + N < H + r
}

/** Eigen-decomposition of a small symmetric matrix (cyclic Jacobi), eigenvalues descending. */
export function jacobiEig(S: number[][]): { values: number[]; vectors: number[][] } {
  const n = S.length;
  const a = S.map((r) => r.slice());
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i][j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq; a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk; a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq; v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((_, i) => i).sort((i, j) => a[j][j] - a[i][i]);
  return { values: order.map((i) => a[i][i]), vectors: order.map((i) => v.map((row) => row[i])) };
}

export interface RrrSpec { inDim: number; hidden: number; outDim: number; rank: number; n: number; seed: number; noise?: number }

export interface RrrProblem {
  config: ModelConfig;
  ds: Dataset;
  model: ModelBundle;
  /** Aoyagi's λ for this (M, H, N, r). */
  lambda: number;
  /** The fitted map B̂ = W2 W1 (N×M) and the true A, for checks. */
  fit: number[][];
}

/**
 * Data and the exact rank-H least-squares fit: B_ols = (Σ y xᵀ)(Σ x xᵀ)⁻¹, then B̂ = U_H U_Hᵀ B_ols
 * with U_H the top-H eigenvectors of Ŷᵀ Ŷ (the reduced-rank regression estimator for identity noise
 * covariance), factored as W2 = P S^{1/2}, W1 = S^{1/2} Qᵀ from the SVD of B̂ (balanced factors).
 */
export function rrrProblem(spec: RrrSpec): RrrProblem {
  const { inDim: M, hidden: H, outDim: N, rank: r, n, seed } = spec;
  const noise = spec.noise ?? 1;
  const rng = makeRng(seed);
  // A = Σ_k s_k u_k v_kᵀ with r unit-scale singular values 1 … 2 (a signal the data resolves).
  const A = Array.from({ length: N }, () => new Array<number>(M).fill(0));
  for (let k = 0; k < r; k++) {
    const u = Array.from({ length: N }, () => rng.normal()), w = Array.from({ length: M }, () => rng.normal());
    const nu = Math.hypot(...u), nw = Math.hypot(...w), s = 1 + k / Math.max(1, r - 1);
    for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) A[i][j] += (s * u[i] * w[j]) / (nu * nw);
  }
  const x = new Float32Array(n * M), y = new Float32Array(n * N);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < M; j++) x[t * M + j] = rng.normal();
    for (let i = 0; i < N; i++) {
      let v = noise * rng.normal();
      for (let j = 0; j < M; j++) v += A[i][j] * x[t * M + j];
      y[t * N + i] = v;
    }
  }
  // Normal equations in Float64 from the float32 rows actually used.
  const Sxx = Array.from({ length: M }, () => new Array<number>(M).fill(0));
  const Syx = Array.from({ length: N }, () => new Array<number>(M).fill(0));
  for (let t = 0; t < n; t++) {
    for (let a = 0; a < M; a++) {
      for (let b = 0; b < M; b++) Sxx[a][b] += x[t * M + a] * x[t * M + b];
      for (let i = 0; i < N; i++) Syx[i][a] += y[t * N + i] * x[t * M + a];
    }
  }
  const ex = jacobiEig(Sxx);
  const SxxInv = Sxx.map((_, a) => Sxx.map((__, b) => ex.values.reduce((s, l, k) => s + (ex.vectors[k][a] * ex.vectors[k][b]) / l, 0)));
  const Bols = Syx.map((row) => SxxInv.map((col) => row.reduce((s, v, a) => s + v * col[a], 0)));
  // Ŷᵀ Ŷ = B_ols Sxx B_olsᵀ.
  const BS = Bols.map((row) => Sxx.map((col) => row.reduce((s, v, a) => s + v * col[a], 0)));
  const YY = Bols.map((_, i) => Bols.map((__, k) => BS[i].reduce((s, v, a) => s + v * Bols[k][a], 0)));
  const ey = jacobiEig(YY);
  const UH = ey.vectors.slice(0, Math.min(H, N));
  const B = Array.from({ length: N }, (_, i) => Array.from({ length: M }, (_, j) => UH.reduce((s, u) => s + u[i] * u.reduce((t, uk, k) => t + uk * Bols[k][j], 0), 0)));
  // SVD of B̂ through BᵀB (M×M): B = P S Qᵀ, P_k = B q_k / s_k.
  const BtB = Array.from({ length: M }, (_, a) => Array.from({ length: M }, (_, b) => B.reduce((s, row) => s + row[a] * row[b], 0)));
  const eb = jacobiEig(BtB);
  const config: ModelConfig = { arch: 'matfac', widths: [M, H, N] };
  const theta = new Float32Array(H * M + N * H);
  for (let k = 0; k < Math.min(H, M); k++) {
    const s = Math.sqrt(Math.max(0, eb.values[k]));
    if (s < 1e-12) continue;
    const q = eb.vectors[k];
    const p = B.map((row) => row.reduce((t, v, a) => t + v * q[a], 0) / s);
    const rs = Math.sqrt(s);
    for (let j = 0; j < M; j++) theta[k * M + j] = rs * q[j]; // layers.0.weight [H, M], row k
    for (let i = 0; i < N; i++) theta[H * M + i * H + k] = rs * p[i]; // layers.1.weight [N, H], column k
  }
  const ds: Dataset = {
    kind: 'matfac', label: `reduced-rank regression ${M}→${H}→${N}, rank ${r}, n = ${n}`, n, inputDim: M, x, y, outDim: N,
    trainIdx: Int32Array.from({ length: n }, (_, i) => i), testIdx: new Int32Array(0),
  };
  const model: ModelBundle = { name: `rrr-${M}-${H}-${N}-r${r}`, config, theta, data: { kind: 'matfac', inDim: M, outDim: N, nTrain: n, seed } };
  return { config, ds, model, lambda: aoyagiRrr(M, H, N, r), fit: B };
}
