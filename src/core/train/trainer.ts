/**
 * A steppable trainer for the toy models: seeded minibatches (or the full batch), gradients of
 * the training loss with respect to the flat θ (hand-written passes, or autodiff), AdamW or SGD
 * updates with PyTorch semantics, and chunked evaluation with asynchronous reads only (docs/platform.md §1.5).
 * Where a whole-step engine applies the steps run there: our wasm kernels on wasm/cpu
 * (train/engines.ts), WGSL kernels on the webgpu backend's device (gpu/trainStep.ts: one submission
 * per step, the batch loss read back only when asked, θ copied on the GPU for evaluation); else, or
 * when the WGSL engine cannot be had (`fallbackReason`), tfjs ops and the tfjs optimizer.
 * runTraining drives it as a cancellable job with evaluation, θ snapshots and pause hooks.
 */
import * as tf from '@tensorflow/tfjs';
import { inputDim, isClassifier, layoutFor, outputDim, type ModelConfig } from '../models/config';
import type { ModelBundle } from '../models/bundle';
import type { Dataset } from '../data/types';
import { gatherRows } from '../data/types';
import type { ParamLayout } from '../params';
import { makeRng, permutation, type Rng } from '../rng';
import type { JobContext } from '../jobs';
import { lossFor, type TrainingLoss } from './losses';
import { createAdamW, createSgd, type FlatOptimizer } from './optimizers';
import { ensureWasmTrainingKernels } from './wasmKernels';
import { batchGradient, takeRows, uploadRowChunks, type BatchGradient } from './fused';
import { wholeStepEngine } from './engines';
import type { ResidentEngine } from './residentEngine';
import { getArch } from '../arch/registry';
import '../arch/builtin';
import { webgpuDevice } from '../backend';
import { gpuTrainingEnabled, openGpuTrainer, type GpuTrainer } from '../gpu/trainStep';

export { validateTrainOptions, type Metrics, type TrainOptions } from './options';
import { validateTrainOptions, type Metrics, type TrainOptions } from './options';

/**
 * The mean training loss on a batch and its gradient with respect to the flat θ (the hand-written
 * passes of train/fused.ts where the architecture has them, else autodiff through forward()).
 * x, y as the Trainer holds them (int32 pairs or float32 rows; int32 labels or float32 targets).
 * Call inside tf.tidy; θ is not modified.
 */
export function lossAndGradient(config: ModelConfig, theta: tf.Tensor1D, x: tf.Tensor2D, y: tf.Tensor, layout: ParamLayout = layoutFor(config)): { value: tf.Scalar; grad: tf.Tensor1D } {
  return batchGradient(config, layout, lossFor(config).head).valueAndGrad(theta, x, y);
}

/** One split of the data resident on the backend. */
interface SplitTensors {
  n: number;
  /**
   * int32 [n, 2] token pairs or float32 [n, in], for the tfjs steps' minibatches; null where no
   * tfjs step reads it (the test split, or a whole-step engine) and it is not the one chunk.
   */
  x: tf.Tensor2D | null;
  /** int32 labels [n] or float32 targets [n, out] (null with x). */
  y: tf.Tensor | null;
  /** The same rows in evaluation chunks of at most EVAL_CHUNK (x and y themselves when n fits one). */
  chunks: { x: tf.Tensor2D; y: tf.Tensor }[];
  /** The rows on the host: what the whole-step engine reads its minibatches from. */
  hostX: Float32Array | Int32Array;
  hostY: Float32Array | Int32Array;
}

/** Rows evaluated per forward pass (bounds the activations held at once). */
const EVAL_CHUNK = 2048;

function checkCompatible(bundle: ModelBundle, ds: Dataset, layout: ParamLayout): void {
  const c = bundle.config;
  if (bundle.theta.length !== layout.size) throw new Error(`θ has ${bundle.theta.length} entries but ${c.arch} at this size has ${layout.size} parameters`);
  if (ds.inputDim !== inputDim(c)) throw new Error(`The dataset has inputs of width ${ds.inputDim}, the model expects ${inputDim(c)}`);
  if (ds.outDim !== outputDim(c)) throw new Error(`The dataset has ${ds.outDim} outputs, the model has ${outputDim(c)}`);
  if (ds.trainIdx.length === 0) throw new Error('The dataset has no training rows');
  if (isClassifier(c)) {
    if (!(ds.y instanceof Int32Array) || ds.y.length !== ds.n) throw new Error('A classifier needs one int32 label per row');
    const bad = ds.y.findIndex((v) => v < 0 || v >= ds.outDim);
    if (bad >= 0) throw new Error(`Label ${ds.y[bad]} of row ${bad} is outside 0..${ds.outDim - 1}`);
  } else if (!(ds.y instanceof Float32Array) || ds.y.length !== ds.n * ds.outDim) {
    throw new Error(`matfac needs float32 targets [n, ${ds.outDim}]`);
  }
}

