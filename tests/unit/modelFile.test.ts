import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIGS, layoutFor, paramCount, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { defaultDataSpec, type DataSpec } from '../../src/core/data/spec';
import type { ModelBundle } from '../../src/core/models/bundle';
import { view } from '../../src/core/params';
import { ModelFileError, decodeModelFile, encodeModelFile } from '../../src/core/io/modelFile';
import { readSafetensors, writeSafetensors, type StDtype } from '../../src/core/io/safetensors';

const FIX = fileURLToPath(new URL('../fixtures/safetensors/', import.meta.url));
interface FixtureInfo {
  arch: string;
  config: ModelConfig;
  metadata: Record<string, string> | null;
  tensors: Record<string, { dtype: StDtype; shape: number[]; values: number[] }>;
}
const FIXTURES = JSON.parse(readFileSync(FIX + 'fixtures.json', 'utf8')) as Record<string, FixtureInfo>;

function bundle(config: ModelConfig, seed = 1, extra: Partial<ModelBundle> = {}): ModelBundle {
  return { name: `test ${config.arch}`, config, theta: initParams(config, seed), data: defaultDataSpec(config, seed), ...extra };
}

/** The model's tensors as (name, shape, values) in state_dict order, independent of the writer. */
function tensorsOf(c: ModelConfig, theta: Float32Array): { name: string; dtype: StDtype; shape: number[]; data: Float32Array }[] {
  const L = layoutFor(c);
  return L.tensors.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: view(L, theta, t.name).slice() }));
}

/**
 * A safetensors file laid out by hand, with data in exactly the given order (the writer under
 * test always sorts): used for state_dict-order independence.
 */
function rawInOrder(ts: { name: string; dtype: string; shape: number[]; data: ArrayBufferView }[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const t of ts) { header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] }; off += t.data.byteLength; }
  if (metadata) header.__metadata__ = metadata; // last, unlike the reference: readers must not care
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + off);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  let pos = 8 + h.length;
  for (const t of ts) { out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos); pos += t.data.byteLength; }
  return out;
}

function expectModelError(f: () => unknown, ...res: RegExp[]): string {
  let err: unknown = null;
  try { f(); } catch (e) { err = e; }
  expect(err, 'expected a ModelFileError').toBeInstanceOf(ModelFileError);
  for (const re of res) expect((err as Error).message).toMatch(re);
  return (err as Error).message;
}

const SMALL: ModelConfig[] = [
  { arch: 'modadd', p: 5, e: 3, h: 4 },
  { arch: 'modadd-gelu', p: 7, e: 2, h: 3 },
  { arch: 'mnist-mlp', hidden: [4] },
  { arch: 'mnist-mlp', hidden: [3, 5, 2] },
  { arch: 'matfac', widths: [3, 2, 3] },
  { arch: 'matfac', widths: [4, 3, 2, 5] },
  ...Object.values(DEFAULT_CONFIGS),
];

