/** matfac: a bias-free deep linear network, widths = [in, h1, ..., out] (docs/science.md §1). */
import type { ArchSpec } from '../types';
import type { Transition } from '../../internals/grams';
import { checkInt } from '../common';

export interface MatfacConfig { arch: 'matfac'; widths: number[] }

/** What the training recipe must reach (the source documents' result). */
const TARGET = 'train MSE < 1e-6';

export const matfacSpec: ArchSpec<MatfacConfig> = {
  id: 'matfac',
  label: 'Matrix factorization (deep linear)',
  defaultConfig: { arch: 'matfac', widths: [20, 20, 20] },
  classifier: false,
  dataKind: 'matfac',
  // Deep linear net, 20 train inputs: Adam drives the train MSE to ~1e-9 (float32 floor ~1e-11);
  // no weight decay, which would bias the fit away from the exact factorization.
  training: {
    recipe: {
      optimizer: 'adamw', lr: 0.01, weightDecay: 0, batchSize: 'full', steps: 2000, seed: 0,
      evalEvery: 100, checkpointEvery: 100,
      note: 'Full-batch Adam (AdamW with weight decay 0), lr 0.01. Measured: train MSE 7.8e-10, test MSE 6.4e-8 at step 2000 ' +
        '(≈ 1 s on wasm).',
    },
    target: TARGET,
    missed(m) {
      if (!(m.trainLoss < 1e-6)) return `train MSE ${m.trainLoss.toExponential(2)} (target: ${TARGET})`;
      return null;
    },
  },
  sgld: {
    stepSize: 1e-3, gamma: 100,
    note: 'matfac 20-20-20 (800 params, n = 20, nβ = 6.7): full-batch MALA 0.997 / 0.92 / 0.53 at ε_s = 1e-4 / 1e-3 / 1e-2 with λ̂ 2.85 (not relaxed) / 3.24 / 4.26. ' +
      'With only 20 rows nβ = n/log n is far below γ: set nβ explicitly to probe the landscape.',
  },
  noReluNote: 'matfac is a deep linear network: no nonlinearity, so every layer is "always on" (the all-synchronized case of §3.2) and there are no firing patterns.',
  tensorSpecs: (c) => c.widths.slice(0, -1).map((w, i) => ({ name: `layers.${i}.weight`, shape: [c.widths[i + 1], w] })),
  inputDim: (c) => c.widths[0],
  outputDim: (c) => c.widths[c.widths.length - 1],
  validate(c) {
    if (!Array.isArray(c.widths) || c.widths.length < 2 || c.widths.length > 12) return ['widths must list 2 to 12 sizes (in, hidden..., out)'];
    return c.widths.map((w, i) => checkInt(`widths[${i}]`, w, 1, 1024));
  },
  describe: (c) => `matfac ${c.widths.join('-')}`,
  defaultData(c, seed) {
    const inDim = c.widths[0];
    return { kind: 'matfac', inDim, outDim: c.widths[c.widths.length - 1], nTrain: inDim, seed };
  },
  hiddenUnits: (c) => c.widths.slice(1, -1).map((w, i) => ({ name: `layers.${i}`, width: w, rows: [`layers.${i}.weight`], cols: [`layers.${i + 1}.weight`] })),
  reluLayers: () => [],
  fileSizes: (c) => ({ widths: c.widths.join(',') }),
  tensorNamesHint: 'layers.0.weight …',
  matchesTensorNames: (names) => [...names].some((n) => /^layers\.\d+\.weight$/.test(n)),
  configFromFile(r) {
    if (r.meta.widths !== undefined) return { arch: 'matfac', widths: r.sizeList('widths') };
    if (r.meta.n !== undefined && r.meta.l !== undefined) {
      const n = r.size('n');
      const l = r.size('l');
      if (l < 1 || l > 11) throw r.fail(`__metadata__ "l" must be between 1 and 11 layers (got ${l})`);
      return { arch: 'matfac', widths: new Array<number>(l + 1).fill(n) };
    }
    const last = r.maxIndex(/^layers\.(\d+)\.weight$/);
    if (last < 0) throw r.fail('Cannot tell the matfac widths: no layers.0.weight, layers.1.weight, … tensors');
    const widths = [r.dim('layers.0.weight', 1, 'widths')];
    for (let k = 0; k <= last; k++) widths.push(r.dim(`layers.${k}.weight`, 0, 'widths'));
    return { arch: 'matfac', widths };
  },
  layerChain(c, T) {
    const w = c.widths;
    const nodes = w.map((_, i) => (i === 0 ? 'input' : i === w.length - 1 ? 'output' : `layers.${i - 1}`));
    const transitions: Transition[] = [];
    for (let i = 0; i + 1 < w.length; i++) {
      transitions.push({
        name: `layers.${i}.weight`, params: [`layers.${i}.weight`], inName: nodes[i], outName: nodes[i + 1],
        inSize: w[i], outSize: w[i + 1], bias: false, activation: 'linear', W: Float64Array.from(T(`layers.${i}.weight`)), reluLayer: null,
      });
    }
    return { nodes, transitions, uncovered: [] };
  },
};
