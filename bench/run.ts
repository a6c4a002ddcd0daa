/**
 * `npm run bench [-- --quick] [-- --no-peer]`: the compute core's speed on the pretrained models
 * (Node, tfjs wasm backend — the same core as the app), beside a PyTorch/SciPy peer
 * (bench/peer.py, run as a subprocess in the same run), with ratios and cross-checks.
 * See BENCHMARKS.md for the method. Writes bench/results/latest.json (partial results are
 * written after every section, so a long top-1000 run loses nothing).
 *
 * Exit status: 0 when every check passed (or could not run without the peer), 1 when a
 * cross-check failed, 2 on an error.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { gatherRows, type Dataset } from '../src/core/data/types';
import { gaussNewtonOperator, type GnOperator } from '../src/core/hessian/gn';
import { decodeModelFile } from '../src/core/io/modelFile';
import type { JobContext } from '../src/core/jobs';
import { eighSync } from '../src/core/linalg/eigh';
import { symmetricFromMatvec, type SymOperator } from '../src/core/linalg/operator';
import { lanczosTopK, type LanczosResult } from '../src/core/linalg/lanczos';
import { estimateLlc, type SgldPartial, type SgldResult } from '../src/core/llc/sgld';
import { slqDensity } from '../src/core/linalg/slq';
import type { ModelBundle } from '../src/core/models/bundle';
import type { ArchId } from '../src/core/models/config';
import { datasetFor } from '../src/core/tasks/env';
import { DEFAULT_RECIPES } from '../src/core/train/recipes';
import { Trainer } from '../src/core/train/trainer';
import { nodeAssetReader } from '../src/node/assets';
import { gnRate, matMulRate, median, seededVector, timeCalls, timingOf } from '../src/core/bench/measure';
import { peerStatus, runPeer, type PeerJson } from './peer';
import { formatTable, markdownTable, type Row } from './table';
import { lanczosSummary, log, num, obj, quietContext, readF64, relDiff, stepsPerSecond, timedOperator, writeF32, writeF64, type Json } from './helpers';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const env = { readAsset: nodeAssetReader() };

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false },
    'gn-reps': { type: 'string', default: '20' },
    reps: { type: 'string', default: '3' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json') },
    'top1000-budget-mib': { type: 'string', default: '512' },
    'no-sgld': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (argv.help) {
  process.stdout.write(`usage: npm run bench [-- --quick] [-- --no-peer] [--gn-reps N] [--reps N] [--out FILE] [--top1000-budget-mib M]

  --quick        skip Lanczos top-1,000 on modadd (many minutes on 2 cores) and repeat the long timings fewer times
  --no-peer      do not run the PyTorch peer (no ratios, no cross-checks)
  --gn-reps N    timed Gauss–Newton products per model (default 20; medians reported)
  --reps N       repetitions of Lanczos, SLQ, eigh (default 3; 1 Lanczos run with --quick)
  --no-sgld      report SGLD as "not available" without running it
`);
  process.exit(0);
}
const QUICK = argv.quick;
const GN_REPS = Math.max(3, Number(argv['gn-reps']));
const REPS = Math.max(1, Number(argv.reps));
const LANCZOS_REPS = QUICK ? 1 : REPS;
const TOL = 1e-3;
const SEED = 0;
/** Probe of the H·v cross-check (both sides multiply exactly this vector). */
const HV_SEED = 12345;

// ---------------------------------------------------------------------------------------------
// Output document, written after every section.

interface Check { name: string; value: number; limit: number; pass: boolean; note: string }
interface Target { name: string; target: string; ours: string; peer: string; ratio: number; met: boolean | null; note: string }

const startedAt = new Date();
const doc: Json & { ours: Json; peer: Json; sections: Json; checks: Check[]; targets: Target[]; comparisons: Row[] } = {
  schema: 'slt-bench/1',
  date: startedAt.toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  options: { quick: QUICK, gnReps: GN_REPS, reps: REPS, lanczosReps: LANCZOS_REPS, tol: TOL, seed: SEED },
  machine: machineInfo(),
  node: process.version,
  tfjs: tf.version.tfjs,
  ours: {},
  peer: {},
  sections: {},
  comparisons: [],
  checks: [],
  targets: [],
};

