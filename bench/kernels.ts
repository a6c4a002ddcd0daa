/**
 * `npm run bench:kernels [-- --reps N]`: our wasm kernels (src/core/train/wasmF32.ts, registered by
 * train/wasmKernels.ts) against tfjs-backend-wasm's own, in one process, ALTERNATING the two paths
 * (setFusedKernelsEnabled) so both see the same machine load; medians are reported.
 *
 * 1. matMul shapes from the training, SGLD and Gauss–Newton passes, and 1024³: ours against
 *    tfjs's BatchMatMul (XNNPACK) twice — with B reused call after call (tfjs caches its operator,
 *    B packed, per B tensor: the Gauss–Newton products) and with a fresh B every call (the
 *    training and SGLD steps, whose weights and activations are new tensors each step).
 * 2. Whole steps: training (each architecture's recipe) and plain SGLD draws (batch 512, one draw
 *    per step; with our kernels on, the chain held in the resident engine) on the shipped models,
 *    all our kernels on against off, and our GEMM alone on against off (the fused tails on in both
 *    arms).
 * 3. The MNIST input held sparse in the stack engine against the dense engine.
 *
 * Writes bench/results/kernels-latest.json.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { makeRng } from '../src/core/rng';
import { gemmServes, setFusedKernelsEnabled, setGemmEnabled } from '../src/core/train/wasmKernels';
import { log, type Json } from './helpers';
import { alternate, forEachStepWorkload, writeResults } from './workloads';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModelFile } from '../src/core/io/modelFile';
import { datasetFor } from '../src/core/tasks/env';
import { nodeAssetReader } from '../src/node/assets';
import { layoutFor } from '../src/core/models/config';
import { gatherRows } from '../src/core/data/types';
import { wholeStepEngine } from '../src/core/train/engines';
import { setSparseInputs, type StackEngine } from '../src/core/train/stackEngine';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: argv } = parseArgs({ options: { reps: { type: 'string', default: '6' } } });
const REPS = Number(argv.reps);

const SHAPES: [string, number, number, number][] = [
  ['modadd out layer, backward (dOut·W₂)', 2247, 53, 256],
  ['modadd out-weight gradient (dOutᵀ·act)', 53, 2247, 256],
  ['modadd-gelu out layer (act·W₂ᵀ)', 2247, 48, 53],
  ['modadd embedding tables (E·W_Lᵀ)', 53, 128, 256],
  ['mnist SGLD forward (x·W₁ᵀ), batch 512', 512, 784, 50],
  ['mnist SGLD weight gradient (δᵀ·x)', 50, 512, 784],
  ['modadd Gauss–Newton ([g | 1]·[W₂ᵀ; b₂])', 2248, 257, 53],
  ['mnist Gauss–Newton ([x | 1]·[Ẇ₁ᵀ; ḃ₁])', 8000, 669, 50],
  ['mnist Gauss–Newton, second layer', 8000, 51, 50],
  ['1024³', 1024, 1024, 1024],
];

/** Alternating timings of `run` with our kernels (default: all of them) on and off; medians in ms. */
const ab = (run: () => Promise<void>, reps: number, toggle: (on: boolean) => void = setFusedKernelsEnabled): Promise<{ on: number; off: number }> => alternate(run, reps, toggle);

async function matMuls(): Promise<Json[]> {
  const rows: Json[] = [];
  // Warm-up: every shape once on both paths (compilation and memory growth out of the timings).
  for (const [, m, k, n] of SHAPES) {
    for (const on of [true, false]) {
      setFusedKernelsEnabled(on);
      const c = tf.tidy(() => tf.matMul(tf.ones([m, k]), tf.ones([k, n])));
      await c.data();
      c.dispose();
    }
  }
  setFusedKernelsEnabled(true);
  for (const [what, m, k, n] of SHAPES) {
    const rng = makeRng(m * 7 + k);
    const a = tf.tensor2d(Float32Array.from({ length: m * k }, () => rng.normal()), [m, k]);
    const bHost = Float32Array.from({ length: k * n }, () => rng.normal());
    const b = tf.tensor2d(bHost, [k, n]);
    const calls = Math.max(1, Math.min(20, Math.round(2e8 / (2 * m * k * n))));
    const reused = await ab(async () => {
      for (let i = 0; i < calls; i++) { const c = tf.matMul(a, b); await c.data(); c.dispose(); }
    }, REPS);
    const fresh = await ab(async () => {
      for (let i = 0; i < calls; i++) {
        const bi = tf.tensor2d(bHost, [k, n]);
        const c = tf.matMul(a, bi);
        await c.data();
        tf.dispose([c, bi]);
      }
    }, REPS);
    const ms = (x: number): number => x / calls;
    const gf = (x: number): number => (2 * m * k * n) / (ms(x) * 1e6);
    rows.push({ what, m, k, n, oursServes: gemmServes(m, k, n), reusedB: { oursMs: ms(reused.on), tfjsMs: ms(reused.off) }, freshB: { oursMs: ms(fresh.on), tfjsMs: ms(fresh.off) } });
    log(`[${m},${k}]·[${k},${n}] ${what}: B reused ${ms(reused.on).toFixed(2)} vs ${ms(reused.off).toFixed(2)} ms; fresh B ${ms(fresh.on).toFixed(2)} vs ${ms(fresh.off).toFixed(2)} ms (${gf(fresh.on).toFixed(1)} vs ${gf(fresh.off).toFixed(1)} GFLOP/s)${gemmServes(m, k, n) ? '' : ' — tfjs keeps this shape'}`);
    tf.dispose([a, b]);
  }
  return rows;
}

