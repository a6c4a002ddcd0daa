/**
 * `npm run bench:threads [-- --reps N] [-- --threads T] [-- --data-parallel]` (the last: section 5 only): our wasm kernels split over T threads
 * (src/core/wasm/threads.ts; default: the cores here, at most 4) against the same kernels on one
 * thread, in one process, ALTERNATING the two (setThreadsSplitting) so both see the same machine
 * load; medians are reported.
 *
 * 1. The Float32 GEMM at sizes around the split threshold (PAR_GEMM_MIN) and at the passes' shapes.
 * 2. One Gram–Schmidt sweep (KrylovBasis.project) over Float32 and Float64 bases of the sizes the
 *    Lanczos runs reach (modadd d = 86,197; mnist d = 42,310).
 * 3. Whole steps: training (each architecture's recipe) and plain SGLD draws (batch 512).
 * 4. Lanczos top-100 on modadd (tol 1e-6) and the Gauss–Newton product, both ways.
 * 5. The engines' data-parallel loss and gradient (each thread half the rows) against their
 *    one-thread step (products split one by one where large), at batch sizes around the threshold
 *    (DATA_PARALLEL_MIN), alternating setDataParallelMin(0) and (Infinity).
 *
 * Writes bench/results/threads-latest.json.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { gaussNewtonOperator } from '../src/core/hessian/gn';
import { decodeModelFile } from '../src/core/io/modelFile';
import { KrylovBasis } from '../src/core/linalg/krylovBasis';
import { lanczosTopK } from '../src/core/linalg/lanczos';
import { makeRng } from '../src/core/rng';
import { datasetFor } from '../src/core/tasks/env';
import { elementwiseKernels, PAR_GEMM_MIN, setGemmSplitMin } from '../src/core/train/wasmF32';
import { kernelThreads, setThreadsSplitting } from '../src/core/wasm/threads';
import { wholeStepEngine } from '../src/core/train/engines';
import { lossFor } from '../src/core/train/losses';
import { layoutFor, type ArchId } from '../src/core/models/config';
import { DATA_PARALLEL_MIN, setDataParallelMin, type ResidentEngine } from '../src/core/train/residentEngine';
import { nodeAssetReader } from '../src/node/assets';
import { log, type Json } from './helpers';
import { alternate, forEachStepWorkload, writeResults } from './workloads';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: argv } = parseArgs({ options: { reps: { type: 'string', default: '6' }, threads: { type: 'string' }, quick: { type: 'boolean', default: false }, 'data-parallel': { type: 'boolean', default: false } } });
const REPS = Number(argv.reps);

/** Alternating timings of `run` split over the threads and on one; medians in ms. */
const ab = (run: () => Promise<void> | void, reps: number): Promise<{ on: number; off: number; ratio: number }> => alternate(run, reps, setThreadsSplitting);

const GEMMS: [string, number, number, number][] = [
  ['64×64×64', 64, 64, 64],
  ['128×128×64', 128, 128, 64],
  ['256×128×64', 256, 128, 64],
  ['256×256×64', 256, 256, 64],
  ['256×256×128', 256, 256, 128],
  ['512×256×256', 512, 256, 256],
  ['modadd out layer, backward (dOut·W₂)', 2247, 53, 256],
  ['modadd embedding tables (E·W_Lᵀ)', 53, 128, 256],
  ['mnist SGLD forward (x·W₁ᵀ), batch 512', 512, 784, 50],
  ['mnist SGLD weight gradient (δᵀ·x)', 50, 512, 784],
  ['modadd Gauss–Newton ([g | 1]·[W₂ᵀ; b₂])', 2248, 257, 53],
  ['1024³', 1024, 1024, 1024],
];

