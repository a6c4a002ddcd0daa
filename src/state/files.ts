/**
 * Size limits for files the user opens, checked on the page before a single byte is read (a
 * multi-gigabyte drop must not be pulled into memory just to be refused by the worker).
 */
import { IDX_MAX_BYTES } from '../core/data/idx';

/** What the page needs of a File (tests pass plain objects). */
export interface FileLike {
  readonly name: string;
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type FileKind = 'model' | 'session' | 'idx';

export const MAX_FILE_BYTES: Record<FileKind, number> = {
  /** The largest model the explorer builds is ~20 MB of Float32 weights (F64 files: twice that). */
  model: 200e6,
  /** A session holds the model plus every checkpoint of its run: 1,000 checkpoints of the 86k-weight default are ~350 MB. */
  session: 1e9,
  /** Per file, raw or after gunzip (core/data/idx.ts); the full MNIST training images are 47 MB raw. */
  idx: IDX_MAX_BYTES,
};

const WHAT: Record<FileKind, string> = { model: 'model files', session: 'session files', idx: 'IDX files' };
const HINT: Record<FileKind, string> = {
  model: ' (the largest supported model is about 20 MB)',
  session: '',
  idx: ' (the full MNIST training images file is 47 MB)',
};

const mb = (n: number): string => `${(n / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB`;

/** Null when the file may be read; otherwise the notice that refuses it (names the file, its size and the limit). */
export function fileSizeProblem(file: Pick<FileLike, 'name' | 'size'>, kind: FileKind): string | null {
  const limit = MAX_FILE_BYTES[kind];
  if (!(file.size > limit)) return null;
  return `${file.name} is ${mb(file.size)} (${file.size.toLocaleString('en-US')} bytes); ${WHAT[kind]} larger than ${mb(limit)} are refused${HINT[kind]}. Nothing was loaded.`;
}
