/**
 * `npm run bench:mnist-topk [-- --k 8000 --memory-mib 1600 --tol 1e-5]`: seed 002's projection
 * experiment on the MNIST MLP at a top k no one had computed (issue 14 item 6): a lean Lanczos run
 * (no restarts; LanczosOptions.lean) for the top k eigenpairs of the Gauss–Newton Hessian, the
 * projection curve θ_k = V_k V_kᵀ θ* on a grid of k with k* bisected at the 99.5 % cutoff (train and
 * test), time and peak memory (the process's maxRSS, all of it: tfjs, data, basis).
 *
 * Takes 20–40 min on 2 cores. Writes bench/results/mnist-topk-latest.json; prints the seed 002
 * table row (k*, d − k*, the LLC bounds d₁/2 ≤ λ ≤ d₁/2 + (d − d₁)/4 at d₁ = k*).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { decodeModelFile } from '../src/core/io/modelFile';
import { createJobContext } from '../src/core/jobs';
import { llcBounds } from '../src/core/spectrum/counts';
import { cutoffK } from '../src/core/spectrum/projection';
import { runSpectrum } from '../src/core/tasks/spectrum';
import { nodeAssetReader } from '../src/node/assets';
import { log, type Json } from './helpers';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: argv } = parseArgs({ options: { k: { type: 'string', default: '8000' }, 'memory-mib': { type: 'string', default: '1600' }, tol: { type: 'string', default: '1e-5' }, threads: { type: 'string' } } });
const K = Number(argv.k), MIB = Number(argv['memory-mib']), TOL = Number(argv.tol);

async function main(): Promise<void> {
  const info = await initBackend('wasm', argv.threads ? { threads: Number(argv.threads) } : {});
  const model = decodeModelFile(new Uint8Array(readFileSync(join(ROOT, 'public', 'models', 'mnist-mlp.safetensors'))), { name: 'mnist-mlp' });
  const started = new Date();
  let lastLog = 0;
  const ctx = createJobContext({
    onProgress: (f: number, phase: string) => {
      const now = Date.now();
      if (now - lastLog > 30_000) { lastLog = now; log(`${(100 * f).toFixed(1)} % — ${phase} (${((now - started.getTime()) / 1e3).toFixed(0)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`); }
    },
  });
  const r = await runSpectrum({
    model, method: 'lanczos', k: K, tol: TOL, lean: true, memoryBudgetBytes: MIB * 2 ** 20,
    probes: 0, traceProbes: 0, kronecker: false, stream: false,
  }, ctx, { readAsset: nodeAssetReader() });
  const seconds = (Date.now() - started.getTime()) / 1e3;
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  const curve = r.projection!;
  const train = cutoffK(curve, { cutoff: 0.995, split: 'train' }), test = cutoffK(curve, { cutoff: 0.995, split: 'test' });
  const last = curve.points[curve.points.length - 1];
  const kStar = train.kStar;
  const doc: Json = {
    started: started.toISOString(), backend: info.summary, node: process.version, cpu: cpus()[0]?.model, nproc: cpus().length, loadavg: loadavg(),
    k: K, tol: TOL, memoryBudgetMiB: MIB, d: r.d, n: r.n, seconds, maxRssMiB, storage: r.storage ?? null, matvecs: r.matvecs, timingsMs: r.timings,
    computed: r.eigenvalues.length, stoppedShort: r.stoppedShort ?? null,
    kStarTrain: kStar, kStarTest: test.kStar, epsStar: kStar ? r.eigenvalues[kStar - 1] : null,
    bounds: kStar ? llcBounds(r.d, kStar) : null,
    original: curve.original, atLargestK: last, points: curve.points,
    eigenvalues: Array.from(r.eigenvalues), residuals: Array.from(r.residuals),
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'mnist-topk-latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  const acc = (x?: number): string => (x === undefined ? '—' : `${(100 * x).toFixed(2)} %`);
  log(`MNIST top-${K}: ${r.eigenvalues.length} pairs kept in ${(seconds / 60).toFixed(1)} min, peak RSS ${maxRssMiB.toFixed(0)} MiB (${r.storage ?? ''})`);
  log(`k* (99.5 % of train accuracy) = ${kStar ?? `not reached by k = ${r.eigenvalues.length}`}; test k* = ${test.kStar ?? '—'}; at k = ${last.k}: train ${acc(last.trainAcc)} / test ${acc(last.testAcc)} (original ${acc(curve.original.trainAcc)} / ${acc(curve.original.testAcc)})`);
  if (kStar) { const b = llcBounds(r.d, kStar); log(`bounds at d₁ = k*: ${b.lower} ≤ λ ≤ ${b.upper}`); }
  log('written to bench/results/mnist-topk-latest.json');
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench:mnist-topk] error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(2);
});
