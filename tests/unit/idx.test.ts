import { describe, expect, test } from 'vitest';
import { gzipSync } from 'node:zlib';
import { gunzip, isGzip } from '../../src/core/data/gzip';
import { mnistFromIdx, parseIdx } from '../../src/core/data/idx';

/** An IDX file written byte by byte: 00 00 type ndims, big-endian uint32 dims, then data. */
function idx(type: number, dims: number[], data: ArrayLike<number>, magicHi = [0, 0]): Uint8Array {
  const out: number[] = [magicHi[0], magicHi[1], type, dims.length];
  for (const d of dims) out.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  for (let i = 0; i < data.length; i++) out.push(data[i]);
  return Uint8Array.from(out);
}

/** n 28×28 images whose pixel j of image r is (r·31 + j·7) mod 256. */
function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n * 784 }, (_, i) => (Math.floor(i / 784) * 31 + (i % 784) * 7) % 256);
}
const images = (n: number) => idx(0x08, [n, 28, 28], pattern(n));
const labels = (ls: number[]) => idx(0x08, [ls.length], ls);
const gz = (b: Uint8Array) => new Uint8Array(gzipSync(b));

describe('gzip', () => {
  test('isGzip looks at the magic 1f 8b only', () => {
    expect(isGzip(gz(Uint8Array.of(1, 2, 3)))).toBe(true);
    expect(isGzip(Uint8Array.of(0x1f, 0x8b))).toBe(true);
    expect(isGzip(Uint8Array.of(0x1f))).toBe(false);
    expect(isGzip(Uint8Array.of(0x8b, 0x1f))).toBe(false);
    expect(isGzip(new Uint8Array(0))).toBe(false);
  });

  test('gunzip inverts node:zlib gzip, also for a view into a larger buffer', async () => {
    const raw = Uint8Array.from({ length: 70_000 }, (_, i) => (i * i) % 251);
    const packed = gz(raw);
    expect(Array.from(await gunzip(packed))).toEqual(Array.from(raw));
    const padded = new Uint8Array(packed.length + 10);
    padded.set(packed, 5);
    expect(Array.from(await gunzip(padded.subarray(5, 5 + packed.length)))).toEqual(Array.from(raw));
  });

  test('gunzip explains non-gzip, truncated and corrupt input', async () => {
    const packed = gz(Uint8Array.from({ length: 5000 }, (_, i) => i % 13));
    await expect(gunzip(Uint8Array.of(1, 2, 3))).rejects.toThrow(/not gzip data \(expected magic bytes 1f 8b, got 01 02\)/);
    await expect(gunzip(new Uint8Array(0))).rejects.toThrow(/not gzip data/);
    await expect(gunzip(packed.subarray(0, packed.length - 9))).rejects.toThrow(/corrupt or truncated gzip/);
    const badCrc = packed.slice();
    badCrc[badCrc.length - 6] ^= 0xff; // inside the CRC-32 trailer
    await expect(gunzip(badCrc)).rejects.toThrow(/corrupt or truncated gzip/);
  });
});

