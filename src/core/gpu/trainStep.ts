/**
 * Whole training steps on the GPU (issue 14, item 3): for a dense stack (mnist-mlp, matfac: an
 * architecture's `denseStack`) or a token-pair model (modadd, modadd-gelu: `pairsSpec`), one step —
 * the minibatch by gather from rows resident on the GPU, the forward pass, the loss head, the
 * backward pass and torch.optim's AdamW or SGD update — is one fixed list of WGSL dispatches in one
 * compute pass, one command buffer and one submission. The math is that of the CPU whole-step
 * engines (train/stackEngine.ts, train/pairsEngine.ts) and of the Gauss–Newton product's passes
 * (gnStack.ts, gnPairs.ts, whose matmul kernel with its epilogues and split-K it reuses), with
 * PyTorch shapes in the flat θ (W is [out, in]; the matmul's strided views do the transposes):
 *
 *   stack:  z_l = h_{l−1}·W_lᵀ + b_l, h_l = ReLU(z_l) (or linear), f = z_L;
 *           δ_L = ∂ℓ/∂f, ∇W_l = δ_lᵀ·h_{l−1}, ∇b_l = δ_lᵀ·1, δ_{l−1} = (δ_l·W_l) ⊙ [h_{l−1} > 0].
 *   pairs:  T = [E·W_Lᵀ + b₁; E·W_Rᵀ] (2p × h), z_r = T[a_r] + T[p + b_r], g = act(z),
 *           f = g·W₂ᵀ + b₂; ∇W₂ = δᵀ·g, ∇b₂ = δᵀ·1, δz = (δ·W₂) ⊙ act′(z), S = per-token sums of δz
 *           (segment t < p: rows with a = t, p + t: rows with b = t), ∇W_L = S_Lᵀ·E, ∇W_R = S_Rᵀ·E,
 *           ∇b₁ = S_Lᵀ·1, ∇E = S_L·W_L + S_R·W_R.
 *   heads (train/fused.ts): cross-entropy (softmax with the max subtracted, per row in WGSL),
 *           half-sse, sse, mse; the batch loss = scale·Σ_rows, summed by one workgroup.
 *
 * Buffers (all allocated when built): the training rows X (float32, on the input columns nonzero on
 * some row: MNIST's border is dropped as in gnStack.ts) or token pairs (u32 [n, 2]), the labels
 * (u32 [n]) or targets (float32 [n, K]), θ, the gradient G, the optimizer state (AdamW's m and v,
 * SGD's momentum buffer), the minibatch's gathered rows, activations and δ for at most maxBatch
 * rows, a ring of LOSS_RING batch losses (step t writes slot (t − 1) mod LOSS_RING), and a 64-byte step
 * uniform. Per step the host writes the step uniform (learning rate, AdamW's bias corrections, the
 * loss slot) and the minibatch's row indices (B u32s; for the pair models also the per-token CSR
 * lists of the batch, 2p + 1 + 2B u32s, built on the CPU: WGSL has no float atomics), then submits
 * the step's dispatches. Nothing is read back per step: the loss, θ and the gradient are read with
 * mapAsync only when asked (the Trainer asks for the loss every SYNC_EVERY = 10 steps), each read
 * copying into its own staging buffer in its own submission, so it sees the steps submitted before
 * it. The dispatch list depends on the batch size B (a minibatch, the shorter last one of an epoch,
 * the full batch) and is recorded once per B.
 *
 * SGLD (startLangevin, langevinStep): the same forward, head and backward, then the unadjusted
 * Langevin update w ← w − (ε/2)(nβ·∇L + γ(w − w*)) + √ε·ξ in one kernel that also sums ‖w − w*‖²
 * per workgroup (then one workgroup sums those); L and ‖w − w*‖² land in rings read when asked. ξ
 * is drawn on the host in layout order (the tfjs path's order) and uploaded, d floats a step. The
 * SGLD chains use it on webgpu through llc/target.ts's GpuChain (plain steps; the ring read every
 * readEvery steps by llc/readback.ts, w read asynchronously). No Metropolis-adjusted step.
 *
 * Same numbers as the CPU engines and the tfjs path to float32 rounding (tests/unit/gpuTrain.test.ts
 * on SwiftShader; not yet run or tuned on a real GPU). A lost device makes a step throw and a
 * pending read reject with an Error that names the loss.
 */
import type { PairsPassSpec, StackPassSpec } from '../arch/passes';
import { getArch } from '../arch/registry';
import '../arch/builtin';
import type { ModelConfig } from '../models/config';
import { slot, type ParamLayout } from '../params';
import type { HeadKind } from '../train/fused';
import type { EngineOptimizer } from '../train/residentEngine';
import {
  buildScoped, checkLimits, grid1d, GpuGnUnavailable, USAGE_COPY_DST, USAGE_COPY_SRC, USAGE_MAP_READ, USAGE_STORAGE, USAGE_UNIFORM, view, WgslProgram,
  type Dispatch, type MatmulStep,
} from './gnKernels';
import { pairOffsets, type PairOffsets } from './gnPairs';
import type { LangevinConsts } from '../train/wasmKernels';
import type { Rng } from '../rng';
import { adamWWgsl, gatherRowsWgsl, headWgsl, langevinWgsl, lossSumWgsl, pairHiddenWgsl, sgdWgsl, STEP_FLOATS } from './trainKernels';

