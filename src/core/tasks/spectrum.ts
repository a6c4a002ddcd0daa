/**
 * The Hessian of the behavioral loss at θ* (docs/science.md §2, §3): its top eigenvalues (exact by a
 * dense Float64 eigensolve for small d, else Lanczos), the density of the whole spectrum and
 * d1(ε) by stochastic Lanczos quadrature, Hutchinson's trace, and the projection curve behind the
 * accuracy cutoff. Eigenvectors stay in the worker: only the numbers the views need come back.
 */
import { getBackend } from '@tensorflow/tfjs';
import { createJobContext, subContext, type JobContext } from '../jobs';
import { BadInputError } from '../errors';
import type { ModelBundle } from '../models/bundle';
import { isClassifier } from '../models/config';
import { splitIndices } from '../data/types';
import { gaussNewtonOperator } from '../hessian/gn';
import { eigh } from '../linalg/eigh';
import { symmetricFromMatvec, type SymOperator } from '../linalg/operator';
import { lanczosTopK, type LanczosCheck } from '../linalg/lanczos';
import { hutchinsonTrace, slqDensity } from '../linalg/slq';
import { countAboveFloor, forEachProjection, projectionGrid, refineCutoff, type ProjectionCurve, type ProjectionPoint } from '../spectrum/projection';
import { runForward } from './forward';
import { kroneckerSpectrum } from '../spectrum/kronecker';
import { eigenLoadings, type EigenLoadings } from '../spectrum/loadings';
import { datasetFor, type TaskEnv } from './env';
import type { StoppedShort } from '../io/analysis';
import { float32Floor, type FloorEstimate } from '../spectrum/floor';
import { continueCost } from '../spectrum/plan';
import { cutoffK } from '../spectrum/projection';
import { webgpuDevice } from '../backend';
import { gpuBasisDevice, type BasisChoice } from '../gpu/basisDevice';

import { DENSE_AUTO_MAX, DENSE_MAX } from '../spectrum/limits';
/** Dense residuals are checked for this many top pairs. */
const RESIDUALS_DENSE = 1000;
/** Eigenvector loadings (per unit and tensor) are kept for this many top eigenvectors. */
const LOADINGS_MAX = 2500;

export interface SpectrumParams {
  model: ModelBundle;
  /** Data the behavioral loss averages over (default: the training split). */
  split?: 'train' | 'all';
  loss?: 'mse' | 'kl';
  method?: 'auto' | 'dense' | 'lanczos';
  /** Lanczos: number of top eigenpairs (default min(d, 100)). */
  k?: number;
  /** Lanczos: relative residual tolerance (default 1e-4·h_1... passed as tol). */
  tol?: number;
  /** SLQ density (default: 8 probes × 80 steps; 0 probes to skip). */
  probes?: number;
  steps?: number;
  /** Hutchinson probes for the trace (default 20; 0 to skip). */
  traceProbes?: number;
  /** Compute the projection curve (needs eigenvectors; default true). */
  projection?: boolean;
  /**
   * Accuracy cutoffs whose k* is made exact by bisecting between grid points (default: 99.5 % on
   * the train and on the test split, seed 002's cutoff; none when projectionKs is given).
   */
  refineCutoffs?: { cutoff: number; split: 'train' | 'test' }[];
  /** Exactly these k for the projection curve (default: a grid over 1..K). */
  projectionKs?: number[];
  /** The per-layer Kronecker (G ⊗ K) approximate spectrum (default true; cheap). */
  kronecker?: boolean;
  seed?: number;
  /** Memory the Lanczos basis may use (bytes). */
  memoryBudgetBytes?: number;
  /**
   * Lanczos: stop after this long (ms) and keep the leading eigenpairs that have converged; the
   * result says how far it got and what going on would cost (stoppedShort).
   */
  timeLimitMs?: number;
  /** Lanczos: stream partial results (converged eigenvalues, projection curve, k* estimate) while it runs (default true). */
  stream?: boolean;
  /** Streaming: minimum ms between partial results (default 1,000; 0: at every Lanczos step, for tests). */
  streamEveryMs?: number;
  /** The cutoff the streamed k* estimate uses (default 99.5 % on train, seed 002's). */
  streamCutoff?: { cutoff: number; split: 'train' | 'test' };
  /**
   * Lanczos' lean end (LanczosOptions.lean), for a top k close to what the memory budget holds
   * (the MNIST top-8,000): no restarts, a verified sample of residuals, the projection curve in
   * Krylov coordinates, loadings for the top LOADINGS_LEAN eigenvectors only.
   */
  lean?: boolean;
  /**
   * Lanczos: where the Krylov basis and its reorthogonalization run. 'auto' (default): on the GPU
   * (src/core/gpu/gpuBasis.ts) when the job runs on the webgpu backend of a hardware adapter, else
   * on the CPU; 'cpu';
   * 'gpu' (a device of its own off the webgpu backend). Falls back to the CPU basis with the reason
   * in `storage` when the GPU basis cannot be had.
   */
  basis?: BasisChoice;
}

