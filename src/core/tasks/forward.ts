/**
 * The first end-to-end analysis: run f_θ over a split of the model's data in chunks, report
 * loss and accuracy (MSE for matfac), the output values, and the firing fraction of each
 * first-layer ReLU neuron (a first look at the firing patterns of docs/science.md §6).
 */
import * as tf from '@tensorflow/tfjs';
import type { JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { isClassifier, layoutFor, outputDim } from '../models/config';
import { forwardTrace, inputTensor } from '../models/forward';
import { getArchSpec } from '../arch/registry';
import { gatherRows, splitIndices, type Split } from '../data/types';
import type { TaskEnv } from './env';
import { datasetFor } from './env';

export interface ForwardParams {
  model: ModelBundle;
  split: Split;
  /** Rows per chunk (default: adaptive, about 60 ms of work each). */
  chunkSize?: number;
  /** Repeat the whole pass this many times (a throughput measurement; default 1). */
  repeats?: number;
}

export interface ForwardResult {
  split: Split;
  n: number;
  outDim: number;
  /** f_θ(x) for every row of the split, row-major [n, outDim]. */
  outputs: Float32Array;
  /** Mean training loss on the split: cross-entropy for classifiers, MSE for matfac. */
  loss: number;
  accuracy?: number;
  /** Per neuron of the first hidden ReLU layer: fraction of rows where it fires (p > 0). */
  firing?: Float32Array;
  backend: string;
  /** Wall time of the passes, and rows per second. */
  ms: number;
  rowsPerSecond: number;
}

const TARGET_MS = 60;
const START_CHUNK = 256;
const MAX_CHUNK = 4096;

export async function runForward(p: ForwardParams, ctx: JobContext, env: TaskEnv): Promise<ForwardResult> {
  const { config, theta } = p.model;
  ctx.progress(0, 'loading data');
  const ds = await datasetFor(p.model, env);
  const idx = splitIndices(ds, p.split);
  const n = idx.length;
  if (n === 0) throw new Error(`The ${p.split} split of ${ds.label} is empty`);
  const outDim = outputDim(config);
  const repeats = Math.max(1, p.repeats ?? 1);
  const layout = layoutFor(config);
  const classifier = isClassifier(config);
  const relu = getArchSpec(config.arch).reluLayers(config).length > 0;

  const thetaT = tf.tensor1d(theta);
  const outputs = new Float32Array(n * outDim);
  let firingCounts: Float64Array | undefined;
  let lossSum = 0;
  let correct = 0;
  const t0 = performance.now();
  try {
    // Chunks start at 256 rows and double while they take under TARGET_MS/2 (unless a size is
    // given): short enough that a cancel is seen quickly (one GPU read cannot be interrupted),
    // long enough to keep the device busy.
    let size = p.chunkSize ?? START_CHUNK;
    for (let r = 0; r < repeats; r++) {
      for (let start = 0; start < n; ) {
        await ctx.checkpoint();
        const rows = idx.subarray(start, Math.min(n, start + size));
        const m = rows.length;
        const tChunk = performance.now();
        const xs = gatherRows(ds.x, ds.inputDim, rows);
        const ys = gatherRows(ds.y, classifier ? 1 : outDim, rows);
        const { outT, fireT } = tf.tidy(() => {
          const tr = forwardTrace(config, thetaT, inputTensor(xs, m, ds.inputDim), layout);
          const fire = relu && tr.pre.length ? tf.sum(tf.cast(tf.greater(tr.pre[0], 0), 'float32'), 0) : undefined;
          return { outT: tr.out, fireT: fire };
        });
        const out = (await outT.data()) as Float32Array;
        const fire = fireT ? ((await fireT.data()) as Float32Array) : null;
        tf.dispose(fireT ? [outT, fireT] : [outT]);
        if (r === repeats - 1) {
          outputs.set(out, start * outDim);
          if (fire) {
            firingCounts ??= new Float64Array(fire.length);
            for (let i = 0; i < fire.length; i++) firingCounts[i] += fire[i];
          }
          // Loss and accuracy in Float64 on the host, from the outputs just read.
          for (let i = 0; i < m; i++) {
            const row = out.subarray(i * outDim, (i + 1) * outDim);
            if (classifier) {
              const label = ys[i];
              let max = -Infinity, arg = 0;
              for (let k = 0; k < outDim; k++) if (row[k] > max) { max = row[k]; arg = k; }
              let z = 0;
              for (let k = 0; k < outDim; k++) z += Math.exp(row[k] - max);
              lossSum += Math.log(z) + max - row[label];
              if (arg === label) correct++;
            } else {
              for (let k = 0; k < outDim; k++) { const e = row[k] - ys[i * outDim + k]; lossSum += e * e; }
            }
          }
        }
        start += m;
        ctx.progress((r * n + start) / (repeats * n), repeats > 1 ? `forward pass ${r + 1}/${repeats}` : 'forward pass');
        if (p.chunkSize === undefined) {
          const dt = Math.max(1, performance.now() - tChunk);
          // Grow only, by doubling: the first chunk of a new shape includes compiling its GPU
          // pipelines, so a slow chunk says little, and every new shape compiles again.
          if (dt < TARGET_MS / 2 && size < MAX_CHUNK && start < n) size *= 2;
        }
      }
    }
  } finally {
    thetaT.dispose();
  }
  const ms = performance.now() - t0;
  return {
    split: p.split,
    n,
    outDim,
    outputs,
    loss: classifier ? lossSum / n : lossSum / (n * outDim),
    accuracy: classifier ? correct / n : undefined,
    firing: firingCounts ? Float32Array.from(firingCounts, (v) => v / n) : undefined,
    backend: tf.getBackend(),
    ms,
    rowsPerSecond: (n * repeats) / (ms / 1000),
  };
}