/** Batch losses kept on the GPU (the ring's slots; one more slot for lossAndGradient). */
export const LOSS_RING = 1024;

let gpuTraining = true;
/** Whether the Trainer uses the GPU whole-step engine on the webgpu backend (false: the tfjs path; tests and fallback). */
export function setGpuTrainingEnabled(on = true): void { gpuTraining = on; }
export function gpuTrainingEnabled(): boolean { return gpuTraining; }

/** What a GPU trainer is built from. */
export interface GpuTrainInput {
  layout: ParamLayout;
  head: HeadKind;
  opt: EngineOptimizer;
  /** The starting parameters (layout order, PyTorch shapes). */
  theta: Float32Array;
  /** The n training rows: float32 [n, in] (a stack) or int32 token pairs [n, 2]; int32 labels [n] (cross-entropy) or float32 targets [n, K]. */
  x: Float32Array | Int32Array;
  y: Int32Array | Float32Array;
  n: number;
  /** The most rows a step takes (n for the full batch). */
  maxBatch: number;
  /** Steps only ever take all n rows (no buffer for gathered rows is allocated). */
  fullBatchOnly?: boolean;
  /** Batch losses kept on the GPU (default LOSS_RING). */
  lossRing?: number;
}

const HEAD_MODE: Record<HeadKind, number> = { 'cross-entropy': 0, 'half-sse': 1, sse: 1, mse: 1 };

/** The head's loss scale for B rows and K outputs (train/fused.ts): ℓ = scale·Σ_rows r_row. */
function lossScale(head: HeadKind, B: number, K: number): number {
  return head === 'cross-entropy' ? 1 / B : head === 'half-sse' ? 1 / (2 * B) : head === 'sse' ? 1 / B : 1 / (B * K);
}

/**
 * A model's training steps held on the GPU. `step` queues one step (no read-back); `lastLoss`,
 * `losses`, `theta` and `lossAndGradient` read back asynchronously.
 */
export abstract class GpuTrainer extends WgslProgram {
  readonly d: number;
  readonly n: number;
  /** Outputs per row. */
  readonly K: number;
  readonly maxBatch: number;
  protected readonly head: HeadKind;
  protected readonly opt: EngineOptimizer;
  protected readonly fullBatchOnly: boolean;
  /** θ in layout order (STORAGE | COPY_SRC: the Trainer copies it into its tfjs variable on the GPU). */
  readonly thetaBuffer: GPUBuffer;
  protected readonly G: GPUBuffer;
  private readonly m: GPUBuffer;
  private readonly v: GPUBuffer;
  private readonly stepU: GPUBuffer;
  protected readonly idx: GPUBuffer;
  private readonly Y: GPUBuffer;
  /** Logits [maxBatch, K] and δ = ∂ℓ/∂f [maxBatch, K]. */
  protected readonly Z: GPUBuffer;
  protected readonly D: GPUBuffer;
  private readonly rowLoss: GPUBuffer;
  private readonly losses: GPUBuffer;
  private readonly plans = new Map<string, Dispatch[]>();
  /** Slots of the loss ring (slot `ring` is lossAndGradient's). */
  readonly ring: number;
  private t = 0;

  protected constructor(device: GPUDevice, inp: GpuTrainInput, K: number) {
    super(device, 'a GPU training step');
    const { layout, n, maxBatch } = inp;
    this.d = layout.size;
    this.n = n;
    this.K = K;
    this.maxBatch = maxBatch;
    this.head = inp.head;
    this.opt = inp.opt;
    this.fullBatchOnly = !!inp.fullBatchOnly;
    const d = this.d;
    this.thetaBuffer = this.buffer(d, 'train θ', USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST, inp.theta);
    this.G = this.buffer(d, 'train ∇', USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST);
    const momentum = inp.opt.kind === 'adamw' || inp.opt.momentum !== 0;
    this.m = momentum ? this.buffer(d, inp.opt.kind === 'adamw' ? 'train AdamW m' : 'train momentum') : this.dummy;
    this.v = inp.opt.kind === 'adamw' ? this.buffer(d, 'train AdamW v') : this.dummy;
    this.stepU = this.buffer(STEP_FLOATS, 'train step', USAGE_UNIFORM | USAGE_COPY_DST);
    this.idx = this.buffer(maxBatch, 'train batch rows');
    const y = inp.y;
    this.Y = this.buffer(y.length, inp.head === 'cross-entropy' ? 'train labels' : 'train targets', undefined,
      y instanceof Int32Array ? new Uint32Array(y.buffer, y.byteOffset, y.length) : y);
    this.Z = this.buffer(maxBatch * K, 'train logits');
    this.D = this.buffer(maxBatch * K, 'train δ_out');
    this.rowLoss = this.buffer(maxBatch, 'train row losses');
    this.ring = Math.max(1, Math.floor(inp.lossRing ?? LOSS_RING));
    this.losses = this.buffer(this.ring + 1, 'train batch losses', USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST);
  }

  /** Optimizer steps queued so far. */
  get steps(): number {
    return this.t;
  }