function machineInfo(): Json {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch { /* not Linux */ }
  let cgroupCpus: string | undefined;
  try { cgroupCpus = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim(); } catch { /* no cgroup v2 limit */ }
  return {
    cpuModel, nproc: cpus().length, cgroupCpuMax: cgroupCpus, memTotalGiB: +(totalmem() / 2 ** 30).toFixed(1), memFreeGiBAtStart: +(freemem() / 2 ** 30).toFixed(1),
    platform: `${platform()} ${release()}`, loadavgAtStart: loadavg().map((x) => +x.toFixed(2)),
  };
}

function save(): void {
  mkdirSync(join(argv.out, '..'), { recursive: true });
  if (doc.comparisons.length) writeFileSync(argv.out.replace(/\.json$/, '') + '.md', `${markdownTable(doc.comparisons)}\n`);
  writeFileSync(argv.out, `${JSON.stringify(doc, (_k, v: unknown) => (v instanceof Float64Array || v instanceof Float32Array ? Array.from(v) : v), 2)}\n`);
}


/** Records the section's wall time and the load average at its start and end. */
async function section<T>(name: string, f: () => Promise<T>): Promise<T> {
  const l0 = loadavg()[0];
  const t0 = performance.now();
  log(`── ${name} (load average ${l0.toFixed(2)})`);
  try {
    return await f();
  } finally {
    doc.sections[name] = { wallS: +((performance.now() - t0) / 1e3).toFixed(1), load1AtStart: +l0.toFixed(2), load1AtEnd: +loadavg()[0].toFixed(2) };
    save();
  }
}

// ---------------------------------------------------------------------------------------------

async function loadModel(name: string): Promise<{ model: ModelBundle; ds: Dataset }> {
  const model = decodeModelFile(new Uint8Array(readFileSync(join(ROOT, 'public', 'models', `${name}.safetensors`))), { name });
  return { model, ds: await datasetFor(model, env) };
}