async function steps(): Promise<Json[]> {
  const rows: Json[] = [];
  await forEachStepWorkload(ROOT, async (w) => {
    const t = await ab(w.run, REPS), g = await ab(w.run, REPS, setGemmEnabled);
    const rate = (ms: number): number => (w.count * 1e3) / ms;
    rows.push({ what: w.what, batch: w.batch, fusedPerS: rate(t.on), opsPerS: rate(t.off), gemm: { onPerS: rate(g.on), offPerS: rate(g.off) } });
    const unit = w.what.startsWith('SGLD') ? 'draws/s' : 'steps/s';
    log(`${w.what}: ${rate(t.on).toFixed(1)} ${unit} with our kernels, ${rate(t.off).toFixed(1)} with tfjs's; our GEMM alone ${(g.off / g.on).toFixed(2)}×`);
  });
  return rows;
}

/**
 * The MNIST first layer held sparse (stack engine, 19 % of pixels nonzero) against the dense
 * engine: loss and gradient on batches of 512 and 32 rows and one Gauss–Newton product over the
 * 8,000 training rows, the two engines alternating.
 */
async function sparseInputs(): Promise<Json[]> {
  const model = decodeModelFile(new Uint8Array(readFileSync(join(ROOT, 'public', 'models', 'mnist-mlp.safetensors'))), { name: 'mnist-mlp' });
  const ds = await datasetFor(model, { readAsset: nodeAssetReader() });
  const layout = layoutFor(model.config), n = ds.trainIdx.length;
  const xs = gatherRows(ds.x, ds.inputDim, ds.trainIdx) as Float32Array, ys = gatherRows(ds.y as Int32Array, 1, ds.trainIdx);
  const make = (sparse: boolean, batch: number): StackEngine => {
    setSparseInputs(sparse);
    const e = wholeStepEngine(model.config, layout, 'cross-entropy', batch, { kind: 'sgd', momentum: 0, weightDecay: 0 }) as StackEngine;
    setSparseInputs(true);
    e.load(model.theta);
    return e;
  };
  const rows: Json[] = [];
  const rng = makeRng(3);
  for (const batch of [512, 32]) {
    const eng = { on: make(true, batch), off: make(false, batch) };
    let cur = eng.on;
    const calls = Math.round(16384 / batch);
    const t = await ab(async () => {
      for (let i = 0; i < calls; i++) cur.lossAndGradient(xs, ys, n, Int32Array.from({ length: batch }, () => rng.int(n)));
    }, REPS, (on) => { cur = on ? eng.on : eng.off; });
    rows.push({ what: `mnist loss and gradient, batch ${batch}`, sparseMs: t.on / calls, denseMs: t.off / calls });
    log(`mnist loss and gradient, batch ${batch}: sparse ${(t.on / calls).toFixed(3)} ms, dense ${(t.off / calls).toFixed(3)} ms (${(t.off / t.on).toFixed(2)}×)`);
  }
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const gn = { on: make(true, n), off: make(false, n) };
  for (const e of [gn.on, gn.off]) e.prepareGn(xs, all);
  const v = Float32Array.from(model.theta, (_, i) => Math.sin(i)), out = new Float64Array(v.length);
  let cur = gn.on;
  const t = await ab(async () => { for (let i = 0; i < 4; i++) cur.gnProduct(v, out, 1); }, REPS, (on) => { cur = on ? gn.on : gn.off; });
  rows.push({ what: 'mnist Gauss–Newton product, 8,000 rows', sparseMs: t.on / 4, denseMs: t.off / 4 });
  log(`mnist Gauss–Newton product (8,000 rows): sparse ${(t.on / 4).toFixed(2)} ms, dense ${(t.off / 4).toFixed(2)} ms (${(t.off / t.on).toFixed(2)}×)`);
  return rows;
}

async function main(): Promise<void> {
  const info = await initBackend('wasm');
  if (info.active !== 'wasm') throw new Error(`expected the wasm backend, got ${info.summary}`);
  const started = new Date();
  const doc: Json = { started: started.toISOString(), backend: info.summary, node: process.version, cpu: cpus()[0]?.model, nproc: cpus().length, loadavg: loadavg(), reps: REPS };
  doc.matMul = await matMuls();
  doc.steps = await steps();
  doc.sparseInputs = await sparseInputs();
  writeResults(ROOT, 'kernels-latest.json', doc, started);
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench:kernels] error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 2;
});
