/**
 * Precomputes the analysis each shipped model opens with (issue 13): the default spectrum job of
 * src/core/spectrum/plan.ts (top-k eigenvalues, SLQ density, projection curve with k*), the
 * float32 floor of H·v, the synchronized blocks and the Fourier summary, written as
 * public/models/<id>.analysis.json (src/core/io/analysis.ts is the format and its validation).
 *
 *   npx tsx scripts/analysis.ts [--only modadd[,matfac...]] [--dir public/models] [--time-limit 600]
 *   npm run models -- --analysis-only [--only …]      (the same, from the pretraining script)
 *
 * --time-limit (seconds) bounds each Lanczos run: when it runs out, the converged leading eigenpairs
 * are kept and the file records how far it got and what going on would cost. Default: 4,800 s for
 * modadd (its top 1,100 took 36 min on a shared 2-core machine), 2,700 s for mnist-mlp, 600 s for
 * the others.
 *
 * mnist-mlp is precomputed further than the app's own default job reaches (the 512 MiB basis holds
 * top 3,020, short of k*): a lean Lanczos run for the top 8,000 in a 1,600 MiB basis, as
 * `npm run bench:mnist-topk` does (14 min and a 1.7 GB peak there), so the app opens on seed 002's
 * unreached k*. The file records the method, k and storage it was made with.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { ARCH_IDS, type ArchId } from '../src/core/models/config';
import { decodeModelFile } from '../src/core/io/modelFile';
import { createJobContext } from '../src/core/jobs';
import { runSpectrum } from '../src/core/tasks/spectrum';
import { datasetFor } from '../src/core/tasks/env';
import { splitIndices } from '../src/core/data/types';
import { gaussNewtonOperator } from '../src/core/hessian/gn';
import { float32Floor } from '../src/core/spectrum/floor';
import { defaultSpectrumPlan } from '../src/core/spectrum/plan';
import { syncAnalysis } from '../src/core/internals/sync';
import { fourierAnalysis } from '../src/core/internals/fourier';
import { nodeAssetReader } from '../src/node/assets';
import { ANALYSIS_FORMAT, ANALYSIS_VERSION, parseAnalysisFile, sig, thetaFingerprint, type AnalysisFile } from '../src/core/io/analysis';

/**
 * Lanczos residual tolerance of the precompute, relative to h1 (the app's own jobs use 1e-6): 1e-5
 * keeps every eigenvalue far more accurate than the plots resolve and saves a restart cycle.
 */
export const PRECOMPUTE_TOL = 1e-5;

export interface AnalysisOptions { dir: string; timeLimitS?: number }

/** The default Lanczos time limit of the precompute, per model (seconds). */
export function defaultTimeLimitS(id: string): number {
  return id === 'modadd' ? 4800 : id === 'mnist-mlp' ? 2700 : 600;
}

/** Where the precompute goes beyond the app's default plan: mnist-mlp's lean top 8,000 (see above). */
export function precomputeOverride(id: string): { k: number; lean: true; memoryBudgetBytes: number; why: string } | null {
  if (id !== 'mnist-mlp') return null;
  return { k: 8000, lean: true, memoryBudgetBytes: 1600 * 2 ** 20, why: 'precompute: lean Lanczos top 8,000 in a 1,600 MiB basis (beyond seed 002\'s 8,000 without finding k*)' };
}

