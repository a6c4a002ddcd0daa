/**
 * `npm run bench:eigh [-- --sizes 800,2000] [--reps 5] [--no-peer]`: the dense symmetric eigensolver
 * (eigenvalues and eigenvectors, Float64) against one-thread LAPACK (numpy.linalg.eigh → dsyevd, via
 * bench/eigh_peer.py, numpy only), ALTERNATING ours and the peer's solve on the same matrix so both
 * see the same machine load; medians are reported. Matrices: the matfac Gauss–Newton Hessian (800 ×
 * 800, the main bench's dense row) and seeded Gaussian symmetric matrices of each size (few
 * deflations: the hard case for divide and conquer). Also checks ours: max |AV − VD| / max|λ|,
 * max |VᵀV − I| and the eigenvalues against LAPACK's. Writes bench/results/eigh-latest.json.
 * `--profile`: also times our three phases (Householder reduction, tridiagonal divide and conquer,
 * back-transformation) with the wasm kernels on and off, alternating, `--reps` times each.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { gaussNewtonOperator } from '../src/core/hessian/gn';
import { decodeModelFile } from '../src/core/io/modelFile';
import { gemm } from '../src/core/linalg/blas';
import { eighSync } from '../src/core/linalg/eigh';
import { backTransform, tridiagonalize } from '../src/core/linalg/householder';
import { makeDcWork, tridiagDC } from '../src/core/linalg/tridiagonal';
import { symmetricFromMatvec } from '../src/core/linalg/operator';
import { setWasmKernelsEnabled, wasmKernelsEnabled } from '../src/core/linalg/wasmKernels';
import { makeRng } from '../src/core/rng';
import { datasetFor } from '../src/core/tasks/env';
import { nodeAssetReader } from '../src/node/assets';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: argv } = parseArgs({
  options: {
    sizes: { type: 'string', default: '800,2000' },
    reps: { type: 'string', default: '5' },
    'no-peer': { type: 'boolean', default: false },
    'no-matfac': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'eigh-latest.json') },
  },
});
const REPS = Math.max(1, Number(argv.reps));
const log = (s: string): void => { process.stderr.write(`[bench:eigh] ${s}\n`); };
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]); };

interface PeerReply { ms: number; values: number[]; maxResidualOverNorm: number; orthogonality: number }

/** The peer process: one line in, one JSON line out. */
function startPeer(): Promise<{ info: Record<string, unknown>; solve(path: string, n: number): Promise<PeerReply>; close(): void } | null> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/python3', [join(ROOT, 'bench', 'eigh_peer.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const waiting: ((s: string) => void)[] = [];
    let ready = false;
    lines.on('line', (l) => {
      if (!ready) { ready = true; resolve(api(JSON.parse(l) as Record<string, unknown>)); return; }
      waiting.shift()?.(l);
    });
    child.on('error', () => resolve(null));
    child.on('exit', () => { if (!ready) resolve(null); });
    const api = (info: Record<string, unknown>) => ({
      info,
      solve: (path: string, n: number) => new Promise<PeerReply>((res) => { waiting.push((l) => res(JSON.parse(l) as PeerReply)); child.stdin.write(`${path} ${n}\n`); }),
      close: () => { child.stdin.end(); },
    });
  });
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) { const x = rng.normal(); A[i * n + j] = x; A[j * n + i] = x; }
  return A;
}

async function matfacHessian(): Promise<Float64Array> {
  await initBackend('wasm');
  const model = decodeModelFile(new Uint8Array(readFileSync(join(ROOT, 'public', 'models', 'matfac.safetensors'))), { name: 'matfac' });
  const ds = await datasetFor(model, { readAsset: nodeAssetReader() });
  const op = await gaussNewtonOperator(model, ds, ds.trainIdx);
  const H = await symmetricFromMatvec(op);
  op.dispose();
  return H;
}

/** max |A V − V D| / max |λ| and max |VᵀV − I| (with gemm; V one eigenvector per column). */
function quality(A: Float64Array, n: number, values: Float64Array, V: Float64Array): { residual: number; orthogonality: number } {
  const AV = new Float64Array(n * n);
  gemm(n, n, n, 1, A, 0, n, V, 0, n, false, AV, 0, n);
  let r = 0, big = 0;
  for (let j = 0; j < n; j++) big = Math.max(big, Math.abs(values[j]));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r = Math.max(r, Math.abs(AV[i * n + j] - V[i * n + j] * values[j]));
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Vt[j * n + i] = V[i * n + j];
  const G = AV; // reuse
  gemm(n, n, n, 1, Vt, 0, n, V, 0, n, false, G, 0, n);
  let o = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) o = Math.max(o, Math.abs(G[i * n + j] - (i === j ? 1 : 0)));
  return { residual: r / big, orthogonality: o };
}

