/**
 * Timing helpers shared by the in-browser bench task (./browserBench.ts) and the Node bench
 * (bench/run.ts, outside src). Core-only imports, no DOM, no Node APIs: runs in Node, a Worker
 * and tests.
 *
 * Every number is a median over repetitions (the machines we measure on are shared), with the
 * spread kept beside it. Device work is synchronised by an asynchronous read (`await t.data()`),
 * never dataSync (docs/platform.md §1.5: it throws or lies on webgpu).
 */
import * as tf from '@tensorflow/tfjs';
import type { GnOperator } from '../hessian/gn';
import { makeRng } from '../rng';

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  reps: number;
  samplesMs: number[];
}

const now = (): number => performance.now();

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

export function timingOf(samplesMs: number[]): Timing {
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), maxMs: Math.max(...samplesMs), reps: samplesMs.length, samplesMs };
}

/** Runs `f` `warmup` times untimed, then `reps` times timed (ms each). */
export async function timeCalls(f: () => Promise<unknown>, reps: number, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await f();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    await f();
    out.push(now() - t0);
  }
  return timingOf(out);
}

/** A seeded Gaussian vector (Float64), the probe both the bench and its peer multiply. */
export function seededVector(d: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const v = new Float64Array(d);
  for (let i = 0; i < d; i++) v[i] = rng.normal();
  return v;
}

export interface MatMulRate extends Timing {
  n: number;
  flops: number;
  gflops: number;
  backend: string;
}

/**
 * The backend's own large-matmul rate: C = A·B with n×n float32 operands resident on the backend,
 * synchronised by reading one number derived from C (a sum: n² extra flops, negligible).
 */
export async function matMulRate(n = 1024, reps = 5, seed = 0): Promise<MatMulRate> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', seed) as tf.Tensor2D;
  const b = tf.randomNormal([n, n], 0, 1, 'float32', seed + 1) as tf.Tensor2D;
  try {
    const once = async (): Promise<void> => {
      const s = tf.tidy(() => tf.sum(tf.matMul(a, b)));
      await s.data();
      s.dispose();
    };
    const t = await timeCalls(once, reps, 1);
    const flops = 2 * n * n * n;
    return { ...t, n, flops, gflops: flops / t.medianMs / 1e6, backend: tf.getBackend() };
  } finally {
    a.dispose();
    b.dispose();
  }
}

export interface GnRate extends Timing {
  d: number;
  n: number;
  flopsPerApply: number;
  productsPerSecond: number;
  /** flopsPerApply / median time: the matMul work the product needs, per second. */
  gflops: number;
}

/** Median time of one H·v through `applyInto` (Float64 in and out into a kept array, as Lanczos calls it). */
export async function gnRate(op: GnOperator, reps: number, seed = 0, warmup = 2): Promise<GnRate> {
  const v = seededVector(op.d, seed), out = new Float64Array(op.d);
  const t = await timeCalls(() => op.applyInto(v, out), reps, warmup);
  return {
    ...t, d: op.d, n: op.n, flopsPerApply: op.flopsPerApply,
    productsPerSecond: 1000 / t.medianMs, gflops: op.flopsPerApply / t.medianMs / 1e6,
  };
}
