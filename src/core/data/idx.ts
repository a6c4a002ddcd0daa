/**
 * The IDX format of the original MNIST files (`train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`,
 * raw or gzipped — detected by the gzip magic, never by the file name), which is how users bring
 * the full 70,000-digit set.
 *
 * Layout (big-endian): two zero bytes, a type code (0x08 = unsigned byte, the only one MNIST
 * uses), the number of dimensions, then one uint32 size per dimension, then the data. So the
 * images file starts 00 00 08 03 (count, rows, cols) and the labels file 00 00 08 01 (count).
 *
 * Every refusal is an IdxError that names the file (its role, and its name when the caller gave
 * one), the element and what is wrong. Other type codes (float 0x0D, double 0x0E, …) are refused
 * before any value is read, so NaN or infinite pixels cannot enter; labels outside 0..9 are
 * refused with their index. Nothing is registered unless every file is valid.
 */
import { GunzipTooLargeError, gunzip, isGzip } from './gzip';
import { MNIST_COLS, MNIST_ROWS, labelProblem, mnistDataset } from './mnist';
import type { Dataset } from './types';

export const IDX_TYPE_UBYTE = 0x08;
export const IDX_MAGIC_IMAGES = 0x00000803;
export const IDX_MAGIC_LABELS = 0x00000801;

/**
 * Largest IDX file accepted, raw or after gunzip: 256 MB is ~326,000 28×28 digits (the full MNIST
 * training images file is 47 MB); in the worker the pixels become four times that as Float32.
 */
export const IDX_MAX_BYTES = 256e6;

/** A malformed or unusable IDX file: user-fixable, shown as is (errors.ts lists the name). */
export class IdxError extends Error {
  override name = 'IdxError';
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double',
};

const hex8 = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;
const mb = (n: number): string => `${(n / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB`;

/** Parses one IDX file of unsigned bytes (gunzipping it first when it is gzip). */
export async function parseIdx(bytes: Uint8Array, name = 'IDX file', maxBytes = IDX_MAX_BYTES): Promise<{ dims: number[]; data: Uint8Array }> {
  if (bytes.length > maxBytes) {
    throw new IdxError(`${name}: the file is ${mb(bytes.length)} (${bytes.length.toLocaleString('en-US')} bytes); IDX files over ${mb(maxBytes)} are refused`);
  }
  let raw = bytes;
  if (isGzip(bytes)) {
    try {
      raw = await gunzip(bytes, maxBytes);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const tooLarge = e instanceof GunzipTooLargeError;
      throw new IdxError(`${name}: ${why}${tooLarge ? ` (IDX files over ${mb(maxBytes)} are refused)` : ''}`, { cause: e });
    }
  }
  if (raw.length < 4) throw new IdxError(`${name}: ${raw.length} bytes is too short for an IDX header (4-byte magic)`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, false);
  if (raw[0] !== 0 || raw[1] !== 0 || raw[3] === 0) {
    throw new IdxError(`${name}: not an IDX file (magic ${hex8(magic)}; expected ${hex8(IDX_MAGIC_IMAGES)} for images ` +
      `or ${hex8(IDX_MAGIC_LABELS)} for labels)`);
  }
  const type = raw[2];
  if (type !== IDX_TYPE_UBYTE) {
    const tname = TYPE_NAMES[type] ? ` (${TYPE_NAMES[type]})` : '';
    throw new IdxError(`${name}: IDX type code 0x${type.toString(16).padStart(2, '0')}${tname} is not supported; ` +
      `MNIST files use 0x08 (unsigned byte)`);
  }
  const ndims = raw[3];
  const headerBytes = 4 + 4 * ndims;
  if (raw.length < headerBytes) {
    throw new IdxError(`${name}: truncated header (${ndims} dimensions need ${headerBytes} bytes, the file has ${raw.length})`);
  }
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const actual = raw.length - headerBytes;
  if (actual < size) {
    throw new IdxError(`${name}: truncated data (dimensions ${dims.join('×')} need ${size} bytes after the ` +
      `${headerBytes}-byte header, the file has ${actual})`);
  }
  if (actual > size) {
    throw new IdxError(`${name}: ${actual - size} unexpected bytes after the data (dimensions ${dims.join('×')} need ` +
      `${size} bytes after the ${headerBytes}-byte header, the file has ${actual})`);
  }
  return { dims, data: raw.subarray(headerBytes) };
}

