// User IDX files carrying what MNIST files never do — float pixels (NaN, ±Inf), labels outside
// 0..9, more bytes than the limit, a gzip bomb — are refused with an IdxError that names the
// file, the element and the problem, and nothing is registered.
import { describe, expect, test } from 'vitest';
import { gzipSync } from 'node:zlib';
import { IdxError, mnistFromIdx, parseIdx } from '../../src/core/data/idx';
import { gunzip } from '../../src/core/data/gzip';
import { loadDataset } from '../../src/core/data/index';
import { runRegisterIdx } from '../../src/core/tasks/idx';
import { createJobContext } from '../../src/core/jobs';
import { isBadInput } from '../../src/core/errors';

/** An IDX file: 00 00 type ndims, big-endian uint32 dims, then the payload bytes. */
function idx(type: number, dims: number[], payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const dv = new DataView(head.buffer);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}
/** Big-endian float32 / float64 payload (IDX is big-endian throughout). */
function floats(values: number[], bytes: 4 | 8): Uint8Array {
  const out = new Uint8Array(values.length * bytes);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => (bytes === 4 ? dv.setFloat32(4 * i, v, false) : dv.setFloat64(8 * i, v, false)));
  return out;
}
const images = (n: number) => idx(0x08, [n, 28, 28], Uint8Array.from({ length: n * 784 }, (_, i) => i % 256));
const labels = (ls: number[]) => idx(0x08, [ls.length], Uint8Array.from(ls));

/** 2 float images with a NaN at pixel 5 of image 1 and +Inf at pixel 9 (what the user might bring). */
function floatImages(bytes: 4 | 8): Uint8Array {
  const px = Array.from({ length: 2 * 784 }, (_, i) => (i % 784) / 784);
  px[784 + 5] = NaN;
  px[9] = Infinity;
  return idx(bytes === 4 ? 0x0d : 0x0e, [2, 28, 28], floats(px, bytes));
}

async function refusal(p: Promise<unknown>): Promise<IdxError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(IdxError);
  expect(isBadInput(e)).toBe(true); // shown to the user as is, kind bad-input
  return e as IdxError;
}

describe('IDX files with non-finite or out-of-range values are refused', () => {
  test('float32 (0x0D) and float64 (0x0E) images holding NaN / Inf: refused by type, naming the file', async () => {
    const names = { trainImages: 'train-images-float.idx3', trainLabels: 'train-labels-idx1-ubyte' };
    for (const [bytes, code, what] of [[4, '0x0d', 'float'], [8, '0x0e', 'double']] as const) {
      const e = await refusal(mnistFromIdx({ trainImages: floatImages(bytes), trainLabels: labels([1, 2]), names }));
      expect(e.message).toBe(`train images (train-images-float.idx3): IDX type code ${code} (${what}) is not supported; MNIST files use 0x08 (unsigned byte)`);
      // gzipped alike
      const gz = await refusal(mnistFromIdx({ trainImages: new Uint8Array(gzipSync(floatImages(bytes))), trainLabels: labels([1, 2]), names }));
      expect(gz.message).toMatch(new RegExp(`^train images \\(train-images-float\\.idx3\\): IDX type code ${code}`));
    }
  });

  test('float labels (NaN among them) are refused by type, in the test slot too', async () => {
    const nanLabels = idx(0x0d, [2], floats([3, NaN], 4));
    const e = await refusal(mnistFromIdx({
      trainImages: images(2), trainLabels: labels([1, 2]), testImages: images(2), testLabels: nanLabels,
      names: { testLabels: 't10k-labels.idx1' },
    }));
    expect(e.message).toMatch(/^test labels \(t10k-labels\.idx1\): IDX type code 0x0d \(float\) is not supported/);
  });

  test('labels outside 0..9: the file, the first bad index and value, and how many more', async () => {
    const e = await refusal(mnistFromIdx({
      trainImages: images(6), trainLabels: labels([0, 9, 3, 12, 255, 10]),
      names: { trainLabels: 'train-labels-idx1-ubyte.gz' },
    }));
    expect(e.message).toBe('train labels (train-labels-idx1-ubyte.gz): label 12 at index 3 is outside 0..9 (and 2 more labels outside 0..9)');
    // Without a file name the role alone still says which file.
    const e2 = await refusal(mnistFromIdx({ trainImages: images(2), trainLabels: labels([1, 2]), testImages: images(1), testLabels: labels([10]) }));
    expect(e2.message).toBe('test labels: label 10 at index 0 is outside 0..9');
  });

  test('a file over the limit is refused before parsing; a gzip bomb stops inflating at the limit', async () => {
    const raw = images(1500); // 1,176,016 bytes
    const e = await refusal(parseIdx(raw, 'train images (big.idx3)', 1e6));
    expect(e.message).toBe('train images (big.idx3): the file is 1.2 MB (1,176,016 bytes); IDX files over 1 MB are refused');
    const bomb = new Uint8Array(gzipSync(new Uint8Array(5_000_000))); // ~5 KB inflating to 5 MB
    expect(bomb.length).toBeLessThan(10_000);
    const b = await refusal(parseIdx(bomb, 'train images (bomb.gz)', 1_000_000));
    expect(b.message).toMatch(/^train images \(bomb\.gz\): gunzip: the data inflates to more than 1,000,000 bytes \([\d,]+ bytes compressed\); refused \(IDX files over 1 MB are refused\)$/);
    // gunzip itself: under the limit it inflates as before.
    await expect(gunzip(bomb, 5_000_000)).resolves.toHaveLength(5_000_000);
  });

  test('a refused registration registers nothing (the key stays unknown in the worker)', async () => {
    const key = 'idx-refused';
    const bad = runRegisterIdx({ key, files: { trainImages: floatImages(4), trainLabels: labels([1, 2]) } }, createJobContext());
    await expect(bad).rejects.toThrow(/type code 0x0d/);
    await expect(loadDataset({ kind: 'mnist', source: 'idx', key }, async () => new Uint8Array())).rejects.toThrow(/no user dataset is registered under "idx-refused"/);
    // The same key with valid files registers.
    const ok = await runRegisterIdx({ key, files: { trainImages: images(5), trainLabels: labels([0, 1, 2, 3, 4]) } }, createJobContext());
    expect(ok.n).toBe(5);
    expect((await loadDataset({ kind: 'mnist', source: 'idx', key }, async () => new Uint8Array())).n).toBe(5);
  });
});