describe('parseIdx', () => {
  test('reads an images file: big-endian dims and the bytes after the header', async () => {
    const file = images(3);
    expect(Array.from(file.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 3]);
    const r = await parseIdx(file);
    expect(r.dims).toEqual([3, 28, 28]);
    expect(r.data.length).toBe(3 * 784);
    expect(r.data[784 * 2 + 5]).toBe((2 * 31 + 5 * 7) % 256);
    expect(Array.from(r.data)).toEqual(Array.from(pattern(3)));
  });

  test('reads dims ≥ 256 (all four bytes of the big-endian size)', async () => {
    const n = 0x0102; // 258 labels: bytes 00 00 01 02
    const r = await parseIdx(idx(0x08, [n], Array.from({ length: n }, (_, i) => i % 10)));
    expect(r.dims).toEqual([258]);
    expect(r.data[257]).toBe(7);
  });

  test('gzipped and raw files parse alike (detected by magic, not name)', async () => {
    const raw = labels([3, 1, 4, 1, 5]);
    const a = await parseIdx(raw);
    const b = await parseIdx(gz(raw));
    expect(b.dims).toEqual([5]);
    expect(Array.from(b.data)).toEqual([3, 1, 4, 1, 5]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  test('wrong magic', async () => {
    await expect(parseIdx(idx(0x08, [2], [1, 2], [0x12, 0x34]))).rejects.toThrow(/not an IDX file \(magic 0x12340801; expected 0x00000803 for images or 0x00000801 for labels\)/);
    await expect(parseIdx(Uint8Array.of(0, 0, 8, 0))).rejects.toThrow(/not an IDX file/);
    await expect(parseIdx(Uint8Array.of(0, 0))).rejects.toThrow(/too short/);
  });

  test('wrong type code', async () => {
    await expect(parseIdx(idx(0x0d, [1], [0, 0, 0, 0]))).rejects.toThrow(/type code 0x0d \(float\) is not supported; MNIST files use 0x08/);
    await expect(parseIdx(idx(0x07, [1], [0]))).rejects.toThrow(/type code 0x07 is not supported/);
  });

  test('truncated data, header or gzip; trailing bytes', async () => {
    const file = images(2);
    await expect(parseIdx(file.subarray(0, file.length - 68))).rejects.toThrow(
      /truncated data \(dimensions 2×28×28 need 1568 bytes after the 16-byte header, the file has 1500\)/);
    await expect(parseIdx(file.subarray(0, 10))).rejects.toThrow(/truncated header \(3 dimensions need 16 bytes, the file has 10\)/);
    const packed = gz(file);
    await expect(parseIdx(packed.subarray(0, packed.length - 20))).rejects.toThrow(/corrupt or truncated gzip/);
    await expect(parseIdx(Uint8Array.from([...labels([1, 2]), 9, 9]))).rejects.toThrow(/2 unexpected bytes after the data/);
  });
});

describe('mnistFromIdx', () => {
  test('without test files the last 20 % is held out', async () => {
    const ls = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4];
    const ds = await mnistFromIdx({ trainImages: gz(images(10)), trainLabels: labels(ls) });
    expect(ds.kind).toBe('mnist');
    expect(ds.n).toBe(10);
    expect(ds.inputDim).toBe(784);
    expect(ds.outDim).toBe(10);
    expect(Array.from(ds.trainIdx)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(ds.testIdx)).toEqual([8, 9]);
    expect(ds.y).toBeInstanceOf(Int32Array);
    expect(Array.from(ds.y)).toEqual(ls);
    expect(ds.x).toBeInstanceOf(Float32Array);
    const px = pattern(10);
    for (const i of [0, 1, 783, 784 * 9 + 400, px.length - 1]) expect(ds.x[i]).toBeCloseTo(px[i] / 255, 7);
    expect(Math.max(...ds.x)).toBeLessThanOrEqual(1);
    expect(ds.label).toMatch(/8 train, last 2 held out/);
  });

  test('with test files: train digits then test digits', async () => {
    const ds = await mnistFromIdx({
      trainImages: images(3), trainLabels: gz(labels([7, 8, 9])),
      testImages: gz(images(2)), testLabels: labels([0, 6]),
    });
    expect(ds.n).toBe(5);
    expect(Array.from(ds.trainIdx)).toEqual([0, 1, 2]);
    expect(Array.from(ds.testIdx)).toEqual([3, 4]);
    expect(Array.from(ds.y)).toEqual([7, 8, 9, 0, 6]);
    // The first test digit is image 0 of the test file: pixel j = (0·31 + j·7) mod 256.
    expect(ds.x[3 * 784 + 10]).toBeCloseTo(70 / 255, 7);
    expect(ds.x[2 * 784 + 10]).toBeCloseTo(((2 * 31 + 70) % 256) / 255, 7);
  });

  test('count mismatch between images and labels', async () => {
    await expect(mnistFromIdx({ trainImages: images(3), trainLabels: labels([1, 2]) }))
      .rejects.toThrow(/train: the images file holds 3 images but the labels file 2 labels/);
    await expect(mnistFromIdx({ trainImages: images(2), trainLabels: labels([1, 2]), testImages: images(1), testLabels: labels([1, 2]) }))
      .rejects.toThrow(/test: the images file holds 1 images but the labels file 2 labels/);
  });

  test('labels outside 0..9', async () => {
    await expect(mnistFromIdx({ trainImages: images(3), trainLabels: labels([1, 10, 2]) }))
      .rejects.toThrow(/train labels: label 10 at index 1 is outside 0\.\.9/);
  });

  test('images must be 28×28 for this model', async () => {
    await expect(mnistFromIdx({ trainImages: idx(0x08, [1, 20, 20], new Uint8Array(400)), trainLabels: labels([1]) }))
      .rejects.toThrow(/train images: images are 20×20; this model \(784 inputs\) needs 28×28/);
  });

  test('files given in the wrong slot, half a test pair, an empty training set', async () => {
    await expect(mnistFromIdx({ trainImages: labels([1]), trainLabels: images(1) }))
      .rejects.toThrow(/train images: expected an images file \(magic 0x00000803.*is this a labels file/);
    await expect(mnistFromIdx({ trainImages: images(1), trainLabels: images(1) }))
      .rejects.toThrow(/train labels: expected a labels file \(magic 0x00000801.*is this an images file/);
    await expect(mnistFromIdx({ trainImages: images(1), trainLabels: labels([1]), testImages: images(1) }))
      .rejects.toThrow(/test images without test labels/);
    await expect(mnistFromIdx({ trainImages: images(0), trainLabels: labels([]) })).rejects.toThrow(/no digits/);
  });
});
