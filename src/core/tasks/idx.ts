/**
 * User-provided MNIST IDX files (raw or .gz): parsed and registered in the worker so analyses
 * can use them as `{ kind: 'mnist', source: 'idx', key }`. The page keeps the bytes and
 * registers them again if the worker is replaced.
 */
import type { JobContext } from '../jobs';
import { mnistFromIdx, type IdxFiles } from '../data/idx';
import { registerUserDataset } from '../data/index';

export interface RegisterIdxParams {
  key: string;
  files: IdxFiles;
}

export interface RegisterIdxResult {
  key: string;
  label: string;
  n: number;
  nTrain: number;
  nTest: number;
}

export async function runRegisterIdx(p: RegisterIdxParams, ctx: JobContext): Promise<RegisterIdxResult> {
  ctx.progress(0, 'parsing IDX files');
  const ds = await mnistFromIdx(p.files);
  registerUserDataset(p.key, ds);
  ctx.progress(1, 'done');
  return { key: p.key, label: ds.label, n: ds.n, nTrain: ds.trainIdx.length, nTest: ds.testIdx.length };
}
