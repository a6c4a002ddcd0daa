/**
 * Trains the default model of each architecture with its DEFAULT_RECIPES entry, deterministically
 * (init seed 0, recipe seed 0, tfjs wasm backend), and writes public/models/<arch>.safetensors.
 *
 *   npx tsx scripts/pretrain.ts [--only modadd[,matfac...]] [--out public/models] [--analysis-only] [--no-analysis] [--time-limit s]
 *
 * After training, each model's precomputed analysis (public/models/<arch>.analysis.json: spectrum,
 * density, projection curve with k*, floor, sync blocks, Fourier summary) is written by
 * scripts/analysis.ts; `--analysis-only` regenerates it from the shipped files without retraining
 * (`npm run models -- --analysis-only`), `--no-analysis` skips it.
 *
 * Progress goes to stderr. The file's __metadata__ records the recipe, the final metrics, the
 * training curve and the wall time. Exits with status 1 if a recipe misses its target (the file
 * is still written, so the result can be inspected).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { DEFAULT_CONFIGS, describeConfig, paramCount, type ArchId } from '../src/core/models/config';
import { initParams } from '../src/core/models/init';
import type { ModelBundle } from '../src/core/models/bundle';
import { defaultDataSpec } from '../src/core/data/spec';
import { loadDataset } from '../src/core/data/index';
import { nodeAssetReader } from '../src/node/assets';
import { createJobContext } from '../src/core/jobs';
import { runTraining, type Metrics } from '../src/core/train/trainer';
import { DEFAULT_RECIPES, RECIPE_TARGETS, missedTarget } from '../src/core/train/recipes';
import { encodeModelFile } from '../src/core/io/modelFile';
import { analyseModel, parseAnalysisArgs } from './analysis';

const INIT_SEED = 0;

/** Its own flags, then the ones it shares with scripts/analysis.ts (--only, --out, --time-limit) parsed there. */
function parseArgs(argv: string[]): { only: ArchId[]; out: string; analysisOnly: boolean; analysis: boolean; timeLimitS?: number } {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write('usage: npx tsx scripts/pretrain.ts [--only arch[,arch...]] [--out dir] [--analysis-only] [--no-analysis] [--time-limit s]\n');
    process.exit(0);
  }
  const analysisOnly = argv.includes('--analysis-only'), analysis = !argv.includes('--no-analysis');
  const shared = parseAnalysisArgs(argv.filter((a) => a !== '--analysis-only' && a !== '--no-analysis'));
  return { only: shared.only, out: shared.dir, analysisOnly, analysis, timeLimitS: shared.timeLimitS };
}

const fmt = (m: Metrics): string => {
  const parts = [`step ${m.step}`, `train loss ${m.trainLoss.toPrecision(4)}`, `test loss ${m.testLoss.toPrecision(4)}`];
  if (m.trainAcc !== undefined) parts.push(`train acc ${(m.trainAcc * 100).toFixed(2)} %`, `test acc ${((m.testAcc ?? NaN) * 100).toFixed(2)} %`);
  return parts.join(', ');
};

async function pretrain(arch: ArchId, outDir: string): Promise<boolean> {
  const config = DEFAULT_CONFIGS[arch];
  const recipe = DEFAULT_RECIPES[arch];
  const { note, ...opts } = recipe;
  const data = defaultDataSpec(config, 0);
  const log = (s: string): void => { process.stderr.write(`[${arch}] ${s}\n`); };
  log(`${describeConfig(config)}, ${paramCount(config).toLocaleString('en-US')} parameters; ${note}`);
  const dataset = await loadDataset(data, nodeAssetReader());
  log(`data: ${dataset.label} (${dataset.trainIdx.length} train, ${dataset.testIdx.length} test)`);
  const bundle: ModelBundle = { name: arch, config, theta: initParams(config, INIT_SEED), data };
  // The modadd split travels with the file (data.train_idx), so it survives outside this app.
  if (dataset.kind === 'modadd') bundle.trainIdx = Int32Array.from(dataset.trainIdx);

  const t0 = performance.now();
  let lastPrint = 0;
  const ctx = createJobContext({
    onProgress: (_f, phase) => {
      const now = performance.now();
      if (now - lastPrint > 5000) { lastPrint = now; log(`${phase} (${((now - t0) / 1000).toFixed(0)} s)`); }
    },
  });
  const result = await runTraining(bundle, dataset, opts, ctx, {
    onMetrics: (m) => log(`${fmt(m)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`),
  });
  const seconds = (performance.now() - t0) / 1000;
  const final = result.history[result.history.length - 1];
  const miss = missedTarget(arch, final);
  log(`done in ${seconds.toFixed(1)} s: ${fmt(final)}`);
  log(miss ? `MISSED TARGET: ${miss}` : `target reached: ${RECIPE_TARGETS[arch]}`);

  const metadata: Record<string, string> = {
    trained_by: 'scripts/pretrain.ts',
    backend: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`,
    init_seed: String(INIT_SEED),
    recipe: JSON.stringify(opts),
    recipe_note: note,
    train_loss: String(final.trainLoss),
    test_loss: String(final.testLoss),
    train_seconds: seconds.toFixed(1),
    history: JSON.stringify(result.history),
  };
  if (final.trainAcc !== undefined) metadata.train_acc = String(final.trainAcc);
  if (final.testAcc !== undefined) metadata.test_acc = String(final.testAcc);
  const bytes = encodeModelFile({ ...bundle, theta: result.theta, metadata });
  const file = join(outDir, `${arch}.safetensors`);
  await writeFile(file, bytes);
  log(`wrote ${file} (${bytes.length.toLocaleString('en-US')} bytes)`);
  return miss === null;
}

async function main(): Promise<void> {
  const { only, out, analysisOnly, analysis, timeLimitS } = parseArgs(process.argv.slice(2));
  const backend = await initBackend('wasm');
  process.stderr.write(`backend: ${backend.summary}\n`);
  const outDir = resolve(out);
  await mkdir(outDir, { recursive: true });
  let ok = true;
  for (const arch of only) {
    if (!analysisOnly) ok = (await pretrain(arch, outDir)) && ok;
    if (analysis || analysisOnly) await analyseModel(arch, { dir: outDir, timeLimitS });
  }
  if (!ok) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`pretrain failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
