import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SafetensorsError, readSafetensors, toFloat32, toInt32, writeSafetensors, type StDtype,
} from '../../src/core/io/safetensors';

const FIX = fileURLToPath(new URL('../fixtures/safetensors/', import.meta.url));

interface FixtureInfo {
  order: string[];
  header_len: number;
  file_len: number;
  metadata: Record<string, string> | null;
  tensors: Record<string, { dtype: StDtype; shape: number[]; values: number[] }>;
}
const FIXTURES = JSON.parse(readFileSync(FIX + 'fixtures.json', 'utf8')) as Record<string, FixtureInfo>;
const loadFixture = (f: string) => new Uint8Array(readFileSync(FIX + f));

const utf8 = (s: string) => new TextEncoder().encode(s);
const ascii = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * A safetensors file assembled by hand (independent of writeSafetensors): 8-byte length, the
 * header text exactly as given (no padding unless asked), then `data`.
 */
function rawFile(header: string | object, data: Uint8Array | number = 0, pad = true): Uint8Array {
  let h = utf8(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && h.length % 8) h = utf8(ascii(h) + ' '.repeat(8 - (h.length % 8)));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

function headerOf(file: Uint8Array): { n: number; text: string } {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  expect(dv.getUint32(4, true)).toBe(0);
  const n = dv.getUint32(0, true);
  return { n, text: ascii(file.subarray(8, 8 + n)) };
}

function expectStError(f: () => unknown, re: RegExp): void {
  let err: unknown = null;
  try { f(); } catch (e) { err = e; }
  expect(err, 'expected a SafetensorsError').toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(re);
}

describe('round trip of every dtype', () => {
  test('bytes, dtypes and shapes survive, and values convert', () => {
    const f64 = new Float64Array([Math.PI, -1e-300, 1e30, 0]);
    const f32 = new Float32Array([1.5, -2, 3.25, 1e-40, -0, 7, 8, 9]);
    // Half-precision bit patterns with known values (IEEE 754 binary16).
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x7c00, 0xfc00, 0x8000]);
    const f16Values = [1, -2, 0.333251953125, 2 ** -24, 65504, Infinity, -Infinity, -0];
    // bfloat16 = top half of a float32.
    const bf16 = new Uint16Array([0x3f80, 0xc040, 0x4049, 0x7f80, 0x0001, 0xff80]);
    const bf16Values = [1, -3, 3.140625, Infinity, 2 ** -133, -Infinity];
    const i64 = new BigInt64Array([0n, -1n, 2147483647n, -2147483648n, 42n, -7n]);
    const i32 = new Int32Array([0, -1, 2147483647, -2147483648]);
    const i16 = new Int16Array([0, -1, 32767, -32768, 5, 6]);
    const i8 = new Int8Array([0, -1, 127, -128, 3]);
    const u8 = new Uint8Array([0, 1, 255, 128]);
    const bool = new Uint8Array([1, 0, 0, 1, 1, 1]);
    const specs: { name: string; dtype: StDtype; shape: number[]; data: ArrayBufferView }[] = [
      { name: 'f64', dtype: 'F64', shape: [2, 2], data: f64 },
      { name: 'f32', dtype: 'F32', shape: [2, 2, 2], data: f32 },
      { name: 'f16', dtype: 'F16', shape: [8], data: f16 },
      { name: 'bf16', dtype: 'BF16', shape: [3, 2], data: bf16 },
      { name: 'i64', dtype: 'I64', shape: [6], data: i64 },
      { name: 'i32', dtype: 'I32', shape: [4, 1], data: i32 },
      { name: 'i16', dtype: 'I16', shape: [2, 3], data: i16 },
      { name: 'i8', dtype: 'I8', shape: [5], data: i8 },
      { name: 'u8', dtype: 'U8', shape: [4], data: u8 },
      { name: 'bool', dtype: 'BOOL', shape: [2, 3], data: bool },
      { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([2.5]) },
      { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    ];
    const file = writeSafetensors(specs, { who: 'test', 'ünï': 'cödé' });
    const { tensors, metadata } = readSafetensors(file);
    expect(metadata).toEqual({ who: 'test', 'ünï': 'cödé' });
    expect([...tensors.keys()].sort()).toEqual(specs.map((s) => s.name).sort());
    for (const s of specs) {
      const t = tensors.get(s.name)!;
      expect(t.dtype).toBe(s.dtype);
      expect(t.shape).toEqual(s.shape);
      expect(Array.from(t.data)).toEqual(Array.from(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength)));
    }
    const F = (n: string) => Array.from(toFloat32(tensors.get(n)!, n));
    const I = (n: string) => Array.from(toInt32(tensors.get(n)!, n));
    expect(F('f64')).toEqual(Array.from(f64, (v) => Math.fround(v)));
    expect(F('f32')).toEqual(Array.from(f32));
    expect(F('f16')).toEqual(f16Values);
    expect(Object.is(F('f16')[7], -0)).toBe(true);
    expect(F('bf16')).toEqual(bf16Values);
    expect(F('scalar')).toEqual([2.5]);
    expect(F('empty')).toEqual([]);
    expect(I('i64')).toEqual([0, -1, 2147483647, -2147483648, 42, -7]);
    expect(I('i32')).toEqual(Array.from(i32));
    expect(I('i16')).toEqual(Array.from(i16));
    expect(I('i8')).toEqual(Array.from(i8));
    expect(I('u8')).toEqual([0, 1, 255, 128]);
  });

  test('half-precision NaN decodes to NaN', () => {
    const { tensors } = readSafetensors(writeSafetensors([{ name: 'h', dtype: 'F16', shape: [2], data: new Uint16Array([0x7e00, 0x7c01]) }]));
    const v = toFloat32(tensors.get('h')!, 'h');
    expect(Number.isNaN(v[0]) && Number.isNaN(v[1])).toBe(true);
  });

  test('conversions refuse what does not fit or is the wrong kind', () => {
    const { tensors } = readSafetensors(writeSafetensors([
      { name: 'big64', dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2147483648n]) },
      { name: 'neg64', dtype: 'I64', shape: [1], data: new BigInt64Array([-2147483649n]) },
      { name: 'huge', dtype: 'F64', shape: [2], data: new Float64Array([1, 1e300]) },
      { name: 'ints', dtype: 'I32', shape: [1], data: new Int32Array([1]) },
      { name: 'floats', dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      { name: 'flags', dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) },
    ]));
    expectStError(() => toInt32(tensors.get('big64')!, 'big64'), /"big64": element 1 = 2147483648 does not fit in int32/);
    expectStError(() => toInt32(tensors.get('neg64')!, 'neg64'), /element 0 = -2147483649 does not fit/);
    expectStError(() => toFloat32(tensors.get('huge')!, 'huge'), /"huge": element 1 = 1e\+300 is too large for float32/);
    expectStError(() => toFloat32(tensors.get('ints')!, 'ints'), /has dtype I32; expected a floating-point dtype/);
    expectStError(() => toInt32(tensors.get('floats')!, 'floats'), /has dtype F32; expected an integer dtype/);
    expectStError(() => toFloat32(tensors.get('flags')!, 'flags'), /BOOL/);
    // F64 infinities are values, not overflow: they pass through for the caller to judge.
    const inf = readSafetensors(writeSafetensors([{ name: 'x', dtype: 'F64', shape: [1], data: new Float64Array([-Infinity]) }]));
    expect(toFloat32(inf.tensors.get('x')!, 'x')[0]).toBe(-Infinity);
  });
});

