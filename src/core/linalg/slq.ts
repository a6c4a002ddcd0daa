/**
 * The density of the whole Hessian spectrum by stochastic Lanczos quadrature (SLQ), and the
 * Hutchinson trace estimator.
 *
 * For a probe v = z/‖z‖ with Rademacher z, m Lanczos steps give T_m = Y diag(θ) Yᵀ, and
 * vᵀ f(H) v ≈ Σ_i τ_i f(θ_i) with τ_i = (e₁ᵀ y_i)², the m-point Gauss quadrature of the spectral
 * measure μ_v = Σ_j (vᵀ q_j)² δ_{h_j} (Golub & Meurant, "Matrices, Moments and Quadrature", 2010;
 * Ubaru, Chen & Saad, SIAM J. Matrix Anal. Appl. 38 (2017) 1075–1099; Ghorbani, Krishnan & Xiao,
 * ICML 2019 for Hessians). E[μ_v] = (1/d) Σ_j δ_{h_j}, so averaging over probes and multiplying by
 * d estimates the eigenvalue counting measure: d1(ε) = #{h_i > ε} ≈ d · mean_p Σ_{θ_pi > ε} τ_pi
 * (docs/science.md §3, (S7)). Each probe's Lanczos run is fully reorthogonalized (twice-CGS), so the nodes are
 * free of ghost copies.
 */
import { BadInputError } from '../errors';
import type { JobContext } from '../jobs';
import { makeRng } from '../rng';
import { meanStd } from '../stats';
import type { Rng } from '../rng';
import { tridiagEigen } from './eigh';
import type { SymOperator } from './operator';
import { DEFAULT_MEMORY_BUDGET } from './krylovBasis';
import { openBasis, type GpuBasisRequest } from '../gpu/openBasis';
import { applyChecked, INVARIANT_TOL, norm2 } from './krylovVectors';
import type { BasisStorage } from './krylovBasis';

export interface SlqOptions {
  probes: number;
  /** Lanczos steps per probe (fewer if the probe's Krylov space becomes invariant: quadrature then exact). */
  steps: number;
  seed: number;
  ctx?: JobContext;
  /** Bound on the per-probe basis (default 512 MiB); Float32 storage is used beyond it. */
  memoryBudgetBytes?: number;
  storage?: BasisStorage;
  /** Keep the per-probe basis on this WebGPU device (as LanczosOptions.gpu); the CPU basis, with the reason, when it cannot be had. */
  gpu?: GpuBasisRequest;
}

export interface SlqResult {
  /** Per probe: Ritz values (Gauss nodes), descending. */
  nodes: Float64Array[];
  /** Per probe: squared first components of the Ritz vectors (Gauss weights); each sums to 1. */
  weights: Float64Array[];
  /** Operator dimension. */
  d: number;
  matvecs: number;
  storage: BasisStorage;
  /** Where the basis and its sweeps ran (KrylovStore.where), and why not on the GPU when that was asked for. */
  basis: string;
  basisFallback?: string;
}

/** A Rademacher (±1) vector scaled to unit length. */
function rademacherUnit(d: number, rng: Rng, out: Float64Array): Float64Array {
  const s = 1 / Math.sqrt(d);
  for (let i = 0; i < d; i++) out[i] = rng.next() < 0.5 ? -s : s;
  return out;
}

/**
 * SLQ nodes and weights for `probes` Rademacher probes of `steps` Lanczos steps each. Progress:
 * "SLQ probe p/P, step j/m"; ctx.checkpoint() every step.
 */
export async function slqDensity(op: SymOperator, opts: SlqOptions): Promise<SlqResult> {
  const d = op.d;
  const probes = Math.floor(opts.probes), steps = Math.min(Math.floor(opts.steps), d);
  if (!(probes >= 1)) throw new RangeError(`slqDensity: probes must be ≥ 1, got ${opts.probes}`);
  if (!(steps >= 1)) throw new RangeError(`slqDensity: steps must be ≥ 1, got ${opts.steps}`);
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  const plan = (gpu: boolean): { storage: BasisStorage; capacity: number } => {
    const storage: BasisStorage = gpu ? 'f32' : opts.storage ?? (steps * d * 8 <= budget ? 'f64' : 'f32');
    const bytes = steps * d * (storage === 'f64' ? 8 : 4);
    if (bytes > budget) {
      throw new BadInputError(
        `SLQ with ${steps} steps at d = ${d} needs ${bytes.toLocaleString('en-US')} bytes of ` +
        `${storage === 'f64' ? 'Float64' : 'Float32'} basis; the memory budget is ${budget.toLocaleString('en-US')} bytes. Use fewer steps.`,
      );
    }
    return { storage, capacity: steps };
  };
  const { basis, fallback } = await openBasis(d, opts.gpu, plan);
  const storage = basis.storage;
  try {
    const rng = makeRng(opts.seed);
    const ctx = opts.ctx;
    const v = new Float64Array(d), w = new Float64Array(d);
    const h1 = new Float64Array(steps), h2 = new Float64Array(steps);
    const alpha = new Float64Array(steps), beta = new Float64Array(steps);
    const nodes: Float64Array[] = [], weights: Float64Array[] = [];
    let matvecs = 0;
    for (let p = 0; p < probes; p++) {
      basis.reset();
      rademacherUnit(d, rng, v);
      let anorm = 0;
      let len = 0;
      for (let j = 0; j < steps; j++) {
        basis.push(v);
        await applyChecked(op, v, w);
        matvecs++;
        anorm = Math.max(anorm, norm2(w));
        await basis.project(w, h1, ctx);
        await basis.project(w, h2, ctx);
        alpha[j] = h1[j] + h2[j];
        len = j + 1;
        ctx?.progress((p + len / steps) / probes, `SLQ probe ${p + 1}/${probes}, step ${len}/${steps}`);
        if (ctx) await ctx.checkpoint();
        if (j === steps - 1) break;
        const b = norm2(w);
        // Invariant Krylov space: the len-point quadrature is already exact for this probe.
        if (b <= INVARIANT_TOL * anorm) break;
        beta[j] = b;
        for (let i = 0; i < d; i++) v[i] = w[i] / b;
      }
      const t = tridiagEigen(alpha.subarray(0, len), beta.subarray(0, Math.max(0, len - 1)), { weights: true });
      nodes.push(t.values);
      weights.push(t.weights ?? new Float64Array(len));
    }
    const result: SlqResult = { nodes, weights, d, matvecs, storage, basis: basis.where };
    if (fallback) result.basisFallback = fallback;
    return result;
  } finally {
    basis.dispose();
  }
}

