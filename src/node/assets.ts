/**
 * The Node AssetReader (CLI, tests): reads files under the repository's public/ directory,
 * the same paths the browser fetches from the app's origin.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssetReader } from '../core/data/spec';

/** public/ resolved from this file's location (src/node/ → ../../public). */
export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

export function nodeAssetReader(publicDir: string = DEFAULT_PUBLIC_DIR): AssetReader {
  const root = resolve(publicDir);
  return async (path: string): Promise<Uint8Array> => {
    const file = resolve(root, path.replace(/^\/+/, ''));
    const rel = relative(root, file);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new Error(`asset path "${path}" is outside ${root}`);
    }
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(`asset "${path}" not found at ${file}`, { cause: e });
      throw e;
    }
    // A plain Uint8Array view, so callers never depend on Buffer's different slice() semantics.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  };
}