  /**
   * The dispatches of a step's forward pass into Z and backward pass from D into G on B rows:
   * `direct` reads the resident rows in order (the full batch), else the gathered rows of idx.
   */
  protected abstract passes(B: number, direct: boolean): { forward: Dispatch[]; backward: Dispatch[] };
  /** Per-step uploads besides the row indices (the pair models' CSR lists). */
  protected abstract uploadBatch(rows: Int32Array | null, B: number): void;

  /** A matmul's dispatches (gnKernels.ts; never scaled here: the head's 1/B is in δ). */
  protected mm(s: MatmulStep): Dispatch[] {
    return this.matmulSteps(s);
  }

  /** `code`'s kernel over `buffers` (uniforms included) at bindings 0, 1, …. */
  protected kernel(name: string, code: string, buffers: GPUBuffer[], groups: [number, number, number]): Dispatch {
    return this.bind(this.pipe(name, code), name, buffers, groups);
  }

  /** A uniform buffer holding u32 words, and f32 words at the indices given (a multiple of 4 words, zero-filled). */
  protected uniform(label: string, u32: number[], f32: Record<number, number> = {}): GPUBuffer {
    const words = Math.max(u32.length, ...Object.keys(f32).map((i) => Number(i) + 1));
    const a = new ArrayBuffer(Math.max(16, Math.ceil(words / 4) * 16));
    new Uint32Array(a).set(u32);
    const f = new Float32Array(a);
    for (const [i, x] of Object.entries(f32)) f[Number(i)] = x;
    const b = this.buffer(a.byteLength / 4, label, USAGE_UNIFORM | USAGE_COPY_DST);
    this.device.queue.writeBuffer(b, 0, a);
    return b;
  }

  /** The step's dispatches for B rows (recorded once per B, direct and update: the optimizer's, or 'langevin'). */
  private plan(B: number, direct: boolean, update: boolean | 'langevin'): Dispatch[] {
    const key = `${B}:${direct ? 1 : 0}:${update}`;
    let p = this.plans.get(key);
    if (p) return p;
    const { forward, backward } = this.passes(B, direct);
    const K = this.K, scale = lossScale(this.head, B, K);
    const headU = this.uniform(`train head ${B}`, [B, K, HEAD_MODE[this.head], direct ? 1 : 0], { 4: this.head === 'cross-entropy' ? 1 / B : 2 * scale });
    const sumU = this.uniform(`train loss sum ${B}`, [B], { 1: scale });
    p = [
      ...forward,
      this.kernel('head', headWgsl, [headU, this.Z, this.Y, this.idx, this.D, this.rowLoss], grid1d(B, 64)),
      this.kernel('loss sum', lossSumWgsl, [sumU, this.stepU, this.rowLoss, this.losses], [1, 1, 1]),
      ...backward,
    ];
    if (update === 'langevin') {
      const L = this.lang!;
      p.push(this.kernel('langevin', langevinWgsl, [L.u, this.thetaBuffer, this.G, L.anchor, L.noise, L.part], grid1d(this.d)));
      p.push(this.kernel('loss sum', lossSumWgsl, [L.sumU, this.stepU, L.part, L.dist2], [1, 1, 1]));
    } else if (update) {
      p.push(this.opt.kind === 'adamw'
        ? this.kernel('adamw', adamWWgsl, [this.stepU, this.thetaBuffer, this.G, this.m, this.v], grid1d(this.d))
        : this.kernel('sgd', sgdWgsl, [this.stepU, this.thetaBuffer, this.G, this.m], grid1d(this.d)));
    }
    this.plans.set(key, p);
    return p;
  }

  /** Dispatches of one step on B rows (`direct`: the full batch in order). */
  dispatchesPerStep(B = this.maxBatch, direct = B === this.n): number {
    return this.plan(B, direct, true).length;
  }

  private check(): void {
    if (this.destroyed) throw new Error('GPU trainer used after destroy()');
    if (this.lost) throw this.lostError(this.lost);
  }

  /** The row indices into idx (and the subclass's per-batch lists); B. */
  private upload(rows: Int32Array | null): number {
    const B = rows ? rows.length : this.n;
    if (B < 1 || B > this.maxBatch) throw new Error(`GPU trainer: a batch of ${B} rows (at most ${this.maxBatch})`);
    if (rows) {
      if (this.fullBatchOnly) throw new Error('GPU trainer: built for full batches only');
      for (let r = 0; r < B; r++) if (!(rows[r] >= 0 && rows[r] < this.n)) throw new Error(`GPU trainer: row ${rows[r]} is not in [0, ${this.n})`);
      this.device.queue.writeBuffer(this.idx, 0, rows as Int32Array<ArrayBuffer>);
    }
    this.uploadBatch(rows, B);
    return B;
  }

