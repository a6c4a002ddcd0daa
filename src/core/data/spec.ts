/**
 * What data a model is analysed on, as a small serialisable description. Datasets are built
 * (or loaded) from a spec inside the core; only the spec travels in messages, URLs and files.
 */
import type { AnyModelConfig } from '../models/config';
import { getArchSpec } from '../arch/registry';
import '../arch/specs';

export { DEFAULT_TRAIN_FRACTION } from '../arch/common';

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

/** The data a model of this architecture is trained and analysed on when nothing else is said. */
export function defaultDataSpec(config: AnyModelConfig, seed = 0): DataSpec {
  return getArchSpec(config.arch).defaultData(config, seed);
}