async function main(): Promise<number> {
  const info = await initBackend('wasm');
  if (info.active !== 'wasm') throw new Error(`expected the wasm backend, got ${info.summary}`);
  doc.backend = info.summary;
  log(`backend ${info.summary}; node ${process.version}; ${String((doc.machine as Json).cpuModel)} × ${String((doc.machine as Json).nproc)}`);
  const peer = argv['no-peer'] ? { available: false, detail: 'disabled with --no-peer' } : peerStatus();
  doc.peer = { available: peer.available, detail: peer.detail };
  if (!peer.available) log(`PyTorch peer not available: ${peer.detail}. Continuing without ratios and cross-checks.`);
  const xdir = mkdtempSync(join(tmpdir(), 'slt-bench-'));
  const P = doc.peer, O = doc.ours;
  const peerRun = async (key: string, args: string[], threads = 2): Promise<PeerJson | null> => {
    if (!peer.available) return null;
    try {
      const r = await runPeer([...args, '--exchange', xdir], threads);
      P[key] = r;
      return r;
    } catch (e) {
      P[key] = { error: (e as Error).message };
      log(`peer ${key} failed: ${(e as Error).message}`);
      // The peer is installed but did not run: its cross-checks cannot hold, so the run fails.
      doc.checks.push({ name: `peer task "${key}" ran`, value: NaN, limit: NaN, pass: false, note: (e as Error).message });
      return null;
    }
  };

  try {
    // -- the backend's own matMul rate, and the Gauss–Newton products ------------------------
    const ops: Partial<Record<'modadd' | 'mnist-mlp', GnOperator>> = {};
    const peerBest: Record<string, { medianMs: number; threads: number; variant: string }> = {};
    const ourHv: Record<string, Float64Array> = {};
    await section('gn', async () => {
      O.matMul = await matMulRate(1024, 7, SEED);
      log(`matMul 1024³ on wasm: ${num((O.matMul as Json).gflops).toFixed(1)} GFLOP/s`);
      const gn: Json = {};
      for (const name of ['modadd', 'mnist-mlp'] as const) {
        const { model, ds } = await loadModel(name);
        const t0 = performance.now();
        const op = await gaussNewtonOperator(model, ds, ds.trainIdx);
        const buildMs = performance.now() - t0;
        ops[name] = op;
        const rate = await gnRate(op, GN_REPS, SEED);
        const v = seededVector(op.d, HV_SEED);
        writeF64(xdir, `v_${name}.f64`, v);
        ourHv[name] = await op.apply(v);
        gn[name] = { ...rate, buildMs };
        log(`H·v ${name} (d = ${op.d}, n = ${op.n}): median ${rate.medianMs.toFixed(1)} ms, ${rate.gflops.toFixed(2)} GFLOP/s`);
      }
      O.gn = gn;
      const peerReps = ['--gn-reps', String(Math.max(5, Math.round(GN_REPS / 2)))];
      const pr = await peerRun('gn', ['--tasks', 'matmul,gn', ...peerReps]);
      if (pr) {
        for (const name of ['modadd', 'mnist-mlp'] as const) {
          const file = obj(obj(pr.gn)[name]).hvFile;
          if (typeof file !== 'string') continue;
          const rd = relDiff(ourHv[name], readF64(xdir, file));
          doc.checks.push({ name: `H·v ${name}: ‖ours − peer‖/‖peer‖`, value: rd, limit: 1e-4, pass: rd <= 1e-4, note: `seeded Gaussian v (seed ${HV_SEED}), float32 products on both sides` });
        }
      }
      // On a shared 2-core machine one torch thread can beat two (a parallel region waits for its
      // slowest thread): the peer's product is also timed with 1 thread and the faster one counts.
      await peerRun('gn1thread', ['--tasks', 'matmul,gn', ...peerReps], 1);
      for (const name of ['modadd', 'mnist-mlp'] as const) {
        const cands = ([[2, 'gn'], [1, 'gn1thread']] as const).map(([threads, key]) => ({ threads, e: obj(obj(obj(P[key]).gn)[name]) }))
          .filter((c) => Number.isFinite(num(c.e.medianMs)));
        if (!cands.length) continue;
        const best = cands.reduce((a, b) => (num(b.e.medianMs) < num(a.e.medianMs) ? b : a));
        peerBest[name] = { medianMs: num(best.e.medianMs), threads: best.threads, variant: String(best.e.best) };
      }
      P.gnBest = peerBest;
    });

    // -- Lanczos top-100 on modadd --------------------------------------------------------------
    const modadd = ops.modadd as GnOperator;
    await section('lanczos100', async () => {
      const runs: number[] = [];
      let last: LanczosResult | null = null;
      const timed = timedOperator(modadd);
      for (let r = 0; r < LANCZOS_REPS; r++) {
        const t0 = performance.now();
        timed.ms = 0;
        last = await lanczosTopK(timed, 100, { seed: SEED + r, tol: TOL });
        runs.push(performance.now() - t0);
        log(`Lanczos top-100 run ${r + 1}/${LANCZOS_REPS}: ${(runs[r] / 1e3).toFixed(1)} s, ${last.matvecs} products (${(timed.ms / 1e3).toFixed(1)} s), ${last.converged}/100 converged`);
      }
      const l = last as LanczosResult;
      O.lanczos100 = {
        ...timingOf(runs), ...lanczosSummary(l, median(runs)), productMs: timed.ms, tol: TOL,
        criterion: '‖H y − θ y‖ ≤ tol·h_1 for each of the top k (verified with one more product per pair, included in the time)',
      };
      const pb = peerBest.modadd;
      const pr = await peerRun('lanczos', [
        '--tasks', 'lanczos', '--k', '100', '--tol', String(TOL), '--lanczos-reps', String(QUICK ? 1 : 2),
        ...(pb ? ['--product', pb.variant] : []),
        ...(QUICK ? [] : ['--extra-tols', String(TOL * l.values[0] / l.values[99])]),
      ], pb?.threads ?? 2);
      const pl = obj(pr?.lanczos);
      if (Array.isArray(pl.values)) {
        const pv = pl.values as number[];
        let worst = 0;
        for (let i = 0; i < 20; i++) worst = Math.max(worst, Math.abs(l.values[i] - pv[i]) / Math.abs(pv[i]));
        doc.checks.push({ name: 'modadd top-20 eigenvalues: max |ours − peer|/|peer|', value: worst, limit: 1e-3, pass: worst <= 1e-3, note: 'our Lanczos top-100 (tol 1e-3·h_1) vs scipy eigsh top-100 (tol 1e-3)' });
      }
    });

    // -- SLQ density -----------------------------------------------------------------------------
    await section('slq', async () => {
      let matvecs = 0;
      const t = await timeCalls(async () => { matvecs = (await slqDensity(modadd, { probes: 8, steps: 80, seed: SEED + 1 })).matvecs; }, QUICK ? 1 : REPS, 0);
      O.slq = { ...t, probes: 8, steps: 80, matvecs };
      log(`SLQ 8 × 80 on modadd: median ${(t.medianMs / 1e3).toFixed(1)} s`);
    });

    const mnistOp = ops['mnist-mlp'];
    mnistOp?.dispose();

    // -- dense 800 × 800 (the matfac Hessian) ---------------------------------------------------------
    await section('dense', async () => {
      const { model, ds } = await loadModel('matfac');
      const op = await gaussNewtonOperator(model, ds, ds.trainIdx);
      const tb = performance.now();
      const H = await symmetricFromMatvec(op as SymOperator);
      const buildMs = performance.now() - tb;
      op.dispose();
      const n = op.d;
      writeF64(xdir, 'dense.f64', H);
      let values: Float64Array = new Float64Array(0);
      const t = await timeCalls(async () => { values = eighSync(H, n, { vectors: true }).values; }, Math.max(5, REPS), 1);
      O.dense = { ...t, n, what: 'matfac 20-20-20 Gauss–Newton Hessian (800 products, symmetrized), eigenvalues and eigenvectors', buildMs, values };
      log(`eigh ${n}×${n} with vectors: median ${t.medianMs.toFixed(0)} ms`);
      const pr = await peerRun('dense', ['--tasks', 'dense', '--reps', '7']);
      await peerRun('dense1thread', ['--tasks', 'dense', '--reps', '7'], 1);
      const pd = obj(pr?.dense);
      if (Array.isArray(pd.values)) {
        const pv = pd.values as number[];
        let worst = 0, big = 0;
        for (let i = 0; i < n; i++) { worst = Math.max(worst, Math.abs(values[i] - pv[i])); big = Math.max(big, Math.abs(pv[i])); }
        doc.checks.push({ name: 'dense 800×800 eigenvalues: max_i |ours_i − LAPACK_i| / max|LAPACK|', value: worst / big, limit: 1e-8, pass: worst / big <= 1e-8, note: 'same Float64 matrix on both sides; normwise (400 eigenvalues sit at the float32 floor ≈ 4e-7, where elementwise relative error is meaningless)' });
        let worstRel = 0;
        for (let i = 0; i < n; i++) if (Math.abs(pv[i]) > 1e-3 * big) worstRel = Math.max(worstRel, Math.abs(values[i] - pv[i]) / Math.abs(pv[i]));
        (O.dense as Json).maxRelDiffAbove1e3 = worstRel;
      }
    });

    // -- training steps ----------------------------------------------------------------------------
    await section('train', async () => {
      const train: Json = {};
      for (const arch of ['modadd', 'modadd-gelu', 'mnist-mlp', 'matfac'] as ArchId[]) {
        const { model, ds } = await loadModel(arch);
        const recipe = DEFAULT_RECIPES[arch];
        if (arch === 'matfac') {
          writeF32(xdir, 'matfac_x.f32', gatherRows(ds.x as Float32Array, ds.inputDim, ds.trainIdx));
          writeF32(xdir, 'matfac_y.f32', gatherRows(ds.y as Float32Array, ds.outDim, ds.trainIdx));
        }
        const trainer = new Trainer(model, ds, { ...recipe, evalEvery: 0, checkpointEvery: 0 });
        try {
          const r = await stepsPerSecond(() => trainer.step(), () => trainer.lastBatchLoss());
          train[arch] = { ...r, batch: recipe.batchSize, optimizer: recipe.optimizer, n: ds.trainIdx.length };
          log(`train ${arch}: ${num(r.median).toFixed(1)} steps/s (batch ${String(recipe.batchSize)})`);
        } finally {
          trainer.dispose();
        }
      }
      O.train = train;
      await peerRun('train', ['--tasks', 'train']);
      await peerRun('train1thread', ['--tasks', 'train'], 1);
    });

    // -- SGLD draws --------------------------------------------------------------------------------
    await section('sgld', async () => {
      O.sgld = argv['no-sgld'] ? { notAvailable: 'not run (--no-sgld)' } : await measureSgld(xdir);
      if (!('notAvailable' in (O.sgld as Json))) {
        await peerRun('sgld', ['--tasks', 'sgld']);
        await peerRun('sgld1thread', ['--tasks', 'sgld'], 1);
      }
    });

    // -- Lanczos top-1,000 (long) --------------------------------------------------------------------
    await section('lanczos1000', async () => {
      if (QUICK) { O.lanczos1000 = { skipped: 'skipped with --quick' }; return; }
      const budget = Number(argv['top1000-budget-mib']) * 2 ** 20;
      const timed = timedOperator(modadd);
      const t0 = performance.now();
      const r = await lanczosTopK(timed, 1000, { seed: SEED, tol: TOL, memoryBudgetBytes: budget, ctx: quietContext('Lanczos top-1,000') });
      const ms = performance.now() - t0;
      O.lanczos1000 = { ...lanczosSummary(r, ms), tol: TOL, memoryBudgetMiB: budget / 2 ** 20, productMs: timed.ms };
      log(`Lanczos top-1,000: ${(ms / 1e3).toFixed(0)} s, ${r.matvecs} products, ${r.converged}/1000 converged, ${r.restarts} restarts`);
    });
    modadd.dispose();
  } finally {
    rmSync(xdir, { recursive: true, force: true });
  }

  (doc.machine as Json).loadavgAtEnd = loadavg().map((x) => +x.toFixed(2));
  doc.totalS = +((Date.now() - startedAt.getTime()) / 1e3).toFixed(0);
  compare();
  save();
  process.stdout.write(report());
  const failed = doc.checks.filter((c) => !c.pass);
  if (failed.length) {
    process.stderr.write(`\n[bench] CROSS-CHECK FAILED:\n${failed.map((c) => `  ✗ ${c.name}${Number.isFinite(c.value) ? ` = ${c.value.toExponential(2)} > ${c.limit}` : `: ${c.note}`}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// SGLD: the core's estimator (src/core/llc/sgld.ts), timed from its streamed partials.

async function measureSgld(xdir: string): Promise<Json> {
  const out: Json = {};
  const settings: Json = {};
  for (const name of ['modadd', 'mnist-mlp']) {
    const { model, ds } = await loadModel(name);
    const rates: number[] = [];
    let opts: SgldResult['options'] | null = null;
    for (let r = 0; r < REPS; r++) {
      // Steady-state rate from the streamed partials (every 10 steps), excluding setup and L(w*).
      const marks: [number, number][] = [];
      const ctx: JobContext<SgldPartial> = {
        signal: new AbortController().signal,
        progress: () => undefined,
        partial: (p) => { marks.push([performance.now(), p.fromStep + p.loss.length]); },
        checkpoint: () => Promise.resolve(),
        waitIfPaused: () => Promise.resolve(),
      };
      const res = await estimateLlc(model, ds, { chains: 1, burnin: 20, draws: 200, seed: SEED + r, readEvery: 10 }, ctx);
      opts = res.options;
      const [a, b] = [marks[0], marks[marks.length - 1]];
      rates.push(marks.length >= 2 ? (b[1] - a[1]) / ((b[0] - a[0]) / 1e3) : res.stepsPerSecond);
    }
    const o = opts as SgldResult['options'];
    out[name] = { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), runs: REPS, stepsPerRun: 220, ...o };
    settings[name] = { stepSize: o.stepSize, gamma: o.gamma, nBeta: o.nBeta, batchSize: o.batchSize };
    log(`SGLD ${name}: ${median(rates).toFixed(1)} draws/s (batch ${o.batchSize})`);
  }
  writeFileSync(join(xdir, 'sgld.json'), JSON.stringify(settings));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ratios, targets and the printed table.

function compare(): void {
  const O = doc.ours, P = doc.peer;
  const rows: Row[] = [];
  const fmtMs = (ms: number): string => (ms >= 10000 ? `${(ms / 1e3).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1e3).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);
  const timeRow = (what: string, ours: number, peer: number, note: string): void => {
    rows.push({ what, ours: Number.isFinite(ours) ? fmtMs(ours) : 'n/a', peer: Number.isFinite(peer) ? fmtMs(peer) : '—', oursOverPeer: ours / peer, speedup: peer / ours, note });
  };
  const rateRow = (what: string, ours: number, peer: number, unit: string, note: string): void => {
    rows.push({ what, ours: Number.isFinite(ours) ? `${ours.toFixed(ours < 10 ? 2 : 1)} ${unit}` : 'n/a', peer: Number.isFinite(peer) ? `${peer.toFixed(peer < 10 ? 2 : 1)} ${unit}` : '—', oursOverPeer: peer / ours, speedup: ours / peer, note });
  };
  const pg = obj(obj(P.gn).gn);
  const mm = obj(O.matMul);
  /** The peer's faster result of its 2-thread and 1-thread runs: [value, threads, note]. */
  const bestOf = (v2: number, v1: number, higherIsBetter: boolean, fmt: (x: number) => string): [number, string] => {
    const ok2 = Number.isFinite(v2), ok1 = Number.isFinite(v1);
    if (!ok2 && !ok1) return [NaN, ''];
    const pick1 = ok1 && (!ok2 || (higherIsBetter ? v1 > v2 : v1 < v2));
    return [pick1 ? v1 : v2, `peer best of 2 threads (${ok2 ? fmt(v2) : '—'}) and 1 thread (${ok1 ? fmt(v1) : '—'})`];
  };
  const mmRate = (key: string, f: string): number => num(obj(obj(obj(P[key]).matmul)[f]).gflops);
  const [pmm, pmmNote] = bestOf(mmRate('gn', 'torchF32'), mmRate('gn1thread', 'torchF32'), true, (x) => `${x.toFixed(0)} GFLOP/s`);
  const np64 = mmRate('gn', 'numpyF64');
  rateRow('matMul 1024³ float32', num(mm.gflops), pmm, 'GFLOP/s', `ours: tfjs wasm (XNNPACK, 1 thread)` +
    (pmmNote ? `; peer: torch.mm; ${pmmNote}` : '') + (Number.isFinite(np64) ? `; numpy float64 2 threads ${np64.toFixed(0)} GFLOP/s` : ''));
  const pg1 = obj(obj(P.gn1thread).gn), best = obj(P.gnBest);
  const variantList = (e: Json): string => Object.entries(obj(e.variants)).map(([k, v]) => `${k} ${fmtMs(num(obj(v).medianMs))}`).join(', ');
  for (const name of ['modadd', 'mnist-mlp']) {
    const g = obj(obj(O.gn)[name]), b = obj(best[name]);
    const pFlops = num(g.flopsPerApply) / num(b.medianMs) / 1e6;
    timeRow(`H·v ${name} (d ${String(g.d)}, n ${String(g.n)})`, num(g.medianMs), num(b.medianMs),
      `${(num(g.flopsPerApply) / 1e6).toFixed(0)} MFLOP/product; ours ${num(g.gflops).toFixed(1)} GFLOP/s = ${(100 * num(g.gflops) / num(mm.gflops)).toFixed(0)} % of our matMul rate` +
      (Number.isFinite(pFlops) ? `; peer best = ${String(b.variant)}, ${String(b.threads)} thread(s), ${pFlops.toFixed(1)} GFLOP/s [2 threads: ${variantList(obj(pg[name]))}; 1 thread: ${variantList(obj(pg1[name]))}]` : ''));
  }
  const l = obj(O.lanczos100), pl = obj(obj(P.lanczos).lanczos);
  const share = (prodMs: number, total: number): string => (Number.isFinite(prodMs / total) ? `${(100 * prodMs / total).toFixed(0)} % in products` : '');
  timeRow('Lanczos top-100 modadd, tol 1e-3', num(l.medianMs), num(pl.medianMs),
    `ours ${String(l.matvecs)} products (${share(num(l.productMs), num(l.ms))}), max residual/h₁ ${num(l.maxResidualOverH1).toExponential(1)}` +
    (Number.isFinite(num(pl.medianMs)) ? `; peer eigsh ${String(pl.matvecs)} products (${share(num(pl.productMs), num(obj((pl.runs as Json[])[(pl.runs as Json[]).length - 1]).ms))}, ${String(pl.product)}, ${String(obj(P.lanczos).threads)} thread(s)), max residual/h₁ ${num(pl.maxResidualOverH1).toExponential(1)}` : ''));
  const extra = Array.isArray(pl.extraTols) ? (pl.extraTols as Json[]) : [];
  for (const e of extra) {
    timeRow(`  peer eigsh at tol ${num(e.tol).toExponential(1)} (= 1e-3·h₁/h₁₀₀)`, num(l.medianMs), num(e.ms), `one run; ${String(e.matvecs)} products, max residual/h₁ ${num(e.maxResidualOverH1).toExponential(1)} (looser per-pair criterion than ours at the top)`);
  }
  const l1k = obj(O.lanczos1000);
  if (typeof l1k.skipped === 'string') rows.push({ what: 'Lanczos top-1,000 modadd, tol 1e-3', ours: 'skipped', peer: '—', oursOverPeer: NaN, speedup: NaN, note: l1k.skipped });
  else timeRow('Lanczos top-1,000 modadd, tol 1e-3', num(l1k.ms), NaN, `one run; ${String(l1k.matvecs)} products (${share(num(l1k.productMs), num(l1k.ms))}), ${String(l1k.restarts)} restarts, ${String(l1k.converged)}/1000 converged, ${String(l1k.storage)} basis of ${String(l1k.basisSize)} (${String(l1k.basisMB)} MB); peer not run`);
  const s = obj(O.slq);
  timeRow('SLQ density modadd, 8 probes × 80 steps', num(s.medianMs), NaN, `${String(s.matvecs)} products; no peer equivalent run`);
  const dn = obj(O.dense), pd = obj(obj(P.dense).dense), pd1 = obj(obj(P.dense1thread).dense);
  timeRow('dense eigh 800×800 with vectors vs LAPACK (2 threads)', num(dn.medianMs), num(pd.medianMs), 'ours: Float64, wasm SIMD kernels (JS elsewhere), 1 thread; peer: numpy.linalg.eigh (OpenBLAS dsyevd); 2,000² and a per-rep pairing: npm run bench:eigh');
  timeRow('dense eigh 800×800 with vectors vs LAPACK (1 thread)', num(dn.medianMs), num(pd1.medianMs), 'the same LAPACK restricted to one thread');
  const stepsFmt = (x: number): string => `${x.toFixed(0)}/s`;
  for (const arch of ['modadd', 'modadd-gelu', 'mnist-mlp', 'matfac']) {
    const t = obj(obj(O.train)[arch]);
    const [pv, pn] = bestOf(num(obj(obj(obj(P.train).train)[arch]).median), num(obj(obj(obj(P.train1thread).train)[arch]).median), true, stepsFmt);
    rateRow(`train ${arch} (batch ${String(t.batch ?? '?')})`, num(t.median), pv, 'steps/s', `${String(t.optimizer ?? '')}; blocks ≥ 0.6 s${pn ? `; ${pn}` : ''}`);
  }
  const sg = obj(O.sgld);
  if (typeof sg.notAvailable === 'string') rows.push({ what: 'SGLD draws', ours: 'not available yet', peer: '—', oursOverPeer: NaN, speedup: NaN, note: sg.notAvailable });
  else for (const name of ['modadd', 'mnist-mlp']) {
    const o = obj(sg[name]);
    const [pv, pn] = bestOf(num(obj(obj(obj(P.sgld).sgld)[name]).median), num(obj(obj(obj(P.sgld1thread).sgld)[name]).median), true, stepsFmt);
    rateRow(`SGLD ${name} (batch ${String(o.batchSize ?? '?')})`, num(o.median), pv, 'draws/s', `ε ${String(o.stepSize)}, γ ${String(o.gamma)}, nβ ${num(o.nBeta).toFixed(0)}; one draw per step${pn ? `; ${pn}` : ''}`);
  }
  doc.comparisons = rows;

  // Targets of the issue "Benchmarks against a PyTorch peer".
  const g = obj(obj(O.gn).modadd), p = obj(best.modadd);
  const gnSpeed = num(p.medianMs) / num(g.medianMs);
  doc.targets.push({
    name: 'GN product on modadd ≥ 3× faster than the PyTorch peer', target: 'peer time / our time ≥ 3',
    ours: fmtMs(num(g.medianMs)), peer: Number.isFinite(num(p.medianMs)) ? `${fmtMs(num(p.medianMs))} (${String(p.variant)}, ${String(p.threads)} thread(s))` : '—', ratio: gnSpeed,
    met: Number.isFinite(gnSpeed) ? gnSpeed >= 3 : null, note: 'against the fastest of the peer\'s variants and thread counts',
  });
  const lSpeed = num(pl.medianMs) / num(l.medianMs);
  const lOk = num(l.maxResidualOverH1) <= 1e-3;
  doc.targets.push({
    name: 'Lanczos top-100 to residual ≤ 1e-3·h₁ faster than the peer\'s eigsh', target: 'peer time / our time > 1, our residual ≤ 1e-3·h₁',
    ours: fmtMs(num(l.medianMs)), peer: Number.isFinite(num(pl.medianMs)) ? fmtMs(num(pl.medianMs)) : '—', ratio: lSpeed,
    met: Number.isFinite(lSpeed) ? lSpeed > 1 && lOk : null,
    note: `our verified max residual/h₁ = ${num(l.maxResidualOverH1).toExponential(2)}` + (extra.length ? `; against the looser eigsh tol the ratio is ${(num(extra[0].ms) / num(l.medianMs)).toFixed(2)}` : ''),
  });
  const lapack = Math.min(num(pd.medianMs), Number.isFinite(num(pd1.medianMs)) ? num(pd1.medianMs) : Infinity);
  const dRatio = num(dn.medianMs) / lapack;
  doc.targets.push({
    name: 'dense 800×800 within 4× of LAPACK in the same run', target: 'our time / LAPACK time ≤ 4',
    ours: fmtMs(num(dn.medianMs)), peer: Number.isFinite(num(pd.medianMs)) ? `${fmtMs(num(pd.medianMs))} (2 threads), ${fmtMs(num(pd1.medianMs))} (1 thread)` : '—', ratio: dRatio,
    met: Number.isFinite(dRatio) ? dRatio <= 4 : null,
    note: `against the faster LAPACK run; against 2-thread LAPACK ${(num(dn.medianMs) / num(pd.medianMs)).toFixed(2)}×, 1-thread ${(num(dn.medianMs) / num(pd1.medianMs)).toFixed(2)}×`,
  });
}

function report(): string {
  const m = doc.machine as Json;
  const lines: string[] = [];
  lines.push('');
  lines.push(`SLT explorer bench — ${String(doc.date)} — ${String(m.cpuModel)}, ${String(m.nproc)} cores, ${String(m.memTotalGiB)} GiB; load average ${(m.loadavgAtStart as number[]).join(' ')} → ${(m.loadavgAtEnd as number[]).join(' ')}`);
  lines.push(`ours: ${String(doc.backend)}, node ${process.version}, tfjs ${String(doc.tfjs)}; peer: ${doc.peer.available ? `torch ${String(obj(doc.peer.gn).torch ?? '?')}, scipy ${String(obj(doc.peer.gn).scipy ?? '?')}, numpy ${String(obj(doc.peer.gn).numpy ?? '?')}, run with 2 threads and with 1 thread (the faster counts)` : `not run (${String(doc.peer.detail)})`}`);
  lines.push('Times and rates are medians. "ours÷peer" = our time / peer time (lower is better for us); "speedup" = peer time / our time (> 1: we are faster).');
  lines.push('');
  lines.push(formatTable(doc.comparisons));
  lines.push('');
  lines.push('Targets:');
  for (const t of doc.targets) lines.push(`  ${t.met === null ? '?' : t.met ? '✓' : '✗'} ${t.name}: ours ${t.ours}, peer ${t.peer}, ratio ${Number.isFinite(t.ratio) ? t.ratio.toFixed(2) : '—'} — ${t.met === null ? 'not measured (no peer)' : t.met ? 'MET' : 'MISSED'} (${t.note})`);
  lines.push('Cross-checks:');
  if (!doc.checks.length) lines.push('  none (no peer)');
  for (const c of doc.checks) lines.push(`  ${c.pass ? '✓' : '✗ FAILED'} ${c.name}${Number.isFinite(c.value) ? ` = ${c.value.toExponential(2)} (limit ${c.limit})` : `: ${c.note}`}`);
  lines.push('');
  lines.push(`Written to ${argv.out} (${String(doc.totalS)} s in all).`);
  return `${lines.join('\n')}\n`;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`[bench] error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  save();
  process.exitCode = 2;
});