  /** The step uniform: the optimizer's constants at step t (1-based) with learning rate lr, and the loss slot. */
  private writeStep(t: number, lr: number, slot: number): void {
    const a = new ArrayBuffer(STEP_FLOATS * 4), f = new Float32Array(a), u = new Uint32Array(a);
    const o = this.opt;
    if (o.kind === 'adamw') {
      const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8;
      const bc1 = 1 - Math.pow(b1, t), bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
      f.set([lr, 1 - lr * o.weightDecay, lr / bc1, 1 / bc2Sqrt, o.weightDecay, b1, 1 - b1, b2, 1 - b2, eps, 0]);
    } else {
      f.set([lr, 1, 0, 0, o.weightDecay, 0, 0, 0, 0, 0, o.momentum]);
    }
    u[11] = slot;
    u[12] = this.d;
    this.device.queue.writeBuffer(this.stepU, 0, a);
  }

  /**
   * Queues one optimizer step on the rows at positions `rows` of the training data (null: all n),
   * at learning rate lr: one submission, nothing read back. Its batch loss (at θ before the step)
   * lands in the loss ring.
   */
  step(rows: Int32Array | null, lr: number): void {
    this.check();
    const B = this.upload(rows);
    this.t += 1;
    this.writeStep(this.t, lr, (this.t - 1) % this.ring);
    this.encode(this.plan(B, rows === null, true));
  }

  /** Copies `bytes` of `src` into a fresh staging buffer now (one submission) and maps it. */
  private async read(src: GPUBuffer, offset: number, bytes: number, extra?: (enc: GPUCommandEncoder) => void): Promise<Float32Array> {
    const stage = this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: USAGE_MAP_READ | USAGE_COPY_DST, label: 'train read-back' });
    try {
      const enc = this.device.createCommandEncoder({ label: 'train read-back' });
      extra?.(enc);
      enc.copyBufferToBuffer(src, offset, stage, 0, bytes);
      this.device.queue.submit([enc.finish()]);
      return await this.readBack(stage, bytes);
    } finally {
      stage.destroy();
    }
  }

  /** The batch loss of the last step (at θ before it); NaN before any step. */
  async lastLoss(): Promise<number> {
    this.check();
    if (this.t === 0) return NaN;
    return (await this.read(this.losses, 4 * ((this.t - 1) % this.ring), 4))[0];
  }

  /** The batch losses of the last min(steps, ring) steps, oldest first, and the step number (1-based) of the first. */
  async recentLosses(): Promise<{ first: number; values: Float32Array }> {
    this.check();
    const t = this.t, k = Math.min(t, this.ring);
    if (k === 0) return { first: 1, values: new Float32Array(0) };
    const ring = await this.read(this.losses, 0, 4 * this.ring);
    const values = new Float32Array(k);
    for (let i = 0; i < k; i++) values[i] = ring[(t - k + i) % this.ring];
    return { first: t - k + 1, values };
  }

  /** θ after the steps queued so far (layout order). */
  async theta(): Promise<Float32Array> {
    this.check();
    return this.read(this.thetaBuffer, 0, 4 * this.d);
  }

  /** Replaces θ (layout order); the optimizer state is kept. */
  setTheta(theta: Float32Array): void {
    this.check();
    if (theta.length !== this.d) throw new Error(`GPU trainer: θ has ${theta.length} entries, expected ${this.d}`);
    this.device.queue.writeBuffer(this.thetaBuffer, 0, theta as Float32Array<ArrayBuffer>);
  }

  /** An SGLD chain's buffers (startLangevin): w*, ξ, the per-workgroup Σ (w − w*)², the ring of ‖w − w*‖², the step's constants. */
  private lang: { anchor: GPUBuffer; noise: GPUBuffer; part: GPUBuffer; dist2: GPUBuffer; u: GPUBuffer; sumU: GPUBuffer; xi: Float32Array } | null = null;

  /**
   * Starts unadjusted Langevin steps (SGLD) on the GPU: w* = `wStar`, the parameters set to `start`
   * (both layout order). The chain's w is θ; the optimizer's state is not used by its steps.
   */
  startLangevin(wStar: Float32Array, start: Float32Array): void {
    this.check();
    if (wStar.length !== this.d) throw new Error(`GPU trainer: w* has ${wStar.length} entries, expected ${this.d}`);
    if (!this.lang) {
      const g = grid1d(this.d), parts = g[0] * g[1]; // every workgroup of the (possibly folded) grid writes its partial
      this.lang = {
        anchor: this.buffer(this.d, 'sgld w*'), noise: this.buffer(this.d, 'sgld ξ'), part: this.buffer(parts, 'sgld Σ (w − w*)² per workgroup'),
        dist2: this.buffer(this.ring, 'sgld ‖w − w*‖²', USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST),
        u: this.buffer(4, 'sgld constants', USAGE_UNIFORM | USAGE_COPY_DST), sumU: this.uniform('sgld distance sum', [parts], { 1: 1 }), xi: new Float32Array(this.d),
      };
    }
    this.device.queue.writeBuffer(this.lang.anchor, 0, wStar as Float32Array<ArrayBuffer>);
    this.setTheta(start);
  }

  /**
   * Queues one unadjusted Langevin step on `rows` (null: all n): L and ∇L at w, then
   * w ← w − (ε/2)(nβ·∇L + γ(w − w*)) + √ε·ξ, with ξ standard normals from `rng` in layout order (as
   * the tfjs path draws them: chain.ts normals), uploaded (d floats). L lands in the loss ring and
   * ‖w − w*‖² before the step in the distance ring (recentLangevin); nothing is read back.
   */
  langevinStep(rows: Int32Array | null, rng: Rng, c: LangevinConsts): void {
    this.check();
    const L = this.lang;
    if (!L) throw new Error('GPU trainer: startLangevin first');
    const B = this.upload(rows);
    this.t += 1;
    this.writeStep(this.t, 0, (this.t - 1) % this.ring);
    rng.fillNormal(L.xi);
    this.device.queue.writeBuffer(L.noise, 0, L.xi as Float32Array<ArrayBuffer>);
    const a = new ArrayBuffer(16), f = new Float32Array(a);
    f.set([(c.eps / 2) * c.nBeta, (c.eps / 2) * c.gamma, Math.sqrt(c.eps)]);
    new Uint32Array(a)[3] = this.d;
    this.device.queue.writeBuffer(L.u, 0, a);
    this.encode(this.plan(B, rows === null, 'langevin'));
  }

  /** The last min(steps, ring) Langevin steps' L and ‖w − w*‖² (at w before each step), oldest first, and the step number of the first. */
  async recentLangevin(): Promise<{ first: number; losses: Float32Array; dist2: Float32Array }> {
    this.check();
    if (!this.lang) throw new Error('GPU trainer: startLangevin first');
    const t = this.t, k = Math.min(t, this.ring);
    const [lr, dr] = await Promise.all([this.read(this.losses, 0, 4 * this.ring), this.read(this.lang.dist2, 0, 4 * this.ring)]);
    const losses = new Float32Array(k), dist2 = new Float32Array(k);
    for (let i = 0; i < k; i++) { losses[i] = lr[(t - k + i) % this.ring]; dist2[i] = dr[(t - k + i) % this.ring]; }
    return { first: t - k + 1, losses, dist2 };
  }

  /**
   * The batch loss and its gradient at the current θ on `rows` (null: all n), with no update (the
   * optimizer's state and step count untouched): the same dispatches as a step without its last.
   */
  async lossAndGradient(rows: Int32Array | null): Promise<{ loss: number; grad: Float32Array }> {
    this.check();
    const B = this.upload(rows);
    this.writeStep(Math.max(1, this.t), 0, this.ring);
    this.encode(this.plan(B, rows === null, false));
    const [loss, grad] = await Promise.all([this.read(this.losses, 4 * this.ring, 4), this.read(this.G, 0, 4 * this.d)]);
    return { loss: loss[0], grad };
  }
}