async function gemms(): Promise<Json[]> {
  const k = elementwiseKernels();
  if (!k) throw new Error('no wasm SIMD kernels');
  const rows: Json[] = [];
  for (const [what, m, kk, n] of GEMMS) {
    const rng = makeRng(m + kk + n);
    const a = Float32Array.from({ length: m * kk }, () => rng.normal()), b = Float32Array.from({ length: kk * n }, () => rng.normal()), c = new Float32Array(m * n);
    const calls = Math.max(1, Math.min(200, Math.round(4e7 / (2 * m * kk * n))));
    // Forced split (threshold 0), so the rows below the default threshold show what splitting them would give.
    setGemmSplitMin(0);
    const r = await ab(() => { for (let i = 0; i < calls; i++) k.matMul(a, b, c, m, kk, n); }, REPS);
    setGemmSplitMin();
    const split = ((m + 3) & ~3) * ((n + 7) & ~7) * kk >= PAR_GEMM_MIN && m >= 8;
    rows.push({ what, m, k: kk, n, splitByDefault: split, threadsMs: r.on / calls, oneMs: r.off / calls, ratio: r.ratio });
    log(`GEMM [${m},${kk}]·[${kk},${n}] ${what}: split ${(r.on / calls).toFixed(3)} vs ${(r.off / calls).toFixed(3)} ms (${r.ratio.toFixed(2)}×)${split ? '' : ' — not split by default'}`);
  }
  return rows;
}

async function sweeps(): Promise<Json[]> {
  const rows: Json[] = [];
  const cases: [number, number, 'f32' | 'f64'][] = argv.quick ? [[86197, 600, 'f32'], [42310, 3000, 'f32']] : [[86197, 600, 'f32'], [86197, 1500, 'f32'], [42310, 3000, 'f32'], [86197, 300, 'f64'], [2000, 64, 'f64']];
  for (const [d, n, storage] of cases) {
    const b = new KrylovBasis(d, storage, n);
    const rng = makeRng(d + n);
    const v = new Float64Array(d);
    for (let i = 0; i < n; i++) { for (let j = 0; j < d; j++) v[j] = rng.normal(); b.push(v); }
    const w0 = Float64Array.from({ length: d }, () => rng.normal()), w = new Float64Array(d), h = new Float64Array(n);
    const r = await ab(async () => { w.set(w0); await b.project(w, h); }, REPS);
    const gbs = (2 * n * d * (storage === 'f32' ? 4 : 8)) / (r.on * 1e6);
    rows.push({ what: `sweep ${n} × ${d} ${storage}`, threadsMs: r.on, oneMs: r.off, ratio: r.ratio, threadsGBs: gbs });
    log(`Gram–Schmidt sweep ${n} × ${d} ${storage}: ${r.on.toFixed(2)} vs ${r.off.toFixed(2)} ms (${r.ratio.toFixed(2)}×, ${gbs.toFixed(1)} GB/s)`);
  }
  return rows;
}

async function steps(): Promise<Json[]> {
  const rows: Json[] = [];
  await forEachStepWorkload(ROOT, async (w) => {
    const t = await ab(w.run, REPS);
    const rate = (ms: number): number => (w.count * 1e3) / ms;
    rows.push({ what: w.what, threadsPerS: rate(t.on), onePerS: rate(t.off), ratio: t.ratio });
    log(`${w.what}: ${rate(t.on).toFixed(1)} vs ${rate(t.off).toFixed(1)} ${w.what.startsWith('SGLD') ? 'draws' : 'steps'}/s (${t.ratio.toFixed(2)}×)`);
  });
  return rows;
}

async function lanczos(): Promise<Json[]> {
  const model = decodeModelFile(new Uint8Array(readFileSync(join(ROOT, 'public', 'models', 'modadd.safetensors'))), { name: 'modadd' });
  const ds = await datasetFor(model, { readAsset: nodeAssetReader() });
  const op = await gaussNewtonOperator(model, ds, ds.trainIdx);
  const x = Float64Array.from({ length: op.d }, (_, i) => Math.sin(i));
  const hv = await ab(async () => { for (let i = 0; i < 10; i++) await op.apply(x); }, REPS);
  log(`H·v modadd: ${(hv.on / 10).toFixed(2)} vs ${(hv.off / 10).toFixed(2)} ms (${hv.ratio.toFixed(2)}×)`);
  const values: Float64Array[] = [];
  const lz = await ab(async () => { values.push((await lanczosTopK(op, 100, { seed: 0, tol: 1e-6 })).values); }, argv.quick ? 1 : 2);
  // Same seed, same arithmetic up to the summation order of the split dots: the values must agree.
  let worst = 0;
  for (const v of values) for (let i = 0; i < 100; i++) worst = Math.max(worst, Math.abs(v[i] - values[0][i]) / Math.abs(values[0][0]));
  if (worst > 1e-6) throw new Error(`cross-check: Lanczos values differ by ${worst} relative between the arms`);
  log(`Lanczos top-100 modadd (tol 1e-6): ${(lz.on / 1e3).toFixed(1)} vs ${(lz.off / 1e3).toFixed(1)} s (${lz.ratio.toFixed(2)}×; values agree to ${worst.toExponential(1)})`);
  op.dispose();
  return [
    { what: 'H·v modadd', threadsMs: hv.on / 10, oneMs: hv.off / 10, ratio: hv.ratio },
    { what: 'Lanczos top-100 modadd, tol 1e-6', threadsS: lz.on / 1e3, oneS: lz.off / 1e3, ratio: lz.ratio, valuesAgree: worst },
  ];
}

