/**
 * The step workloads that bench/kernels.ts and bench/threads.ts time with their own A/B switches:
 * a block of training steps per architecture (its recipe) and a chain of plain SGLD draws (batch
 * 512, one draw a step) on modadd and MNIST, all on the shipped models.
 */
import { readFileSync } from 'node:fs';
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
import { nodeAssetReader } from '../src/node/assets';

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
    const trainer = new Trainer(model, ds, { ...DEFAULT_RECIPES[arch], evalEvery: 0, checkpointEvery: 0 });
    const per = arch === 'modadd' ? 30 : arch === 'modadd-gelu' ? 80 : 400;
    try {
      for (let i = 0; i < 5; i++) await trainer.step();
      await visit({
        what: `train ${arch}`, arch, batch: DEFAULT_RECIPES[arch].batchSize, count: per,
        run: async () => { for (let i = 0; i < per; i++) await trainer.step(); await trainer.lastBatchLoss(); },
      });
    } finally {
      trainer.dispose();
    }
    if (arch !== 'modadd' && arch !== 'mnist-mlp') continue;
    const target = modelTarget(model, ds, 'train');
    const k: LangevinKernel = { target, nBeta: 300, gamma: 100, eps: 3e-5, gHat: null };
    const w = tf.variable(target.wStar, false, undefined, 'float32') as tf.Variable<tf.Rank.R1>;
    const rng = makeRng(1);
    const xi = new Float32Array(target.d);
    const draws = 40;
    try {
      await visit({
        what: `SGLD ${arch}`, arch, batch: 512, count: draws,
        run: async () => {
          let last: tf.Tensor | null = null;
          for (let i = 0; i < draws; i++) {
            rng.fillNormal(xi);
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
      target.dispose();
    }
  }
}