/** Layer offsets of a dense stack in the layout, checking that its weights and biases are the whole layout. */
function stackOffsets(spec: StackPassSpec, layout: ParamLayout): { w: number[]; b: number[] } {
  const { widths } = spec, L = widths.length - 1;
  if (L < 1) throw new GpuGnUnavailable('the stack has no layers');
  const w: number[] = [], b: number[] = [];
  let covered = 0;
  for (let l = 0; l < L; l++) {
    const ws = slot(layout, spec.weight(l));
    if (ws.size !== widths[l + 1] * widths[l]) throw new GpuGnUnavailable(`${spec.weight(l)} has ${ws.size} entries, expected ${widths[l + 1]}×${widths[l]}`);
    w.push(ws.offset);
    covered += ws.size;
    const bn = spec.bias(l);
    if (bn === null) { b.push(-1); continue; }
    const bs = slot(layout, bn);
    if (bs.size !== widths[l + 1]) throw new GpuGnUnavailable(`${bn} has ${bs.size} entries, expected ${widths[l + 1]}`);
    b.push(bs.offset);
    covered += bs.size;
  }
  if (covered !== layout.size) throw new GpuGnUnavailable(`the layout has ${layout.size} parameters, the stack's weights and biases ${covered}`);
  return { w, b };
}

/** A dense stack's steps (mnist-mlp, matfac). */
export class GpuStackTrainer extends GpuTrainer {
  /** Input columns the first layer runs on (those nonzero on some training row). */
  readonly keptColumns: number;
  private readonly spec: StackPassSpec;
  private readonly w: number[];
  private readonly b: number[];
  private readonly X: GPUBuffer;
  private readonly Xb: GPUBuffer | null;
  private readonly colIdx: GPUBuffer | null;
  /** H[l] = h_l [maxBatch, w_l], l = 1..L−1 (H[0] unused: the rows). */
  private readonly H: GPUBuffer[] = [];
  /** T[l] = δ_l [maxBatch, w_l], l = 1..L−1 (δ_L is D). */
  private readonly T: GPUBuffer[] = [];

