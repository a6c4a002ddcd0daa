/**
 * Whole training steps on the GPU (src/core/gpu/trainStep.ts) on a WebGPU adapter in Node (Dawn
 * from the `webgpu` package on SwiftShader here and in CI: correctness, not speed). For the four
 * architectures on small ragged sizes (widths not multiples of the 32-wide tiles), both optimizers,
 * minibatches (a ragged last batch) and full batches and every head: several steps against the CPU
 * whole-step engine (train/stackEngine.ts, pairsEngine.ts) — batch losses and θ to float32
 * tolerance; the gradient against central differences of a Float64 loss written here (the model's
 * forward pass from helpers/reference.ts, the heads of train/fused.ts's table); the loss ring read
 * only when asked (no mapAsync per step); a lost device. Skips cleanly without an adapter.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { testDevice, webgpuAdapter } from './helpers/webgpu';
import { useWasm } from './helpers/tf';
import { referenceForward } from './helpers/reference';
import { getArch } from '../../src/core/arch/registry';
import '../../src/core/arch/builtin';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import type { ParamLayout } from '../../src/core/params';
import { makeRng } from '../../src/core/rng';
import type { HeadKind } from '../../src/core/train/fused';
import type { EngineOptimizer, ResidentEngine } from '../../src/core/train/residentEngine';
import { StackEngine } from '../../src/core/train/stackEngine';
import { langevinUpdate } from '../../src/core/train/wasmKernels';
import { PairsEngine } from '../../src/core/train/pairsEngine';
import { GpuStackTrainer, LOSS_RING, openGpuTrainer, type GpuTrainer, type GpuTrainInput } from '../../src/core/gpu/trainStep';

const hasAdapter = await webgpuAdapter();
if (!hasAdapter) console.warn('gpuTrain.test.ts: no WebGPU adapter (Dawn + SwiftShader ICD not found); skipping the WGSL training-step tests');

let device: GPUDevice;
beforeAll(async () => {
  await useWasm();
  if (!hasAdapter) return;
  device = await testDevice();
});
afterAll(() => device?.destroy());

// ---------------------------------------------------------------------------------------------
// Cases: a model, its training rows (x, y) and a head
// ---------------------------------------------------------------------------------------------

interface Case { config: ModelConfig; layout: ParamLayout; theta: Float32Array; x: Float32Array | Int32Array; y: Int32Array | Float32Array; n: number; K: number; head: HeadKind; rowsOf: (i: number) => number[] }

/** n training rows for a configuration: MNIST-shaped inputs with a blank border, matfac inputs, or token pairs (repeats included); labels or targets for the head. */
function makeCase(config: ModelConfig, n: number, head: HeadKind, seed: number, thetaScale = 1): Case {
  const rng = makeRng(seed);
  const layout = layoutFor(config);
  const theta = initParams(config, seed + 1);
  for (let i = 0; i < theta.length; i++) theta[i] *= thetaScale;
  // Biases start at zero: make them random so a dropped bias term shows.
  for (const t of layout.tensors) if (t.shape.length === 1) for (let j = 0; j < t.size; j++) theta[t.offset + j] = rng.normal() * 0.3;
  let x: Float32Array | Int32Array, K: number, rowsOf: (i: number) => number[];
  if (config.arch === 'modadd' || config.arch === 'modadd-gelu') {
    const p = config.p;
    x = Int32Array.from({ length: 2 * n }, () => rng.int(p));
    K = p;
    rowsOf = (i) => [x[2 * i], x[2 * i + 1]];
  } else {
    const inDim = config.arch === 'matfac' ? config.widths[0] : 784;
    x = Float32Array.from({ length: n * inDim }, (_, i) => {
      if (config.arch === 'matfac') return rng.normal();
      const c = (i % 784) % 28, r = Math.floor((i % 784) / 28);
      const u = rng.next(), w = rng.next();
      return c < 2 || c >= 26 || r < 2 || r >= 26 || u < 0.6 ? 0 : w;
    });
    K = config.arch === 'matfac' ? config.widths[config.widths.length - 1] : 10;
    rowsOf = (i) => Array.from(x.subarray(i * inDim, (i + 1) * inDim));
  }
  const y = head === 'cross-entropy' ? Int32Array.from({ length: n }, () => rng.int(K)) : Float32Array.from({ length: n * K }, () => rng.normal());
  return { config, layout, theta, x, y, n, K, head, rowsOf };
}

