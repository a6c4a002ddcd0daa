/**
 * The f32x4 elementwise kernels (src/core/train/wasmF32.ts) against Float64 references
 * computed here by other means: Math.exp; Φ from a power series of erf (|x|/√2 < 3) and a
 * continued fraction of erfc (beyond), not the kernel's polynomial approximation; GELU′ against a
 * central difference of that reference GELU; the softmax cross-entropy from its definition. Then
 * the tfjs kernels built on them (train/wasmKernels.ts) against the tfjs-op path.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { modAddDataset } from '../../src/core/data/modadd';
import { sgldStep, type LangevinKernel } from '../../src/core/llc/langevin';
import { modelTarget } from '../../src/core/llc/target';
import type { ModelBundle } from '../../src/core/models/bundle';
import type { ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { makeRng } from '../../src/core/rng';
import { elementwiseKernels } from '../../src/core/train/wasmF32';
import { ensureWasmTrainingKernels, fusedPairSums, fusedSoftmaxCrossEntropy, geluWithDerivative, setFusedKernelsEnabled } from '../../src/core/train/wasmKernels';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

/** erfc(z) = 1 − erf(z) by the Maclaurin series of erf (accurate to ≈ 1e-10 relative for z ≤ 3). */
function erfcSeries(z: number): number {
  {
    let term = z, sum = z;
    for (let n = 1; n < 200; n++) {
      term *= -z * z / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
}

/** erfc(z) for z > 0 by its continued fraction (Lentz's method). */
function erfcFraction(z: number): number {
  // erfc(z) = e^{−z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …))))), Lentz's method.
  const tiny = 1e-300;
  let f = z, C = z, D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = z + a * D; D = Math.abs(D) < tiny ? tiny : D; D = 1 / D;
    C = z + a / C; C = Math.abs(C) < tiny ? tiny : C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

/** erfc(z) for z ≥ 0 in Float64: the series below 2.5, the continued fraction above. */
const erfcRef = (z: number): number => (z < 2.5 ? erfcSeries(z) : erfcFraction(z));

/** Φ(x), the standard normal CDF, in Float64. */
function cdfRef(x: number): number {
  const c = 0.5 * erfcRef(Math.abs(x) / Math.SQRT2);
  return x >= 0 ? 1 - c : c;
}
const geluRef = (x: number): number => x * cdfRef(x);

describe('f32x4 elementwise kernels against Float64 references', () => {
  const k = elementwiseKernels();

  test('the kernels are available in Node (WebAssembly SIMD)', () => {
    expect(k).not.toBeNull();
  });

  test('the references agree with themselves where the two erfc methods meet and with known values', () => {
    for (const [z, tol] of [[2, 1e-9], [2.5, 1e-9], [3, 1e-8]]) expect(Math.abs(erfcSeries(z) / erfcFraction(z) - 1)).toBeLessThan(tol);
    expect(cdfRef(1.959963984540054)).toBeCloseTo(0.975, 12);
    expect(cdfRef(-3)).toBeCloseTo(0.0013498980316300946, 14);
  });

  test('exp: ≤ 2.5e-7 relative error on [−87, 88], odd lengths, NaN kept, clamped outside', () => {
    const rng = makeRng(5);
    for (const n of [1, 3, 17, 1001, 40_003]) {
      const x = Float32Array.from({ length: n }, () => -87 + 175 * rng.next());
      const y = new Float32Array(n);
      k!.exp(x, y);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i] - Math.exp(x[i])) / Math.exp(x[i]));
      expect(worst).toBeLessThan(2.5e-7);
    }
    const x = new Float32Array([NaN, -1000, 1000, 0, -Infinity]);
    const y = new Float32Array(5);
    k!.exp(x, y);
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y[1]).toBeGreaterThan(0);
    expect(y[1]).toBeLessThan(2e-38);
    expect(y[2]).toBeGreaterThan(1e38);
    expect(Number.isFinite(y[2])).toBe(true);
    expect(y[3]).toBe(1);
    expect(y[4]).toBeLessThan(2e-38);
  });

  // Float32 limits the left tail: Φ(x) ∝ e^{−x²/2} has relative condition number ≈ x² in x, so
  // the rounding of x²/2 alone (≈ 6e-8 of it) costs ≈ 3e-8·x² relative; the bound allows 1e-6 + 1.5e-7·x².
  test('gelu: GELU to 1e-6 + 1.5e-7·x² relative, GELU′ against a central difference of the reference', () => {
    const rng = makeRng(11);
    const n = 20_011;
    const x = Float32Array.from({ length: n }, (_, i) => (i < 200 ? -12 + 24 * (i / 199) : 8 * rng.normal()));
    const act = new Float32Array(n), der = new Float32Array(n);
    k!.gelu(x, act, der);
    let worstAct = 0, worstDer = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      if (Math.abs(v) > 12) continue;
      const g = geluRef(v);
      const rel = Math.abs(act[i] - g) / Math.max(Math.abs(g), 1e-30);
      worstAct = Math.max(worstAct, rel / (1e-6 + 1.5e-7 * v * v));
      const h = 1e-5 * Math.max(1, Math.abs(v));
      const fd = (geluRef(v + h) - geluRef(v - h)) / (2 * h);
      worstDer = Math.max(worstDer, Math.abs(der[i] - fd));
    }
    expect(worstAct).toBeLessThan(1);
    expect(worstDer).toBeLessThan(2e-6);
    // Beyond ±12 (and at ±∞): the right side is x, the left side 0 to float32's range.
    const far = new Float32Array([20, -20, 1e30, -1e30, NaN]);
    const a2 = new Float32Array(5), d2 = new Float32Array(5);
    k!.gelu(far, a2, d2);
    expect(a2[0]).toBe(20);
    expect(d2[0]).toBe(1);
    expect(Math.abs(a2[1])).toBeLessThan(1e-35);
    expect(Math.abs(d2[1])).toBeLessThan(1e-35);
    expect(a2[2]).toBe(Math.fround(1e30));
    expect(d2[2]).toBe(1);
    expect(Math.abs(a2[3])).toBeLessThan(1e-35);
    expect(Number.isNaN(a2[4]) && Number.isNaN(d2[4])).toBe(true);
  });

  test('softmax cross-entropy: value and cotangent against the definition; shift-invariant; labels outside [0, k) add nothing', () => {
    const rng = makeRng(23);
    for (const [B, kk, spread] of [[37, 53, 3], [5, 10, 40], [64, 3, 1], [1, 1, 1]] as const) {
      const logits = Float32Array.from({ length: B * kk }, () => spread * rng.normal() + 500 * (rng.next() < 0.1 ? 1 : 0));
      const labels = Int32Array.from({ length: B }, (_, r) => (r === 2 ? kk : r === 3 ? -1 : rng.int(kk)));
      const dOut = new Float32Array(B * kk);
      const value = k!.softmaxCrossEntropy(logits, labels, kk, dOut);
      let ref = 0, worst = 0;
      for (let r = 0; r < B; r++) {
        const row = Array.from(logits.subarray(r * kk, (r + 1) * kk));
        const m = Math.max(...row);
        const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
        const y = labels[r];
        const inRange = y >= 0 && y < kk;
        if (inRange) ref += m + Math.log(z) - row[y];
        row.forEach((v, j) => {
          const d = (Math.exp(v - m) / z - (inRange && j === y ? 1 : 0)) / B;
          worst = Math.max(worst, Math.abs(dOut[r * kk + j] - d));
        });
      }
      expect(Math.abs(value - ref / B)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref / B)));
      expect(worst).toBeLessThan(1e-7);
    }
  });
});