describe('round trip', () => {
  test.each(SMALL.map((c) => [JSON.stringify(c), c] as const))('%s', (_label, c) => {
    const b = bundle(c, 3, { metadata: { recipe: 'adamw lr=1e-3', arch: 'must not win' } });
    const file = encodeModelFile(b);
    const back = decodeModelFile(file);
    expect(back.config).toEqual(c);
    expect(back.theta.length).toBe(paramCount(c));
    expect(Array.from(back.theta)).toEqual(Array.from(b.theta));
    expect(back.data).toEqual(b.data);
    expect(back.name).toBe(b.name);
    expect(back.metadata).toEqual({ recipe: 'adamw lr=1e-3' });
    expect(back.trainIdx).toBeUndefined();

    // The file itself: PyTorch names and shapes, F32, and the documented metadata.
    const { tensors, metadata } = readSafetensors(file);
    const L = layoutFor(c);
    expect([...tensors.keys()].sort()).toEqual(L.tensors.map((t) => t.name).sort());
    for (const t of L.tensors) {
      expect(tensors.get(t.name)!.dtype).toBe('F32');
      expect(tensors.get(t.name)!.shape).toEqual(t.shape);
    }
    expect(metadata.format).toBe('slt-explorer/1');
    expect(metadata.arch).toBe(c.arch);
    expect(metadata.params).toBe(String(paramCount(c)));
    expect(JSON.parse(metadata.data)).toEqual(b.data);
    expect(metadata.name).toBe(b.name);
    expect(metadata.recipe).toBe('adamw lr=1e-3');
    if (c.arch === 'modadd' || c.arch === 'modadd-gelu') expect([metadata.p, metadata.e, metadata.h]).toEqual([String(c.p), String(c.e), String(c.h)]);
    if (c.arch === 'mnist-mlp') expect(metadata.hidden).toBe(c.hidden.join(','));
    if (c.arch === 'matfac') expect(metadata.widths).toBe(c.widths.join(','));
  });

  test('the docs/science.md §1 example metadata strings', () => {
    expect(readSafetensors(encodeModelFile(bundle(DEFAULT_CONFIGS['mnist-mlp']))).metadata.hidden).toBe('50,50');
    expect(readSafetensors(encodeModelFile(bundle(DEFAULT_CONFIGS.matfac))).metadata.widths).toBe('20,20,20');
    expect(readSafetensors(encodeModelFile(bundle({ arch: 'matfac', widths: [5, 4, 5] }))).metadata.widths).toBe('5,4,5');
    const m = readSafetensors(encodeModelFile(bundle(DEFAULT_CONFIGS.modadd))).metadata;
    expect([m.p, m.e, m.h, m.params]).toEqual(['53', '128', '256', '86197']);
  });

  test('data tensors: train_idx for modadd, x / y for matfac', () => {
    const c: ModelConfig = { arch: 'modadd', p: 5, e: 3, h: 4 };
    const trainIdx = Int32Array.from([24, 0, 7, 13, 3]);
    const data: DataSpec = { kind: 'modadd', p: 5, trainFraction: 0.2, seed: 9, op: 'random' };
    const file = encodeModelFile(bundle(c, 2, { trainIdx, data }));
    const st = readSafetensors(file).tensors.get('data.train_idx')!;
    expect(st.dtype).toBe('I32');
    expect(st.shape).toEqual([5]);
    const back = decodeModelFile(file);
    expect(Array.from(back.trainIdx!)).toEqual([24, 0, 7, 13, 3]);
    expect(back.data).toEqual(data);

    const m: ModelConfig = { arch: 'matfac', widths: [3, 2, 4] };
    const dataX = Float32Array.from({ length: 6 * 3 }, (_, i) => Math.fround(Math.cos(i)));
    const dataY = Float32Array.from({ length: 6 * 4 }, (_, i) => Math.fround(i / 7));
    const mf = encodeModelFile(bundle(m, 4, { dataX, dataY }));
    const ts = readSafetensors(mf).tensors;
    expect(ts.get('data.x')!.shape).toEqual([6, 3]);
    expect(ts.get('data.y')!.shape).toEqual([6, 4]);
    const mb = decodeModelFile(mf);
    expect(Array.from(mb.dataX!)).toEqual(Array.from(dataX));
    expect(Array.from(mb.dataY!)).toEqual(Array.from(dataY));
  });

  test('name: option, then metadata, then the architecture', () => {
    const c: ModelConfig = { arch: 'matfac', widths: [2, 2] };
    const f = encodeModelFile(bundle(c, 1, { name: 'from file' }));
    expect(decodeModelFile(f).name).toBe('from file');
    expect(decodeModelFile(f, { name: 'chosen' }).name).toBe('chosen');
    expect(decodeModelFile(writeSafetensors(tensorsOf(c, initParams(c, 1)))).name).toBe('matfac');
  });

  test('export refuses what it could not read back', () => {
    const c: ModelConfig = { arch: 'modadd', p: 5, e: 3, h: 4 };
    const b = bundle(c);
    b.theta[23] = NaN;
    expectModelError(() => encodeModelFile(b), /hidden\.weight\[1, 2\] is NaN/);
    expectModelError(() => encodeModelFile({ ...bundle(c), theta: new Float32Array(5) }), /θ has 5 entries, modadd p=5 e=3 h=4 has 68 parameters/);
    expectModelError(() => encodeModelFile(bundle(c, 1, { trainIdx: Int32Array.from([25]) })), /data\.train_idx\[0\] = 25 is outside \[0, 25\)/);
    expectModelError(() => encodeModelFile(bundle({ arch: 'matfac', widths: [2, 2] }, 1, { dataX: new Float32Array(4) })), /data\.y is missing/);
  });
});