/** A split's rows: on the host, in evaluation chunks, and whole (`whole`: the tfjs steps take minibatches from them). */
function splitTensors(ds: Dataset, idx: Int32Array, classifier: boolean, whole: boolean): SplitTensors | null {
  const n = idx.length;
  if (n === 0) return null;
  const xRows = gatherRows(ds.x, ds.inputDim, idx);
  const yRows = classifier ? gatherRows(ds.y as Int32Array, 1, idx) : gatherRows(ds.y as Float32Array, ds.outDim, idx);
  const yCols = classifier ? 0 : ds.outDim;
  const upload = (): { x: tf.Tensor2D; y: tf.Tensor } => ({
    x: xRows instanceof Int32Array ? tf.tensor2d(xRows, [n, ds.inputDim], 'int32') : tf.tensor2d(xRows, [n, ds.inputDim], 'float32'),
    y: classifier ? tf.tensor1d(yRows, 'int32') : tf.tensor2d(yRows, [n, ds.outDim], 'float32'),
  });
  if (n <= EVAL_CHUNK) { const { x, y } = upload(); return { n, x, y, chunks: [{ x, y }], hostX: xRows, hostY: yRows }; }
  // Uploaded from the host: slicing the resident tensors is slow on wasm (train/fused.ts).
  const xs = uploadRowChunks(xRows, n, ds.inputDim, EVAL_CHUNK) as tf.Tensor2D[];
  const ys = uploadRowChunks(yRows, n, yCols, EVAL_CHUNK);
  const { x, y } = whole ? upload() : { x: null, y: null };
  return { n, x, y, chunks: xs.map((xc, i) => ({ x: xc, y: ys[i] })), hostX: xRows, hostY: yRows };
}

export class Trainer {
  readonly config: ModelConfig;
  readonly options: Readonly<TrainOptions>;
  readonly loss: TrainingLoss;
  private readonly layout: ParamLayout;
  private readonly thetaVar: tf.Variable<tf.Rank.R1>;
  /** The tfjs optimizer (null when a whole-step engine trains). */
  private opt: FlatOptimizer | null = null;
  /** Whole steps in our wasm kernels (train/engines.ts), where they apply. */
  private readonly engine: ResidentEngine | null;
  /** Whole steps in WGSL on the webgpu backend's device (gpu/trainStep.ts), once opened. */
  private gpu: GpuTrainer | null = null;
  /** The GPU engine being opened (null when none was tried, or once settled). */
  private gpuOpening: Promise<void> | null = null;
  /** Why the GPU engine is not used where it was tried. */
  private gpuFallback: string | undefined;
  /** The engine's parameters have moved since thetaVar was last written. */
  private thetaStale = false;
  private lastLossValue = NaN;
  private readonly grad: BatchGradient;
  private readonly train: SplitTensors;
  private readonly test: SplitTensors | null;
  private readonly rng: Rng;
  private order: Int32Array | null = null;
  private cursor = 0;
  private lastLoss: tf.Scalar | null = null;
  private steps = 0;
  private disposed = false;

  constructor(bundle: ModelBundle, dataset: Dataset, opts: TrainOptions) {
    const errs = validateTrainOptions(opts);
    if (errs.length) throw new Error(`Invalid training options: ${errs.join('; ')}`);
    this.config = bundle.config;
    this.options = { ...opts };
    this.layout = layoutFor(bundle.config);
    checkCompatible(bundle, dataset, this.layout);
    if (tf.getBackend() === 'wasm') ensureWasmTrainingKernels();
    this.loss = lossFor(bundle.config);
    this.grad = batchGradient(bundle.config, this.layout, this.loss.head);
    this.rng = makeRng(opts.seed);
    const classifier = isClassifier(bundle.config);
    this.engine = this.makeEngine(bundle, dataset.trainIdx.length, opts);
    const arch = getArch(this.config.arch);
    const tryGpu = !this.engine && tf.getBackend() === 'webgpu' && gpuTrainingEnabled() && !!(arch.denseStack?.(this.config as never) ?? arch.pairsSpec?.(this.config as never));
    this.train = splitTensors(dataset, dataset.trainIdx, classifier, !this.engine && !tryGpu) as SplitTensors;
    this.test = splitTensors(dataset, dataset.testIdx, classifier, false);
    this.thetaVar = tf.tidy(() => tf.variable(tf.tensor1d(bundle.theta, 'float32'), false));
    if (tryGpu) this.gpuOpening = this.openGpu(bundle.theta, opts);
    else if (!this.engine) this.useTfjs();
  }

