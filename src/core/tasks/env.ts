import type { AssetReader } from '../data/spec';
import type { Dataset } from '../data/types';
import { loadDataset } from '../data/index';
import type { ModelBundle } from '../models/bundle';

/** What a task may use from where it runs (the worker shell, the CLI, a test). */
export interface TaskEnv {
  readAsset: AssetReader;
}

/**
 * The dataset of a model: its DataSpec's dataset, with the split or the inputs a model file
 * carried (data.train_idx, data.x / data.y) taking precedence.
 */
export async function datasetFor(model: ModelBundle, env: TaskEnv): Promise<Dataset> {
  const base = await loadDataset(model.data, env.readAsset);
  if (model.dataX && model.dataY) {
    const n = model.dataX.length / base.inputDim;
    const all = Int32Array.from({ length: n }, (_, i) => i);
    return { ...base, label: `${base.label} (inputs from the model file)`, n, x: model.dataX, y: model.dataY, trainIdx: all, testIdx: new Int32Array(0) };
  }
  if (model.trainIdx) {
    const inTrain = new Uint8Array(base.n);
    for (const i of model.trainIdx) inTrain[i] = 1;
    const testIdx = Int32Array.from({ length: base.n }, (_, i) => i).filter((i) => !inTrain[i]);
    return { ...base, label: `${base.label} (split from the model file)`, trainIdx: Int32Array.from(model.trainIdx).sort(), testIdx };
  }
  return base;
}
