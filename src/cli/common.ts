/** What every `slt` command shares: usage errors, argument parsers, the model reader, stderr progress. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createJobContext } from '../core/jobs';
import { decodeModelFile } from '../core/io/modelFile';
import type { ModelBundle } from '../core/models/bundle';
import { nodeAssetReader } from '../node/assets';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const env = { readAsset: nodeAssetReader() };

/** Progress to stderr, at most a few lines a second, only when stderr is a terminal or verbose. */
export function stderrContext(label: string) {
  let last = 0;
  return createJobContext({
    onProgress: (f, phase) => {
      const t = Date.now();
      if (f >= 1 || t - last > 500) {
        last = t;
        process.stderr.write(`[${label}] ${(f * 100).toFixed(0).padStart(3)} % ${phase}\n`);
      }
    },
  });
}

export async function readModel(path: string | undefined): Promise<ModelBundle> {
  if (!path) throw new UsageError('missing the model file argument');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeModelFile(bytes, { name: basename(path).replace(/\.safetensors$/i, '') });
}

export function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} must be an integer (got "${v}")`);
  return Number(v);
}
export function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number (got "${v}")`);
  return x;
}
export function list(name: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (!parts.length || parts.some((x) => !Number.isInteger(x) || x <= 0)) throw new UsageError(`--${name} must be comma-separated positive integers (got "${v}")`);
  return parts;
}

