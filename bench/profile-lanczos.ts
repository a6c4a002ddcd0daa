/**
 * Where a Lanczos top-k run spends its time: the Gram–Schmidt sweeps (KrylovBasis.project), the
 * basis rotations (thick restarts and the final Ritz vectors) and the products H·v, timed by
 * wrapping those methods; the rest is the convergence checks and the small Ritz eigensolves.
 *
 *   npx tsx bench/profile-lanczos.ts [model = modadd] [k = 1000]
 *
 *   (a third argument sets the tolerance, default 1e-3)
 *
 * Prints one JSON line (seconds). BENCHMARKS.md's top-1,000 profile was taken with it.
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../src/core/backend';
import { decodeModelFile } from '../src/core/io/modelFile';
import { datasetFor } from '../src/core/tasks/env';
import { nodeAssetReader } from '../src/node/assets';
import { gaussNewtonOperator } from '../src/core/hessian/gn';
import { lanczosTopK } from '../src/core/linalg/lanczos';
import { KrylovBasis } from '../src/core/linalg/krylovBasis';
import { timedOperator } from './helpers';
await initBackend('wasm');
const name = process.argv[2] ?? 'modadd';
const k = Number(process.argv[3] ?? 1000);
const model = decodeModelFile(new Uint8Array(readFileSync(`public/models/${name}.safetensors`)), { name });
const ds = await datasetFor(model, { readAsset: nodeAssetReader() });
const op0 = await gaussNewtonOperator(model, ds, ds.trainIdx);
const T: Record<string, number> = {};
const wrap = (obj: Record<string, unknown>, key: string, label: string): void => {
  const f = obj[key] as (...a: unknown[]) => Promise<unknown>;
  obj[key] = async function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    try { return await f.apply(this, a); } finally { T[label] = (T[label] ?? 0) + performance.now() - t0; }
  };
};
const proto = KrylovBasis.prototype as unknown as Record<string, unknown>;
wrap(proto, 'project', 'project');
wrap(proto, 'rotate', 'rotate');
const op = timedOperator(op0);
const t0 = performance.now();
const tol = Number(process.argv[4] ?? 1e-3);
const r = await lanczosTopK(op, k, { seed: 0, tol });
const tot = performance.now() - t0;
console.log(JSON.stringify({ name, k, tol, s: +(tot / 1e3).toFixed(1), iters: r.iterations, restarts: r.restarts, secondSweeps: r.secondSweeps, converged: r.converged, storage: r.storage, m: r.basisSize, parts: Object.fromEntries(Object.entries({ apply: op.ms, ...T }).map(([a, b]) => [a, +(b / 1e3).toFixed(1)])) }));