  /** The tfjs path's optimizer, and the training rows whole on the backend for its minibatches. */
  private useTfjs(): void {
    const opts = this.options, d = this.layout.size;
    if (!this.train.x) {
      const n = this.train.n, ds = this.train;
      this.train.x = ds.hostX instanceof Int32Array ? tf.tensor2d(ds.hostX, [n, ds.hostX.length / n], 'int32') : tf.tensor2d(ds.hostX, [n, ds.hostX.length / n], 'float32');
      this.train.y = ds.hostY instanceof Int32Array ? tf.tensor1d(ds.hostY, 'int32') : tf.tensor2d(ds.hostY, [n, ds.hostY.length / n], 'float32');
    }
    this.opt = opts.optimizer === 'adamw'
      ? createAdamW(d, { lr: opts.lr, weightDecay: opts.weightDecay })
      : createSgd(d, { lr: opts.lr, weightDecay: opts.weightDecay, momentum: opts.momentum ?? 0 });
  }

  /** Opens the GPU whole-step engine on the webgpu backend's device; where it cannot be had, the tfjs path with the reason. */
  private async openGpu(theta: Float32Array, opts: TrainOptions): Promise<void> {
    let reason: string;
    try {
      const device = webgpuDevice();
      if (!device) throw new Error('the webgpu backend has no device');
      const n = this.train.n, bs = opts.batchSize, full = bs === 'full' || bs >= n;
      const got = await openGpuTrainer(device, this.config, {
        layout: this.layout, head: this.loss.head, theta, x: this.train.hostX, y: this.train.hostY, n, maxBatch: full ? n : bs, fullBatchOnly: full,
        opt: opts.optimizer === 'adamw' ? { kind: 'adamw', weightDecay: opts.weightDecay } : { kind: 'sgd', momentum: opts.momentum ?? 0, weightDecay: opts.weightDecay },
      });
      if (got.trainer) {
        if (this.disposed) got.trainer.destroy();
        else this.gpu = got.trainer;
        return;
      }
      reason = got.reason;
    } catch (e) {
      reason = e instanceof Error ? e.message : String(e);
    }
    this.gpuFallback = reason;
    if (!this.disposed) this.useTfjs();
  }

  /** Settles the choice of step path (the GPU engine opens asynchronously on webgpu); step() and the reads wait for it themselves. */
  async ready(): Promise<void> {
    if (!this.gpuOpening) return;
    await this.gpuOpening;
    this.gpuOpening = null;
  }

  /**
   * Where the steps run: 'resident' (our wasm kernels, train/engines.ts), 'wgsl' (gpu/trainStep.ts on
   * the webgpu backend's device) or 'tfjs' (tfjs ops and optimizer). Settled after ready() or the first step.
   */
  get stepPath(): 'resident' | 'wgsl' | 'tfjs' {
    return this.engine ? 'resident' : this.gpu || this.gpuOpening ? 'wgsl' : 'tfjs';
  }

  /** Why the WGSL steps are not used on webgpu where they were tried (undefined otherwise). */
  get fallbackReason(): string | undefined {
    return this.gpuFallback;
  }

  /** The whole-step engine where one applies (train/engines.ts: dense stacks and token-pair models on wasm or cpu). */
  private makeEngine(bundle: ModelBundle, n: number, opts: TrainOptions): ResidentEngine | null {
    const bs = opts.batchSize;
    const maxBatch = bs === 'full' || bs >= n ? n : bs;
    const engine = wholeStepEngine(this.config, this.layout, this.loss.head, maxBatch, opts.optimizer === 'adamw'
      ? { kind: 'adamw', weightDecay: opts.weightDecay }
      : { kind: 'sgd', momentum: opts.momentum ?? 0, weightDecay: opts.weightDecay });
    engine?.load(bundle.theta);
    return engine;
  }