/** Eigenvector loadings kept in a lean Lanczos run (each vector is one pass over the basis). */
const LOADINGS_LEAN = 32;

/** What a running Lanczos spectrum job streams (ctx.partial): enough to draw and to keep on cancel. */
export interface SpectrumPartial {
  d: number;
  n: number;
  loss: 'mse' | 'kl';
  split: 'train' | 'all';
  /** Eigenpairs asked for. */
  k: number;
  iterations: number;
  matvecs: number;
  elapsedMs: number;
  /** The leading converged eigenvalues (descending): what a cancel keeps. */
  eigenvalues: Float64Array;
  /** Their residual estimates β|y_m| (not yet verified). */
  residuals: Float64Array;
  /** Current top Ritz values (converged or not), for a preview of where the rest is heading. */
  ritz: Float64Array;
  /** Projection curve on the span of the converged eigenvectors so far. */
  projection?: ProjectionCurve;
  /** k* (train, the default cutoff) on that curve: a number once reached, else null ("not yet by k = converged"). */
  kStar: number | null;
  backend: string;
}

export interface SpectrumResult {
  d: number;
  n: number;
  method: 'dense' | 'lanczos';
  loss: 'mse' | 'kl';
  split: 'train' | 'all';
  /** Descending; all d of them for dense, the top k for Lanczos. */
  eigenvalues: Float64Array;
  /** ‖H v − h v‖ per pair (verified); for dense, computed from the dense matrix. */
  residuals: Float64Array;
  /** SLQ quadrature per probe (nodes descending, weights summing to 1), for density and d1(ε). */
  slq?: { nodes: Float64Array[]; weights: Float64Array[] };
  trace?: { mean: number; stderr: number };
  projection?: ProjectionCurve;
  /** Eigenvalues of the per-layer Kronecker approximation 2·K^l ⊗ G^l, descending, and what it covers. */
  kronecker?: { eigenvalues: Float64Array; covered: number; uncovered: number; layers: { name: string; gSize: number; kSize: number }[] };
  /** Where the top eigenvectors live: share of each one's squared mass per tensor and per hidden unit (links the spectrum to neurons). */
  loadings?: EigenLoadings;
  /** Eigenvalues above the float32 noise floor (1e-6·h_1) among those computed. */
  aboveFloor: number;
  storage?: string;
  /** The numerical floor of the float32 H·v product (src/core/spectrum/floor.ts); ε axes mark it. */
  floor?: FloorEstimate;
  /** Set when a Lanczos run stopped before all k pairs converged (time limit): how far it got, what more would cost. */
  stoppedShort?: StoppedShort;
  timings: Record<string, number>;
  matvecs: number;
  backend: string;
}

