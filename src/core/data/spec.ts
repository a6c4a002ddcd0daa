/**
 * What data a model is analysed on, as a small serialisable description. Datasets are built
 * (or loaded) from a spec inside the core; only the spec travels in messages, URLs and files.
 */
import type { ModelConfig } from '../models/config';

export type DataSpec =
  | { kind: 'modadd'; p: number; trainFraction: number; seed: number; op: 'sum' | 'random' }
  | { kind: 'mnist'; source: 'builtin' }
  /** Digits the user dropped in as IDX files, registered under `key` (registerUserDataset in ./index). */
  | { kind: 'mnist'; source: 'idx'; key: string }
  | { kind: 'matfac'; inDim: number; outDim: number; nTrain: number; seed: number };

/**
 * Reads an asset shipped under public/ (e.g. "data/mnist-10k.bin"): fetch() in the browser and
 * the worker, fs in Node. Injected so the core never assumes where it runs.
 */
export type AssetReader = (path: string) => Promise<Uint8Array>;

/** The train fraction of the default modular-addition split (2,247 of 2,809 pairs at p = 53). */
export const DEFAULT_TRAIN_FRACTION = 0.8;

/** The data a model of this architecture is trained and analysed on when nothing else is said. */
export function defaultDataSpec(config: ModelConfig, seed = 0): DataSpec {
  switch (config.arch) {
    case 'modadd':
    case 'modadd-gelu':
      return { kind: 'modadd', p: config.p, trainFraction: DEFAULT_TRAIN_FRACTION, seed, op: 'sum' };
    case 'mnist-mlp':
      return { kind: 'mnist', source: 'builtin' };
    case 'matfac': {
      const inDim = config.widths[0];
      return { kind: 'matfac', inDim, outDim: config.widths[config.widths.length - 1], nTrain: inDim, seed };
    }
  }
}
