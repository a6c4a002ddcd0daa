/**
 * Checks of records read back from IndexedDB (db.ts): why a stored model or run cannot be used,
 * in words, or null. A damaged record is refused with its name instead of reaching the compute core.
 */
import { ARCH_IDS, paramCount, validateConfig, type ModelConfig } from '../core/models/config';
import { isPlainObject } from '../core/io/json';

export function isTimestamp(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Why a stored config cannot be used, or null. */
export function configProblem(config: unknown): string | null {
  if (!isPlainObject(config) || !ARCH_IDS.includes(config.arch as never)) return 'its architecture is unknown';
  try {
    const errs = validateConfig(config as unknown as ModelConfig);
    return errs.length > 0 ? `its configuration is invalid (${errs.join('; ')})` : null;
  } catch (err) {
    return `its configuration is invalid (${err instanceof Error ? err.message : String(err)})`;
  }
}

export function dataProblem(data: unknown): string | null {
  if (!isPlainObject(data)) return 'its data description is missing';
  if (data.kind !== 'modadd' && data.kind !== 'mnist' && data.kind !== 'matfac') return `its data kind "${String(data.kind)}" is unknown`;
  return null;
}

/** Problems with a metadata row (model meta, or the head of a model record). */
export function metaProblem(rec: Record<string, unknown>): string | null {
  if (typeof rec.name !== 'string') return 'it has no name';
  if (!isTimestamp(rec.savedAt)) return 'it has no save time';
  const cp = configProblem(rec.config);
  if (cp) return cp;
  const expected = paramCount(rec.config as unknown as ModelConfig);
  if (rec.paramCount !== expected) {
    return `it records ${String(rec.paramCount)} parameters but its architecture has ${expected}`;
  }
  return null;
}

export function modelProblem(rec: unknown, id: string): string | null {
  if (!isPlainObject(rec)) return 'it is not a model record';
  if (rec.id !== id) return `it is filed under a different id (${String(rec.id)})`;
  const mp = metaProblem(rec);
  if (mp) return mp;
  const dp = dataProblem(rec.data);
  if (dp) return dp;
  if (!(rec.theta instanceof Float32Array)) return 'its parameters are not a Float32Array';
  if (rec.theta.length !== rec.paramCount) {
    return `its parameter vector has ${rec.theta.length} entries, not the ${String(rec.paramCount)} recorded`;
  }
  if (rec.trainIdx !== undefined && !(rec.trainIdx instanceof Int32Array)) return 'its training indices are not an Int32Array';
  if (rec.dataX !== undefined && !(rec.dataX instanceof Float32Array)) return 'its inputs are not a Float32Array';
  if (rec.dataY !== undefined && !(rec.dataY instanceof Float32Array)) return 'its targets are not a Float32Array';
  if (rec.metadata !== undefined && !(isPlainObject(rec.metadata) && Object.values(rec.metadata).every((v) => typeof v === 'string'))) {
    return 'its metadata is not a table of strings';
  }
  return null;
}

export function runProblem(rec: unknown, runId: string): string | null {
  if (!isPlainObject(rec)) return 'it is not a run record';
  if (rec.runId !== runId) return `it is filed under a different id (${String(rec.runId)})`;
  if (typeof rec.name !== 'string') return 'it has no name';
  if (!isTimestamp(rec.createdAt)) return 'it has no creation time';
  const cp = configProblem(rec.config);
  if (cp) return cp;
  const dp = dataProblem(rec.data);
  if (dp) return dp;
  if (rec.recipe !== undefined && !isPlainObject(rec.recipe)) return 'its recipe is not an object';
  if (rec.history !== undefined && !(Array.isArray(rec.history) && rec.history.every(isPlainObject))) return 'its history is not a list of rows';
  return null;
}