describe('PyTorch files without metadata', () => {
  test.each(SMALL.map((c) => [JSON.stringify(c), c] as const))('arch and sizes inferred: %s', (_label, c) => {
    const theta = initParams(c, 5);
    const back = decodeModelFile(writeSafetensors(tensorsOf(c, theta)));
    expect(back.config).toEqual(c);
    expect(Array.from(back.theta)).toEqual(Array.from(theta));
    expect(back.data).toEqual(defaultDataSpec(c));
    expect(back.metadata).toBeUndefined();
  });

  test('state_dict order in the file does not matter', () => {
    const c: ModelConfig = { arch: 'modadd', p: 5, e: 3, h: 4 };
    const theta = initParams(c, 8);
    const ts = tensorsOf(c, theta);
    const orders = [ts, [...ts].reverse(), [ts[2], ts[4], ts[0], ts[3], ts[1]]];
    for (const o of orders) {
      expect(Array.from(decodeModelFile(rawInOrder(o)).theta)).toEqual(Array.from(theta));
      expect(Array.from(decodeModelFile(rawInOrder(o, { arch: 'modadd', p: '5', e: '3', h: '4' })).theta)).toEqual(Array.from(theta));
    }
  });

  test('DataParallel / torch.compile prefixes are stripped', () => {
    const c: ModelConfig = { arch: 'matfac', widths: [3, 2, 3] };
    const theta = initParams(c, 2);
    for (const prefix of ['module.', '_orig_mod.']) {
      const back = decodeModelFile(writeSafetensors(tensorsOf(c, theta).map((t) => ({ ...t, name: prefix + t.name }))));
      expect(back.config).toEqual(c);
      expect(Array.from(back.theta)).toEqual(Array.from(theta));
    }
  });

  test('F64, F16 and BF16 weights are converted', () => {
    const c: ModelConfig = { arch: 'matfac', widths: [3, 2, 3] };
    const L = layoutFor(c);
    const d = Float64Array.from({ length: L.size }, (_, i) => 1 / (i + 3));
    const f64 = L.tensors.map((t) => ({ name: t.name, dtype: 'F64' as const, shape: t.shape, data: d.subarray(t.offset, t.offset + t.size) }));
    expect(Array.from(decodeModelFile(writeSafetensors(f64)).theta)).toEqual(Array.from(d, (v) => Math.fround(v)));
    // 0x3c00 = 1 (F16), 0x4000 = 2 (BF16).
    const f16 = L.tensors.map((t) => ({ name: t.name, dtype: 'F16' as const, shape: t.shape, data: new Uint16Array(t.size).fill(0x3c00) }));
    expect(Array.from(decodeModelFile(writeSafetensors(f16)).theta)).toEqual(new Array(L.size).fill(1));
    const bf = L.tensors.map((t) => ({ name: t.name, dtype: 'BF16' as const, shape: t.shape, data: new Uint16Array(t.size).fill(0x4000) }));
    expect(Array.from(decodeModelFile(writeSafetensors(bf)).theta)).toEqual(new Array(L.size).fill(2));
  });
});