  /** Whether steps run in a whole-step engine (train/engines.ts, or the WGSL one on webgpu) rather than through tfjs. */
  get wholeStep(): boolean {
    return this.engine !== null || this.gpu !== null;
  }

  /** Writes the engine's parameters into thetaVar when they have moved (from the GPU engine: a copy on the GPU, no read-back). */
  private syncTheta(): void {
    if (!this.thetaStale) return;
    if (this.gpu) {
      // tfjs copies the buffer in a submission of its own, after the steps queued so far.
      const t = tf.tensor({ buffer: this.gpu.thetaBuffer }, [this.layout.size], 'float32');
      this.thetaVar.assign(t as tf.Tensor1D);
      t.dispose();
    } else if (this.engine) {
      const th = this.engine.store();
      tf.tidy(() => this.thetaVar.assign(tf.tensor1d(th, 'float32')));
    }
    this.thetaStale = false;
  }

  /** Optimizer steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** The learning rate of the next step under the schedule. */
  currentLr(): number {
    const { lr, schedule, steps } = this.options;
    if (schedule !== 'cosine' || steps <= 0) return lr;
    const k = Math.min(this.steps, steps);
    return (lr * (1 + Math.cos((Math.PI * k) / steps))) / 2;
  }

  /** Rows in the next minibatch (positions in the training split), or null for the full batch. */
  private nextBatch(): Int32Array | null {
    const n = this.train.n;
    const bs = this.options.batchSize;
    if (bs === 'full' || bs >= n) return null;
    if (!this.order || this.cursor >= n) {
      // A new epoch: a fresh permutation from the seeded stream (like DataLoader(shuffle=True)).
      this.order = permutation(n, this.rng);
      this.cursor = 0;
    }
    const end = Math.min(n, this.cursor + bs);
    const rows = this.order.subarray(this.cursor, end);
    this.cursor = end;
    return rows;
  }

  /** One optimizer step on the next minibatch. Mutates θ and the optimizer state. */
  async step(): Promise<void> {
    if (this.disposed) throw new Error('Trainer was disposed');
    if (this.gpuOpening) await this.ready();
    const rows = this.nextBatch();
    const lr = this.currentLr();
    if (this.gpu) {
      this.gpu.step(rows, lr);
      this.thetaStale = true;
      this.steps += 1;
      return;
    }
    if (this.engine) {
      this.lastLossValue = this.engine.step(this.train.hostX, this.train.hostY, this.train.n, rows, lr);
      this.thetaStale = true;
      this.steps += 1;
      return;
    }
    const opt = this.opt as FlatOptimizer;
    const value = tf.tidy(() => {
      const xAll = this.train.x as tf.Tensor2D, yAll = this.train.y as tf.Tensor; // kept whole when there is no engine
      let xb = xAll, yb = yAll;
      if (rows) {
        const idx = tf.tensor1d(rows, 'int32');
        xb = takeRows(xAll, idx);
        yb = takeRows(yAll, idx);
      }
      const { value, grad } = this.grad.valueAndGrad(this.thetaVar, xb, yb);
      opt.apply(this.thetaVar, grad, lr);
      return value;
    });
    this.lastLoss?.dispose();
    this.lastLoss = value;
    this.steps += 1;
  }

  /** The mean loss of the last step's batch, at θ before that step (NaN before any step). A read: it waits for queued work. */
  async lastBatchLoss(): Promise<number> {
    if (this.gpuOpening) await this.ready();
    if (this.gpu) return this.gpu.lastLoss();
    if (this.engine) return this.lastLossValue;
    if (!this.lastLoss) return NaN;
    return (await this.lastLoss.data())[0];
  }