  private constructor(device: GPUDevice, inp: GpuTrainInput, spec: StackPassSpec, off: { w: number[]; b: number[] }) {
    const { widths } = spec, L = widths.length - 1;
    super(device, inp, widths[L]);
    this.spec = spec;
    this.w = off.w;
    this.b = off.b;
    const x = inp.x as Float32Array, n = inp.n, in0 = widths[0];
    // Input columns that are zero on every row (MNIST's border) are dropped, as in gnStack.ts.
    const used = new Uint8Array(in0);
    for (let i = 0; i < n * in0; i++) if (x[i] !== 0) used[i % in0] = 1;
    used[0] = 1;
    const cols = Uint32Array.from({ length: in0 }, (_, j) => j).filter((j) => used[j]);
    const c0 = cols.length;
    this.keptColumns = c0;
    let xs = x.subarray(0, n * in0);
    if (c0 < in0) {
      xs = new Float32Array(n * c0);
      for (let i = 0; i < n; i++) for (let k = 0; k < c0; k++) xs[i * c0 + k] = x[i * in0 + cols[k]];
    }
    this.X = this.buffer(n * c0, 'train rows (kept columns)', undefined, xs);
    this.Xb = this.fullBatchOnly ? null : this.buffer(this.maxBatch * c0, 'train batch rows (gathered)');
    this.colIdx = c0 < in0 ? this.buffer(c0, 'train kept columns', undefined, cols) : null;
    this.H.push(this.X);
    this.T.push(this.X);
    for (let l = 1; l < L; l++) {
      this.H.push(this.buffer(this.maxBatch * widths[l], `train h${l}`));
      this.T.push(this.buffer(this.maxBatch * widths[l], `train δ${l}`));
    }
  }

  protected uploadBatch(): void { /* the row indices are all a stack's batch needs */ }

  protected passes(B: number, direct: boolean): { forward: Dispatch[]; backward: Dispatch[] } {
    const { widths, relu } = this.spec, L = widths.length - 1, { w, b } = this;
    const c0 = this.keptColumns;
    const hw = (l: number): number => (l === 0 ? c0 : widths[l]);
    const idx = (l: number, on: 'b' | 'c') => (l === 0 && this.colIdx ? { idx: { buf: this.colIdx, on } } : {});
    const rowMajor = (buf: GPUBuffer, cols: number) => view(buf, 0, cols, 1);
    const th = this.thetaBuffer;
    const forward: Dispatch[] = [];
    const H = this.H.slice();
    if (!direct) {
      const u = this.uniform(`train gather ${B}`, [B, c0]);
      forward.push(this.kernel('gather rows', gatherRowsWgsl, [u, this.X, this.idx, this.Xb!], grid1d(B * c0)));
      H[0] = this.Xb!;
    }
    /** Layer l's output: h_{l+1} below the top, the logits Z at the top. */
    const out = (l: number): GPUBuffer => (l === L - 1 ? this.Z : H[l + 1]);
    for (let l = 0; l < L; l++) {
      forward.push(...this.mm({
        label: `forward ${l + 1}`, M: B, N: widths[l + 1], K1: hw(l), ...idx(l, 'b'),
        a1: rowMajor(H[l], hw(l)), b1: view(th, w[l], 1, widths[l]), c: rowMajor(out(l), widths[l + 1]),
        bias: b[l] >= 0 ? { buf: th, off: b[l] } : undefined, relu: relu && l < L - 1,
      }));
    }
    const backward: Dispatch[] = [];
    /** δ_l's buffer: D at the top. */
    const delta = (l: number): GPUBuffer => (l === L ? this.D : this.T[l]);
    for (let l = L - 1; l >= 0; l--) {
      const o = widths[l + 1], inn = widths[l];
      const dT = view(delta(l + 1), 0, 1, o); // A[m, k] = δ[k, m]
      backward.push(...this.mm({ label: `∇W${l + 1}`, M: o, N: hw(l), K1: B, a1: dT, b1: rowMajor(H[l], hw(l)), c: view(this.G, w[l], inn, 1), ...idx(l, 'c') }));
      if (b[l] >= 0) backward.push(...this.mm({ label: `∇b${l + 1}`, M: o, N: 1, K1: B, a1: dT, b1: view(this.one, 0, 0, 0), c: view(this.G, b[l], 1, 0) }));
      if (l > 0) {
        backward.push(...this.mm({
          label: `δ${l}`, M: B, N: inn, K1: o, a1: rowMajor(delta(l + 1), o), b1: view(th, w[l], inn, 1),
          mask: relu ? { ...rowMajor(H[l], inn), mode: 'sign' } : undefined, c: rowMajor(this.T[l], inn),
        }));
      }
    }
    return { forward, backward };
  }

  /** A dense stack's GPU trainer; throws GpuGnUnavailable where the layout, the device's limits or memory refuse it. */
  static async open(device: GPUDevice, spec: StackPassSpec, inp: GpuTrainInput): Promise<GpuStackTrainer> {
    const off = stackOffsets(spec, inp.layout);
    const { widths } = spec, L = widths.length - 1, K = widths[L], n = inp.n;
    checkInput(inp, K, widths[0]);
    checkLimits(device, [inp.layout.size, n * widths[0], ...widths.map((wd) => inp.maxBatch * wd), inp.y.length], Math.max(inp.maxBatch, ...widths));
    return buildScoped(device, () => new GpuStackTrainer(device, inp, spec, off), 'training');
  }
}

