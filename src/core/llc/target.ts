/**
 * What SGLD samples: a loss L(w) over n rows (mean over rows), its gradient, and the point w* the
 * chains are localized at. A model on its training rows is one target (modelTarget); a loss given
 * by formula (polynomialTarget: c·Π w_i^{2k_i}, the normal crossings of docs/science.md §9) is another,
 * so the estimator and its calibration are tested on losses with known learning coefficients.
 *
 * The loss kinds of a model target (docs/science.md §5: "always labelled"):
 * - 'nll' (the default): the per-sample negative log-likelihood, averaged over rows. For a
 *   classifier that is the cross-entropy −log softmax(f(x))_y; for matfac (a regression) the Gaussian
 *   NLL with unit variance, ½‖y − f(x)‖² summed over the outputs (the constant ½·k·log 2π dropped,
 *   it cancels in L(w) − L(w*)). This is the loss whose n-fold tempered posterior Watanabe's λ is
 *   defined for, so λ̂ on it is comparable with Aoyagi's values.
 * - 'train': the objective the model was trained with (cross-entropy; nn.MSELoss's mean over all
 *   n·k entries for matfac, which is 2/k times the NLL: a different temperature).
 * - 'behavioral': L_B(w | w*) = (1/n) Σ_x ‖f_w(x) − f_w*(x)‖² (sum over outputs; docs/science.md (S1)).
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/types';
import { gatherRows } from '../data/types';
import { BadInputError } from '../errors';
import type { ModelBundle } from '../models/bundle';
import { getArchSpec } from '../arch/registry';
import { inputDim, isClassifier, layoutFor, outputDim, type ModelConfig } from '../models/config';
import type { ParamLayout } from '../params';
import { crossEntropyRows, lossFor } from '../train/losses';
import { batchGradient, takeRows, uploadRowChunks, type HeadKind } from '../train/fused';
import { wholeStepEngine } from '../train/engines';
import type { LangevinConsts } from '../train/wasmKernels';
import type { Rng } from '../rng';
import { webgpuDevice } from '../backend';
import { openGpuTrainer, type GpuTrainer } from '../gpu/trainStep';

export type SgldLossKind = 'nll' | 'train' | 'behavioral';

export interface SgldTarget {
  /** Parameters and rows. */
  d: number;
  n: number;
  /** w*, resident on the backend (the target owns it). */
  wStar: tf.Tensor1D;
  /** The mean loss over `rows` (all rows when null) and its gradient at w. Call inside tf.tidy. */
  lossAndGrad(w: tf.Tensor1D, rows: tf.Tensor1D | null): { value: tf.Scalar; grad: tf.Tensor1D };
  /** The mean loss over all rows at w (chunked where that matters). Call inside tf.tidy. */
  fullLoss(w: tf.Tensor1D): tf.Scalar;
  /** What L is, in words, with its scale (for labels and the CLI's JSON). */
  label: string;
  kind: SgldLossKind | 'formula';
  /**
   * Unadjusted SGLD steps run whole in a resident engine (train/residentEngine.ts: CPU backends, our
   * kernels on), with w kept there between draws; absent where none applies. The chain (chain.ts)
   * uses it for plain steps and reads w out only where a tfjs pass needs it.
   */
  native?: NativeChain;
  /**
   * Unadjusted SGLD steps run whole on the GPU (gpu/trainStep.ts: the webgpu backend, a dense stack
   * or a token-pair model), w kept there between draws; absent where none applies. The chain uses it
   * for plain steps, as `native` on the CPU backends.
   */
  gpuChain?: GpuChain;
  /** Nominal cost terms for the calibration's work budget (calibrate.ts nominalStepMs); defaults there. */
  cost?: { rowMs?: number; stepMs?: number };
  dispose(): void;
}

