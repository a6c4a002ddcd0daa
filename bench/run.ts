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
import { markdownTable } from './table';
import { compare, report, type BenchDoc } from './report';
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


const startedAt = new Date();
const doc: BenchDoc = {
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

    // -- LLC with the defaults: calibration + estimate on modadd, beside fixed (uncalibrated) settings --
    await section('llcDefaults', async () => {
      if (argv['no-sgld']) { O.llcDefaults = { notAvailable: 'not run (--no-sgld)' }; return; }
      const { model, ds } = await loadModel('modadd');
      const timed = async (opts: Parameters<typeof estimateLlc>[2]): Promise<Json> => {
        const t0 = performance.now();
        const r = await estimateLlc(model, ds, opts, quietContext('LLC') as JobContext<SgldPartial>);
        return { ms: performance.now() - t0, llc: r.llc.mean, stderr: r.llc.stderr, verdict: r.health.verdict, reasons: r.health.reasons, gamma: r.options.gamma, stepSize: r.options.stepSize, burnin: r.options.burnin, draws: r.options.draws, calibrationMs: r.calibration?.ms ?? 0 };
      };
      const calibrated = await timed({ seed: SEED });
      const fixed = await timed({ seed: SEED, gamma: 100, stepSize: 3e-4, burnin: 200, draws: 200, calibrate: false });
      O.llcDefaults = { calibrated, fixed };
      log(`LLC modadd: defaults ${(num(calibrated.ms) / 1e3).toFixed(1)} s (λ̂ ${num(calibrated.llc).toFixed(1)}, ${String(calibrated.verdict)}); fixed settings ${(num(fixed.ms) / 1e3).toFixed(1)} s (λ̂ ${num(fixed.llc).toFixed(1)}, ${String(fixed.verdict)})`);
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
  compare(doc);
  save();
  process.stdout.write(report(doc, argv.out as string));
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
    const rates: number[] = [], withProbes: number[] = [];
    let opts: SgldResult['options'] | null = null;
    for (let r = 0; r < REPS + 1; r++) {
      // Steady-state rate from the streamed partials (every 10 steps), excluding setup and L(w*).
      const marks: [number, number][] = [];
      const ctx: JobContext<SgldPartial> = {
        signal: new AbortController().signal,
        progress: () => undefined,
        partial: (p) => { marks.push([performance.now(), p.fromStep + p.loss.length]); },
        checkpoint: () => Promise.resolve(),
        waitIfPaused: () => Promise.resolve(),
      };
      // The last run keeps the default diagnostics (a full-batch MALA probe every 10 draws); the
      // others do what the peer does (plain SGLD, the batch loss read every step), for the ratio.
      const plain = r < REPS;
      const res = await estimateLlc(model, ds, { chains: 1, burnin: 20, draws: 200, seed: SEED + r, readEvery: 10, mala: !plain }, ctx);
      opts = res.options;
      const [a, b] = [marks[0], marks[marks.length - 1]];
      const rate = marks.length >= 2 ? (b[1] - a[1]) / ((b[0] - a[0]) / 1e3) : res.stepsPerSecond;
      if (plain) rates.push(rate); else withProbes.push(rate);
    }
    const o = opts as SgldResult['options'];
    out[name] = { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), runs: rates.length, stepsPerRun: 220, ...o, mala: false, withMalaProbes: withProbes.length ? median(withProbes) : null };
    settings[name] = { stepSize: o.stepSize, gamma: o.gamma, nBeta: o.nBeta, batchSize: o.batchSize };
    log(`SGLD ${name}: ${median(rates).toFixed(1)} draws/s (batch ${o.batchSize})`);
  }
  writeFileSync(join(xdir, 'sgld.json'), JSON.stringify(settings));
  return out;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`[bench] error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  save();
  process.exitCode = 2;
});
