/**
 * What data a model is analysed on, as a small serialisable description. Datasets are built
 * (or loaded) from a spec inside the core; only the spec travels in messages, URLs and files.
 */
export type DataSpec =
  | { kind: 'modadd'; p: number; trainFraction: number; seed: number; op: 'sum' | 'random' }
  | { kind: 'mnist'; source: 'builtin' }
  | { kind: 'matfac'; inDim: number; outDim: number; nTrain: number; seed: number };

/**
 * Reads an asset shipped under public/ (e.g. "data/mnist-10k.bin"): fetch() in the browser and
 * the worker, fs in Node. Injected so the core never assumes where it runs.
 */
export type AssetReader = (path: string) => Promise<Uint8Array>;
