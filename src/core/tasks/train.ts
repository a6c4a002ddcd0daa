/**
 * Training as a job: streams metrics and θ snapshots as partial results (θ copies are
 * transferred, not cloned), pauses / resumes / single-steps through the job's pause gate, and
 * returns the trained model. Deterministic for a given seed on the same backend.
 */
import { getBackend } from '@tensorflow/tfjs';
import type { JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { BadInputError } from '../errors';
import { runTraining, validateTrainOptions, type Metrics, type TrainOptions } from '../train/trainer';
import { datasetFor, type TaskEnv } from './env';
import { describeRecipe } from '../train/describe';

export interface TrainParams {
  model: ModelBundle;
  opts: TrainOptions;
}

export type TrainPartial =
  | { kind: 'metrics'; metrics: Metrics }
  | { kind: 'checkpoint'; step: number; theta: Float32Array };

export interface TrainResult {
  model: ModelBundle;
  history: Metrics[];
  checkpoints: number[];
  backend: string;
}

export async function runTrain(p: TrainParams, ctx: JobContext<TrainPartial>, env: TaskEnv): Promise<TrainResult> {
  const errs = validateTrainOptions(p.opts);
  if (errs.length) throw new BadInputError(`Cannot train: ${errs.join('; ')}`);
  ctx.progress(0, 'loading data');
  const ds = await datasetFor(p.model, env);
  const r = await runTraining(p.model, ds, p.opts, ctx, {
    onMetrics: (metrics) => ctx.partial({ kind: 'metrics', metrics }),
    onCheckpoint: (step, theta) => ctx.partial({ kind: 'checkpoint', step, theta }),
    waitWhilePaused: () => ctx.waitIfPaused(),
  });
  const last = r.history[r.history.length - 1];
  const fmt = (v: number | undefined) => (v === undefined ? '' : v.toPrecision(4));
  return {
    model: {
      ...p.model,
      name: `${p.model.name.replace(/ \(init seed \d+\)$/, '')} trained`,
      theta: r.theta,
      metadata: {
        ...p.model.metadata,
        recipe: describeRecipe(p.opts),
        ...(last ? { train_loss: fmt(last.trainLoss), test_loss: fmt(last.testLoss), train_acc: fmt(last.trainAcc), test_acc: fmt(last.testAcc) } : {}),
      },
    },
    history: r.history,
    checkpoints: r.checkpoints,
    backend: getBackend(),
  };
}