function gpuInput(c: Case, opt: EngineOptimizer, maxBatch: number): GpuTrainInput {
  return { layout: c.layout, head: c.head, opt, theta: c.theta, x: c.x, y: c.y, n: c.n, maxBatch };
}

async function openGpu(c: Case, opt: EngineOptimizer, maxBatch: number): Promise<GpuTrainer> {
  const got = await openGpuTrainer(device, c.config, gpuInput(c, opt, maxBatch));
  if (!got.trainer) throw new Error(got.reason);
  return got.trainer;
}

function cpuEngine(c: Case, opt: EngineOptimizer, maxBatch: number): ResidentEngine {
  const arch = getArch(c.config.arch);
  const stack = arch.denseStack?.(c.config as never), pairs = arch.pairsSpec?.(c.config as never);
  const e = stack ? new StackEngine(stack, c.layout, c.head, maxBatch, opt) : new PairsEngine(pairs!, c.layout, c.head, maxBatch, opt);
  e.load(c.theta);
  return e;
}

/** The Float64 loss of the head on rows `rows` at θ (independent of the code under test: train/fused.ts's table). */
function loss64(c: Case, theta: Float64Array, rows: number[]): number {
  const f = referenceForward(c.config, theta, rows.map(c.rowsOf));
  const B = rows.length, K = c.K;
  let s = 0;
  rows.forEach((row, r) => {
    const z = f[r];
    if (c.head === 'cross-entropy') {
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
      s += lse - z[(c.y as Int32Array)[row]];
    } else {
      for (let j = 0; j < K; j++) s += (z[j] - (c.y as Float32Array)[row * K + j]) ** 2;
    }
  });
  const scale = c.head === 'cross-entropy' ? 1 / B : c.head === 'half-sse' ? 1 / (2 * B) : c.head === 'sse' ? 1 / B : 1 / (B * K);
  return s * scale;
}

/** Per tensor: ‖got − ref‖ ≤ tol·‖ref_t‖ + abs·‖ref‖ (a wrong bias block cannot hide in the norm of the weights). */
function expectClose(layout: ParamLayout, got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string, abs = 1e-6, only?: Set<number>): void {
  let total = 0;
  for (let j = 0; j < ref.length; j++) if (!only || only.has(j)) total += ref[j] ** 2;
  total = Math.sqrt(total);
  for (const t of layout.tensors) {
    let e = 0, r = 0;
    for (let j = t.offset; j < t.offset + t.size; j++) {
      if (only && !only.has(j)) continue;
      e += (got[j] - ref[j]) ** 2;
      r += ref[j] ** 2;
    }
    const err = Math.sqrt(e), lim = tol * Math.sqrt(r) + abs * total;
    if (!(err <= lim)) throw new Error(`${what}: ${t.name}: ‖error‖ = ${err.toExponential(3)} > ${lim.toExponential(3)} (‖ref_t‖ = ${Math.sqrt(r).toExponential(3)})`);
  }
}

const ADAMW: EngineOptimizer = { kind: 'adamw', weightDecay: 0.3 };
const SGD: EngineOptimizer = { kind: 'sgd', momentum: 0.9, weightDecay: 0.01 };
const SGD_PLAIN: EngineOptimizer = { kind: 'sgd', momentum: 0, weightDecay: 0 };

interface RunCase { name: string; make: () => Case; opt: EngineOptimizer; batch: number | 'full'; lr: number }

