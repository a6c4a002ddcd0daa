/**
 * `npm run slt -- <command>`: the explorer's compute core from a terminal (Node, wasm backend).
 * Each command prints ONE JSON document on stdout; progress goes to stderr; bad input exits
 * non-zero with a clear message.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { initBackend } from '../core/backend';
import { createJobContext } from '../core/jobs';
import { isBadInput } from '../core/errors';
import { encodeModelFile } from '../core/io/modelFile';
import { ARCH_IDS, DEFAULT_CONFIGS, layoutFor, paramCount, type ArchId, type ModelConfig } from '../core/models/config';
import { defaultDataSpec, type DataSpec } from '../core/data/spec';
import { runForward } from '../core/tasks/forward';
import { runInitModel } from '../core/tasks/model';
import { runTrain } from '../core/tasks/train';
import { DEFAULT_RECIPES } from '../core/train/recipes';
import type { TrainOptions } from '../core/train/trainer';
import type { Split } from '../core/data/types';
import { runSpectrum, type SpectrumParams } from '../core/tasks/spectrum';
import { d1At, llcBounds, logDensity } from '../core/spectrum/counts';
import { cutoffK, type ProjectionPoint } from '../core/spectrum/projection';
import { runInternals } from '../core/tasks/internals';
import { predictedZeroCount } from '../core/internals/zeros';
import { fourierAnalysis } from '../core/internals/fourier';
import { UsageError, env, int, list, num, readModel, stderrContext } from './common';
import { LLC_USAGE, cmdLlc, cmdLlcCheckpoints, cmdLlcCurve, cmdLlcSweep } from './llc';

const USAGE = `usage: npm run slt -- <command> [options]

commands:
  info <file.safetensors>                         architecture, parameter count, tensors, metadata
  eval <file.safetensors> [--split train|test|all]  loss and accuracy (MSE for matfac) on a split
  train --arch <${ARCH_IDS.join('|')}> --out <file.safetensors>
        [--p N --e N --h N | --hidden 50,50 | --widths 20,20,20] [--init-seed N]
        [--train-fraction F --data-seed N --op sum|random]
        [--optimizer adamw|sgd --lr X --wd X --momentum X --batch N|full --steps N --seed N
         --schedule constant|cosine --eval-every N]
                                                  trains (defaults: the architecture's recipe) and saves the model

  spectrum <file> [--split train|all] [--method auto|dense|lanczos] [--k K] [--loss mse|kl] [--tol T]
           [--memory-mib M] [--lean]              eigenvalues of the behavioral-loss Hessian (descending) and residuals
                                                  (--memory-mib: the Lanczos basis budget, default 512; --lean: no restarts,
                                                  a verified sample of residuals, for a top k near what the budget holds)
  density <file> [--k K --probes P --steps S ...]  SLQ spectral density and the d1(ε) curve with error bands and LLC bounds
  project <file> --k K1,K2,… [--cutoff 0.995]     accuracies (MSE for matfac) of θ projected on the top-k eigenvectors
  sync <file> [--tol t --measure fraction|eq17]     synchronized ReLU blocks, ranks, free directions N, dead/always-on
  grams <file> [--eps E --tol t]                  per-layer G/K/M spectra, predicted Hessian zeros at ε, interaction basis
  fourier <file>                                  per-frequency norms of a modadd embedding, key frequencies, circuits
${LLC_USAGE}

Each command prints one JSON document on stdout; progress goes to stderr.`;

async function cmdInfo(args: string[]) {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const m = await readModel(positionals[0]);
  return {
    arch: m.config.arch,
    config: m.config,
    params: paramCount(m.config),
    tensors: layoutFor(m.config).tensors.map((t) => ({ name: t.name, shape: t.shape })),
    data: m.data,
    data_tensors: { train_idx: m.trainIdx?.length ?? null, x: m.dataX ? m.dataX.length : null, y: m.dataY ? m.dataY.length : null },
    metadata: m.metadata ?? {},
  };
}

async function cmdEval(args: string[]) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { split: { type: 'string', default: 'test' } } });
  const split = values.split as Split;
  if (!['train', 'test', 'all'].includes(split)) throw new UsageError(`--split must be train, test or all (got "${split}")`);
  const m = await readModel(positionals[0]);
  const r = await runForward({ model: m, split }, stderrContext('eval'), env);
  return r.accuracy !== undefined
    ? { split, n: r.n, loss: r.loss, accuracy: r.accuracy }
    : { split, n: r.n, mse: r.loss };
}

async function cmdTrain(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      arch: { type: 'string' }, out: { type: 'string' },
      p: { type: 'string' }, e: { type: 'string' }, h: { type: 'string' }, hidden: { type: 'string' }, widths: { type: 'string' },
      'init-seed': { type: 'string' }, 'train-fraction': { type: 'string' }, 'data-seed': { type: 'string' }, op: { type: 'string' },
      optimizer: { type: 'string' }, lr: { type: 'string' }, wd: { type: 'string' }, momentum: { type: 'string' },
      batch: { type: 'string' }, steps: { type: 'string' }, seed: { type: 'string' }, 'eval-every': { type: 'string' }, schedule: { type: 'string' },
    },
  });
  const arch = values.arch as ArchId | undefined;
  if (!arch || !ARCH_IDS.includes(arch)) throw new UsageError(`--arch must be one of ${ARCH_IDS.join(', ')}${arch ? ` (got "${arch}")` : ''}`);
  if (!values.out) throw new UsageError('--out <file.safetensors> is required');
  const d = DEFAULT_CONFIGS[arch];
  let config: ModelConfig;
  if (d.arch === 'modadd' || d.arch === 'modadd-gelu') {
    config = { arch: d.arch, p: int('p', values.p) ?? d.p, e: int('e', values.e) ?? d.e, h: int('h', values.h) ?? d.h };
  } else if (d.arch === 'mnist-mlp') {
    config = { arch: 'mnist-mlp', hidden: list('hidden', values.hidden) ?? d.hidden };
  } else {
    config = { arch: 'matfac', widths: list('widths', values.widths) ?? d.widths };
  }
  const dataSeed = int('data-seed', values['data-seed']) ?? 0;
  let data: DataSpec = defaultDataSpec(config, dataSeed);
  if (data.kind === 'modadd') {
    const op = values.op ?? 'sum';
    if (op !== 'sum' && op !== 'random') throw new UsageError(`--op must be sum or random (got "${op}")`);
    data = { ...data, trainFraction: num('train-fraction', values['train-fraction']) ?? data.trainFraction, op };
  }
  const { note: _note, ...recipe } = DEFAULT_RECIPES[arch];
  const batch = values.batch === undefined ? recipe.batchSize : values.batch === 'full' ? 'full' : int('batch', values.batch)!;
  const opts: TrainOptions = {
    ...recipe,
    optimizer: (values.optimizer as TrainOptions['optimizer'] | undefined) ?? recipe.optimizer,
    lr: num('lr', values.lr) ?? recipe.lr,
    weightDecay: num('wd', values.wd) ?? recipe.weightDecay,
    momentum: num('momentum', values.momentum) ?? recipe.momentum,
    batchSize: batch,
    steps: int('steps', values.steps) ?? recipe.steps,
    seed: int('seed', values.seed) ?? recipe.seed,
    evalEvery: int('eval-every', values['eval-every']) ?? recipe.evalEvery,
    schedule: (values.schedule as TrainOptions['schedule'] | undefined) ?? recipe.schedule,
    checkpointEvery: 0,
  };
  const t0 = Date.now();
  const model = await runInitModel({ config, seed: int('init-seed', values['init-seed']) ?? 0, data }, createJobContext());
  const r = await runTrain({ model, opts }, stderrContext('train'), env);
  await writeFile(values.out, encodeModelFile(r.model));
  const last = r.history[r.history.length - 1];
  return {
    out: values.out,
    arch,
    params: paramCount(config),
    steps: opts.steps,
    recipe: opts,
    seconds: (Date.now() - t0) / 1000,
    final: last,
  };
}

const SPECTRUM_OPTIONS = {
  split: { type: 'string', default: 'train' },
  method: { type: 'string', default: 'auto' },
  k: { type: 'string' },
  loss: { type: 'string', default: 'mse' },
  probes: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  tol: { type: 'string' },
  'memory-mib': { type: 'string' },
  lean: { type: 'boolean', default: false },
} as const;

function spectrumParams(values: Record<string, string | boolean | undefined>): Omit<SpectrumParams, 'model'> {
  const split = values.split as string;
  if (split !== 'train' && split !== 'all') throw new UsageError(`--split must be train or all (got "${split}")`);
  const method = values.method as string;
  if (!['auto', 'dense', 'lanczos'].includes(method)) throw new UsageError(`--method must be auto, dense or lanczos (got "${method}")`);
  const loss = values.loss as string;
  if (loss !== 'mse' && loss !== 'kl') throw new UsageError(`--loss must be mse or kl (got "${loss}")`);
  const mib = num('memory-mib', values['memory-mib'] as string | undefined);
  if (mib !== undefined && !(mib >= 1)) throw new UsageError(`--memory-mib must be at least 1 (got "${String(values['memory-mib'])}")`);
  return {
    split, method: method as SpectrumParams['method'], loss,
    k: int('k', values.k as string | undefined), probes: int('probes', values.probes as string | undefined),
    steps: int('steps', values.steps as string | undefined), seed: int('seed', values.seed as string | undefined) ?? 0,
    tol: num('tol', values.tol as string | undefined),
    memoryBudgetBytes: mib === undefined ? undefined : mib * 2 ** 20,
    lean: values.lean === true,
  };
}

async function cmdSpectrum(args: string[]) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: SPECTRUM_OPTIONS });
  const m = await readModel(positionals[0]);
  const r = await runSpectrum({ model: m, ...spectrumParams(values), probes: 0, projection: false }, stderrContext('spectrum'), env);
  return {
    d: r.d, n: r.n, method: r.method, loss: r.loss, split: r.split,
    eigenvalues: Array.from(r.eigenvalues), residuals: Array.from(r.residuals, (x) => (Number.isFinite(x) ? x : null)),
    above_noise_floor: r.aboveFloor, trace: r.trace ?? null, storage: r.storage ?? null, matvecs: r.matvecs, timings_ms: r.timings,
  };
}

async function cmdDensity(args: string[]) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { ...SPECTRUM_OPTIONS, method: { type: 'string', default: 'lanczos' }, k: { type: 'string', default: '20' }, points: { type: 'string', default: '121' } } });
  const m = await readModel(positionals[0]);
  const r = await runSpectrum({ model: m, ...spectrumParams(values), projection: false }, stderrContext('density'), env);
  const pos = Array.from(r.eigenvalues).filter((v) => v > 0);
  const hi = Math.ceil(Math.log10(pos[0] ?? 1)) + 1;
  const lo = hi - 12;
  const points = int('points', values.points as string) ?? 121;
  const grid = Float64Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
  const { density, belowFloor } = logDensity(r, grid, 0.06, 10 ** lo);
  const curve = Array.from(grid, (g) => {
    const c = d1At(r, 10 ** g);
    return { eps: 10 ** g, d1: c.value, d1_lo: c.lo, d1_hi: c.hi, source: c.source, llc_bounds: llcBounds(r.d, c.value) };
  });
  return {
    d: r.d, n: r.n, method: r.method, loss: r.loss,
    density: { log10_h: Array.from(grid), per_decade: Array.from(density), below_floor: belowFloor, floor: 10 ** lo },
    d1_curve: curve, top_eigenvalues: Array.from(r.eigenvalues), trace: r.trace ?? null, timings_ms: r.timings,
  };
}

async function cmdProject(args: string[]) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { ...SPECTRUM_OPTIONS, k: { type: 'string' }, cutoff: { type: 'string', default: '0.995' } } });
  const ks = list('k', values.k as string | undefined);
  if (!ks) throw new UsageError('--k K1,K2,… is required (the numbers of top eigenvectors to keep)');
  const m = await readModel(positionals[0]);
  const p = spectrumParams({ ...values, k: String(Math.max(...ks)) });
  const r = await runSpectrum({ model: m, ...p, probes: 0, traceProbes: 0, projectionKs: ks }, stderrContext('project'), env);
  const curve = r.projection!;
  const cutoff = num('cutoff', values.cutoff as string) ?? 0.995;
  const cut = cutoffK(curve, { cutoff, kRef: r.aboveFloor });
  const row = (pt: ProjectionPoint) => (curve.metric === 'accuracy'
    ? { k: pt.k, train_accuracy: pt.trainAcc ?? null, test_accuracy: Number.isFinite(pt.testAcc ?? NaN) ? pt.testAcc : null, train_loss: pt.trainLoss, test_loss: Number.isFinite(pt.testLoss) ? pt.testLoss : null }
    : { k: pt.k, train_mse: pt.trainLoss, test_mse: Number.isFinite(pt.testLoss) ? pt.testLoss : null });
  return {
    d: r.d, method: r.method, metric: curve.metric, original: row(curve.original), points: curve.points.map(row),
    cutoff, k_star: cut.kStar, eps_star: cut.kStar ? r.eigenvalues[cut.kStar - 1] : null,
  };
}

async function internalsOf(args: string[], extra: Record<string, { type: 'string'; default?: string }> = {}) {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { tol: { type: 'string', default: '0' }, measure: { type: 'string', default: 'fraction' }, split: { type: 'string', default: 'train' }, ...extra } });
  const measure = values.measure as string;
  if (measure !== 'fraction' && measure !== 'eq17') throw new UsageError(`--measure must be fraction or eq17 (got "${measure}")`);
  const split = values.split as string;
  if (split !== 'train' && split !== 'all') throw new UsageError(`--split must be train or all (got "${split}")`);
  const m = await readModel(positionals[0]);
  const r = await runInternals({ model: m, tol: num('tol', values.tol as string), measure, split }, stderrContext('internals'), env);
  return { r, values: values as Record<string, string | undefined> };
}

async function cmdSync(args: string[]) {
  const { r } = await internalsOf(args);
  return {
    tol: r.sync.tol, measure: r.sync.measure, n: r.sync.n, note: r.sync.note ?? null,
    layers: r.sync.layers.map((l) => ({
      name: l.name, width: l.width, blocks: l.blocks, block_ranks: l.blockRanks, free_directions: l.freeDirections,
      dead: l.dead, always_on: l.alwaysOn, firing_fraction: Array.from(l.firingFraction),
    })),
  };
}

async function cmdGrams(args: string[]) {
  const { r, values } = await internalsOf(args, { eps: { type: 'string', default: '1e-3' } });
  const eps = num('eps', values.eps)!;
  const pred = predictedZeroCount(r.grams, r.sync, eps);
  return {
    eps, n: r.grams.n,
    layers: r.grams.layers.map((l) => ({ name: l.name, in: l.inSize, out: l.outSize, bias: l.bias, G_eigenvalues: Array.from(l.gEigen), K_eigenvalues: Array.from(l.kEigen), M_eigenvalues: Array.from(l.mEigen) })),
    predicted: { rows: pred.rows, total: pred.total, dedup_total: pred.dedupTotal, covered: pred.covered, uncovered: pred.uncovered, notes: pred.notes },
    interaction_basis: r.interaction.layers.map((l) => ({ name: l.name, width: l.width, rank_G: l.rankG, basis_size: l.basisSize })),
    interaction_edges: r.interaction.edges.map((e) => ({ from: e.from, to: e.to, gini_neuron: e.neuron.gini, gini_interaction: e.interaction.gini, top10_neuron: e.neuron.top10, top10_interaction: e.interaction.top10 })),
  };
}

async function cmdFourier(args: string[]) {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const m = await readModel(positionals[0]);
  if (m.config.arch !== 'modadd' && m.config.arch !== 'modadd-gelu') throw new UsageError(`fourier needs a modular-addition model (got ${m.config.arch})`);
  const f = fourierAnalysis(m);
  return {
    p: f.p, e: f.e, frequencies: Array.from(f.frequencies), norms: Array.from(f.norms), energy_fraction: Array.from(f.energyFraction),
    key_frequencies: f.keyFrequencies, key_energy_fraction: f.keyEnergyFraction, circuits: f.circuits,
    circles: f.circles.map((c) => ({ k: c.k, circularity: c.circularity, mean_radius: c.meanRadius })),
  };
}

const COMMANDS: Record<string, (args: string[]) => Promise<unknown>> = {
  llc: cmdLlc, 'llc-curve': cmdLlcCurve, 'llc-checkpoints': cmdLlcCheckpoints, 'llc-sweep': cmdLlcSweep,
  info: cmdInfo, eval: cmdEval, train: cmdTrain, spectrum: cmdSpectrum, density: cmdDensity, project: cmdProject,
  sync: cmdSync, grams: cmdGrams, fourier: cmdFourier,
};

async function main(argv: string[]): Promise<number> {
  // Library chatter must not corrupt the JSON on stdout.
  console.log = (...a: unknown[]) => console.error(...a);
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stderr.write(`${USAGE}\n`);
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    process.stderr.write(`slt: unknown command "${cmd}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const info = await initBackend('wasm');
    process.stderr.write(`[slt] backend ${info.summary}\n`);
    const out = await run(rest);
    await writeStdout(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError || (e instanceof Error && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`slt ${cmd}: ${msg}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`slt ${cmd}: ${isBadInput(e) ? '' : 'error: '}${msg}\n`);
    return 1;
  }
}

/**
 * Write and wait until the bytes are handed to the OS: process.exit right after a plain write
 * drops everything past the pipe's buffer (64 KiB) when stdout is a pipe, which is asynchronous
 * in Node.
 */
function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

main(process.argv.slice(2)).then((code) => process.exit(code));
