/**
 * "auto" backend choice by measurement (issue 14 item 1). `calibrate` times the active tfjs backend
 * on a short, fixed workload — one matMul of the size of the Gauss–Newton product's big products and
 * one small training step (256 rows, 64 → 64 ReLU → 16, softmax cross-entropy) — reading results
 * back with `await data()` (never dataSync: docs/platform.md §1, it stalls WebGPU). The step is the
 * one training runs on that backend: on webgpu the WGSL whole step (gpu/trainStep.ts: forward, head,
 * backward and SGD update in one submission, its batch loss read back) where it can be opened on the
 * backend's device, else (and on wasm/cpu) a tfjs op chain of the same shape (forward, softmax, a
 * hand-written backward); `BackendMeasurement.step` says which was timed. It is time-boxed,
 * so a software GPU (SwiftShader: hundreds of times slower) cannot hold start-up: a backend that
 * has not finished within its budget is reported as "slower than the budget".
 *
 * `chooseBackend` is the pure decision from those figures and the adapter's facts, with the reason
 * in words. The remembered choice is the page's business (localStorage, keyed by `choiceKey`): the
 * core only receives past records and returns a new one (no DOM here).
 */
import * as tf from '@tensorflow/tfjs';
import { makeLayout } from './params';

export type MeasuredBackend = 'webgpu' | 'wasm' | 'cpu';

export interface BackendMeasurement {
  name: MeasuredBackend;
  /** Median time of one [1024 × 256] · [256 × 256] matMul with read-back (ms). */
  matMulMs: number;
  /** Median time of one training step with read-back (ms): the WGSL step or the tfjs op chain (`step`). */
  chainMs: number;
  /**
   * What `chainMs` timed: 'wgsl', the WGSL whole training step (webgpu); 'tfjs', the tfjs op chain.
   * Absent in records stored before the WGSL step was timed (they timed the op chain).
   */
  step?: 'wgsl' | 'tfjs';
  /** On webgpu, why the WGSL step was not timed (the op chain was), when it was not. */
  stepFallback?: string;
  /** matMulMs + chainMs; when `timedOut`, a lower bound (the time spent before giving up). */
  totalMs: number;
  /** The budget ran out before the timed runs finished (first use, shader compilation included). */
  timedOut: boolean;
}

/** What is known about the WebGPU adapter (from `GPUAdapter.info` and `isFallbackAdapter`). */
export interface AdapterFacts {
  description: string;
  isFallbackAdapter: boolean;
}

export interface BackendDecision {
  choice: MeasuredBackend;
  reason: string;
}

