/**
 * The dataset registry: every DataSpec resolves here to a Dataset. Built datasets are memoised
 * by their spec, so repeated analyses of the same model do not rebuild (or re-download) them.
 * Datasets handed out are shared between callers: treat them as read-only.
 */
import { matfacDataset } from './matfac';
import { MNIST_BUILTIN_ASSET, builtinMnistDataset } from './mnist';
import { modAddDataset } from './modadd';
import type { AssetReader, DataSpec } from './spec';
import type { Dataset } from './types';

/** Most datasets kept at once (an MNIST dataset is ~31 MB of Float32 pixels). */
const CACHE_LIMIT = 8;
/** Keyed by the spec's canonical JSON; promises, so concurrent requests share one build. */
const cache = new Map<string, Promise<Dataset>>();
/** Datasets the user provided (IDX files), addressed by `{ kind: 'mnist', source: 'idx', key }`. */
const userDatasets = new Map<string, Dataset>();

/** JSON.stringify with object keys sorted, so key order in a spec does not split the cache. */
function specKey(spec: DataSpec): string {
  const entries = Object.entries(spec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

export async function loadDataset(spec: DataSpec, readAsset: AssetReader): Promise<Dataset> {
  // User datasets already live in their own registry; caching them again would go stale on
  // re-registration.
  if (spec.kind === 'mnist' && spec.source === 'idx') return userDataset(spec.key);
  const key = specKey(spec);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-insert: Map order is the LRU order
    cache.set(key, hit);
    return hit;
  }
  const built = build(spec, readAsset);
  cache.set(key, built);
  // A failed build is not remembered: the next request tries again (e.g. after `npm run data`).
  built.catch(() => { if (cache.get(key) === built) cache.delete(key); });
  while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return built;
}

async function build(spec: DataSpec, readAsset: AssetReader): Promise<Dataset> {
  switch (spec.kind) {
    case 'modadd':
      return modAddDataset({ p: spec.p, trainFraction: spec.trainFraction, seed: spec.seed, op: spec.op });
    case 'matfac':
      return matfacDataset({ inDim: spec.inDim, outDim: spec.outDim, nTrain: spec.nTrain, seed: spec.seed });
    case 'mnist': {
      if (spec.source === 'idx') return userDataset(spec.key);
      let bytes: Uint8Array;
      try {
        bytes = await readAsset(MNIST_BUILTIN_ASSET);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new Error(`could not read the built-in MNIST digits (${MNIST_BUILTIN_ASSET}; built by \`npm run data\`): ${why}`, { cause: e });
      }
      return builtinMnistDataset(bytes);
    }
    default: {
      const never: never = spec;
      throw new Error(`unknown dataset kind in ${JSON.stringify(never)}`);
    }
  }
}

/** Forgets every memoised dataset (user-registered datasets stay registered). */
export function clearDatasetCache(): void {
  cache.clear();
}

/**
 * Makes a user-provided dataset (e.g. from mnistFromIdx) loadable as
 * `{ kind: 'mnist', source: 'idx', key }`. Registration is per JavaScript realm: register it in
 * the context that runs the analyses (the worker), not only on the page.
 */
export function registerUserDataset(key: string, dataset: Dataset): void {
  userDatasets.set(key, dataset);
}

export function unregisterUserDataset(key: string): boolean {
  return userDatasets.delete(key);
}

function userDataset(key: string): Dataset {
  const ds = userDatasets.get(key);
  if (!ds) {
    throw new Error(`no user dataset is registered under "${key}" (IDX files are not persisted; load them again)`);
  }
  return ds;
}