describe('header layout matches the reference serializer', () => {
  // Known answers from the format's reference implementation: a single F32 [1,2,3] tensor
  // "attn.0" has a 64-byte header (no padding needed); "attn0" with [1,1,2,3] needs 7 spaces.
  test('padding with spaces to a multiple of 8', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const a = writeSafetensors([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data }]);
    const ha = headerOf(a);
    expect(ha.n).toBe(64);
    expect(ha.text).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(a.length).toBe(8 + 64 + 24);
    expect(Array.from(a.subarray(72, 80))).toEqual([0, 0, 0, 0, 0, 0, 128, 63]);

    const b = writeSafetensors([{ name: 'attn0', dtype: 'F32', shape: [1, 1, 2, 3], data }]);
    const hb = headerOf(b);
    expect(hb.n).toBe(72);
    expect(hb.text).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');

    expect(Array.from(writeSafetensors([]))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const m = writeSafetensors([], { framework: 'pt' });
    expect(headerOf(m).text).toBe('{"__metadata__":{"framework":"pt"}}     ');
    expect(readSafetensors(m).metadata).toEqual({ framework: 'pt' });
    expect(readSafetensors(m).tensors.size).toBe(0);
  });

  test('deterministic order: descending dtype alignment, then name; data 8-byte aligned in the file', () => {
    const t = (name: string, dtype: StDtype, data: ArrayBufferView, shape = [data.byteLength / (data as Uint8Array).BYTES_PER_ELEMENT]) => ({ name, dtype, shape, data });
    const input = [
      t('z', 'U8', new Uint8Array(3)),
      t('b', 'F32', new Float32Array(1)),
      t('a', 'F32', new Float32Array(3)),
      t('c', 'I64', new BigInt64Array(1)),
      t('d', 'F16', new Uint16Array(1)),
      t('e', 'F64', new Float64Array(1)),
      t('f', 'I32', new Int32Array(1)),
      t('g', 'BOOL', new Uint8Array(1)),
      t('h', 'I8', new Int8Array(1)),
      t('i', 'I16', new Int16Array(1)),
      t('j', 'BF16', new Uint16Array(1)),
    ];
    const file = writeSafetensors(input);
    const { n, text } = headerOf(file);
    expect(n % 8).toBe(0);
    const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
    expect(Object.keys(header)).toEqual(['c', 'e', 'a', 'b', 'f', 'j', 'd', 'i', 'h', 'z', 'g']);
    let pos = 0;
    for (const k of Object.keys(header)) {
      expect(header[k].data_offsets[0]).toBe(pos);
      pos = header[k].data_offsets[1];
    }
    // Aligned dtypes first, so every tensor of size s starts at a multiple of s in the file.
    expect((8 + n + header.a.data_offsets[0]) % 4).toBe(0);
    expect((8 + n + header.e.data_offsets[0]) % 8).toBe(0);
    // Input order does not matter.
    expect(Array.from(writeSafetensors([...input].reverse()))).toEqual(Array.from(file));
  });

  test('byte-identical to the independent Python writer (torch save_file order)', () => {
    for (const [fname, info] of Object.entries(FIXTURES)) {
      const bytes = loadFixture(fname);
      expect(bytes.length).toBe(info.file_len);
      const { n, text } = headerOf(bytes);
      expect(n).toBe(info.header_len);
      expect(n % 8).toBe(0);
      expect(text.includes('__metadata__')).toBe(info.metadata !== null);
      const { tensors, metadata } = readSafetensors(bytes);
      expect([...tensors.keys()]).toEqual(info.order);
      expect(metadata).toEqual(info.metadata ?? {});
      for (const [name, exp] of Object.entries(info.tensors)) {
        const t = tensors.get(name)!;
        expect(t.dtype).toBe(exp.dtype);
        expect(t.shape).toEqual(exp.shape);
        const got = exp.dtype === 'I64' || exp.dtype === 'I32' ? toInt32(t, name) : toFloat32(t, name);
        const want = exp.dtype === 'F64' ? exp.values.map((v) => Math.fround(v)) : exp.values;
        expect(Array.from(got), `${fname} ${name}`).toEqual(want);
      }
      // Re-serialize the same tensors, given in a scrambled order, from the sidecar values.
      const typed = (dtype: StDtype, v: number[]): ArrayBufferView | null => {
        switch (dtype) {
          case 'F32': return Float32Array.from(v);
          case 'F64': return Float64Array.from(v);
          case 'I64': return BigInt64Array.from(v.map(BigInt));
          default: return null; // F16/BF16 sidecars hold decoded values only
        }
      };
      const specs = Object.entries(info.tensors).map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape, data: typed(e.dtype, e.values) }));
      if (specs.some((s) => s.data === null)) continue;
      const again = writeSafetensors(
        specs.reverse().map((s) => ({ ...s, data: s.data! })),
        info.metadata ?? undefined,
      );
      expect(Array.from(again), fname).toEqual(Array.from(bytes));
    }
  });
});