  private async evalSplit(s: SplitTensors | null): Promise<{ loss: number; acc: number }> {
    if (!s) return { loss: NaN, acc: NaN };
    const classifier = isClassifier(this.config);
    let acc: tf.Tensor1D = tf.zeros([2]);
    for (const { x, y } of s.chunks) {
      const next = tf.tidy(() => {
        const out = this.grad.outputs(this.thetaVar, x);
        const right = classifier ? tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), y), 'float32')) : tf.scalar(0);
        return tf.add(acc, tf.stack([this.loss.rowSum(out, y), right])) as tf.Tensor1D;
      });
      acc.dispose();
      acc = next;
    }
    const [lossSum, correct] = await acc.data();
    acc.dispose();
    return { loss: lossSum / s.n, acc: correct / s.n };
  }

  /** Train and test loss (and accuracy for classifiers) at the current θ, in chunks, read asynchronously. */
  async evaluate(): Promise<Metrics> {
    if (this.disposed) throw new Error('Trainer was disposed');
    if (this.gpuOpening) await this.ready();
    this.syncTheta();
    const tr = await this.evalSplit(this.train);
    const te = await this.evalSplit(this.test);
    const m: Metrics = { step: this.steps, trainLoss: tr.loss, testLoss: te.loss };
    if (isClassifier(this.config)) {
      m.trainAcc = tr.acc;
      m.testAcc = te.acc;
    }
    return m;
  }

  /** A copy of the current θ. */
  async theta(): Promise<Float32Array> {
    if (this.disposed) throw new Error('Trainer was disposed');
    if (this.gpuOpening) await this.ready();
    if (this.gpu) return this.gpu.theta();
    if (this.engine) return this.engine.store();
    const v = await this.thetaVar.data();
    return Float32Array.from(v as Float32Array);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.lastLoss?.dispose();
    this.lastLoss = null;
    this.thetaVar.dispose();
    this.opt?.dispose();
    this.gpu?.destroy();
    this.gpu = null;
    for (const split of [this.train, this.test]) {
      if (split) tf.dispose([...new Set([split.x, split.y, ...split.chunks.flatMap((c) => [c.x, c.y])].filter((t): t is tf.Tensor => t !== null))]);
    }
  }
}

export interface TrainingHooks {
  /** Called after each evaluation (every evalEvery steps, at step 0 and at the end). */
  onMetrics?(m: Metrics): void;
  /** Called with a copy of θ every checkpointEvery steps (step 0 and the last step included). */
  onCheckpoint?(step: number, theta: Float32Array): void;
  /** Awaited before every step; resolve it to let the next step run (pause, resume, single-step). */
  waitWhilePaused?(): Promise<void>;
}

export interface TrainingResult {
  theta: Float32Array;
  history: Metrics[];
  /** Steps at which θ was snapshot (passed to onCheckpoint). */
  checkpoints: number[];
}

/** How many steps may queue on the backend before we wait for them (and check the loss is finite). */
const SYNC_EVERY = 10;

function assertFinite(m: Metrics): void {
  if (!Number.isFinite(m.trainLoss)) {
    throw new Error(`Training diverged by step ${m.step}: the training loss is ${m.trainLoss}. Try a smaller learning rate.`);
  }
}

/**
 * Trains bundle.theta on the dataset's training split. Cancellable through ctx (a CancelledError
 * rejects the promise); progress as "step k/N". Does not call ctx.partial: stream metrics and
 * snapshots through the hooks. Deterministic for a given seed on a given backend.
 */
export async function runTraining(bundle: ModelBundle, dataset: Dataset, opts: TrainOptions, ctx: JobContext, hooks: TrainingHooks = {}): Promise<TrainingResult> {
  const trainer = new Trainer(bundle, dataset, opts);
  const history: Metrics[] = [];
  const checkpoints: number[] = [];
  const N = opts.steps;
  const evaluate = async (): Promise<void> => {
    const m = await trainer.evaluate();
    history.push(m);
    hooks.onMetrics?.(m);
    assertFinite(m);
  };
  const snapshot = async (): Promise<void> => {
    const k = trainer.stepCount;
    const th = await trainer.theta();
    checkpoints.push(k);
    hooks.onCheckpoint?.(k, th);
  };
  try {
    await ctx.checkpoint();
    ctx.progress(0, `step 0/${N}`);
    await evaluate();
    if (opts.checkpointEvery > 0) await snapshot();
    while (trainer.stepCount < N) {
      if (hooks.waitWhilePaused) await hooks.waitWhilePaused();
      await ctx.checkpoint();
      await trainer.step();
      const k = trainer.stepCount;
      ctx.progress(k / N, `step ${k}/${N}`);
      const last = k === N;
      if ((opts.evalEvery > 0 && k % opts.evalEvery === 0) || last) {
        await evaluate();
      } else if (k % SYNC_EVERY === 0) {
        const l = await trainer.lastBatchLoss();
        if (!Number.isFinite(l)) throw new Error(`Training diverged at step ${k}: the batch loss is ${l}. Try a smaller learning rate.`);
      }
      if (opts.checkpointEvery > 0 && (k % opts.checkpointEvery === 0 || last)) await snapshot();
    }
    return { theta: await trainer.theta(), history, checkpoints };
  } finally {
    trainer.dispose();
  }
}