export async function analyseModel(id: ArchId, o: AnalysisOptions): Promise<AnalysisFile> {
  const log = (s: string): void => { process.stderr.write(`[${id} analysis] ${s}\n`); };
  const file = join(o.dir, `${id}.safetensors`);
  const model = decodeModelFile(new Uint8Array(await readFile(file)), { name: id });
  const env = { readAsset: nodeAssetReader() };
  const d = model.theta.length;
  const over = precomputeOverride(id);
  const plan = over ? { method: 'lanczos' as const, k: over.k, why: over.why } : defaultSpectrumPlan(model.config.arch, d);
  const timeLimitS = o.timeLimitS ?? defaultTimeLimitS(id);
  log(`d = ${d}, ${plan.method} ${plan.method === 'lanczos' ? `top ${plan.k}` : ''} (${plan.why}); time limit ${timeLimitS} s`);
  const t0 = performance.now();
  let last = 0;
  const ctx = createJobContext({
    onProgress: (f, phase) => {
      const now = performance.now();
      if (now - last > 10000) { last = now; log(`${(f * 100).toFixed(1)} % ${phase} (${((now - t0) / 1000).toFixed(0)} s)`); }
    },
  });
  const r = await runSpectrum({ model, method: plan.method, k: plan.k, timeLimitMs: timeLimitS * 1000, kronecker: false, stream: false, tol: PRECOMPUTE_TOL, lean: over?.lean, memoryBudgetBytes: over?.memoryBudgetBytes }, ctx, env);
  const seconds = (performance.now() - t0) / 1000;
  log(`spectrum done in ${seconds.toFixed(1)} s: ${r.eigenvalues.length} eigenvalues, ${r.matvecs} products${r.storage ? `, ${r.storage}` : ''}`);

  const ds = await datasetFor(model, env);
  const rows = splitIndices(ds, 'train');
  const op = await gaussNewtonOperator(model, ds, rows, { loss: 'mse' });
  let floor;
  try {
    floor = await float32Floor(op, { probes: 3 });
  } finally {
    op.dispose();
  }
  log(`float32 floor ${floor.floor.toExponential(3)} (${floor.method})`);

  const sync = await syncAnalysis(model, ds, rows, {});
  const arch = model.config.arch;
  const fourier = arch === 'modadd' || arch === 'modadd-gelu' ? fourierAnalysis(model) : null;
  const md = model.metadata ?? {};
  const acc = (s: string | undefined): number | undefined => (s !== undefined && Number.isFinite(Number(s)) ? Number(s) : undefined);

  const out: AnalysisFile = {
    format: ANALYSIS_FORMAT,
    version: ANALYSIS_VERSION,
    model: { id, arch, d, fingerprint: thetaFingerprint(model.theta), trainAcc: acc(md.train_acc), testAcc: acc(md.test_acc) },
    computed: {
      date: new Date().toISOString(),
      by: 'scripts/analysis.ts (npm run models -- --analysis-only)',
      backend: `tfjs ${tf.version.tfjs} ${r.backend}, Node ${process.version}`,
      method: r.method,
      k: r.method === 'dense' ? d : plan.k,
      tol: r.method === 'lanczos' ? PRECOMPUTE_TOL : undefined,
      seconds: Number(seconds.toFixed(1)),
      matvecs: r.matvecs,
      storage: r.storage,
      stoppedShort: r.stoppedShort,
      timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)])),
    },
    spectrum: {
      n: r.n,
      loss: r.loss,
      split: r.split,
      eigenvalues: Array.from(r.eigenvalues, sig),
      residuals: Array.from(r.residuals, (x) => (Number.isFinite(x) ? sig(x) : null)),
      aboveFloor: r.aboveFloor,
      trace: r.trace ? { mean: sig(r.trace.mean), stderr: sig(r.trace.stderr) } : undefined,
      slq: r.slq ? { nodes: r.slq.nodes.map((a) => Array.from(a, sig)), weights: r.slq.weights.map((a) => Array.from(a, sig)) } : undefined,
    },
    projection: r.projection ? {
      metric: r.projection.metric,
      original: r.projection.original,
      points: r.projection.points.map((p) => ({ ...p, testLoss: Number.isFinite(p.testLoss) ? p.testLoss : (null as unknown as number) })),
    } : undefined,
    floor: { floor: sig(floor.floor), probes: floor.probes.map(sig), method: floor.method },
    sync: { note: sync.note, layers: sync.layers.map((l) => ({ name: l.name, width: l.width, blocks: l.blocks.length, blockRanks: l.blockRanks, freeDirections: l.freeDirections, dead: l.dead.length, alwaysOn: l.alwaysOn.length })) },
    fourier: fourier ? { p: fourier.p, keyFrequencies: fourier.keyFrequencies, keyEnergyFraction: sig(fourier.keyEnergyFraction), norms: Array.from(fourier.norms, sig) } : undefined,
  };
  if (out.projection && !Number.isFinite(out.projection.original.testLoss)) out.projection.original = { ...out.projection.original, testLoss: null as unknown as number };
  const text = JSON.stringify(out);
  // The file must pass the same validation the app runs on load.
  parseAnalysisFile(text, { arch, d, theta: model.theta });
  const path = join(o.dir, `${id}.analysis.json`);
  await writeFile(path, text);
  log(`wrote ${path} (${text.length.toLocaleString('en-US')} bytes) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

export function parseAnalysisArgs(argv: string[]): { only: ArchId[]; dir: string; timeLimitS?: number } {
  let only: ArchId[] = [...ARCH_IDS];
  let dir = 'public/models';
  let timeLimitS: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only' || a.startsWith('--only=')) {
      const names = value().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !(ARCH_IDS as readonly string[]).includes(n));
      if (bad.length) throw new Error(`unknown architecture ${bad.join(', ')} (known: ${ARCH_IDS.join(', ')})`);
      only = names as ArchId[];
    } else if (a === '--dir' || a.startsWith('--dir=') || a === '--out' || a.startsWith('--out=')) {
      dir = value();
    } else if (a === '--time-limit' || a.startsWith('--time-limit=')) {
      timeLimitS = Number(value());
      if (!(timeLimitS! > 0)) throw new Error('--time-limit must be a positive number of seconds');
    } else if (a === '--analysis-only') {
      // accepted for `npm run models -- --analysis-only`
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  return { only, dir: resolve(dir), timeLimitS };
}

async function main(): Promise<void> {
  const args = parseAnalysisArgs(process.argv.slice(2));
  const backend = await initBackend('wasm');
  process.stderr.write(`backend: ${backend.summary}\n`);
  for (const id of args.only) await analyseModel(id, { dir: args.dir, timeLimitS: args.timeLimitS });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`analysis failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  });
}
