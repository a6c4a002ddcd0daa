/**
 * `npm run bench:llc-cost [-- --reps N]`: the LLC calibration's work budget against the clock. The
 * budget counts every sampler step at a nominal cost (src/core/llc/calibrate.ts nominalStepMs,
 * fitted to this machine); this times one-chain runs in the configurations the calibration and the
 * estimate use (each shipped model at its default batch with a full-batch MALA probe every 10
 * draws, as the pilots run, and plain; full-batch Metropolis-adjusted chains on small models; a loss
 * given by formula) and prints nominal ÷ actual for each. Close to 1 on the reference machine (this
 * project's 2-core machine, wasm, Node) means the default 45 s budget is about 45 s of sampling here.
 *
 * Median of --reps (default 3) runs per row, each after a short warm-up run. Writes
 * bench/results/llc-cost-latest.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { decodeModelFile } from '../src/core/io/modelFile';
import { createJobContext, type JobContext } from '../src/core/jobs';
import { nominalStepCost } from '../src/core/llc/calibrate';
import { sampleLlc } from '../src/core/llc/chain';
import { resolveSgldOptions, type SgldOptions, type SgldPartial } from '../src/core/llc/options';
import { modelTarget, polynomialTarget, type SgldTarget } from '../src/core/llc/target';
import type { ModelConfig } from '../src/core/models/config';
import { datasetFor } from '../src/core/tasks/env';
import { nodeAssetReader } from '../src/node/assets';
import { rrrProblem } from '../tests/unit/helpers/rrr';
import { log, type Json } from './helpers';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: argv } = parseArgs({ options: { reps: { type: 'string', default: '3' } } });
const REPS = Math.max(1, Number(argv.reps));
const env = { readAsset: nodeAssetReader() };
const rows: Json[] = [];

async function row(name: string, target: SgldTarget, config: ModelConfig | null, opts: SgldOptions, steps: number): Promise<void> {
  // Settings that keep every chain near w* (the step's cost does not depend on them).
  const o = resolveSgldOptions(config, target.n, { gamma: 100, stepSize: 1e-7, burnin: 0, draws: steps, chains: 1, mala: true, calibrate: false, onDivergence: 'report', ...opts });
  const ctx = () => createJobContext() as JobContext<SgldPartial>;
  await sampleLlc(target, { ...o, draws: Math.min(50, steps) }, ctx());
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await sampleLlc(target, o, ctx());
    times.push((performance.now() - t0) / steps);
  }
  times.sort((a, b) => a - b);
  const actual = times[Math.floor(times.length / 2)];
  const nominal = nominalStepCost(target, o);
  const kind = `${o.fullBatch ? `all ${target.n} rows` : `batch ${o.batchSize}`}, ${o.metropolis ? 'Metropolis-adjusted' : o.mala && !o.fullBatch ? `MALA probe every ${o.malaEvery}` : 'plain'}`;
  const label = `${name}, ${kind}`;
  rows.push({ label, d: target.d, n: target.n, batch: o.fullBatch ? 'full' : o.batchSize, metropolis: o.metropolis, actualMs: actual, nominalMs: nominal, ratio: nominal / actual });
  log(`${label.padEnd(58)} d ${String(target.d).padStart(6)}  n ${String(target.n).padStart(7)}  actual ${actual.toFixed(3)} ms/step  nominal ${nominal.toFixed(3)}  nominal ÷ actual ${(nominal / actual).toFixed(2)}`);
}

async function main(): Promise<void> {
  const info = await initBackend('wasm');
  log(`backend ${info.summary}; ${cpus()[0]?.model ?? '?'} × ${cpus().length}; load ${loadavg()[0].toFixed(2)}`);
  for (const name of ['modadd', 'modadd-gelu', 'mnist-mlp', 'matfac']) {
    const model = decodeModelFile(new Uint8Array(readFileSync(join(ROOT, 'public', 'models', `${name}.safetensors`))), { name });
    const target = modelTarget(model, await datasetFor(model, env), 'nll');
    const small = target.d < 5000;
    await row(name, target, model.config, { malaEvery: 10 }, small ? 1500 : 400);
    await row(name, target, model.config, { mala: false }, small ? 1500 : 400);
    target.dispose();
  }
  for (const [i, h, o] of [[5, 3, 5], [6, 5, 6], [8, 3, 4]]) {
    const pr = rrrProblem({ inDim: i, hidden: h, outDim: o, rank: 0, n: 1000, seed: 0 });
    const target = modelTarget(pr.model, pr.ds, 'nll');
    await row(`rrr ${i}→${h}→${o}`, target, pr.model.config, {}, 4000);
    target.dispose();
  }
  for (const powers of [[1, 1], [2, 2]]) {
    const target = polynomialTarget({ powers, n: 1e6 });
    await row(`formula (${powers.join(',')})`, target, null, { batchSize: 'full' }, 3000);
    target.dispose();
  }
  const ratios = rows.map((r) => r.ratio as number).sort((a, b) => a - b);
  const doc = { when: new Date().toISOString(), backend: info.summary, cpus: cpus().length, load1AtEnd: loadavg()[0], reps: REPS, rows, ratioRange: [ratios[0], ratios[ratios.length - 1]] };
  writeFileSync(join(ROOT, 'bench', 'results', 'llc-cost-latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  log(`nominal ÷ actual: ${ratios[0].toFixed(2)} – ${ratios[ratios.length - 1].toFixed(2)}`);
}

void main();