const RUNS: RunCase[] = [
  { name: 'mnist-mlp [784 (border dropped), 9, 6, 10], cross-entropy, SGD momentum + L2, batches of 13 of 37 rows', make: () => makeCase({ arch: 'mnist-mlp', hidden: [9, 6] }, 37, 'cross-entropy', 1), opt: SGD, batch: 13, lr: 0.1 },
  { name: 'mnist-mlp [784, 33, 17, 10], cross-entropy, AdamW, full batch of 45', make: () => makeCase({ arch: 'mnist-mlp', hidden: [33, 17] }, 45, 'cross-entropy', 2), opt: ADAMW, batch: 'full', lr: 0.01 },
  { name: 'matfac [5, 4, 3, 6], mse, AdamW, batches of 4 of 11', make: () => makeCase({ arch: 'matfac', widths: [5, 4, 3, 6] }, 11, 'mse', 3), opt: ADAMW, batch: 4, lr: 0.02 },
  { name: 'matfac [40, 33, 17, 18], half-sse, SGD momentum, full batch of 50', make: () => makeCase({ arch: 'matfac', widths: [40, 33, 17, 18] }, 50, 'half-sse', 4), opt: SGD, batch: 'full', lr: 0.005 },
  { name: 'matfac [7, 5, 6], sse, plain SGD, batches of 9 of 23', make: () => makeCase({ arch: 'matfac', widths: [7, 5, 6] }, 23, 'sse', 5), opt: SGD_PLAIN, batch: 9, lr: 0.01 },
  { name: 'split-K: matfac [6, 5, 3], sse, AdamW, full batch of 700', make: () => makeCase({ arch: 'matfac', widths: [6, 5, 3] }, 700, 'sse', 6), opt: ADAMW, batch: 'full', lr: 0.01 },
  { name: 'modadd p = 7, e = 4, h = 6, cross-entropy, AdamW, batches of 10 of 29', make: () => makeCase({ arch: 'modadd', p: 7, e: 4, h: 6 }, 29, 'cross-entropy', 7), opt: ADAMW, batch: 10, lr: 0.01 },
  { name: 'modadd p = 23, e = 18, h = 33, cross-entropy, SGD momentum, full batch of 300', make: () => makeCase({ arch: 'modadd', p: 23, e: 18, h: 33 }, 300, 'cross-entropy', 8), opt: SGD, batch: 'full', lr: 0.05 },
  { name: 'modadd p = 11, e = 5, h = 7, half-sse targets, SGD momentum, batches of 16 of 40', make: () => makeCase({ arch: 'modadd', p: 11, e: 5, h: 7 }, 40, 'half-sse', 9), opt: SGD, batch: 16, lr: 0.05 },
  { name: 'modadd-gelu p = 7, e = 3, h = 5, cross-entropy, SGD momentum, batches of 8 of 30', make: () => makeCase({ arch: 'modadd-gelu', p: 7, e: 3, h: 5 }, 30, 'cross-entropy', 10), opt: SGD, batch: 8, lr: 0.1 },
  { name: 'modadd-gelu p = 19, e = 17, h = 20, cross-entropy, AdamW, full batch of 250', make: () => makeCase({ arch: 'modadd-gelu', p: 19, e: 17, h: 20 }, 250, 'cross-entropy', 11), opt: ADAMW, batch: 'full', lr: 0.01 },
  { name: 'split-K: modadd-gelu p = 31, e = 5, h = 7, mse targets, AdamW, full batch of 672', make: () => makeCase({ arch: 'modadd-gelu', p: 31, e: 5, h: 7 }, 672, 'mse', 12), opt: ADAMW, batch: 'full', lr: 0.01 },
];

const STEPS = 7;

/** The step's rows: consecutive slices of a seeded permutation, a fresh one each epoch (the last slice of an epoch shorter); null for the full batch. */
function batches(n: number, batch: number | 'full', steps: number, seed: number): (Int32Array | null)[] {
  if (batch === 'full') return Array.from({ length: steps }, () => null);
  const rng = makeRng(seed), out: Int32Array[] = [];
  let order: number[] = [], at = n;
  while (out.length < steps) {
    if (at >= n) {
      order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) { const j = rng.int(i + 1); [order[i], order[j]] = [order[j], order[i]]; }
      at = 0;
    }
    const end = Math.min(n, at + batch);
    out.push(Int32Array.from(order.slice(at, end)));
    at = end;
  }
  return out;
}

