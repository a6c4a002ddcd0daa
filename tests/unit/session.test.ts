import { expect, test } from 'vitest';
import { decodeSession, encodeSession, SessionFileError } from '../../src/core/io/session';
import { initParams } from '../../src/core/models/init';
import { defaultDataSpec } from '../../src/core/data/spec';
import type { ModelConfig } from '../../src/core/models/config';
import type { TrainOptions } from '../../src/core/train/options';

const RECIPE: TrainOptions = { optimizer: 'sgd', lr: 0.01, weightDecay: 1e-3, batchSize: 32, steps: 100, seed: 0, momentum: 0.9, schedule: 'cosine', evalEvery: 10, checkpointEvery: 50 };

const config: ModelConfig = { arch: 'matfac', widths: [3, 2, 3] };
const model = { name: 'm', config, theta: initParams(config, 1), data: defaultDataSpec(config) };

test('a session round-trips exactly: model, run with checkpoints, spectrum with SLQ, settings', () => {
  const s = {
    settings: { arch: 'matfac', eps: 1e-3, view: 'spectrum' },
    model,
    run: { baseName: 'm', opts: RECIPE, history: [{ step: 0, trainLoss: 1, testLoss: 2 }, { step: 10, trainLoss: NaN, testLoss: 0.5, trainAcc: 0.5, testAcc: 1 }], checkpoints: [{ step: 0, theta: initParams(config, 2) }, { step: 10, theta: initParams(config, 3) }] },
    spectrum: { info: { d: 12, method: 'lanczos' }, eigenvalues: Float64Array.from([3, 2, 1e-300]), residuals: Float64Array.from([1e-9, NaN, 0]), slq: { nodes: [Float64Array.from([1, 0.5])], weights: [Float64Array.from([0.25, 0.75])] } },
  };
  const back = decodeSession(encodeSession(s));
  expect(back.settings).toEqual(s.settings);
  expect(back.model!.theta).toEqual(model.theta);
  expect(back.model!.config).toEqual(config);
  expect(back.run!.checkpoints.map((c) => c.step)).toEqual([0, 10]);
  expect(back.run!.checkpoints[1].theta).toEqual(s.run.checkpoints[1].theta);
  expect(back.run!.history).toEqual(s.run.history); // NaN (JSON null) comes back as NaN
  expect(back.run!.opts).toEqual(RECIPE);
  expect(Array.from(back.spectrum!.eigenvalues)).toEqual([3, 2, 1e-300]);
  expect(Number.isNaN(back.spectrum!.residuals[1])).toBe(true);
  expect(Array.from(back.spectrum!.slq!.weights[0])).toEqual([0.25, 0.75]);
});

test('malformed or foreign files are refused with a reason', () => {
  const good = encodeSession({ settings: {}, model, run: null, spectrum: null });
  expect(() => decodeSession(good.subarray(0, good.length - 5))).toThrow(SessionFileError);
  expect(() => decodeSession(new Uint8Array([1, 2, 3]))).toThrow(/Not a session file/);
});

test('eigenvector loadings travel with the spectrum; inconsistent ones are refused', async () => {
  const { eigenLoadings } = await import('../../src/core/spectrum/loadings');
  const { layoutFor } = await import('../../src/core/models/config');
  const d = layoutFor(config).size;
  const loadings = await eigenLoadings(config, (i) => Float64Array.from({ length: d }, (_, q) => Math.sin(1 + q * (i + 1))), 3);
  const spectrum = { info: { d }, eigenvalues: Float64Array.from([3, 2, 1]), residuals: new Float64Array(3), loadings };
  const back = decodeSession(encodeSession({ settings: {}, model, run: null, spectrum }));
  expect(back.spectrum!.loadings!.layers).toEqual(loadings.layers);
  expect(back.spectrum!.loadings!.tensors).toEqual(loadings.tensors);
  expect(back.spectrum!.loadings!.perUnit).toEqual(loadings.perUnit);
  expect(back.spectrum!.loadings!.perTensor).toEqual(loadings.perTensor);
  // A share outside [0, 1] and a layer list that does not add up to the units are refused.
  const broken = { ...loadings, perUnit: loadings.perUnit.map((v, i) => (i === 4 ? 7 : v)) };
  expect(() => decodeSession(encodeSession({ settings: {}, model, run: null, spectrum: { ...spectrum, loadings: broken } }))).toThrow(/loadings are malformed: spectrum.loadings.perUnit element 4 is 7/);
  const short = { ...loadings, units: loadings.units + 1, perUnit: new Float32Array(3 * (loadings.units + 1)) };
  expect(() => decodeSession(encodeSession({ settings: {}, model, run: null, spectrum: { ...spectrum, loadings: short } }))).toThrow(/layers hold 2 units, not 3/);
});

test('a session run\'s recipe and history are checked field by field, and a bad one is refused by name', () => {
  const withRun = (opts: unknown, history: unknown) => encodeSession({ settings: {}, model, run: { baseName: 'm', opts: opts as TrainOptions, history: history as never, checkpoints: [] }, spectrum: null });
  const ok = [{ step: 0, trainLoss: 1, testLoss: 2 }];
  expect(() => decodeSession(withRun({ ...RECIPE, lr: -1 }, ok))).toThrow(/recipe is invalid: learning rate must be a positive number \(got -1\)/);
  expect(() => decodeSession(withRun({ ...RECIPE, optimizer: 'lbfgs' }, ok))).toThrow(/optimizer must be "adamw" or "sgd"/);
  expect(() => decodeSession(withRun('adamw', ok))).toThrow(/no recipe/);
  expect(() => decodeSession(withRun(RECIPE, [{ step: 0, trainLoss: 'low', testLoss: 2 }]))).toThrow(/history entry 0 is malformed: trainLoss is not a number/);
  expect(() => decodeSession(withRun(RECIPE, [{ step: 1.5, trainLoss: 1, testLoss: 2 }]))).toThrow(/history entry 0 is malformed: step/);
  expect(() => decodeSession(withRun(RECIPE, [ok[0], { step: 5, trainLoss: 1, testLoss: 2, testAcc: 3 }]))).toThrow(/history entry 1 is malformed: testAcc is not a fraction/);
  // Unknown recipe fields are dropped, known ones kept.
  const back = decodeSession(withRun({ ...RECIPE, extra: 'x' }, ok));
  expect(back.run!.opts).toEqual(RECIPE);
});
