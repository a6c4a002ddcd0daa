/**
 * Checks on files the user opens, made on the page before a single byte is read: size limits (a
 * multi-gigabyte drop must not be pulled into memory just to be refused by the worker) and the
 * roles of dropped IDX files, told from their names.
 */
import { IDX_MAX_BYTES, type IdxFiles, type IdxRole } from '../core/data/idx';

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

/** Sorts dropped IDX files into train/test images/labels by name ("t10k"/"test" = test; "idx3" = images). */
export function classifyIdxFiles(names: string[]): { role: IdxRole | null; name: string }[] {
  return names.map((name) => {
    const n = name.toLowerCase();
    const images = /idx3|images/.test(n);
    const labels = /idx1|labels/.test(n);
    const test = /t10k|test/.test(n);
    if (images === labels) return { role: null, name };
    return { role: test ? (images ? 'testImages' : 'testLabels') : images ? 'trainImages' : 'trainLabels', name };
  });
}

/**
 * The role of each dropped IDX file (in order) and their names by role, or the notice that refuses
 * the drop: a name that says neither images nor labels, two files of one role, a file over the
 * size limit, or no training images and labels.
 */
export function idxFileRoles(files: Pick<FileLike, 'name' | 'size'>[]): { roles: IdxRole[]; names: NonNullable<IdxFiles['names']> } | { problem: string } {
  const roles = classifyIdxFiles(files.map((f) => f.name));
  const unknown = roles.filter((r) => r.role === null).map((r) => r.name);
  if (unknown.length) {
    return { problem: `Cannot tell what ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'}: IDX file names should contain "images"/"idx3" or "labels"/"idx1" (and "t10k"/"test" for the test set).` };
  }
  const names: NonNullable<IdxFiles['names']> = {};
  for (const r of roles) {
    if (names[r.role!]) return { problem: `${names[r.role!]} and ${r.name} both look like the ${r.role!.replace(/[A-Z]/, (c) => ` ${c.toLowerCase()}`)} file; drop one of each kind.` };
    names[r.role!] = r.name;
  }
  for (const f of files) {
    const tooLarge = fileSizeProblem(f, 'idx');
    if (tooLarge) return { problem: tooLarge };
  }
  if (!names.trainImages || !names.trainLabels) {
    return { problem: 'Drop at least a training images file and a training labels file (e.g. train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz).' };
  }
  return { roles: roles.map((r) => r.role!), names };
}
