import type { TrainOptions } from './trainer';

/** One line describing a recipe, e.g. "adamw lr=0.01 wd=1 full batch 3000 steps seed 0". */
export function describeRecipe(o: TrainOptions): string {
  const batch = o.batchSize === 'full' ? 'full batch' : `batch ${o.batchSize}`;
  return `${o.optimizer} lr=${o.lr} wd=${o.weightDecay} ${batch} ${o.steps} steps seed ${o.seed}`;
}