export async function runSpectrum(p: SpectrumParams, ctx: JobContext<SpectrumPartial>, env: TaskEnv): Promise<SpectrumResult> {
  const split = p.split ?? 'train';
  const loss = p.loss ?? 'mse';
  const seed = p.seed ?? 0;
  const timings: Record<string, number> = {};
  const tick = (name: string, t0: number) => { timings[name] = performance.now() - t0; };
  if (loss === 'kl' && !isClassifier(p.model.config)) throw new BadInputError('The KL behavioral loss needs a classifier; matfac uses the MSE behavioral loss.');

  ctx.progress(0, 'loading data');
  const ds = await datasetFor(p.model, env);
  const rows = splitIndices(ds, split);
  let t0 = performance.now();
  const op = await gaussNewtonOperator(p.model, ds, rows, { loss });
  tick('operator', t0);
  let matvecs = 0;
  const sym: SymOperator = {
    d: op.d,
    apply: (v) => { matvecs++; return op.apply(v); },
    applyInto: (v, out) => { matvecs++; return op.applyInto(v, out); },
  };
  const d = op.d;
  const method = p.method === 'dense' || p.method === 'lanczos' ? p.method : d <= DENSE_AUTO_MAX ? 'dense' : 'lanczos';
  if (method === 'dense' && d > DENSE_MAX) throw new BadInputError(`A dense eigensolve of d = ${d.toLocaleString('en-US')} needs ${((2 * d * d * 8) / 1e9).toFixed(1)} GB; use Lanczos (top k) and the SLQ density instead.`);
  const wantProjection = p.projection !== false;
  /** A lean Lanczos run's handle keeps its basis (GPU buffers on the GPU basis) until the projections are done. */
  let releaseBasis = (): void => undefined;
  try {
    let eigenvalues: Float64Array;
    let residuals: Float64Array;
    let vector: (i: number) => ArrayLike<number>;
    /** P_k θ for the projection curve: from the eigenvectors, or (lean Lanczos) in Krylov coordinates. */
    let projectOn = (theta: Float32Array, ks: number[], visit: (k: number, thetaK: Float32Array) => Promise<void>): Promise<void> => forEachProjection(theta, vector, ks, visit);
    let loadingsCount = Infinity;
    let storage: string | undefined;
    let stoppedShort: StoppedShort | undefined;
    /** The device the Krylov bases (Lanczos, SLQ) may use (src/core/gpu/basisDevice.ts). */
    let gb: { device?: GPUDevice; reason?: string } = {};
    const doSlq = method === 'lanczos' && (p.probes ?? 8) > 0;
    const spanEig = doSlq ? 0.55 : 0.8;
    if (method === 'dense') {
      t0 = performance.now();
      const H = await symmetricFromMatvec(sym, { ctx: subContext(ctx, 0.02, 0.3, 'building H') });
      tick('build', t0);
      t0 = performance.now();
      const e = await eigh(H, d, { vectors: true, checkpoint: () => ctx.checkpoint(), onProgress: (f, ph) => ctx.progress(0.3 + 0.5 * f, `eigensolve: ${ph}`) });
      tick('eigensolve', t0);
      eigenvalues = e.values;
      const V = e.vectors!;
      // Residuals ‖H v − h v‖ from the dense matrix, for the top RESIDUALS_DENSE pairs (O(d²) each);
      // the rest are NaN (not computed), not zero.
      residuals = new Float64Array(d).fill(NaN);
      const col = new Float64Array(d);
      for (let j = 0; j < Math.min(d, RESIDUALS_DENSE); j++) {
        for (let i = 0; i < d; i++) col[i] = V[i * d + j];
        let r2 = 0;
        for (let i = 0; i < d; i++) {
          let s = 0;
          const row = i * d;
          for (let l = 0; l < d; l++) s += H[row + l] * col[l];
          const r = s - eigenvalues[j] * col[i];
          r2 += r * r;
        }
        residuals[j] = Math.sqrt(r2);
        if ((j & 63) === 0) await ctx.checkpoint();
      }
      vector = (i) => { const v = new Float64Array(d); for (let r = 0; r < d; r++) v[r] = V[r * d + i]; return v; };
    } else {
      const k = Math.min(d, Math.max(1, Math.floor(p.k ?? 100)));
      t0 = performance.now();
      const tStart = t0;
      const deadline = p.timeLimitMs !== undefined ? t0 + p.timeLimitMs : Infinity;
      // Streaming: the converged eigenvalues and the projection curve on their span, as they come.
      const evalProj = wantProjection ? await projectionEvaluator(p.model, env, ctx) : null;
      const streamed = new Map<number, ProjectionPoint>();
      let streamOriginal: ProjectionPoint | null = null;
      const onCheck = p.stream === false ? undefined : async (c: LanczosCheck): Promise<void> => {
        let projection: ProjectionCurve | undefined;
        if (evalProj && c.converged > 0) {
          streamOriginal ??= { ...(await evalProj(p.model.theta)), k: d };
          const have = [...streamed.keys()];
          const prevMax = have.length ? Math.max(...have) : 0;
          const ks = projectionGrid(c.converged, 16).filter((kk) => kk > prevMax);
          await c.projections(p.model.theta, ks, async (kk, thetaK) => { streamed.set(kk, { ...(await evalProj(thetaK)), k: kk }); });
          projection = { metric: isClassifier(p.model.config) ? 'accuracy' : 'mse', original: streamOriginal, points: [...streamed.values()].sort((a, b) => a.k - b.k) };
        }
        const kStar = projection && projection.metric === 'accuracy' ? cutoffK(projection, p.streamCutoff ?? { cutoff: 0.995, split: 'train' }).kStar : null;
        ctx.partial({
          d, n: rows.length, loss, split, k, iterations: c.iterations, matvecs: c.matvecs, elapsedMs: performance.now() - tStart,
          eigenvalues: c.values.slice(0, c.converged), residuals: c.estimates.slice(0, c.converged), ritz: c.values, projection, kStar, backend: getBackend(),
        });
      };
      gb = await gpuBasisDevice(p.basis ?? 'auto', getBackend(), webgpuDevice());
      const r = await lanczosTopK(sym, k, {
        gpu: gb.device ? { device: gb.device } : undefined,
        seed, tol: p.tol ?? 1e-6, ctx: subContext(ctx, 0.02, spanEig, `Lanczos top ${k}`), wantVectors: wantProjection && !p.lean, memoryBudgetBytes: p.memoryBudgetBytes, lean: p.lean,
        shouldStop: deadline < Infinity ? () => performance.now() > deadline : undefined,
        onCheck, checkEveryMs: p.streamEveryMs,
      });
      tick('lanczos', t0);
      eigenvalues = r.values;
      residuals = r.residuals;
      const products = op.engine === 'resident' ? 'H·v in the resident engine' : op.engine === 'wgsl' ? 'H·v on the WGSL kernels' : `H·v on the tfjs passes${op.fallback ? ` (WGSL product not used: ${op.fallback})` : ''}`;
      storage = `${products}; ${r.storage}, basis ${r.basisSize} vectors (${(r.basisBytes / 1e6).toFixed(0)} MB) on ${r.basis}${r.basisFallback ? ` (GPU basis not used: ${r.basisFallback})` : gb.reason && p.basis !== 'cpu' ? ` (GPU basis not used: ${gb.reason})` : ''}, ${r.restarts} restarts, ${r.converged}/${k} converged`;
      if (r.stopped) {
        const seconds = timings.lanczos / 1000;
        const est = continueCost(d, r.values.length, seconds, k);
        const reason = r.basisFull
          ? `the memory budget (a basis of ${r.basisSize.toLocaleString('en-US')} vectors, ${(r.basisBytes / 1e9).toFixed(2)} GB) was full`
          : `time limit of ${((p.timeLimitMs ?? 0) / 1000).toFixed(0)} s`;
        stoppedShort = {
          reason, requested: k, converged: r.values.length, seconds: Number(seconds.toFixed(1)),
          matvecsPerSecond: Number((r.matvecs / seconds).toFixed(2)), estimate: est,
        };
      }
      if (r.lean) {
        const lr = r.lean;
        releaseBasis = () => lr.dispose();
        storage += `, lean end: ${lr.verified.length} residuals verified, neighbour orthogonality ${lr.orthogonality.toExponential(1)}${r.basisFull ? ', stopped: basis full' : ''}`;
        const vs = wantProjection ? await lr.vectors(Math.min(LOADINGS_LEAN, r.values.length)) : [];
        vector = (i) => { if (i >= vs.length) throw new RangeError(`lean Lanczos: eigenvector ${i} not formed`); return vs[i]; };
        projectOn = (theta, ks, visit) => lr.projections(theta, ks, visit);
        loadingsCount = vs.length;
      } else {
        const vs = r.vectors ?? [];
        vector = (i) => vs[i];
      }
    }

    let slq: SpectrumResult['slq'];
    let trace: SpectrumResult['trace'];
    if (doSlq) {
      t0 = performance.now();
      const s = await slqDensity(sym, { probes: p.probes ?? 8, steps: Math.min(d, p.steps ?? 80), seed: seed + 1, ctx: subContext(ctx, spanEig, 0.8, 'SLQ density'), gpu: gb.device ? { device: gb.device } : undefined });
      tick('slq', t0);
      if (storage !== undefined && gb.device) storage += `; SLQ basis on ${s.basis}${s.basisFallback ? ` (GPU basis not used: ${s.basisFallback})` : ''}`;
      slq = { nodes: s.nodes, weights: s.weights };
    }
    if ((p.traceProbes ?? 20) > 0) {
      t0 = performance.now();
      const tr = method === 'dense'
        ? { mean: eigenvalues.reduce((a, b) => a + b, 0), stderr: 0 }
        : await hutchinsonTrace(sym, { probes: p.traceProbes ?? 20, seed: seed + 2, ctx: subContext(ctx, 0.8, 0.85, 'trace') });
      tick('trace', t0);
      trace = { mean: tr.mean, stderr: tr.stderr };
    }
    const aboveFloor = countAboveFloor(eigenvalues);
    t0 = performance.now();
    const floor = await float32Floor(op, { probes: 3 });
    matvecs += 6;
    tick('floor', t0);
    let kronecker: SpectrumResult['kronecker'];
    if (p.kronecker !== false) {
      t0 = performance.now();
      const kr = await kroneckerSpectrum(p.model, ds, rows, subContext(ctx, 0.85, 0.87, 'Kronecker'));
      tick('kronecker', t0);
      kronecker = { eigenvalues: kr.eigenvalues, covered: kr.covered, uncovered: kr.uncovered, layers: kr.layers.map((l) => ({ name: l.name, gSize: l.gSize, kSize: l.kSize })) };
    }

    let loadings: EigenLoadings | undefined;
    if (method === 'dense' || wantProjection) {
      t0 = performance.now();
      loadings = await eigenLoadings(p.model.config, vector, Math.min(eigenvalues.length, LOADINGS_MAX, loadingsCount), () => ctx.checkpoint());
      tick('loadings', t0);
    }

    let projection: ProjectionCurve | undefined;
    if (wantProjection && eigenvalues.length > 0) {
      t0 = performance.now();
      const K = eigenvalues.length;
      const ks = p.projectionKs ? [...new Set(p.projectionKs.filter((k) => k >= 1 && k <= K))].sort((a, b) => a - b) : [...new Set([...projectionGrid(K), ...[aboveFloor - 2, aboveFloor - 1, aboveFloor, aboveFloor + 1, aboveFloor + 2].filter((k) => k >= 1 && k <= K)])].sort((a, b) => a - b);
      if (p.projectionKs && ks.length < p.projectionKs.length) throw new BadInputError(`Projection k values must be between 1 and ${K} (the number of eigenpairs computed)`);
      const evalAt = async (theta: Float32Array): Promise<ProjectionPoint & { k: number }> => {
        const inner = createJobContext({ signal: ctx.signal });
        const m = { ...p.model, theta };
        const tr = await runForward({ model: m, split: 'train' }, inner, env);
        const te = ds.testIdx.length ? await runForward({ model: m, split: 'test' }, inner, env) : null;
        return { k: 0, trainLoss: tr.loss, testLoss: te ? te.loss : NaN, trainAcc: tr.accuracy, testAcc: te?.accuracy };
      };
      const original = { ...(await evalAt(p.model.theta)), k: d };
      const points: ProjectionPoint[] = [];
      let done = 0;
      await projectOn(p.model.theta, ks, async (k, thetaK) => {
        points.push({ ...(await evalAt(thetaK)), k });
        done++;
        ctx.progress(0.87 + 0.13 * (done / ks.length), `projection curve: k = ${k}`);
        await ctx.checkpoint();
      });
      projection = { metric: isClassifier(p.model.config) ? 'accuracy' : 'mse', original, points };
      // Exact k* for the standard cutoffs: bisect inside the grid gap that holds it.
      for (const rc of p.refineCutoffs ?? (p.projectionKs ? [] : [{ cutoff: 0.995, split: 'train' as const }, { cutoff: 0.995, split: 'test' as const }])) {
        if (rc.split === 'test' && !ds.testIdx.length) continue;
        await refineCutoff(projection, rc, async (k) => {
          let pt: ProjectionPoint | null = null;
          await projectOn(p.model.theta, [k], async (kk, thetaK) => { pt = { ...(await evalAt(thetaK)), k: kk }; });
          ctx.progress(0.99, `refining k* (${rc.split}): k = ${k}`);
          await ctx.checkpoint();
          return pt!;
        });
      }
      tick('projection', t0);
    }
    ctx.progress(1, 'done');
    return { d, n: rows.length, method, loss, split, eigenvalues, residuals, slq, trace, projection, kronecker, loadings, aboveFloor, floor, storage, stoppedShort, timings, matvecs, backend: getBackend() };
  } finally {
    releaseBasis();
    op.dispose();
  }
}

/** Train (and test) metrics of the model at a given θ, for the streamed projection curve. */
async function projectionEvaluator(model: ModelBundle, env: TaskEnv, ctx: JobContext): Promise<(theta: Float32Array) => Promise<ProjectionPoint>> {
  const ds = await datasetFor(model, env);
  return async (theta) => {
    const inner = createJobContext({ signal: ctx.signal });
    const m = { ...model, theta };
    const tr = await runForward({ model: m, split: 'train' }, inner, env);
    const te = ds.testIdx.length ? await runForward({ model: m, split: 'test' }, inner, env) : null;
    return { k: 0, trainLoss: tr.loss, testLoss: te ? te.loss : NaN, trainAcc: tr.accuracy, testAcc: te?.accuracy };
  };
}