export interface DensityOptions {
  /**
   * 'linear' (default): grid and sigma are eigenvalues; the result is eigenvalues per unit λ.
   * 'log10': grid and sigma are in u = log10 λ; nodes at or below `floor` are left out (they have
   * no place on a log axis) and the result is eigenvalues per unit of log10 λ. The mass left out
   * is d − countAbove(slq, floor, d).mean.
   */
  space?: 'linear' | 'log10';
  /** Only for 'log10': nodes ≤ floor are left out (default 0). */
  floor?: number;
}

/**
 * The SLQ spectral density on `grid`, each node broadened by a Gaussian of standard deviation
 * `sigma`, scaled so that its integral over the real line is d (in 'log10' space: d minus the mass
 * at or below the floor): ρ(t) = d · mean_p Σ_i τ_pi · N(t; θ_pi, σ²).
 */
export function densityOnGrid(slq: Pick<SlqResult, 'nodes' | 'weights'>, grid: Float64Array, sigma: number, d: number, opts: DensityOptions = {}): Float64Array {
  if (!(sigma > 0)) throw new RangeError(`densityOnGrid: sigma must be > 0, got ${sigma}`);
  const log = opts.space === 'log10';
  const floor = opts.floor ?? 0;
  const out = new Float64Array(grid.length);
  const P = slq.nodes.length;
  if (P === 0) return out;
  const c = d / (P * sigma * Math.sqrt(2 * Math.PI));
  const inv2s2 = 1 / (2 * sigma * sigma);
  const cut = 8 * sigma; // exp(−32) ≈ 1e−14: beyond it a node contributes nothing visible
  for (let p = 0; p < P; p++) {
    const th = slq.nodes[p], wt = slq.weights[p];
    for (let i = 0; i < th.length; i++) {
      if (log && !(th[i] > floor && th[i] > 0)) continue;
      const x = log ? Math.log10(th[i]) : th[i];
      const a = c * wt[i];
      for (let g = 0; g < grid.length; g++) {
        const t = grid[g] - x;
        if (t > cut || t < -cut) continue;
        out[g] += a * Math.exp(-t * t * inv2s2);
      }
    }
  }
  return out;
}

export interface CountEstimate {
  /** d · mean over probes of the weight above ε. */
  mean: number;
  /** Standard error of the mean from the probe spread (NaN with one probe). */
  stderr: number;
  min: number;
  max: number;
  perProbe: Float64Array;
}

function summarize(samples: Float64Array): CountEstimate {
  let min = Infinity, max = -Infinity;
  for (const s of samples) { min = Math.min(min, s); max = Math.max(max, s); }
  const { mean, stderr } = meanStd(samples);
  return { mean, stderr, min, max, perProbe: samples };
}

/** d1(ε) = #{h_i > ε} (docs/science.md (S5)) from SLQ: d · Σ weights of nodes > ε, per probe, summarized. */
export function countAbove(slq: Pick<SlqResult, 'nodes' | 'weights'>, eps: number, d: number): CountEstimate {
  const P = slq.nodes.length;
  const per = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const th = slq.nodes[p], wt = slq.weights[p];
    let s = 0;
    for (let i = 0; i < th.length; i++) if (th[i] > eps) s += wt[i];
    per[p] = d * s;
  }
  return summarize(per);
}

export interface TraceEstimate {
  mean: number;
  stderr: number;
  samples: Float64Array;
}

/** Hutchinson's estimator tr H ≈ mean_p zᵀ H z with Rademacher z, with its standard error. */
export async function hutchinsonTrace(op: SymOperator, opts: { probes: number; seed: number; ctx?: JobContext }): Promise<TraceEstimate> {
  const d = op.d;
  const P = Math.floor(opts.probes);
  if (!(P >= 1)) throw new RangeError(`hutchinsonTrace: probes must be ≥ 1, got ${opts.probes}`);
  const rng = makeRng(opts.seed);
  const z = new Float64Array(d), y = new Float64Array(d);
  const samples = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < d; i++) z[i] = rng.next() < 0.5 ? -1 : 1;
    await applyChecked(op, z, y);
    let s = 0;
    for (let i = 0; i < d; i++) s += z[i] * y[i];
    samples[p] = s;
    opts.ctx?.progress((p + 1) / P, `trace probe ${p + 1}/${P}`);
    if (opts.ctx) await opts.ctx.checkpoint();
  }
  const { mean, stderr } = summarize(samples);
  return { mean, stderr, samples };
}
