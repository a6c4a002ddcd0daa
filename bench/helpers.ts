/** Small helpers of the Node bench runner (run.ts): typed-array files for the peer, timing wrappers, summaries. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobContext } from '../src/core/jobs';
import type { SymOperator } from '../src/core/linalg/operator';
import type { LanczosResult } from '../src/core/linalg/lanczos';
import { median } from '../src/core/bench/measure';

export type Json = Record<string, unknown>;
export const log = (s: string): void => { process.stderr.write(`[bench] ${s}\n`); };

export function writeF64(dir: string, name: string, a: Float64Array): void {
  writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}
export function writeF32(dir: string, name: string, a: Float32Array): void {
  writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}
export function readF64(dir: string, name: string): Float64Array {
  const b = readFileSync(join(dir, name));
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
}

/** The operator with the time spent inside its products summed up (to show what limits Lanczos). */
export function timedOperator(op: SymOperator): SymOperator & { ms: number } {
  const t: SymOperator & { ms: number } = {
    d: op.d,
    ms: 0,
    async apply(v) {
      const t0 = performance.now();
      const y = await op.apply(v);
      t.ms += performance.now() - t0;
      return y;
    },
  };
  return t;
}

/** A JobContext that never yields (pure compute timing) and prints progress at most every 15 s. */
export function quietContext(label: string): JobContext<never> {
  let last = performance.now();
  return {
    signal: new AbortController().signal,
    progress(f, phase) {
      const t = performance.now();
      if (t - last > 15000) { last = t; log(`${label}: ${(100 * f).toFixed(0)} % ${phase}`); }
    },
    partial: () => undefined,
    checkpoint: () => Promise.resolve(),
    waitIfPaused: () => Promise.resolve(),
  };
}

export function lanczosSummary(r: LanczosResult, ms: number): Json {
  const h1 = r.values[0];
  return {
    ms, k: r.values.length, iterations: r.iterations, matvecs: r.matvecs, converged: r.converged, restarts: r.restarts,
    storage: r.storage, basisSize: r.basisSize, basisMB: +(r.basisBytes / 1e6).toFixed(0),
    h1, maxResidualOverH1: Math.max(...r.residuals) / Math.abs(h1), values: r.values,
  };
}

export const num = (x: unknown): number => (typeof x === 'number' ? x : NaN);
export const obj = (x: unknown): Json => (x && typeof x === 'object' ? (x as Json) : {});

/** Steps per second: median over 5 blocks, each at least `minBlockMs` long (after 3 warm-up steps). */
export async function stepsPerSecond(step: () => Promise<void>, sync: () => Promise<unknown>, minBlockMs = 600, blocks = 5): Promise<Json> {
  for (let i = 0; i < 3; i++) await step();
  await sync();
  let per = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minBlockMs) { await step(); per++; await sync(); }
  const rates: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const tb = performance.now();
    for (let i = 0; i < per; i++) await step();
    await sync();
    rates.push(per / ((performance.now() - tb) / 1e3));
  }
  return { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), stepsPerBlock: per, blocks };
}