describe('f32x4 GEMM', () => {
  test('c = op(a)·op(b) against a Float64 triple loop: ragged m and n, k = 1, larger k, transposed operands', () => {
    const k = elementwiseKernels()!;
    const rng = makeRng(41);
    const shapes = [[1, 1, 1], [3, 5, 7], [4, 8, 8], [37, 53, 19], [130, 1, 257], [9, 700, 33]];
    for (const [[m, kk, n], ta, tb] of shapes.flatMap((s) => [[s, false, false], [s, true, false], [s, false, true], [s, true, true]] as const)) {
      const a = Float32Array.from({ length: m * kk }, () => rng.normal()), b = Float32Array.from({ length: kk * n }, () => rng.normal());
      const A = (i: number, q: number): number => (ta ? a[q * m + i] : a[i * kk + q]), B = (q: number, j: number): number => (tb ? b[j * kk + q] : b[q * n + j]);
      const c = new Float32Array(m * n).fill(NaN);
      k.matMul(a, b, c, m, kk, n, ta, tb);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0, sa = 0;
          for (let q = 0; q < kk; q++) { s += A(i, q) * B(q, j); sa += Math.abs(A(i, q) * B(q, j)); }
          expect(Math.abs(c[i * n + j] - s)).toBeLessThanOrEqual(1e-6 * kk * sa + 1e-30);
        }
      }
    }
    expect(() => k.matMul(new Float32Array(6), new Float32Array(6), new Float32Array(4), 2, 3, 3)).toThrow(/sizes/);
  });

  test('tf.matMul on wasm (our GEMM where it serves) equals tfjs own kernel: 2-D, one-batch 3-D, transposes, shapes on both sides of the rule', async () => {
    ensureWasmTrainingKernels();
    const rng = makeRng(43);
    const t = (shape: number[]): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal()), shape);
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 53], [53, 19], false, false], [[1, 37, 53], [1, 53, 19], false, false], [[53, 37], [53, 19], true, false],
      [[37, 53], [19, 53], false, true], [[53, 37], [19, 53], true, true], [[2, 5, 6], [2, 6, 3], false, false],
      [[8, 600], [600, 300], false, false], [[600, 8], [600, 300], true, false], [[8, 600], [300, 600], false, true],
    ];
    const backend = tf.engine().backend;
    const ids = backend.numDataIds();
    for (const [sa, sb, ta, tb] of cases) {
      const a = t(sa), b = t(sb);
      const ours = tf.matMul(a, b, ta, tb);
      setFusedKernelsEnabled(false);
      const ref = tf.matMul(a, b, ta, tb);
      setFusedKernelsEnabled(true);
      expect(ours.shape).toEqual(ref.shape);
      const [x, y] = [await ours.data(), await ref.data()];
      let worst = 0, big = 0;
      for (let i = 0; i < x.length; i++) { worst = Math.max(worst, Math.abs(x[i] - y[i])); big = Math.max(big, Math.abs(y[i])); }
      expect(worst / big, `${JSON.stringify([sa, sb, ta, tb])}`).toBeLessThan(1e-6);
      tf.dispose([a, b, ours, ref]);
    }
    expect(backend.numDataIds()).toBe(ids); // the explicit transposes of the fallback are released
  });
});

