import { beforeAll, describe, expect, test } from 'vitest';
import { ARCH_IDS, DEFAULT_CONFIGS } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { defaultDataSpec } from '../../src/core/data/spec';
import { matfacDataset } from '../../src/core/data/matfac';
import { createJobContext } from '../../src/core/jobs';
import { runTraining, validateTrainOptions } from '../../src/core/train/trainer';
import { DEFAULT_RECIPES, missedTarget } from '../../src/core/train/recipes';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

describe('DEFAULT_RECIPES', () => {
  test.each(ARCH_IDS.map((a) => [a]))('%s is a valid, seeded recipe with a note', (arch) => {
    const { note, ...opts } = DEFAULT_RECIPES[arch];
    expect(validateTrainOptions(opts)).toEqual([]);
    expect(opts.seed).toBe(0);
    expect(note.length).toBeGreaterThan(20);
  });

  test('missedTarget reads the targets the way the source documents state them', () => {
    const m = { step: 1, trainLoss: 0.01, testLoss: 0.02 };
    expect(missedTarget('modadd', { ...m, trainAcc: 1, testAcc: 0.995 })).toBeNull();
    expect(missedTarget('modadd', { ...m, trainAcc: 0.9996, testAcc: 1 })).toMatch(/train accuracy 99.96 %/);
    expect(missedTarget('modadd-gelu', { ...m, trainAcc: 1, testAcc: 0.98 })).toMatch(/test accuracy 98.00 %/);
    expect(missedTarget('mnist-mlp', { ...m, trainAcc: 0.99, testAcc: 0.9499 })).toMatch(/≥ 95 %/);
    expect(missedTarget('mnist-mlp', { ...m, trainAcc: 0.99, testAcc: 0.95 })).toBeNull();
    expect(missedTarget('matfac', { ...m, trainLoss: 2e-6 })).toMatch(/MSE 2.00e-6/);
    expect(missedTarget('matfac', { ...m, trainLoss: 1e-9 })).toBeNull();
  });

  test('the matfac recipe reaches train MSE < 1e-6 on the default model and data', async () => {
    const config = DEFAULT_CONFIGS.matfac;
    const data = defaultDataSpec(config, 0);
    if (data.kind !== 'matfac') throw new Error('expected a matfac spec');
    const ds = matfacDataset({ inDim: data.inDim, outDim: data.outDim, nTrain: data.nTrain, seed: data.seed });
    const { note: _note, ...opts } = DEFAULT_RECIPES.matfac;
    const r = await runTraining({ name: 'matfac', config, theta: initParams(config, 0), data }, ds, opts, createJobContext());
    const final = r.history[r.history.length - 1];
    expect(final.step).toBe(opts.steps);
    expect(missedTarget('matfac', final)).toBeNull();
  });
});