describe('files written by an independent Python writer (torch save_file layout)', () => {
  test.each(Object.keys(FIXTURES))('%s', (fname) => {
    const info = FIXTURES[fname];
    const back = decodeModelFile(new Uint8Array(readFileSync(FIX + fname)));
    expect(back.config.arch).toBe(info.arch);
    expect(back.config).toEqual(info.config);
    const L = layoutFor(back.config);
    for (const t of L.tensors) {
      const exp = info.tensors[t.name];
      expect(exp, t.name).toBeDefined();
      expect(exp.shape).toEqual(t.shape);
      const want = exp.dtype === 'F64' ? exp.values.map((v) => Math.fround(v)) : exp.values;
      const got = Array.from(view(L, back.theta, t.name));
      expect(got, `${fname} ${t.name}`).toEqual(want);
    }
    if (info.metadata) {
      expect(back.name).toBe(info.metadata.name);
      expect(back.metadata).toEqual({ lr: '0.001' }); // reserved keys (format, arch, sizes, name) are consumed
      expect(Array.from(back.trainIdx!)).toEqual(info.tensors['data.train_idx'].values);
    } else {
      expect(back.name).toBe(info.arch);
      expect(back.metadata).toBeUndefined();
      expect(back.trainIdx).toBeUndefined();
    }
  });

  test('the values are the documented pattern 0.5·sin(1.3·i + k)', () => {
    // Guards the sidecar itself: element i of the k-th tensor in module order.
    const info = FIXTURES['modadd_p5_e3_h4.safetensors'];
    const names = ['embed.weight', 'hidden.weight', 'hidden.bias', 'out.weight', 'out.bias'];
    names.forEach((n, k) => info.tensors[n].values.forEach((v, i) => expect(v).toBe(Math.fround(0.5 * Math.sin(1.3 * i + k)))));
  });
});