describe.skipIf(!hasAdapter)('WGSL training steps against the CPU whole-step engine', () => {
  for (const r of RUNS) {
    test(`${r.name}: ${STEPS} steps, losses and θ`, async () => {
      const c = r.make();
      const mb = r.batch === 'full' ? c.n : r.batch;
      const gpu = await openGpu(c, r.opt, mb);
      const cpu = cpuEngine(c, r.opt, mb);
      try {
        const rows = batches(c.n, r.batch, STEPS, 5);
        if (r.batch !== 'full') expect(rows.some((b) => b!.length < mb)).toBe(true); // a ragged last batch
        const ref: number[] = [];
        rows.forEach((b, k) => {
          const lr = r.lr * (1 - k / (2 * STEPS)); // a changing rate, as under a schedule
          ref.push(cpu.step(c.x, c.y, c.n, b, lr));
          gpu.step(b, lr);
        });
        const { first, values } = await gpu.recentLosses();
        expect(first).toBe(1);
        expect(values.length).toBe(STEPS);
        values.forEach((v, k) => expect(Math.abs(v - ref[k])).toBeLessThanOrEqual(2e-5 * Math.abs(ref[k]) + 1e-7));
        expect(await gpu.lastLoss()).toBe(values[STEPS - 1]);
        if (r.batch === 'full') expect(ref[STEPS - 1]).toBeLessThan(ref[0]); // it trains
        expectClose(c.layout, await gpu.theta(), cpu.store(), 2e-5, `${r.name}: θ after ${STEPS} steps`);
        expect(gpu.splitSteps > 0).toBe(r.name.startsWith('split-K'));
      } finally {
        gpu.destroy();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The gradient against central differences of the Float64 loss
// ---------------------------------------------------------------------------------------------

const FD_CASES: { name: string; make: () => Case; rows: number[] | null }[] = [
  { name: 'mnist-mlp [784, 9, 6, 10], cross-entropy, a minibatch (sampled coordinates, border columns included)', make: () => makeCase({ arch: 'mnist-mlp', hidden: [9, 6] }, 21, 'cross-entropy', 21), rows: [3, 17, 0, 9, 9, 12, 20] },
  { name: 'matfac [5, 4, 3, 6], mse, full batch', make: () => makeCase({ arch: 'matfac', widths: [5, 4, 3, 6] }, 13, 'mse', 22), rows: null },
  { name: 'matfac [7, 5, 6], half-sse, a minibatch', make: () => makeCase({ arch: 'matfac', widths: [7, 5, 6] }, 13, 'half-sse', 23), rows: [12, 1, 4, 7] },
  { name: 'matfac [4, 3, 5], sse, full batch', make: () => makeCase({ arch: 'matfac', widths: [4, 3, 5] }, 9, 'sse', 24), rows: null },
  { name: 'modadd p = 7, e = 4, h = 6, cross-entropy, a minibatch', make: () => makeCase({ arch: 'modadd', p: 7, e: 4, h: 6 }, 25, 'cross-entropy', 25), rows: [4, 1, 24, 13, 8, 8, 19, 2, 11] },
  { name: 'modadd-gelu p = 7, e = 3, h = 5, cross-entropy, full batch', make: () => makeCase({ arch: 'modadd-gelu', p: 7, e: 3, h: 5 }, 20, 'cross-entropy', 26), rows: null },
  { name: 'modadd-gelu p = 5, e = 3, h = 4, sse targets, a minibatch', make: () => makeCase({ arch: 'modadd-gelu', p: 5, e: 3, h: 4 }, 15, 'sse', 27), rows: [0, 14, 3, 3, 9] },
  // Logits in the hundreds (three layers of θ × 20: × 8,000): exp overflows float32 unless the softmax subtracts each row's max.
  { name: 'mnist-mlp [784, 9, 6, 10] with large logits (θ × 20), cross-entropy, full batch', make: () => makeCase({ arch: 'mnist-mlp', hidden: [9, 6] }, 9, 'cross-entropy', 28, 20), rows: null },
];

describe.skipIf(!hasAdapter)('WGSL training step: the gradient against finite differences of a Float64 loss', () => {
  for (const f of FD_CASES) {
    test(f.name, async () => {
      const c = f.make();
      const rows = f.rows ?? Array.from({ length: c.n }, (_, i) => i);
      const gpu = await openGpu(c, ADAMW, c.n);
      try {
        const { loss, grad } = await gpu.lossAndGradient(f.rows ? Int32Array.from(f.rows) : null);
        const th = Float64Array.from(c.theta), d = th.length;
        const l0 = loss64(c, th, rows);
        expect(Math.abs(loss - l0)).toBeLessThanOrEqual(1e-5 * Math.abs(l0));
        // Every coordinate for the small models; for MNIST 300 sampled ones and the first row of W1 (border pixels: gradient 0).
        const coords = d <= 2000 ? Array.from({ length: d }, (_, j) => j) : [...Array.from({ length: 28 }, (_, j) => j), ...Array.from({ length: 300 }, (_, i) => Math.floor((i * 7919.37) % d))];
        const fd = new Float64Array(d);
        const h = 1e-5 * Math.max(1, Math.max(...Array.from(th, Math.abs)) / 10);
        for (const j of coords) {
          const t0 = th[j];
          th[j] = t0 + h; const lp = loss64(c, th, rows);
          th[j] = t0 - h; const lm = loss64(c, th, rows);
          th[j] = t0;
          fd[j] = (lp - lm) / (2 * h);
        }
        expectClose(c.layout, grad, fd, 2e-4, `${f.name}: ∇ against finite differences`, 2e-6, new Set(coords));
        for (let j = 0; j < 28; j++) if (c.config.arch === 'mnist-mlp') expect(grad[j]).toBe(0);
        expect(grad.every(Number.isFinite)).toBe(true);
        expect(gpu.steps).toBe(0);
      } finally {
        gpu.destroy();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Read-back cadence, wiring checks, limits and a lost device
// ---------------------------------------------------------------------------------------------

describe.skipIf(!hasAdapter)('WGSL training steps: read-back, limits, device loss', () => {
  test('no mapAsync per step: losses stay on the GPU until asked, and equal the reference steps', async () => {
    const c = makeCase({ arch: 'modadd', p: 7, e: 4, h: 6 }, 29, 'cross-entropy', 31);
    const gpu = await openGpu(c, SGD, 10);
    const cpu = cpuEngine(c, SGD, 10);
    const maps = vi.spyOn(GPUBuffer.prototype, 'mapAsync');
    try {
      const rows = batches(c.n, 10, 25, 3), ref: number[] = [];
      for (let k = 0; k < 25; k++) {
        ref.push(cpu.step(c.x, c.y, c.n, rows[k], 0.05));
        gpu.step(rows[k], 0.05);
        if ((k + 1) % 10 === 0) {
          // The Trainer's cadence: every 10 steps one read of the last batch loss.
          expect(maps).toHaveBeenCalledTimes((k + 1) / 10 - 1);
          const l = await gpu.lastLoss();
          expect(maps).toHaveBeenCalledTimes((k + 1) / 10);
          expect(Math.abs(l - ref[k])).toBeLessThanOrEqual(2e-5 * ref[k]);
        }
      }
      expect(maps).toHaveBeenCalledTimes(2);
      const { first, values } = await gpu.recentLosses();
      expect(first).toBe(1);
      values.forEach((v, k) => expect(Math.abs(v - ref[k])).toBeLessThanOrEqual(2e-5 * ref[k]));
      expect(gpu.steps).toBe(25);
    } finally {
      maps.mockRestore();
      gpu.destroy();
    }
  });

  test('the loss ring keeps the last lossRing steps; setTheta; dispatches per step', async () => {
    const c = makeCase({ arch: 'matfac', widths: [3, 2, 3] }, 6, 'mse', 32);
    expect(LOSS_RING).toBeGreaterThanOrEqual(100); // the Trainer reads every 10 steps
    const got = await openGpuTrainer(device, c.config, { ...gpuInput(c, SGD_PLAIN, 6), lossRing: 16 });
    const gpu = got.trainer!;
    try {
      for (let k = 0; k < 16 + 5; k++) gpu.step(null, 0);
      const { first, values } = await gpu.recentLosses();
      expect(first).toBe(6);
      expect(values.length).toBe(16);
      // lr 0: θ never moves, every loss is the same.
      const l0 = loss64(c, Float64Array.from(c.theta), [0, 1, 2, 3, 4, 5]);
      for (const v of values) expect(Math.abs(v - l0)).toBeLessThanOrEqual(1e-5 * l0);
      const th = c.theta.map((v) => v * 0.5);
      gpu.setTheta(th);
      expect(await gpu.theta()).toEqual(th);
      // A layer of matfac: forward 2 + head + loss sum + ∇W 2 + δ 1 + update = 8.
      expect(gpu.dispatchesPerStep()).toBe(8);
    } finally {
      gpu.destroy();
    }
  });

  test('refusals: wrong batch sizes and rows, bad labels, an architecture without passes, a device too small', async () => {
    const c = makeCase({ arch: 'mnist-mlp', hidden: [5, 4] }, 12, 'cross-entropy', 33);
    const gpu = await openGpu(c, SGD, 5);
    try {
      expect(() => gpu.step(Int32Array.from([1, 2, 3, 4, 5, 6]), 0.1)).toThrow(/batch of 6 rows \(at most 5\)/);
      expect(() => gpu.step(null, 0.1)).toThrow(/batch of 12 rows/);
      expect(() => gpu.step(Int32Array.from([1, 12]), 0.1)).toThrow(/row 12 is not in/);
    } finally {
      gpu.destroy();
    }
    expect(() => gpu.step(Int32Array.from([1]), 0.1)).toThrow(/after destroy/);
    const bad = { ...c, y: Int32Array.from(c.y as Int32Array, (v, i) => (i === 4 ? 10 : v)) };
    expect((await openGpuTrainer(device, c.config, gpuInput(bad, SGD, 5))).reason).toMatch(/label 10 of row 4/);
    const small = new Proxy(device, {
      get(t, k) {
        if (k === 'limits') return { ...Object.fromEntries(Object.entries(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(t.limits))).map(([n]) => [n, (t.limits as unknown as Record<string, number>)[n]])), maxStorageBufferBindingSize: 1024, maxBufferSize: 1024 };
        const val = Reflect.get(t, k, t) as unknown;
        return typeof val === 'function' ? (val as (...a: unknown[]) => unknown).bind(t) : val;
      },
    });
    expect((await openGpuTrainer(small, c.config, gpuInput(c, SGD, 5))).reason).toMatch(/binding limit/);
    const pairsOnRows = await openGpuTrainer(device, { arch: 'modadd', p: 7, e: 4, h: 6 }, gpuInput(c, SGD, 5));
    expect(pairsOnRows.reason).toMatch(/no WGSL training step for modadd/);
    // Full-batch-only trainers hold no gathered rows and refuse row lists.
    const full = await GpuStackTrainer.open(device, getArch('mnist-mlp').denseStack!({ arch: 'mnist-mlp', hidden: [5, 4] } as never), { ...gpuInput(c, SGD, 12), fullBatchOnly: true });
    try {
      expect(() => full.step(Int32Array.from([0]), 0.1)).toThrow(/full batches only/);
      full.step(null, 0.1);
      expect(Number.isFinite(await full.lastLoss())).toBe(true);
      expect(full.keptColumns).toBeLessThan(784);
    } finally {
      full.destroy();
    }
  });

  test('a lost device fails the reads and the next step with a clear error, no hang', async () => {
    const dev = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const c = makeCase({ arch: 'modadd-gelu', p: 7, e: 3, h: 5 }, 20, 'cross-entropy', 34);
    const got = await openGpuTrainer(dev, c.config, gpuInput(c, ADAMW, 20));
    const gpu = got.trainer!;
    gpu.step(null, 0.01);
    expect(Number.isFinite(await gpu.lastLoss())).toBe(true);
    gpu.step(null, 0.01);
    const pending = gpu.theta();
    dev.destroy();
    await expect(pending).rejects.toThrow(/GPU device was lost during a GPU training step/);
    await dev.lost;
    expect(() => gpu.step(null, 0.01)).toThrow(/GPU device was lost/);
    await expect(gpu.lastLoss()).rejects.toThrow(/GPU device was lost/);
    gpu.destroy();
  });
});

// ---------------------------------------------------------------------------------------------
// SGLD: unadjusted Langevin steps held on the GPU
// ---------------------------------------------------------------------------------------------

const SGLD_CASES: { name: string; make: () => Case; batch: number | 'full' }[] = [
  { name: 'modadd p = 7, e = 4, h = 6, cross-entropy, batches of 9 of 29', make: () => makeCase({ arch: 'modadd', p: 7, e: 4, h: 6 }, 29, 'cross-entropy', 41), batch: 9 },
  { name: 'modadd-gelu p = 19, e = 17, h = 20, cross-entropy, full batch of 250', make: () => makeCase({ arch: 'modadd-gelu', p: 19, e: 17, h: 20 }, 250, 'cross-entropy', 42), batch: 'full' },
  { name: 'mnist-mlp [784, 9, 6, 10], cross-entropy, batches of 8 of 20', make: () => makeCase({ arch: 'mnist-mlp', hidden: [9, 6] }, 20, 'cross-entropy', 43), batch: 8 },
  { name: 'matfac [5, 4, 3, 6], mse, full batch of 11', make: () => makeCase({ arch: 'matfac', widths: [5, 4, 3, 6] }, 11, 'mse', 44), batch: 'full' },
];

describe.skipIf(!hasAdapter)('WGSL SGLD steps against a host chain (the CPU engine\'s gradient, Float64 Langevin update, the same noise)', () => {
  for (const sc of SGLD_CASES) {
    test(`${sc.name}: 6 steps, L, ‖w − w*‖² and w`, async () => {
      const c = sc.make(), d = c.layout.size;
      const mb = sc.batch === 'full' ? c.n : sc.batch;
      const consts = { nBeta: c.n, gamma: 100, eps: 1e-4 };
      const gpu = await openGpu(c, SGD_PLAIN, mb);
      const cpu = cpuEngine(c, SGD_PLAIN, mb);
      try {
        const r0 = makeRng(9), start = Float32Array.from(c.theta, (v) => v + 0.05 * r0.normal());
        gpu.startLangevin(c.theta, start);
        const rows = batches(c.n, sc.batch, 6, 4);
        const gRng = makeRng(77), hRng = makeRng(77);
        const w = start.slice(), xi = new Float32Array(d), L: number[] = [], D: number[] = [];
        for (const b of rows) {
          gpu.langevinStep(b, gRng, consts);
          cpu.load(w);
          L.push(cpu.lossAndGradient(c.x, c.y, c.n, b));
          hRng.fillNormal(xi);
          D.push(langevinUpdate(w, c.theta, cpu.gradient(), xi, consts, w));
        }
        const got = await gpu.recentLangevin();
        expect(got.first).toBe(1);
        got.losses.forEach((v, k) => expect(Math.abs(v - L[k])).toBeLessThanOrEqual(2e-5 * Math.abs(L[k]) + 1e-7));
        got.dist2.forEach((v, k) => expect(Math.abs(v - D[k])).toBeLessThanOrEqual(1e-5 * D[k]));
        expect(D[5]).toBeGreaterThan(0);
        expectClose(c.layout, await gpu.theta(), w, 2e-5, `${sc.name}: w after 6 steps`);
        // The chain moved: its w differs from the start by more than rounding.
        let moved = 0;
        for (let j = 0; j < d; j++) moved = Math.max(moved, Math.abs(w[j] - start[j]));
        expect(moved).toBeGreaterThan(1e-3);
      } finally {
        gpu.destroy();
      }
    });
  }

  test('langevinStep before startLangevin is refused', async () => {
    const c = makeCase({ arch: 'matfac', widths: [3, 2, 3] }, 6, 'mse', 45);
    const gpu = await openGpu(c, SGD_PLAIN, 6);
    try {
      expect(() => gpu.langevinStep(null, makeRng(1), { nBeta: 6, gamma: 1, eps: 1e-4 })).toThrow(/startLangevin first/);
      await expect(gpu.recentLangevin()).rejects.toThrow(/startLangevin first/);
    } finally {
      gpu.destroy();
    }
  });
});
