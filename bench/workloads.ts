/**
 * What bench/kernels.ts and bench/threads.ts share: the A/B timer that alternates a switch, and the
 * step workloads they time with it — a block of training steps per architecture (its recipe) and
 * a chain of plain SGLD draws (batch 512, one draw a step) on modadd and MNIST, on the shipped models,
 * each built twice (our kernels on: the whole-step engines; off: the tfjs passes), run as the switch says.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeModelFile } from '../src/core/io/modelFile';
import { sgldStep, type LangevinKernel } from '../src/core/llc/langevin';
import { modelTarget } from '../src/core/llc/target';
import type { ArchId } from '../src/core/models/config';
import { makeRng } from '../src/core/rng';
import { datasetFor } from '../src/core/tasks/env';
import { DEFAULT_RECIPES } from '../src/core/train/recipes';
import { Trainer } from '../src/core/train/trainer';
import { fusedKernelsEnabled, setFusedKernelsEnabled } from '../src/core/train/wasmKernels';
import { nodeAssetReader } from '../src/node/assets';
import { median } from '../src/core/bench/measure';
import { log, type Json } from './helpers';

/**
 * Times `run` alternately with `toggle(true)` and `toggle(false)` (so both see the same machine
 * load), after one warm-up of each; medians in ms, and off/on. Leaves the switch on.
 */
export async function alternate(run: () => Promise<void> | void, reps: number, toggle: (on: boolean) => void): Promise<{ on: number; off: number; ratio: number }> {
  const t: { on: number[]; off: number[] } = { on: [], off: [] };
  for (let r = 0; r < 2 * reps + 2; r++) {
    const on = r % 2 === 0;
    toggle(on);
    const t0 = performance.now();
    await run();
    if (r >= 2) t[on ? 'on' : 'off'].push(performance.now() - t0);
  }
  toggle(true);
  const on = median(t.on), off = median(t.off);
  return { on, off, ratio: off / on };
}

/** `make()` with our kernels switched on and with them off (the switch is left on). */
function both<T>(make: () => T): { on: T; off: T } {
  setFusedKernelsEnabled(false);
  try {
    const off = make();
    setFusedKernelsEnabled(true);
    return { on: make(), off };
  } finally {
    setFusedKernelsEnabled(true);
  }
}

/** The one of the pair the switch selects now. */
function pick<T>(pair: { on: T; off: T }): T {
  return fusedKernelsEnabled() ? pair.on : pair.off;
}

export interface StepWorkload {
  /** "train modadd", "SGLD mnist-mlp", … */
  what: string;
  arch: ArchId;
  batch: number | 'full';
  /** Steps (training) or draws (SGLD) one `run` does. */
  count: number;
  run(): Promise<void>;
}

/**
 * Calls `visit` with each workload in turn (training for the four architectures, SGLD after modadd's
 * and MNIST's), disposing its tensors afterwards. `root` is the repository root.
 */
export async function forEachStepWorkload(root: string, visit: (w: StepWorkload) => Promise<void>): Promise<void> {
  const env = { readAsset: nodeAssetReader() };
  for (const arch of ['modadd', 'modadd-gelu', 'mnist-mlp', 'matfac'] as ArchId[]) {
    const model = decodeModelFile(new Uint8Array(readFileSync(join(root, 'public', 'models', `${arch}.safetensors`))), { name: arch });
    const ds = await datasetFor(model, env);
    // One Trainer built with our kernels on (the whole-step engine where one applies) and one with
    // them off: a Trainer picks its engine when it is built, so `run` takes the one the switch
    // (setFusedKernelsEnabled) selects at the time of the call.
    const trainers = both(() => new Trainer(model, ds, { ...DEFAULT_RECIPES[arch], evalEvery: 0, checkpointEvery: 0 }));
    const per = arch === 'modadd' ? 30 : arch === 'modadd-gelu' ? 80 : 400;
    try {
      for (const t of [trainers.on, trainers.off]) for (let i = 0; i < 5; i++) await t.step();
      await visit({
        what: `train ${arch}`, arch, batch: DEFAULT_RECIPES[arch].batchSize, count: per,
        run: async () => { const trainer = pick(trainers); for (let i = 0; i < per; i++) await trainer.step(); await trainer.lastBatchLoss(); },
      });
    } finally {
      trainers.on.dispose();
      trainers.off.dispose();
    }
    if (arch !== 'modadd' && arch !== 'mnist-mlp') continue;
    const targets = both(() => modelTarget(model, ds, 'train'));
    const target = targets.on;
    const w = tf.variable(target.wStar, false, undefined, 'float32') as tf.Variable<tf.Rank.R1>;
    const rng = makeRng(1);
    const xi = new Float32Array(target.d);
    const draws = 40;
    // With our kernels on, the draws run as the sampler runs them there: the chain held in the
    // target's resident engine (llc/chain.ts), w staying there between draws.
    const native = target.native;
    native?.start();
    try {
      await visit({
        what: `SGLD ${arch}`, arch, batch: 512, count: draws,
        run: async () => {
          if (native && fusedKernelsEnabled()) {
            for (let i = 0; i < draws; i++) native.step(Int32Array.from({ length: 512 }, () => rng.int(target.n)), rng, { nBeta: 300, gamma: 100, eps: 3e-5 });
            return;
          }
          let last: tf.Tensor | null = null;
          for (let i = 0; i < draws; i++) {
            rng.fillNormal(xi);
            const k: LangevinKernel = { target: pick(targets), nBeta: 300, gamma: 100, eps: 3e-5, gHat: null };
            const st = sgldStep(k, w, Int32Array.from({ length: 512 }, () => rng.int(target.n)), xi, null);
            last?.dispose();
            last = st.stats;
          }
          await last?.data();
          last?.dispose();
        },
      });
    } finally {
      tf.dispose(w);
      targets.on.dispose();
      targets.off.dispose();
    }
  }
}

/** Stamps `doc` with the load average and seconds since `started`, writes bench/results/<file>, says so. */
export function writeResults(root: string, file: string, doc: Json, started: Date): void {
  doc.loadavgAtEnd = loadavg();
  doc.totalS = Math.round((Date.now() - started.getTime()) / 1e3);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', file), `${JSON.stringify(doc, null, 2)}\n`);
  log(`written to bench/results/${file} (${String(doc.totalS)} s)`);
}