describe('per-token sums of a token-pair batch', () => {
  test('pairSums against a Float64 loop (repeated tokens, both columns); the tfjs kernel equals the scatterND path; a bad token is an error', async () => {
    const k = elementwiseKernels()!;
    const rng = makeRng(53);
    const p = 7, h = 12, n = 40;
    const dz = Float32Array.from({ length: n * h }, () => rng.normal());
    const pairs = Int32Array.from({ length: 2 * n }, () => rng.int(3)); // tokens 0..2 only: many repeats, tokens 3..6 empty
    const out = new Float32Array(2 * p * h).fill(NaN);
    k.pairSums(dz, pairs, p, h, out);
    for (let t = 0; t < p; t++) {
      for (let j = 0; j < h; j++) {
        let sa = 0, sb = 0;
        for (let r = 0; r < n; r++) { if (pairs[2 * r] === t) sa += dz[r * h + j]; if (pairs[2 * r + 1] === t) sb += dz[r * h + j]; }
        expect(Math.abs(out[t * 2 * h + j] - sa)).toBeLessThan(1e-5);
        expect(Math.abs(out[t * 2 * h + h + j] - sb)).toBeLessThan(1e-5);
      }
    }
    expect(() => k.pairSums(dz, Int32Array.from(pairs, (v, i) => (i === 5 ? p : v)), p, h, out)).toThrow(/token 7/);
    ensureWasmTrainingKernels();
    const [fs, a, b] = tf.tidy(() => {
      const d = tf.tensor2d(dz, [n, h]), x = tf.tensor2d(pairs, [n, 2], 'int32');
      const S = fusedPairSums(d, x, p);
      if (!S) throw new Error('the fused pair sums did not run');
      return [S, tf.scatterND(tf.slice(x, [0, 0], [n, 1]), d, [p, h]), tf.scatterND(tf.slice(x, [0, 1], [n, 1]), d, [p, h])];
    });
    const [sv, av, bv] = [await fs.data(), await a.data(), await b.data()];
    for (let t = 0; t < p; t++) for (let j = 0; j < h; j++) {
      expect(Math.abs(sv[t * 2 * h + j] - av[t * h + j])).toBeLessThan(1e-5);
      expect(Math.abs(sv[t * 2 * h + h + j] - bv[t * h + j])).toBeLessThan(1e-5);
    }
    tf.dispose([fs, a, b]);
  });
});