/** Median times (ms) of the three phases of `eighSync` with vectors, wasm kernels on and off, alternated. */
function profile(A: Float64Array, n: number): Record<'wasm' | 'js', { reduce: number; dc: number; back: number }> {
  const runs: Record<'wasm' | 'js', number[][]> = { wasm: [], js: [] };
  for (let r = 0; r < REPS; r++) {
    for (const mode of ['wasm', 'js'] as const) {
      setWasmKernelsEnabled(mode === 'wasm');
      const a = A.slice(), d = new Float64Array(n), e = new Float64Array(n), tau = new Float64Array(n);
      let t = performance.now();
      for (const _ of tridiagonalize(a, n, d, e, tau)) { /* synchronous */ }
      const t1 = performance.now() - t; t = performance.now();
      const ws = makeDcWork(n);
      for (const _ of tridiagDC(d, e, n, ws)) { /* synchronous */ }
      const t2 = performance.now() - t; t = performance.now();
      for (const _ of backTransform(a, tau, n, ws.q)) { /* synchronous */ }
      runs[mode].push([t1, t2, performance.now() - t]);
    }
  }
  setWasmKernelsEnabled(true);
  const pick = (m: 'wasm' | 'js') => ({ reduce: median(runs[m].map((x) => x[0])), dc: median(runs[m].map((x) => x[1])), back: median(runs[m].map((x) => x[2])) });
  return { wasm: pick('wasm'), js: pick('js') };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'slt-eigh-'));
  const peer = argv['no-peer'] ? null : await startPeer();
  if (!argv['no-peer'] && peer === null) log('peer not available (needs /usr/bin/python3 with numpy: apt-get install -y python3-numpy); ours only');
  const cases: { name: string; n: number; A: Float64Array }[] = [];
  if (!argv['no-matfac']) cases.push({ name: 'matfac GN Hessian', n: 800, A: await matfacHessian() });
  for (const n of argv.sizes.split(',').map(Number)) cases.push({ name: 'random symmetric', n, A: randomSymmetric(n, n) });
  const results: Record<string, unknown>[] = [];
  log(`wasm kernels ${wasmKernelsEnabled() ? 'on' : 'off'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; peer ${peer ? JSON.stringify(peer.info) : 'none'}`);
  for (const c of cases) {
    const path = join(dir, `${results.length}-${c.n}.f64`);
    writeFileSync(path, new Uint8Array(c.A.buffer, c.A.byteOffset, c.A.byteLength));
    eighSync(c.A.slice(0, Math.min(c.n, 200) ** 2), Math.min(c.n, 200)); // warm-up (JIT)
    const ours: number[] = [], theirs: number[] = [];
    let last: { values: Float64Array; vectors?: Float64Array } | null = null;
    let peerLast: PeerReply | null = null;
    for (let r = 0; r < REPS; r++) {
      const t = performance.now();
      last = eighSync(c.A, c.n, { vectors: true });
      ours.push(performance.now() - t);
      if (peer) { peerLast = await peer.solve(path, c.n); theirs.push(peerLast.ms); }
      log(`${c.name} ${c.n}: ours ${ours[r].toFixed(0)} ms${peer ? `, LAPACK ${theirs[r].toFixed(0)} ms` : ''}`);
    }
    const q = last?.vectors ? quality(c.A, c.n, last.values, last.vectors) : null;
    let dv = NaN;
    if (peerLast && last) {
      let worst = 0, big = 0;
      for (let i = 0; i < c.n; i++) { worst = Math.max(worst, Math.abs(last.values[i] - peerLast.values[i])); big = Math.max(big, Math.abs(peerLast.values[i])); }
      dv = worst / big;
    }
    const phases = argv.profile ? profile(c.A, c.n) : undefined;
    if (phases) log(`${c.name} ${c.n} phases (median ms; wasm | js): reduce ${phases.wasm.reduce.toFixed(0)} | ${phases.js.reduce.toFixed(0)}, divide and conquer ${phases.wasm.dc.toFixed(0)} | ${phases.js.dc.toFixed(0)}, back-transform ${phases.wasm.back.toFixed(0)} | ${phases.js.back.toFixed(0)}`);
    const row = {
      phases,
      matrix: c.name, n: c.n, reps: REPS, oursMs: ours, peerMs: theirs, oursMedianMs: median(ours), peerMedianMs: theirs.length ? median(theirs) : NaN,
      ratio: theirs.length ? median(ours) / median(theirs) : NaN, oursResidual: q?.residual, oursOrthogonality: q?.orthogonality,
      peerResidual: peerLast?.maxResidualOverNorm, peerOrthogonality: peerLast?.orthogonality, maxEigenvalueDiffOverNorm: dv,
    };
    results.push(row);
    log(`${c.name} ${c.n}: median ours ${row.oursMedianMs.toFixed(0)} ms, LAPACK 1 thread ${row.peerMedianMs.toFixed(1)} ms → ${row.ratio.toFixed(2)}×; residual ${q?.residual.toExponential(1)}, orthogonality ${q?.orthogonality.toExponential(1)}, max|Δλ|/max|λ| ${dv.toExponential(1)}`);
  }
  peer?.close();
  rmSync(dir, { recursive: true, force: true });
  const doc = { date: new Date().toISOString(), cpu: cpus()[0]?.model, nproc: cpus().length, loadavgAtEnd: loadavg(), node: process.version, wasmKernels: wasmKernelsEnabled(), peer: peer?.info ?? null, results };
  mkdirSync(join(argv.out, '..'), { recursive: true });
  writeFileSync(argv.out, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write('| matrix | n | ours (median) | LAPACK 1 thread (median) | ours ÷ LAPACK | residual | orthogonality |\n| --- | --- | --- | --- | --- | --- | --- |\n');
  for (const r of results as { matrix: string; n: number; oursMedianMs: number; peerMedianMs: number; ratio: number; oursResidual?: number; oursOrthogonality?: number }[]) {
    process.stdout.write(`| ${r.matrix} | ${r.n} | ${r.oursMedianMs.toFixed(0)} ms | ${r.peerMedianMs.toFixed(1)} ms | ${r.ratio.toFixed(2)}× | ${r.oursResidual?.toExponential(1)} | ${r.oursOrthogonality?.toExponential(1)} |\n`);
  }
}

main().then(() => process.exit(0), (e: unknown) => { process.stderr.write(`${String((e as Error).stack ?? e)}\n`); process.exit(1); });
