/** Building a fresh model in the worker: validated sizes, seeded PyTorch-style initialisation. */
import type { JobContext } from '../jobs';
import type { DataSpec } from '../data/spec';
import { defaultDataSpec } from '../data/spec';
import type { ModelBundle } from '../models/bundle';
import { describeConfig, validateConfig, type ModelConfig } from '../models/config';
import { initParams } from '../models/init';
import { BadInputError } from '../errors';

export interface InitModelParams {
  config: ModelConfig;
  seed: number;
  data?: DataSpec;
}

export async function runInitModel(p: InitModelParams, ctx: JobContext): Promise<ModelBundle> {
  const errs = validateConfig(p.config);
  if (errs.length) throw new BadInputError(`Cannot build ${p.config.arch}: ${errs.join('; ')}`);
  ctx.progress(0, 'initialising parameters');
  const theta = initParams(p.config, p.seed);
  ctx.progress(1, 'done');
  return {
    name: `${describeConfig(p.config)} (init seed ${p.seed})`,
    config: p.config,
    theta,
    data: p.data ?? defaultDataSpec(p.config),
    metadata: { source: `initialised with seed ${p.seed}` },
  };
}