/** Shared checks of a trainer's input: sizes, labels in range. */
function checkInput(inp: GpuTrainInput, K: number, rowWidth: number): void {
  const { n, maxBatch, head, x, y } = inp;
  if (n < 1) throw new GpuGnUnavailable('no training rows');
  if (!(maxBatch >= 1)) throw new GpuGnUnavailable(`a batch of at most ${maxBatch} rows`);
  if (x.length < n * rowWidth) throw new GpuGnUnavailable(`the rows hold ${x.length} entries, ${n} rows need ${n * rowWidth}`);
  if (head === 'cross-entropy') {
    if (!(y instanceof Int32Array) || y.length < n) throw new GpuGnUnavailable('a classifier needs one int32 label per row');
    for (let i = 0; i < n; i++) if (!(y[i] >= 0 && y[i] < K)) throw new GpuGnUnavailable(`label ${y[i]} of row ${i} is outside 0..${K - 1}`);
  } else if (!(y instanceof Float32Array) || y.length < n * K) {
    throw new GpuGnUnavailable(`squared-error heads need float32 targets [${n}, ${K}]`);
  }
  if (inp.theta.length !== inp.layout.size) throw new GpuGnUnavailable(`θ has ${inp.theta.length} entries, the layout ${inp.layout.size}`);
}

/** Per-token CSR lists of a batch's pairs: segment t < p lists the batch rows with a = t, p + t those with b = t. */
function tokenLists(x: Int32Array, rows: Int32Array | null, B: number, p: number, off: Uint32Array, rowsOf: Uint32Array): void {
  off.fill(0);
  for (let r = 0; r < B; r++) {
    const s = rows ? rows[r] : r;
    off[x[2 * s] + 1]++;
    off[p + x[2 * s + 1] + 1]++;
  }
  for (let t = 0; t < 2 * p; t++) off[t + 1] += off[t];
  const fill = off.slice(0, 2 * p);
  for (let r = 0; r < B; r++) {
    const s = rows ? rows[r] : r;
    rowsOf[fill[x[2 * s]]++] = r;
    rowsOf[fill[p + x[2 * s + 1]]++] = r;
  }
}

/** A token-pair model's steps (modadd, modadd-gelu). */
export class GpuPairsTrainer extends GpuTrainer {
  private readonly spec: PairsPassSpec;
  private readonly o: PairOffsets;
  private readonly x: Int32Array;
  private readonly P: GPUBuffer;
  private readonly Pb: GPUBuffer | null;
  private readonly Tt: GPUBuffer;
  private readonly A: GPUBuffer;
  private readonly Dv: GPUBuffer;
  private readonly Dz: GPUBuffer;
  private readonly S: GPUBuffer;
  private readonly off: GPUBuffer;
  private readonly rowsOf: GPUBuffer;
  private readonly offHost: Uint32Array;
  private readonly rowsHost: Uint32Array;
  /** The CSR buffers hold the full batch's lists (uploaded once for full-batch steps). */
  private listsFull = false;

  private constructor(device: GPUDevice, inp: GpuTrainInput, spec: PairsPassSpec, o: PairOffsets) {
    super(device, inp, o.K);
    this.spec = spec;
    this.o = o;
    const { p, h } = spec, n = inp.n, mb = this.maxBatch;
    this.x = inp.x as Int32Array;
    this.P = this.buffer(2 * n, 'train token pairs', undefined, new Uint32Array(this.x.buffer, this.x.byteOffset, 2 * n));
    this.Pb = this.fullBatchOnly ? null : this.buffer(2 * mb, 'train batch pairs');
    this.Tt = this.buffer(2 * p * h, 'train tables [T_L; T_R]');
    this.A = this.buffer(mb * h, 'train act(z)');
    this.Dv = spec.activation === 'gelu' ? this.buffer(mb * h, "train act′(z)") : this.dummy;
    this.Dz = this.buffer(mb * h, 'train δz');
    this.S = this.buffer(2 * p * h, 'train per-token sums');
    this.off = this.buffer(2 * p + 1, 'train token offsets');
    this.rowsOf = this.buffer(2 * mb, 'train token rows');
    this.offHost = new Uint32Array(2 * p + 1);
    this.rowsHost = new Uint32Array(2 * mb);
  }

  protected uploadBatch(rows: Int32Array | null, B: number): void {
    if (!rows && this.listsFull) return;
    const p = this.spec.p;
    tokenLists(this.x, rows, B, p, this.offHost, this.rowsHost);
    this.device.queue.writeBuffer(this.off, 0, this.offHost as Uint32Array<ArrayBuffer>);
    this.device.queue.writeBuffer(this.rowsOf, 0, this.rowsHost as Uint32Array<ArrayBuffer>, 0, 2 * B);
    this.listsFull = !rows;
  }