export type IdxRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

export interface IdxFiles {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages?: Uint8Array;
  testLabels?: Uint8Array;
  /** The users' file names, quoted in error messages next to the role ("train labels"). */
  names?: Partial<Record<IdxRole, string>>;
}

/** The fraction of the training file held out as test when no test files are given. */
export const IDX_HOLDOUT_FRACTION = 0.2;

/**
 * A Dataset from user-provided IDX files. The digits are the training file's followed by the test
 * file's; without test files the last 20 % of the training file is held out as test.
 */
export async function mnistFromIdx(files: IdxFiles): Promise<Dataset> {
  const hasTestImages = files.testImages !== undefined;
  if (hasTestImages !== (files.testLabels !== undefined)) {
    throw new IdxError(`IDX: got test ${hasTestImages ? 'images without test labels' : 'labels without test images'}; give both or neither`);
  }
  const train = await readPair(files.trainImages, files.trainLabels, 'train', files.names);
  if (train.count === 0) throw new IdxError('IDX: the training files hold no digits');
  if (files.testImages !== undefined && files.testLabels !== undefined) {
    const test = await readPair(files.testImages, files.testLabels, 'test', files.names);
    const images = new Uint8Array(train.images.length + test.images.length);
    images.set(train.images, 0);
    images.set(test.images, train.images.length);
    const labels = new Uint8Array(train.count + test.count);
    labels.set(train.labels, 0);
    labels.set(test.labels, train.count);
    return mnistDataset(images, labels, {
      nTrain: train.count,
      label: `MNIST from IDX files: ${train.count} train, ${test.count} test digits`,
    });
  }
  const nTest = Math.round(IDX_HOLDOUT_FRACTION * train.count);
  const nTrain = train.count - nTest;
  return mnistDataset(train.images, train.labels, {
    nTrain,
    label: `MNIST from IDX files: ${train.count} digits, first ${nTrain} train, last ${nTest} held out as test`,
  });
}

async function readPair(imagesBytes: Uint8Array, labelsBytes: Uint8Array, split: 'train' | 'test', names: IdxFiles['names'] = {}) {
  const named = (role: string, file?: string) => (file ? `${role} (${file})` : role);
  const imgName = named(`${split} images`, names[split === 'train' ? 'trainImages' : 'testImages']);
  const labName = named(`${split} labels`, names[split === 'train' ? 'trainLabels' : 'testLabels']);
  const img = await parseIdx(imagesBytes, imgName);
  const lab = await parseIdx(labelsBytes, labName);
  if (img.dims.length !== 3) {
    throw new IdxError(`${imgName}: expected an images file (magic ${hex8(IDX_MAGIC_IMAGES)}: count, rows, cols), ` +
      `got ${img.dims.length} dimension${img.dims.length === 1 ? ' — is this a labels file?' : 's'}`);
  }
  if (lab.dims.length !== 1) {
    throw new IdxError(`${labName}: expected a labels file (magic ${hex8(IDX_MAGIC_LABELS)}: count), ` +
      `got ${lab.dims.length} dimensions${lab.dims.length === 3 ? ' — is this an images file?' : ''}`);
  }
  const [count, rows, cols] = img.dims;
  if (rows !== MNIST_ROWS || cols !== MNIST_COLS) {
    throw new IdxError(`${imgName}: images are ${rows}×${cols}; this model (784 inputs) needs ${MNIST_ROWS}×${MNIST_COLS}`);
  }
  if (lab.dims[0] !== count) {
    throw new IdxError(`${split}: the images file holds ${count} images but the labels file ${lab.dims[0]} labels`);
  }
  const badLabels = labelProblem(lab.data, labName);
  if (badLabels) throw new IdxError(badLabels);
  return { count, images: img.data, labels: lab.data };
}