/** A past calibration as the page stores it and hands back (see `choiceKey`). */
export interface CalibrationRecord {
  choice: MeasuredBackend;
  reason: string;
  measurements: BackendMeasurement[];
  /** ISO date of the measurement. */
  at: string;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** A CPU-emulated WebGPU adapter: the fallback flag, or a known software rasterizer's name. */
export function isSoftwareAdapter(a: AdapterFacts | undefined): boolean {
  return !!a && (a.isFallbackAdapter || SOFTWARE.test(a.description));
}

/** The key a choice is remembered under: the adapter (or its absence) and the browser. */
export function choiceKey(adapter: AdapterFacts | undefined, userAgent: string): string {
  return `${adapter ? `${adapter.description}${adapter.isFallbackAdapter ? ' (fallback)' : ''}` : 'no WebGPU adapter'} | ${userAgent}`;
}

const ORDER: MeasuredBackend[] = ['webgpu', 'wasm', 'cpu'];

export function formatMeasurement(m: BackendMeasurement): string {
  if (m.timedOut) return `${m.name} > ${m.totalMs.toFixed(0)} ms (did not finish within the calibration budget)`;
  return `${m.name} ${m.totalMs.toFixed(1)} ms (matMul ${m.matMulMs.toFixed(1)} + ${m.step === 'wgsl' ? 'WGSL step' : 'step'} ${m.chainMs.toFixed(1)})`;
}

/**
 * The faster backend by measurement. A finished measurement beats a timed-out one; among finished
 * ones the smaller total wins; equal totals go by webgpu → wasm → cpu, except that a software
 * adapter's webgpu ranks after wasm, so it is chosen over wasm only when it measures strictly faster.
 * Throws on an empty list.
 */
export function chooseBackend(ms: readonly BackendMeasurement[], adapter?: AdapterFacts): BackendDecision {
  if (ms.length === 0) throw new Error('chooseBackend: no measurements');
  const software = isSoftwareAdapter(adapter);
  const rank = (n: MeasuredBackend): number => (software && n === 'webgpu' ? 1.5 : ORDER.indexOf(n));
  const sorted = [...ms].sort((a, b) => (Number(a.timedOut) - Number(b.timedOut))
    || (a.timedOut ? b.totalMs - a.totalMs : a.totalMs - b.totalMs) || rank(a.name) - rank(b.name));
  const best = sorted[0];
  const figures = sorted.map(formatMeasurement).join(', ');
  let reason: string;
  if (ms.length === 1) {
    reason = `only ${best.name} was available to measure: ${figures}`;
  } else if (best.timedOut) {
    reason = `no backend finished the calibration within its budget; ${best.name} got furthest: ${figures}`;
  } else {
    reason = `${best.name} measured faster: ${figures}`;
  }
  if (adapter) {
    const what = `WebGPU adapter "${adapter.description}"`;
    if (software) {
      reason += best.name === 'webgpu'
        ? `; the ${what} is a software (CPU-emulated) adapter, chosen only because it measured faster`
        : `; the ${what} is a software (CPU-emulated) adapter`;
    }
  }
  return { choice: best.name, reason };
}

// ---------------------------------------------------------------------------------------------
// The measurement.

/** Deterministic values in [−0.5, 0.5) (no RNG kernel differences between backends). */
function fill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

type Op = [string, (e: Record<string, tf.Tensor>) => tf.Tensor];

/** One matMul of the size of the Gauss–Newton product's big products, summed for the read-back. */
const MATMUL: Op[] = [
  ['AB', (e) => tf.matMul(e.A, e.B)],
  ['out', (e) => tf.sum(e.AB)],
];

/** Forward, softmax cross-entropy gradient and the two weight gradients by hand: the op mix and
 * the number of dispatches of one small training step. */
const STEP: Op[] = [
  ['z', (e) => tf.matMul(e.X, e.W1)],
  ['zb', (e) => tf.add(e.z, e.b1)],
  ['h', (e) => tf.relu(e.zb)],
  ['y', (e) => tf.matMul(e.h, e.W2)],
  ['p', (e) => tf.softmax(e.y)],
  ['g', (e) => tf.sub(e.p, e.T)],
  ['gW2', (e) => tf.matMul(e.h, e.g, true, false)],
  ['gh0', (e) => tf.matMul(e.g, e.W2, false, true)],
  ['mask', (e) => tf.step(e.h)],
  ['gh', (e) => tf.mul(e.gh0, e.mask)],
  ['gW1', (e) => tf.matMul(e.X, e.gh, true, false)],
  ['s1', (e) => tf.sum(e.gW1)],
  ['s2', (e) => tf.sum(e.gW2)],
  ['out', (e) => tf.add(e.s1, e.s2)],
];

export interface CalibrateOptions {
  /** Wall-clock budget for this backend, warm-up included (ms; default 400). */
  budgetMs?: number;
  /** Timed repetitions of each part (default 3; medians). */
  reps?: number;
  /**
   * webgpu: time the WGSL whole step (default: where training would use it, gpuTrainingEnabled()).
   * false: the tfjs op chain. Ignored on other backends.
   */
  wgslStep?: boolean;
}

/** The calibration step's model as a dense stack: 64 → 64 (ReLU) → 16, PyTorch shapes in θ. */
const CAL_ROWS = 256, CAL_IN = 64, CAL_HID = 64, CAL_OUT = 16;

/** Work queued now whose promise settles (never rejects) once its result has been read back. */
type Launch = () => Promise<void> | null;

/**
 * The WGSL whole step on the webgpu backend's device for the calibration's shapes (the STEP chain's
 * X, W1, b1, W2, labels i mod 16, full batch, SGD), or why there is none. Imported on demand, so the
 * backend choice does not load the GPU engine where there is no webgpu backend.
 */
async function openWgslStep(): Promise<{ launch: Launch; close: () => void } | { reason: string }> {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (!device) return { reason: 'the webgpu backend has no device' };
  const [{ GpuStackTrainer }, { GpuGnUnavailable }] = await Promise.all([import('./gpu/trainStep'), import('./gpu/gnKernels')]);
  const layout = makeLayout([
    { name: 'W1', shape: [CAL_HID, CAL_IN] }, { name: 'b1', shape: [CAL_HID] },
    { name: 'W2', shape: [CAL_OUT, CAL_HID] }, { name: 'b2', shape: [CAL_OUT] },
  ]);
  const theta = fill(layout.size, 4);
  const spec = { widths: [CAL_IN, CAL_HID, CAL_OUT], weight: (l: number) => `W${l + 1}`, bias: (l: number) => `b${l + 1}`, relu: true };
  try {
    const tr = await GpuStackTrainer.open(device, spec, {
      layout, head: 'cross-entropy', opt: { kind: 'sgd', weightDecay: 0, momentum: 0 }, theta,
      x: fill(CAL_ROWS * CAL_IN, 3), y: Int32Array.from({ length: CAL_ROWS }, (_, i) => i % CAL_OUT),
      n: CAL_ROWS, maxBatch: CAL_ROWS, fullBatchOnly: true, lossRing: 4,
    });
    let pending: Promise<void> = Promise.resolve();
    return {
      launch: () => {
        tr.step(null, 1e-3);
        pending = tr.lastLoss().then(() => undefined, () => undefined);
        return pending;
      },
      // After the last read-back settles (it may still be in flight when the budget ran out).
      close: () => { void pending.finally(() => tr.destroy()); },
    };
  } catch (e) {
    if (e instanceof GpuGnUnavailable) return { reason: e.message };
    throw e;
  }
}

/**
 * Times the ACTIVE tfjs backend (call after `tf.setBackend(name)`) on the calibration workload.
 * Never throws for slowness: past the budget it stops waiting and reports `timedOut` with the time
 * spent as a lower bound (GPU work still in flight is disposed when it completes).
 */
export async function calibrate(name: MeasuredBackend, opts: CalibrateOptions = {}): Promise<BackendMeasurement> {
  const budget = opts.budgetMs ?? 400;
  const reps = opts.reps ?? 3;
  const t0 = performance.now();
  const left = (): number => budget - (performance.now() - t0);
  /** Waits for `p` until the budget ends: its value, or undefined past the budget. */
  const withinBudget = async <T>(p: Promise<T>): Promise<T | undefined> => {
    const wait = left();
    if (wait <= 0) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((res) => { timer = setTimeout(() => res(undefined), wait); });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  let wgsl: { launch: Launch; close: () => void } | null = null;
  let stepFallback: string | undefined;
  if (name === 'webgpu' && (opts.wgslStep ?? (await import('./gpu/trainStep')).gpuTrainingEnabled())) {
    // Opening compiles no kernel yet (the first step does, in the warm-up), but allocates and
    // checks the buffers; past the budget, a late trainer is closed when it arrives.
    const opening = openWgslStep();
    const got = await withinBudget(opening);
    if (got === undefined) {
      void opening.then((o) => { if ('launch' in o) o.close(); }, () => undefined);
      return { name, matMulMs: NaN, chainMs: NaN, totalMs: performance.now() - t0, timedOut: true, step: 'wgsl' };
    }
    if ('launch' in got) wgsl = got;
    else stepFallback = got.reason;
  }
  const inputs: Record<string, tf.Tensor> = {
    A: tf.tensor2d(fill(1024 * 256, 1), [1024, 256]),
    B: tf.tensor2d(fill(256 * 256, 2), [256, 256]),
    X: tf.tensor2d(fill(256 * 64, 3), [256, 64]),
    W1: tf.tensor2d(fill(64 * 64, 4), [64, 64]),
    b1: tf.tensor1d(fill(64, 5)),
    W2: tf.tensor2d(fill(64 * 16, 6), [64, 16]),
    T: tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 256 }, (_, i) => i % 16), 'int32'), 16).toFloat()),
  };
  /**
   * Runs the ops one at a time, giving up between two ops once the deadline has passed: a software
   * GPU compiles each new kernel synchronously on first use (seconds in all on SwiftShader), so the
   * budget is only kept if it is checked between dispatches. Returns the last op's output (the rest
   * disposed), or null past the deadline.
   */
  const run = (ops: Op[], deadline: number): tf.Tensor | null => {
    const env: Record<string, tf.Tensor> = { ...inputs };
    const made: tf.Tensor[] = [];
    let out: tf.Tensor | null = null;
    for (const [name, op] of ops) {
      if (performance.now() > deadline) { out = null; break; }
      out = op(env);
      env[name] = out;
      made.push(out);
    }
    for (const t of made) if (t !== out) t.dispose();
    return out;
  };
  /** The tfjs ops queued, their last output read back and disposed. */
  const ops = (list: Op[]): Launch => () => {
    const out = run(list, t0 + budget);
    if (out === null) return null;
    return out.data().then(() => undefined, () => undefined).finally(() => out.dispose());
  };
  /** Queues the work and waits for its read-back, at most until the budget ends; the time, or null. */
  const timed = async (launch: Launch): Promise<number | null> => {
    if (left() <= 0) return null;
    const ts = performance.now();
    const done = launch();
    if (done === null) return null;
    const settled = await withinBudget(done.then(() => true));
    return settled ? performance.now() - ts : null;
  };
  const MM = ops(MATMUL), ST = wgsl ? wgsl.launch : ops(STEP);
  const mm: number[] = [], ch: number[] = [];
  let timedOut = false;
  try {
    // Warm-up (kernel compilation, first allocations), then alternate the timed runs.
    if ((await timed(MM)) === null || (await timed(ST)) === null) timedOut = true;
    for (let r = 0; r < reps && !timedOut; r++) {
      const a = await timed(MM);
      if (a === null) { timedOut = true; break; }
      mm.push(a);
      const c = await timed(ST);
      if (c === null) { timedOut = true; break; }
      ch.push(c);
    }
  } finally {
    // Inputs may still be read by GPU work in flight; tfjs's queue keeps the order.
    for (const t of Object.values(inputs)) t.dispose();
    wgsl?.close();
  }
  const what = { step: wgsl ? 'wgsl' as const : 'tfjs' as const, ...(stepFallback !== undefined ? { stepFallback } : {}) };
  if (timedOut) {
    const spent = performance.now() - t0;
    return { name, matMulMs: mm.length ? median(mm) : NaN, chainMs: ch.length ? median(ch) : NaN, totalMs: spent, timedOut: true, ...what };
  }
  const matMulMs = median(mm), chainMs = median(ch);
  return { name, matMulMs, chainMs, totalMs: matMulMs + chainMs, timedOut: false, ...what };
}

/** Whether a stored record is well-formed and names one of `available`. */
export function validRecord(r: unknown, available: readonly MeasuredBackend[]): r is CalibrationRecord {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Partial<CalibrationRecord>;
  return typeof o.choice === 'string' && available.includes(o.choice) && typeof o.reason === 'string'
    && Array.isArray(o.measurements) && typeof o.at === 'string';
}