describe('row gathers on wasm', () => {
  test('tf.gatherND of whole rows by [B, 1] indices equals tfjs own kernel (wide rows taken over, narrow and 1-D left to tfjs, int32); a bad index is an error', async () => {
    ensureWasmTrainingKernels();
    const rng = makeRng(47);
    const cases: [number[], 'float32' | 'int32'][] = [[[30, 100], 'float32'], [[30, 64], 'int32'], [[30, 7], 'float32'], [[30], 'int32']];
    for (const [shape, dtype] of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      const params = tf.tensor(dtype === 'int32' ? Int32Array.from({ length: size }, () => rng.int(1000)) : Float32Array.from({ length: size }, () => rng.normal()), shape, dtype);
      const idx = tf.tensor2d(Int32Array.from({ length: 41 }, () => rng.int(shape[0])), [41, 1], 'int32');
      const ours = tf.gatherND(params, idx);
      setFusedKernelsEnabled(false);
      const ref = tf.gatherND(params, idx);
      setFusedKernelsEnabled(true);
      expect(ours.shape).toEqual(ref.shape);
      expect(ours.dtype).toBe(dtype);
      expect(Array.from(await ours.data())).toEqual(Array.from(await ref.data()));
      tf.dispose([params, idx, ours, ref]);
    }
    const p2 = tf.zeros([5, 70]), bad = tf.tensor2d([1, 5], [2, 1], 'int32');
    const ids = tf.engine().backend.numDataIds();
    expect(() => tf.gatherND(p2, bad)).toThrow(/index 5/);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
    tf.dispose([p2, bad]);
  });
});