/** An SGLD chain held in a resident engine: w lives there between steps. */
export interface NativeChain {
  /** Puts the chain at w (layout order; default w*). */
  start(w?: Float32Array): void;
  /**
   * One unadjusted step on `rows` (null: all rows) with noise from `rng`: returns L and ‖w − w*‖²
   * at w before the step.
   */
  step(rows: Int32Array | null, rng: Rng, c: LangevinConsts): [number, number];
  /**
   * One Metropolis-adjusted step on all rows (MALA with rejection, chain.ts) from the state `cur`
   * (L, ‖w − w*‖² and U at w; null: computed here), accepting with min(1, α) against exp(logU).
   * Returns the state before the move (the draw), log α and the state after.
   */
  metropolisStep(rng: Rng, logU: number, c: LangevinConsts, cur: HostState | null): { before: HostState; logAlpha: number; after: HostState };
  /** The chain's w (layout order). */
  state(): Float32Array;
}

/**
 * An SGLD chain held on the GPU: w lives there between steps, and nothing is read back per step. A
 * step's L and ‖w − w*‖² (at w before it) wait in a ring of `ring()` steps on the GPU and are read in
 * one round trip (`recent`), so the chain reads at least every ring() steps; w is read
 * asynchronously. Plain (unadjusted) steps only.
 */
export interface GpuChain {
  /** Opens the chain's GPU buffers (once; later calls return the first answer): null, or why there is none. */
  open(): Promise<string | null>;
  /** Steps kept in the ring (after open). */
  ring(): number;
  /** Puts the chain at w (layout order; default w*). */
  start(w?: Float32Array): void;
  /** Queues one unadjusted step on `rows` (null: all rows) with noise from `rng`, drawn in layout order as on the tfjs path. */
  step(rows: Int32Array | null, rng: Rng, c: LangevinConsts): void;
  /** The last k ≤ ring() steps' [L, ‖w − w*‖²], interleaved (L₀, d₀, L₁, d₁, …), oldest first. */
  recent(k: number): Promise<Float32Array>;
  /** The chain's w (layout order), after the steps queued so far. */
  state(): Promise<Float32Array>;
}

/** L, ‖w − w*‖² and U = nβL + (γ/2)‖w − w*‖² at a chain's w (a native Metropolis-adjusted chain's state). */
export interface HostState { value: number; dist2: number; u: number }

/** Rows per chunk when evaluating a full-data loss. */
const EVAL_CHUNK = 2048;

/** Problems that make SGLD on this model and dataset meaningless, as a BadInputError. */
export function checkCompatible(model: ModelBundle, ds: Dataset, layout: ParamLayout): void {
  const c = model.config;
  if (model.theta.length !== layout.size) throw new BadInputError(`θ has ${model.theta.length} entries but this ${c.arch} has ${layout.size} parameters`);
  if (ds.inputDim !== inputDim(c)) throw new BadInputError(`The dataset has inputs of width ${ds.inputDim}, the model expects ${inputDim(c)}`);
  if (ds.outDim !== outputDim(c)) throw new BadInputError(`The dataset has ${ds.outDim} outputs, the model has ${outputDim(c)}`);
  if (ds.trainIdx.length === 0) throw new BadInputError('The dataset has no training rows to sample with');
  for (let i = 0; i < model.theta.length; i++) {
    if (!Number.isFinite(model.theta[i])) throw new BadInputError(`θ[${i}] is ${model.theta[i]}: SGLD needs finite weights`);
  }
}

/** The label of a model target's loss, with its scale in words. */
export function lossLabelFor(config: ModelConfig, kind: SgldLossKind): string {
  if (kind === 'behavioral') return 'behavioral loss L_B(w | w*) (squared error, sum over outputs, mean over rows)';
  if (kind === 'train') return isClassifier(config) ? 'training loss (cross-entropy, mean over rows)' : 'training loss (nn.MSELoss: mean over every row and output)';
  return isClassifier(config)
    ? 'negative log-likelihood (cross-entropy, mean over rows)'
    : `negative log-likelihood (Gaussian, σ = 1: ½‖y − f(x)‖² summed over ${outputDim(config)} outputs, mean over rows)`;
}