/** The engines' loss and gradient data-parallel against one thread, per batch size (section 5). */
async function dataParallel(): Promise<Json[]> {
  const rows: Json[] = [];
  const plan: [ArchId, (number | 'full')[]][] = [['modadd-gelu', [64, 128, 256, 512, 'full']], ['modadd', [128, 512]], ['mnist-mlp', [32, 64, 128, 512]], ['matfac', ['full']]];
  for (const [arch, sizes] of plan) {
    const model = decodeModelFile(new Uint8Array(readFileSync(join(ROOT, 'public', 'models', `${arch}.safetensors`))), { name: arch });
    const ds = await datasetFor(model, { readAsset: nodeAssetReader() });
    const n = ds.trainIdx.length;
    for (const size of sizes) {
      const B = size === 'full' ? n : size;
      const e = wholeStepEngine(model.config, layoutFor(model.config), lossFor(model.config).head, B, { kind: 'adamw', weightDecay: 0 }) as ResidentEngine & { lastStepSplit: boolean };
      e.load(model.theta);
      const rng = makeRng(B);
      const batch = size === 'full' ? null : Int32Array.from({ length: B }, () => ds.trainIdx[rng.int(n)]);
      const calls = Math.max(10, Math.round(20000 / B));
      setDataParallelMin();
      e.lossAndGradient(ds.x, ds.y, ds.n, batch ?? ds.trainIdx);
      const byDefault = e.lastStepSplit;
      const t = await alternate(() => { for (let i = 0; i < calls; i++) e.lossAndGradient(ds.x, ds.y, ds.n, batch ?? ds.trainIdx); }, REPS, (on) => setDataParallelMin(on ? 0 : Infinity));
      setDataParallelMin();
      rows.push({ what: `${arch} loss and gradient, ${B} rows`, dataParallelMs: t.on / calls, oneThreadMs: t.off / calls, ratio: t.ratio, splitByDefault: byDefault });
      log(`${arch}, ${B} rows: data-parallel ${(t.on / calls).toFixed(3)} vs one thread ${(t.off / calls).toFixed(3)} ms (${t.ratio.toFixed(2)}×)${byDefault ? '' : ' — one thread by default'}`);
    }
  }
  log(`(threshold: ${DATA_PARALLEL_MIN} forward multiply–adds)`);
  return rows;
}

async function main(): Promise<void> {
  const info = await initBackend('wasm', argv.threads ? { threads: Number(argv.threads) } : {});
  if (info.active !== 'wasm') throw new Error(`expected the wasm backend, got ${info.summary}`);
  if (kernelThreads() < 2) throw new Error(`only one thread here (${info.summary}): nothing to compare`);
  const started = new Date();
  const doc: Json = { started: started.toISOString(), backend: info.summary, threads: kernelThreads(), node: process.version, cpu: cpus()[0]?.model, nproc: cpus().length, loadavg: loadavg(), reps: REPS };
  log(`${info.summary}; ${kernelThreads()} threads against 1, alternating, ${REPS} reps`);
  if (argv['data-parallel']) {
    // Only section 5 (`npm run bench:threads -- --data-parallel`).
    doc.dataParallel = await dataParallel();
    writeResults(ROOT, 'threads-data-parallel.json', doc, started);
    process.exit(0);
  }
  doc.gemm = await gemms();
  doc.sweeps = await sweeps();
  doc.steps = await steps();
  doc.lanczos = await lanczos();
  doc.dataParallel = await dataParallel();
  writeResults(ROOT, 'threads-latest.json', doc, started);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench:threads] error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(2);
});