describe('reading', () => {
  test('unaligned input buffers and tensor offsets', () => {
    const file = writeSafetensors([
      { name: 'u', dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      { name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([0.25, -8]) },
    ]);
    // Embed at an odd byte offset of a bigger buffer.
    const big = new Uint8Array(file.length + 7);
    big.set(file, 3);
    const view = big.subarray(3, 3 + file.length);
    const { tensors } = readSafetensors(view);
    expect(Array.from(toFloat32(tensors.get('w')!, 'w'))).toEqual([0.25, -8]);
    // A hand-made file whose F32 tensor starts at an odd offset (legal, just unaligned).
    const data = new Uint8Array(3 + 8);
    data.set([9, 9, 9]);
    new DataView(data.buffer).setFloat32(3, 1.75, true);
    new DataView(data.buffer).setFloat32(7, -3, true);
    const odd = rawFile({ a: { dtype: 'U8', shape: [3], data_offsets: [0, 3] }, b: { dtype: 'F32', shape: [2], data_offsets: [3, 11] } }, data, false);
    const r = readSafetensors(odd);
    expect(Array.from(toFloat32(r.tensors.get('b')!, 'b'))).toEqual([1.75, -3]);
    expect(r.tensors.get('b')!.data.byteOffset).toBe(0);
  });

  test('header entries in any order; __metadata__ null is no metadata', () => {
    const data = new Uint8Array(8);
    data.set([1, 0, 0, 0, 2, 0, 0, 0]);
    const f = rawFile({ late: { dtype: 'I32', shape: [1], data_offsets: [4, 8] }, __metadata__: null, early: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, data);
    const { tensors, metadata } = readSafetensors(f);
    expect(metadata).toEqual({});
    expect(Array.from(toInt32(tensors.get('early')!, 'early'))).toEqual([1]);
    expect(Array.from(toInt32(tensors.get('late')!, 'late'))).toEqual([2]);
  });

  test('metadata keys are kept verbatim, even "__proto__"', () => {
    const { metadata } = readSafetensors(rawFile('{"__metadata__":{"__proto__":"x","constructor":"y"}}'));
    expect(Object.keys(metadata).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value).toBe('x');
  });

  test('the returned tensors do not alias the input', () => {
    const file = writeSafetensors([{ name: 'x', dtype: 'U8', shape: [2], data: new Uint8Array([5, 6]) }]);
    const { tensors } = readSafetensors(file);
    file.fill(0);
    expect(Array.from(tensors.get('x')!.data)).toEqual([5, 6]);
  });
});

describe('bad files are refused with precise messages', () => {
  const good = writeSafetensors([
    { name: 'a', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    { name: 'b', dtype: 'I64', shape: [2], data: new BigInt64Array([7n, 8n]) },
  ], { k: 'v' });
  const hLen = headerOf(good).n;

  test('shorter than 8 bytes', () => {
    for (let n = 0; n < 8; n++) expectStError(() => readSafetensors(good.slice(0, n)), new RegExp(`too short.*${n} byte`));
  });

  test('truncated at every point', () => {
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => readSafetensors(good.slice(0, cut)), `cut at ${cut}`).toThrow(SafetensorsError);
    }
    // Inside the header: the length points past the end.
    expectStError(() => readSafetensors(good.slice(0, 8 + 10)), new RegExp(`Header length ${hLen} bytes is beyond the end of the file \\(only 10 bytes follow`));
    // Inside the data: say how much was expected and how much is there (40 data bytes in all).
    expectStError(() => readSafetensors(good.slice(0, good.length - 5)),
      new RegExp(`truncated: the header describes 40 bytes of tensor data but only 35 bytes are present \\(expected a file of ${good.length} bytes, got ${good.length - 5}\\)`));
    expectStError(() => readSafetensors(good.slice(0, 8 + hLen)), /truncated: .* 40 bytes .* only 0 bytes are present/);
  });

  test('absurd header lengths', () => {
    const f = good.slice();
    new DataView(f.buffer).setUint32(4, 1, true); // ≥ 4 GiB
    expectStError(() => readSafetensors(f), /Header length 4,294,967,\d+ bytes is beyond the end/);
    new DataView(f.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectStError(() => readSafetensors(f), /Header length 18,446,744,073,709,551,615 bytes is beyond the end/);
    new DataView(f.buffer).setBigUint64(0, 0n, true);
    expectStError(() => readSafetensors(f), /Header is empty/);
  });

  test('trailing bytes after the last tensor', () => {
    const f = new Uint8Array(good.length + 3);
    f.set(good);
    expectStError(() => readSafetensors(f), /3 unexpected bytes after the last tensor/);
  });

  test('corrupt JSON, not an object, bad UTF-8', () => {
    const f = good.slice();
    f[8] = '['.charCodeAt(0); // "{" → "[" breaks the JSON
    expectStError(() => readSafetensors(f), /Header is not valid JSON/);
    const g = good.slice();
    g[8 + 20] = 0xff;
    expectStError(() => readSafetensors(g), /not valid UTF-8/);
    expectStError(() => readSafetensors(rawFile('[1,2]')), /must be a JSON object.*got a list/);
    expectStError(() => readSafetensors(rawFile('null')), /must be a JSON object.*got null/);
    expectStError(() => readSafetensors(rawFile('"x"')), /must be a JSON object.*got a string/);
  });

  test('entries: dtype, shape, offsets', () => {
    const cases: [object, number, RegExp][] = [
      [{ x: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1, /"x": unknown or unsupported dtype "Q4" \(supported: F64, F32/],
      [{ x: { dtype: 'U16', shape: [1], data_offsets: [0, 2] } }, 2, /unsupported dtype "U16"/],
      [{ x: { shape: [1], data_offsets: [0, 4] } }, 4, /"x": header entry has no "dtype"/],
      [{ x: { dtype: 'F32', data_offsets: [0, 4] } }, 4, /"x": header entry has no "shape"/],
      [{ x: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 4] } }, 4, /"x": "shape" must be a list of non-negative integers \(got \[2, -1\]\)/],
      [{ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4, /"shape" must be a list of non-negative integers/],
      [{ x: { dtype: 'F32', shape: '3', data_offsets: [0, 12] } }, 12, /"shape" must be a list/],
      [{ x: { dtype: 'F32', shape: [3], data_offsets: [0] } }, 12, /"data_offsets" must be \[begin, end\]/],
      [{ x: { dtype: 'F32', shape: [3], data_offsets: [0, -12] } }, 12, /"data_offsets" must be/],
      [{ x: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, 20, /"x": data_offsets \[0, 20\] span 20 bytes, but dtype F32 × shape \[2, 3\] needs 24 bytes/],
      [{ x: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, 8, /"x": data_offsets \[8, 4\] end before they begin/],
      [{ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12, /"x" \(bytes 0–8\) and "y" \(bytes 4–12\) overlap/],
      [{ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } }, 20, /gap: bytes 8–12 .*before "y"/],
      [{ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8, /gap: bytes 0–4/],
      [{ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, __metadata__: { a: 1 } }, 4, /"__metadata__" value for "a" must be a string \(got 1\)/],
      [{ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, __metadata__: ['a'] }, 4, /"__metadata__" must be an object/],
      [{ x: 5 }, 0, /"x": header entry must be an object/],
    ];
    for (const [h, n, re] of cases) expectStError(() => readSafetensors(rawFile(h, n)), re);
  });
});

describe('writing', () => {
  test('refuses inconsistent input', () => {
    expectStError(() => writeSafetensors([{ name: 'x', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]), /"x": data has 12 bytes, but dtype F32 × shape \[2, 2\] needs 16 bytes/);
    expectStError(() => writeSafetensors([
      { name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) },
      { name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) },
    ]), /"x" appears twice/);
    expectStError(() => writeSafetensors([{ name: '__metadata__', dtype: 'U8', shape: [1], data: new Uint8Array(1) }]), /reserved/);
    expectStError(() => writeSafetensors([{ name: 'x', dtype: 'X' as StDtype, shape: [1], data: new Uint8Array(1) }]), /unknown dtype "X"/);
    expectStError(() => writeSafetensors([], { a: 3 as unknown as string }), /Metadata value for "a" must be a string/);
  });

  test('writes from a subarray view without its neighbours', () => {
    const buf = new Float32Array([9, 1, 2, 9]);
    const f = writeSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: buf.subarray(1, 3) }]);
    expect(Array.from(toFloat32(readSafetensors(f).tensors.get('x')!, 'x'))).toEqual([1, 2]);
  });
});