/** Per-row losses summed over a chunk (for the full-data mean). Call inside tidy. */
function rowSum(config: ModelConfig, kind: SgldLossKind, out: tf.Tensor2D, y: tf.Tensor): tf.Scalar {
  if (kind === 'behavioral') return tf.sum(tf.squaredDifference(out, y));
  if (kind === 'train') return lossFor(config).rowSum(out, y);
  if (isClassifier(config)) return tf.sum(crossEntropyRows(out, y as tf.Tensor1D));
  return tf.mul(tf.sum(tf.squaredDifference(out, y)), 0.5);
}

/** The head (train/fused.ts) whose batch mean is this loss kind. */
export function headFor(config: ModelConfig, kind: SgldLossKind): HeadKind {
  if (kind === 'behavioral') return 'sse';
  if (kind === 'train') return lossFor(config).head;
  return isClassifier(config) ? 'cross-entropy' : 'half-sse';
}

/** A model on its training rows: rows, targets and w* uploaded once and kept resident. */
export function modelTarget(model: ModelBundle, ds: Dataset, kind: SgldLossKind): SgldTarget {
  const config = model.config;
  const layout = layoutFor(config);
  checkCompatible(model, ds, layout);
  const grad = batchGradient(config, layout, headFor(config, kind));
  const idx = ds.trainIdx;
  const n = idx.length;
  const xs = gatherRows(ds.x, ds.inputDim, idx);
  // Whole passes in our kernels where they apply (train/engines.ts; the optimizer is unused). They
  // read the rows on the host, so the whole-split tensors are then only kept where they double as
  // the one evaluation chunk.
  const engine = wholeStepEngine(config, layout, headFor(config, kind), n, { kind: 'sgd', momentum: 0, weightDecay: 0 });
  const whole = !engine || n <= EVAL_CHUNK;
  const x = whole ? (xs instanceof Int32Array ? tf.tensor2d(xs, [n, ds.inputDim], 'int32') : tf.tensor2d(xs, [n, ds.inputDim], 'float32')) : null;
  // Evaluation chunks, uploaded from the host (slicing a resident tensor is slow on wasm).
  const xChunks = (n > EVAL_CHUNK ? uploadRowChunks(xs, n, ds.inputDim, EVAL_CHUNK) : [x as tf.Tensor2D]) as tf.Tensor2D[];
  const wStar = tf.tensor1d(model.theta, 'float32');
  let y: tf.Tensor | null, yChunks: tf.Tensor[];
  /** The targets on the host, for the engine: labels, targets, or f_w*(x) for the behavioral loss. */
  let yHost: Float32Array | Int32Array | null = null;
  /** The labels or targets on the host (not for the behavioral loss, whose targets are computed on the backend). */
  let yRows: Float32Array | Int32Array | null = null;
  if (kind === 'behavioral') {
    // f_w*(x) over the training rows, computed once in chunks and kept as the target.
    yChunks = xChunks.map((xc) => tf.tidy(() => grad.outputs(wStar, xc)));
    y = !whole ? null : yChunks.length === 1 ? yChunks[0] : tf.concat(yChunks, 0);
    if (engine) {
      yHost = new Float32Array(n * ds.outDim);
      let o = 0;
      for (const c of yChunks) { const v = c.dataSync() as Float32Array; yHost.set(v, o); o += v.length; }
    }
  } else {
    let ys: Int32Array | Float32Array, cols: number;
    if (isClassifier(config)) {
      if (!(ds.y instanceof Int32Array)) throw new BadInputError('A classifier needs int32 labels');
      ys = gatherRows(ds.y, 1, idx); cols = 0;
      y = whole ? tf.tensor1d(ys, 'int32') : null;
    } else {
      if (!(ds.y instanceof Float32Array)) throw new BadInputError(`matfac needs float32 targets [n, ${ds.outDim}]`);
      ys = gatherRows(ds.y, ds.outDim, idx); cols = ds.outDim;
      y = whole ? tf.tensor2d(ys, [n, ds.outDim], 'float32') : null;
    }
    yChunks = n > EVAL_CHUNK ? uploadRowChunks(ys, n, cols, EVAL_CHUNK) : [y as tf.Tensor];
    yRows = ys;
    if (engine) yHost = ys;
  }
  const native: NativeChain | undefined = engine && yHost ? {
    start(w = model.theta) { engine.startLangevin(model.theta, w); },
    step(rows, rng, c) {
      const value = engine.lossAndGradient(xs, yHost as Float32Array | Int32Array, n, rows);
      return [value, engine.langevinStep(rng, c)];
    },
    metropolisStep(rng, logU, c, cur) {
      const yh = yHost as Float32Array | Int32Array;
      // ∇L(w) must be in the engine's gradient region: true after an accept or a restore; at the
      // start (cur null) computed here with L(w).
      if (!cur) {
        const value = engine.lossAndGradient(xs, yh, n, null);
        const dist2 = engine.langevinDistance2();
        cur = { value, dist2, u: c.nBeta * value + (c.gamma / 2) * dist2 };
      }
      engine.proposeLangevin(rng, c);
      const vy = engine.lossAndGradient(xs, yh, n, null);
      const t = engine.metropolisTerms(c);
      const uy = c.nBeta * vy + (c.gamma / 2) * t.dist2;
      const logAlpha = cur.u - uy - (c.eps / 8) * t.s2 + (Math.sqrt(c.eps) / 2) * t.sXi;
      // A NaN α (a proposal into overflow) compares false: rejected.
      if (logU < logAlpha) return { before: cur, logAlpha, after: { value: vy, dist2: t.dist2, u: uy } };
      engine.restoreSaved();
      return { before: cur, logAlpha, after: cur };
    },
    state: () => engine.store(),
  } : undefined;
  // On webgpu: the steps in WGSL on the backend's device, opened when a chain first asks.
  let gpu: GpuTrainer | null = null, opening: Promise<string | null> | null = null, disposed = false;
  const live = (): GpuTrainer => {
    if (!gpu) throw new Error('GPU chain: open() first');
    return gpu;
  };
  const gpuChain: GpuChain | undefined = !engine && tf.getBackend() === 'webgpu' ? {
    open() {
      opening ??= (async (): Promise<string | null> => {
        const device = webgpuDevice();
        if (!device) return 'the webgpu backend has no device';
        let yGpu = yRows;
        if (!yGpu) {
          // f_w*(x), read once (asynchronously: no synchronous read on webgpu).
          yGpu = new Float32Array(n * ds.outDim);
          let o = 0;
          for (const c of yChunks) { const v = (await c.data()) as Float32Array; yGpu.set(v, o); o += v.length; }
        }
        try {
          const r = await openGpuTrainer(device, config, {
            layout, head: headFor(config, kind), opt: { kind: 'sgd', momentum: 0, weightDecay: 0 }, theta: model.theta, x: xs, y: yGpu, n, maxBatch: n,
          });
          if (r.reason !== undefined) return r.reason;
          if (disposed) { r.trainer.destroy(); return 'the target was disposed'; }
          gpu = r.trainer;
          return null;
        } catch (e) {
          return `the GPU chain could not be opened: ${e instanceof Error ? e.message : String(e)}`;
        }
      })();
      return opening;
    },
    ring: () => live().ring,
    start(w = model.theta) { live().startLangevin(model.theta, w); },
    step(rows, rng, c) { live().langevinStep(rows, rng, c); },
    async recent(k) {
      const r = await live().recentLangevin();
      const m = r.losses.length;
      if (k > m) throw new Error(`GPU chain: ${k} steps asked, ${m} kept`);
      const out = new Float32Array(2 * k);
      for (let i = 0; i < k; i++) { out[2 * i] = r.losses[m - k + i]; out[2 * i + 1] = r.dist2[m - k + i]; }
      return out;
    },
    state: () => live().theta(),
  } : undefined;
  return {
    d: layout.size, n, wStar, kind, label: lossLabelFor(config, kind),
    ...(native ? { native } : {}),
    ...(gpuChain ? { gpuChain } : {}),
    cost: { rowMs: getArchSpec(config.arch).sgld.rowCostMs },
    lossAndGrad(w, rows) {
      if (engine && yHost) {
        // w and the rows are read on the host: the engines run on the CPU backends only.
        engine.load(w.dataSync() as Float32Array);
        const v = engine.lossAndGradient(xs, yHost, n, rows ? (rows.dataSync() as Int32Array) : null);
        return { value: tf.scalar(v), grad: tf.tensor1d(engine.gradient(), 'float32') };
      }
      const xt = x as tf.Tensor2D, yt = y as tf.Tensor; // present whenever there is no engine
      return rows ? grad.valueAndGrad(w, takeRows(xt, rows), takeRows(yt, rows)) : grad.valueAndGrad(w, xt, yt);
    },
    fullLoss(w) {
      let acc: tf.Scalar = tf.scalar(0);
      xChunks.forEach((xc, i) => { acc = tf.add(acc, rowSum(config, kind, grad.outputs(w, xc), yChunks[i])); });
      return tf.div(acc, n);
    },
    dispose() {
      disposed = true;
      gpu?.destroy();
      gpu = null;
      tf.dispose([...new Set([x, y, wStar, ...xChunks, ...yChunks].filter((t): t is tf.Tensor => t !== null))]);
    },
  };
}

