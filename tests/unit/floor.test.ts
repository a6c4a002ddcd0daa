/**
 * The float32 floor estimate (src/core/spectrum/floor.ts) against the measured error of the
 * float32 H·v product: the reference is (2/n)·Jᵀ(J·v) in Float64 from the dense Jacobian, on a
 * small modadd and on matfac at seeded parameters.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { gaussNewtonOperator, jacobianDense } from '../../src/core/hessian/gn';
import { outputDim, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import type { ModelBundle } from '../../src/core/models/bundle';
import { matfacDataset } from '../../src/core/data/matfac';
import { modAddDataset } from '../../src/core/data/modadd';
import type { Dataset } from '../../src/core/data/types';
import type { DataSpec } from '../../src/core/data/spec';
import { float32Floor, unitF32 } from '../../src/core/spectrum/floor';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

const spec: DataSpec = { kind: 'matfac', inDim: 1, outDim: 1, nTrain: 1, seed: 0 };
const cases: [string, ModelConfig, Dataset, number][] = [
  ['modadd p=11', { arch: 'modadd', p: 11, e: 6, h: 12 }, modAddDataset({ p: 11, trainFraction: 0.6, seed: 1 }), 5],
  ['matfac', { arch: 'matfac', widths: [6, 5, 7] }, matfacDataset({ inDim: 6, outDim: 7, nTrain: 20, seed: 3 }), 8],
];

describe.each(cases)('%s', (_name, config, dataset, seed) => {
  test('the floor estimate brackets the measured |float32 − Float64| product error', async () => {
    const theta = initParams(config, seed);
    const model: ModelBundle = { name: 'floor', config, theta, data: spec };
    const rows = dataset.trainIdx;
    const n = rows.length, d = theta.length, m = n * outputDim(config);
    const J = await jacobianDense(model, dataset, rows);
    const op = await gaussNewtonOperator(model, dataset, rows);
    try {
      const est = await float32Floor(op, { probes: 3, seed: 11 });
      // Measured error on other seeded unit vectors.
      const measured: number[] = [];
      for (let s = 0; s < 5; s++) {
        const v = unitF32(d, 500 + s);
        const Jv = new Float64Array(m);
        for (let r = 0; r < m; r++) { let t = 0; for (let c = 0; c < d; c++) t += J[r * d + c] * v[c]; Jv[r] = t; }
        const got = await op.applyF32(v);
        let e2 = 0;
        for (let c = 0; c < d; c++) {
          let t = 0;
          for (let r = 0; r < m; r++) t += J[r * d + c] * Jv[r];
          const e = got[c] - (2 / n) * t;
          e2 += e * e;
        }
        measured.push(Math.sqrt(e2));
      }
      const worst = Math.max(...measured), best = Math.min(...measured);
      console.log(_name, 'd', d, 'floor', est.floor, 'probes', est.probes, 'measured', measured);
      expect(worst).toBeLessThanOrEqual(est.floor);
      expect(best).toBeGreaterThan(0);
      // Not vacuous: the floor is within a factor 30 of what is measured.
      expect(est.floor).toBeLessThan(30 * best);
    } finally {
      op.dispose();
    }
  });
});