  protected passes(B: number, direct: boolean): { forward: Dispatch[]; backward: Dispatch[] } {
    const { p, e, h, activation } = this.spec, o = this.o, K = this.K, th = this.thetaBuffer, G = this.G;
    const forward: Dispatch[] = [];
    let pairs = this.P;
    if (!direct) {
      const u = this.uniform(`train gather pairs ${B}`, [B, 2]);
      forward.push(this.kernel('gather rows', gatherRowsWgsl, [u, this.P, this.idx, this.Pb!], grid1d(2 * B)));
      pairs = this.Pb!;
    }
    const Eth = view(th, o.E, e, 1);
    // T = [E·W_Lᵀ + b₁; E·W_Rᵀ]: B[k, j] = W[j, k] = W[j·stride + k].
    forward.push(...this.mm({ label: 'T_L', M: p, N: h, K1: e, a1: Eth, b1: view(th, o.wL, 1, o.stride), bias: o.b1 >= 0 ? { buf: th, off: o.b1 } : undefined, c: view(this.Tt, 0, h, 1) }));
    forward.push(...this.mm({ label: 'T_R', M: p, N: h, K1: e, a1: Eth, b1: view(th, o.wR, 1, o.stride), c: view(this.Tt, p * h, h, 1) }));
    const hu = this.uniform(`train hidden ${B}`, [B, h, p, activation === 'gelu' ? 1 : 0]);
    forward.push(this.kernel('pair hidden', pairHiddenWgsl, [hu, this.Tt, pairs, this.A, this.Dv], grid1d(B * h)));
    forward.push(...this.mm({ label: 'logits', M: B, N: K, K1: h, a1: view(this.A, 0, h, 1), b1: view(th, o.W2, 1, h), bias: { buf: th, off: o.b2 }, c: view(this.Z, 0, K, 1) }));

    const backward: Dispatch[] = [];
    const dT = view(this.D, 0, 1, K);
    backward.push(...this.mm({ label: '∇W2', M: K, N: h, K1: B, a1: dT, b1: view(this.A, 0, h, 1), c: view(G, o.W2, h, 1) }));
    backward.push(...this.mm({ label: '∇b2', M: K, N: 1, K1: B, a1: dT, b1: view(this.one, 0, 0, 0), c: view(G, o.b2, 1, 0) }));
    backward.push(...this.mm({
      label: 'δz', M: B, N: h, K1: K, a1: view(this.D, 0, K, 1), b1: view(th, o.W2, h, 1),
      mask: activation === 'gelu' ? { ...view(this.Dv, 0, h, 1), mode: 'mul' } : { ...view(this.A, 0, h, 1), mode: 'sign' }, c: view(this.Dz, 0, h, 1),
    }));
    backward.push(this.segmentSumStep(this.Dz, this.off, this.rowsOf, this.S, 2 * p, h));
    backward.push(...this.mm({ label: '∇W_L', M: h, N: e, K1: p, a1: view(this.S, 0, 1, h), b1: Eth, c: view(G, o.wL, o.stride, 1) }));
    backward.push(...this.mm({ label: '∇W_R', M: h, N: e, K1: p, a1: view(this.S, p * h, 1, h), b1: Eth, c: view(G, o.wR, o.stride, 1) }));
    if (o.b1 >= 0) backward.push(...this.mm({ label: '∇b1', M: h, N: 1, K1: p, a1: view(this.S, 0, 1, h), b1: view(this.one, 0, 0, 0), c: view(G, o.b1, 1, 0) }));
    backward.push(...this.mm({
      label: '∇E', M: p, N: e, K1: h, a1: view(this.S, 0, h, 1), b1: view(th, o.wL, o.stride, 1), K2: h, a2: view(this.S, p * h, h, 1), b2: view(th, o.wR, o.stride, 1),
      c: view(G, o.E, e, 1),
    }));
    return { forward, backward };
  }

  /** A token-pair model's GPU trainer; throws GpuGnUnavailable where the layout, a token, the device's limits or memory refuse it. */
  static async open(device: GPUDevice, spec: PairsPassSpec, inp: GpuTrainInput): Promise<GpuPairsTrainer> {
    const o = pairOffsets(spec, inp.layout);
    checkInput(inp, o.K, 2);
    const x = inp.x;
    if (!(x instanceof Int32Array)) throw new GpuGnUnavailable('a token-pair model needs int32 pairs');
    for (let i = 0; i < 2 * inp.n; i++) if (!(x[i] >= 0 && x[i] < spec.p)) throw new GpuGnUnavailable(`row ${i >> 1} holds token ${x[i]} outside 0..${spec.p - 1}`);
    const mb = inp.maxBatch;
    checkLimits(device, [inp.layout.size, 2 * inp.n, mb * spec.h, mb * o.K, 2 * spec.p * spec.h, inp.y.length], Math.max(mb, spec.p, spec.h, spec.e, o.K));
    return buildScoped(device, () => new GpuPairsTrainer(device, inp, spec, o), 'training');
  }
}

/**
 * A GPU trainer for a model (its architecture's dense stack or token-pair spec) on `device`, or
 * the reason there is none (the caller keeps the tfjs path): other architectures, or the device's
 * limits or memory, give a reason.
 */
export async function openGpuTrainer(device: GPUDevice, config: ModelConfig, inp: GpuTrainInput): Promise<{ trainer: GpuTrainer; reason?: undefined } | { trainer?: undefined; reason: string }> {
  const arch = getArch(config.arch);
  const stack = inp.x instanceof Float32Array ? arch.denseStack?.(config as never) : undefined;
  const pairs = inp.x instanceof Int32Array ? arch.pairsSpec?.(config as never) : undefined;
  if (!stack && !pairs) return { reason: `no WGSL training step for ${config.arch} (dense stacks and token-pair models only)` };
  try {
    return { trainer: stack ? await GpuStackTrainer.open(device, stack, inp) : await GpuPairsTrainer.open(device, pairs!, inp) };
  } catch (e) {
    if (e instanceof GpuGnUnavailable) return { reason: e.message };
    throw e;
  }
}