describe('bad model files', () => {
  const c: ModelConfig = { arch: 'modadd', p: 5, e: 3, h: 4 };
  const theta = initParams(c, 1);
  const ts = () => tensorsOf(c, theta);

  test('wrong shapes, with the expected shape and the model', () => {
    const D = DEFAULT_CONFIGS.modadd;
    const big = tensorsOf(D, initParams(D, 1)).map((t) => (t.name === 'hidden.weight' ? { ...t, shape: [256, 200], data: new Float32Array(256 * 200) } : t));
    expectModelError(() => decodeModelFile(writeSafetensors(big, { arch: 'modadd', p: '53', e: '128', h: '256' })),
      /hidden\.weight has shape \[256, 200\], expected \[256, 256\] for modadd p=53 e=128 h=256/);
    // Without metadata the sizes come from embed.weight / hidden.weight and the rest must agree.
    expectModelError(() => decodeModelFile(writeSafetensors(big)), /hidden\.weight has shape \[256, 200\], expected \[256, 256\] for modadd p=53 e=128 h=256/);
    const wrongOut = ts().map((t) => (t.name === 'out.weight' ? { ...t, shape: [4, 5] } : t));
    expectModelError(() => decodeModelFile(writeSafetensors(wrongOut)), /out\.weight has shape \[4, 5\], expected \[5, 4\] for modadd p=5 e=3 h=4/);
    // Metadata sizes that disagree with the tensors.
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { arch: 'modadd', p: '5', e: '3', h: '6' })),
      /hidden\.weight has shape \[4, 6\], expected \[6, 6\] for modadd p=5 e=3 h=6/, /out\.weight has shape \[5, 4\], expected \[5, 6\]/);
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { arch: 'modadd', params: '999' })), /params=999, but modadd p=5 e=3 h=4 has 68 parameters/);
    // MNIST's input and output are fixed.
    const m: ModelConfig = { arch: 'mnist-mlp', hidden: [4] };
    const bad = tensorsOf(m, initParams(m, 1)).map((t) => (t.name === 'fc1.weight' ? { ...t, shape: [4, 28, 28] } : t));
    expectModelError(() => decodeModelFile(writeSafetensors(bad)), /fc1\.weight has shape \[4, 28, 28\], expected a 2-D weight/);
    const bad2 = tensorsOf(m, initParams(m, 1)).map((t) => (t.name === 'fc1.weight' ? { ...t, shape: [4, 196], data: new Float32Array(784) } : t));
    expectModelError(() => decodeModelFile(writeSafetensors(bad2)), /fc1\.weight has shape \[4, 196\], expected \[4, 784\] for mnist-mlp 784-4-10/);
  });

  test('NaN and Inf weights name the tensor and element', () => {
    // Layout offsets for p=5 e=3 h=4: embed 0–14, hidden.weight 15–38 ([4, 6]), hidden.bias 39–42,
    // out.weight 43–62, out.bias 63–67.
    const th = theta.slice();
    th[15 + 1 * 6 + 2] = NaN;
    expectModelError(() => decodeModelFile(writeSafetensors(tensorsOf(c, th))), /hidden\.weight\[1, 2\] is NaN/);
    const th2 = theta.slice();
    th2[67] = -Infinity;
    th2[44] = Infinity;
    expectModelError(() => decodeModelFile(writeSafetensors(tensorsOf(c, th2))), /out\.weight\[0, 1\] is \+Inf \(and 1 more non-finite weight\)/);
    const th3 = theta.slice();
    th3[67] = -Infinity;
    expectModelError(() => decodeModelFile(writeSafetensors(tensorsOf(c, th3))), /out\.bias\[4\] is -Inf/);
    // A double too large for float32 is refused, not turned into Inf.
    const L = layoutFor(c);
    const d = Float64Array.from(theta);
    d[3] = 1e200;
    const f64 = L.tensors.map((t) => ({ name: t.name, dtype: 'F64' as const, shape: t.shape, data: d.subarray(t.offset, t.offset + t.size) }));
    expectModelError(() => decodeModelFile(writeSafetensors(f64)), /embed\.weight.*element 3 = 1e\+200 is too large for float32/);
  });

  test('unknown architecture lists the known ones', () => {
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { arch: 'transformer' })),
      /Unknown architecture "transformer" in __metadata__ \(known: modadd, modadd-gelu, mnist-mlp, matfac\)/);
    expectModelError(() => decodeModelFile(writeSafetensors([{ name: 'conv.weight', dtype: 'F32', shape: [2], data: new Float32Array(2) }])),
      /Cannot tell which model this is: its tensors \(conv\.weight\) match none of the known architectures/);
  });

  test('missing and unexpected tensors', () => {
    expectModelError(() => decodeModelFile(writeSafetensors(ts().filter((t) => t.name !== 'out.bias'))), /missing tensor out\.bias for modadd p=5 e=3 h=4/);
    expectModelError(() => decodeModelFile(writeSafetensors(ts().filter((t) => t.name !== 'hidden.weight' && t.name !== 'out.bias'), { arch: 'modadd', p: '5', e: '3', h: '4' })),
      /missing tensors hidden\.weight, out\.bias/);
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), { name: 'extra.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }])),
      /unexpected tensor extra\.weight \(a modadd p=5 e=3 h=4 model has embed\.weight, hidden\.weight, hidden\.bias, out\.weight, out\.bias\)/);
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), { name: 'data.labels', dtype: 'I32', shape: [1], data: new Int32Array(1) }])),
      /unexpected tensor data\.labels .*data tensors may be data\.train_idx, data\.x, data\.y/);
    // matfac with a layer missing in the middle.
    const m: ModelConfig = { arch: 'matfac', widths: [3, 2, 2, 3] };
    const mt = tensorsOf(m, initParams(m, 1)).filter((t) => t.name !== 'layers.1.weight');
    expectModelError(() => decodeModelFile(writeSafetensors(mt)), /no layers\.1\.weight/);
    // Metadata arch that the tensors do not fit.
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { arch: 'matfac' })), /Cannot tell the matfac widths: no layers\.0\.weight/);
  });

  test('invalid sizes and metadata', () => {
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { arch: 'modadd', p: 'five' })), /"p" must be a positive integer \(got "five"\)/);
    expectModelError(() => decodeModelFile(writeSafetensors([{ name: 'layers.0.weight', dtype: 'F32', shape: [2000, 1], data: new Float32Array(2000) }])),
      /Invalid matfac model: widths\[1\] must be between 1 and 1024 \(got 2000\)/);
    const p1: ModelConfig = { arch: 'modadd', p: 1, e: 3, h: 4 };
    expectModelError(() => decodeModelFile(writeSafetensors(tensorsOf(p1, new Float32Array(paramCount(p1))))), /p must be between 2 and 1000 \(got 1\)/);
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { data: '{oops' })), /__metadata__ "data" is not valid JSON/);
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { data: JSON.stringify({ kind: 'mnist', source: 'builtin' }) })), /data spec kind "mnist" does not fit a modadd model \(expected "modadd"\)/);
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { data: JSON.stringify({ kind: 'modadd', p: 7, trainFraction: 0.5, seed: 0, op: 'sum' }) })), /data spec p=7 does not match the model's p \(5\)/);
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { data: JSON.stringify({ kind: 'modadd', p: 5, trainFraction: 2, seed: 0, op: 'max' }) })), /trainFraction must be a number in \(0, 1\]/, /op must be "sum" or "random"/);
    expectModelError(() => decodeModelFile(writeSafetensors(ts(), { format: 'slt-explorer/2' })), /format is slt-explorer\/2/);
    const ints = ts().map((t) => (t.name === 'out.bias' ? { name: t.name, dtype: 'I32' as const, shape: t.shape, data: new Int32Array(5) } : t));
    expectModelError(() => decodeModelFile(writeSafetensors(ints)), /out\.bias has dtype I32; weights must be floating point/);
  });

  test('invalid data tensors', () => {
    const idx = (v: number[], dtype: StDtype = 'I32') => ({ name: 'data.train_idx', dtype, shape: [v.length], data: dtype === 'I64' ? BigInt64Array.from(v.map(BigInt)) : Int32Array.from(v) });
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), idx([0, 25])])), /data\.train_idx\[1\] = 25 is outside \[0, 25\)/);
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), idx([-1])])), /data\.train_idx\[0\] = -1 is outside/);
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), idx([3, 4, 3])])), /data\.train_idx\[2\] = 3 repeats an earlier entry/);
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), idx([])])), /data\.train_idx is empty/);
    expect(Array.from(decodeModelFile(writeSafetensors([...ts(), idx([4, 1], 'I64')])).trainIdx!)).toEqual([4, 1]);
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), { name: 'data.train_idx', dtype: 'F32', shape: [1], data: new Float32Array(1) }])), /data\.train_idx has dtype F32, expected one of I64/);

    const m: ModelConfig = { arch: 'matfac', widths: [3, 2, 4] };
    const mt = tensorsOf(m, initParams(m, 1));
    const x = (rows: number, cols: number, name = 'data.x') => ({ name, dtype: 'F32' as const, shape: [rows, cols], data: new Float32Array(rows * cols).fill(0.5) });
    expectModelError(() => decodeModelFile(writeSafetensors([...mt, x(5, 2), x(5, 4, 'data.y')])), /data\.x has shape \[5, 2\], expected \[n, 3\]/);
    expectModelError(() => decodeModelFile(writeSafetensors([...mt, x(5, 3), x(5, 3, 'data.y')])), /data\.y has shape \[5, 3\], expected \[n, 4\]/);
    expectModelError(() => decodeModelFile(writeSafetensors([...mt, x(5, 3), x(6, 4, 'data.y')])), /data\.x has 5 rows but data\.y has 6/);
    expectModelError(() => decodeModelFile(writeSafetensors([...mt, x(5, 3)])), /data\.y is missing/);
    expectModelError(() => decodeModelFile(writeSafetensors([...mt, x(5, 4, 'data.y')])), /data\.x is missing/);
    const nan = x(2, 3);
    nan.data[4] = NaN;
    expectModelError(() => decodeModelFile(writeSafetensors([...mt, nan, x(2, 4, 'data.y')])), /data\.x element 4 is NaN/);
    expectModelError(() => decodeModelFile(writeSafetensors([...ts(), x(5, 3), x(5, 5, 'data.y')])), /do not belong in a modadd model/);
    expectModelError(() => decodeModelFile(writeSafetensors([...mt, idx([0])])), /data\.train_idx .* does not belong in a matfac model/);
  });

  test('not safetensors, truncated, or corrupt: always a ModelFileError, never a partial bundle', () => {
    const good = encodeModelFile(bundle(c));
    expectModelError(() => decodeModelFile(new TextEncoder().encode('PK\u0003\u0004 a zip file')), /Not a valid safetensors file: Header length \d[\d,]* bytes is beyond the end/);
    for (const cut of [0, 5, 8, 40, 200, good.length - 100, good.length - 1]) {
      expectModelError(() => decodeModelFile(good.slice(0, cut)), /Not a valid safetensors file/);
    }
    const bad = good.slice();
    bad[9] = 0x20; // '"' → ' ': the JSON breaks
    expectModelError(() => decodeModelFile(bad), /Not a valid safetensors file: Header is not valid JSON/);
  });
});