describe('the fused tfjs kernels on wasm', () => {
  beforeAll(() => { ensureWasmTrainingKernels(); });

  test('are registered on wasm and give the tfjs-op results', async () => {
    expect(tf.getKernel('SltGeluWithDerivative', 'wasm')).toBeDefined();
    expect(tf.getKernel('SltSoftmaxCrossEntropy', 'wasm')).toBeDefined();
    const rng = makeRng(3);
    const xs = Float32Array.from({ length: 7 * 13 }, () => 3 * rng.normal());
    const labels = Int32Array.from({ length: 7 }, () => rng.int(13));
    const [fa, fd, ta, td, fv, fo, tv, to] = tf.tidy(() => {
      const x = tf.tensor2d(xs, [7, 13]);
      const g = geluWithDerivative(x);
      // The tfjs-op reference: GELU′ = Φ + x·φ by tfjs kernels.
      const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);
      const tAct = tf.mul(x, cdf);
      const tDer = tf.add(cdf, tf.mul(x, tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI))));
      const y = tf.tensor1d(labels, 'int32');
      const f = fusedSoftmaxCrossEntropy(x, y);
      if (!f) throw new Error('the fused cross-entropy kernel did not run');
      const logp = tf.sub(x, tf.logSumExp(x, 1, true));
      const oh = tf.oneHot(y, 13);
      return [g.act, g.derivative(), tAct, tDer, f.value, f.dOut, tf.div(tf.neg(tf.sum(tf.mul(logp, oh))), 7), tf.div(tf.sub(tf.exp(logp), oh), 7)];
    });
    const [a, d, a2, d2, v, o, v2, o2] = await Promise.all([fa, fd, ta, td, fv, fo, tv, to].map((t) => t.data()));
    tf.dispose([fa, fd, ta, td, fv, fo, tv, to]);
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(a[i] - a2[i])).toBeLessThan(2e-6 * Math.max(1, Math.abs(a2[i])));
      expect(Math.abs(d[i] - d2[i])).toBeLessThan(2e-6);
    }
    expect(Math.abs(v[0] - v2[0])).toBeLessThan(1e-5);
    for (let i = 0; i < o.length; i++) expect(Math.abs(o[i] - o2[i])).toBeLessThan(1e-6);
  });
});

describe('the fused Langevin step on wasm', () => {
  test('one unadjusted SGLD step on a modadd minibatch: the same w′ and statistics as the tfjs ops', async () => {
    const config: ModelConfig = { arch: 'modadd', p: 7, e: 4, h: 6 };
    const data = { kind: 'modadd', p: 7, op: 'sum', trainFraction: 0.8, seed: 0 } as const;
    const ds = modAddDataset(data);
    const theta = initParams(config, 2);
    const model: ModelBundle = { name: 'test', config, theta, data };
    const target = modelTarget(model, ds, 'train');
    const rng = makeRng(9);
    const rows = Int32Array.from({ length: 16 }, () => rng.int(target.n));
    const xi = Float32Array.from({ length: target.d }, () => rng.normal());
    const k: LangevinKernel = { target, nBeta: 50, gamma: 30, eps: 1e-3, gHat: null };
    const run = async (on: boolean): Promise<{ w: Float32Array; stats: Float32Array }> => {
      setFusedKernelsEnabled(on);
      const w = tf.tidy(() => tf.variable(tf.tensor1d(theta.map((v, i) => v + 0.01 * Math.sin(i))), false)) as tf.Variable<tf.Rank.R1>;
      const { stats } = sgldStep(k, w, rows, xi, null);
      const out = { w: Float32Array.from(await w.data()), stats: Float32Array.from(await stats.data()) };
      tf.dispose([w, stats]);
      setFusedKernelsEnabled(true);
      return out;
    };
    const before = tf.memory().numTensors;
    const fusedRun = await run(true), ops = await run(false);
    expect(tf.memory().numTensors).toBe(before);
    let moved = 0;
    for (let i = 0; i < theta.length; i++) {
      expect(Math.abs(fusedRun.w[i] - ops.w[i])).toBeLessThan(1e-6 * (1 + Math.abs(ops.w[i])));
      moved = Math.max(moved, Math.abs(ops.w[i] - theta[i]));
    }
    expect(moved).toBeGreaterThan(1e-3); // the step did move w
    expect(fusedRun.stats[0]).toBeCloseTo(ops.stats[0], 5);
    expect(Math.abs(fusedRun.stats[1] / ops.stats[1] - 1)).toBeLessThan(1e-5);
    target.dispose();
  });
});