export interface PolynomialTargetSpec {
  /** Powers k_i: L(w) = coef · Π_i w_i^{2 k_i} (a normal crossing; λ = min_i 1/(2k_i) at w = 0). */
  powers: number[];
  coef?: number;
  /** The number of rows the loss stands for (sets nβ = n / log n); the loss itself has no data. */
  n: number;
  /** Where the chains start and are localized (default 0, the singular point). */
  wStar?: number[];
}

/**
 * A loss given by formula, L(w) = coef · Π_i w_i^{2k_i}, with no data (every "minibatch" is the
 * whole loss). Its learning coefficient at 0 is min_i 1/(2k_i) with multiplicity #{i attaining it}.
 */
export function polynomialTarget(spec: PolynomialTargetSpec): SgldTarget {
  const k = spec.powers;
  if (!k.length || k.some((p) => !Number.isInteger(p) || p < 1)) throw new BadInputError('powers must be whole numbers ≥ 1');
  if (!(spec.n >= 2)) throw new BadInputError('n must be at least 2');
  const coef = spec.coef ?? 1;
  const wStar = tf.tensor1d(spec.wStar ?? k.map(() => 0), 'float32');
  const loss = (w: tf.Tensor): tf.Scalar => {
    const parts = k.map((p, i) => tf.pow(tf.slice(w, [i], [1]), 2 * p));
    return tf.mul(tf.prod(tf.concat(parts)), coef) as tf.Scalar;
  };
  return {
    d: k.length, n: spec.n, wStar, kind: 'formula',
    // A Metropolis step on a formula is a few dozen tiny tfjs ops: ≈ 0.3 ms on the reference
    // machine (npm run bench:llc-cost, 2026-12-07).
    cost: { stepMs: 0.35 },
    label: `${coef === 1 ? '' : `${coef}·`}${k.map((p, i) => `w${i + 1}^${2 * p}`).join('·')}`,
    lossAndGrad(w) {
      const { value, grad } = tf.valueAndGrad(loss)(w);
      return { value, grad: grad as tf.Tensor1D };
    },
    fullLoss: (w) => loss(w),
    dispose() { wStar.dispose(); },
  };
}
