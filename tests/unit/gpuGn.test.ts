/**
 * The WGSL Gauss–Newton product of dense stacks (src/core/gpu/gnStack.ts) on a WebGPU adapter in
 * Node (Dawn from the `webgpu` package on SwiftShader here and in CI: correctness, not speed):
 * products of dense stacks and token-pair models on small ragged sizes against a Float64 reference written here (a per-row tangent and
 * backward pass in plain loops, from docs/science.md §2, not from the code under test; and, for a
 * small case, the dense Jacobian by central finite differences of a Float64 forward pass), against
 * the CPU operator, symmetry, the wiring in gaussNewtonOperator (fallbacks with reasons) and a lost
 * device. Skips cleanly without an adapter.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDevice, webgpuAdapter } from './helpers/webgpu';
import { useWasm } from './helpers/tf';
import { erf64 } from './helpers/reference';
import { GpuGnStack, openGpuGn } from '../../src/core/gpu/gnStack';
import { GpuGnPairs } from '../../src/core/gpu/gnPairs';
import { gnWgslBench } from '../../src/core/gpu/gnBench';
import type { PairsPassSpec, StackPassSpec } from '../../src/core/arch/passes';
import { getArch } from '../../src/core/arch/registry';
import '../../src/core/arch/builtin';
import { gaussNewtonOperator } from '../../src/core/hessian/gn';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import type { ModelBundle } from '../../src/core/models/bundle';
import { makeLayout, slot, type ParamLayout } from '../../src/core/params';
import type { Dataset } from '../../src/core/data/types';
import type { DataSpec } from '../../src/core/data/spec';
import { matfacDataset } from '../../src/core/data/matfac';
import { modAddDataset } from '../../src/core/data/modadd';
import { setFusedKernelsEnabled } from '../../src/core/train/wasmKernels';
import { makeRng } from '../../src/core/rng';

const hasAdapter = await webgpuAdapter();
if (!hasAdapter) console.warn('gpuGn.test.ts: no WebGPU adapter (Dawn + SwiftShader ICD not found); skipping the WGSL Gauss–Newton tests');

let device: GPUDevice;
beforeAll(async () => {
  await useWasm();
  if (!hasAdapter) return;
  device = await testDevice();
});
afterAll(() => device?.destroy());

// ---------------------------------------------------------------------------------------------
// Float64 reference (plain loops over one row at a time; PyTorch shapes, W [out, in], z = W h + b)
// ---------------------------------------------------------------------------------------------

interface Stack { spec: StackPassSpec; layout: ParamLayout; theta: Float32Array; x: Float32Array; rows: Int32Array }

function offsets(s: Stack): { w: number[]; b: number[] } {
  const L = s.spec.widths.length - 1;
  const w: number[] = [], b: number[] = [];
  for (let l = 0; l < L; l++) {
    w.push(slot(s.layout, s.spec.weight(l)).offset);
    const bn = s.spec.bias(l);
    b.push(bn === null ? -1 : slot(s.layout, bn).offset);
  }
  return { w, b };
}

/** f_θ(x_row) in Float64 for parameters th. */
function forward64(s: Stack, th: Float64Array, row: number): Float64Array {
  const { widths, relu } = s.spec;
  const { w, b } = offsets(s);
  let h = Float64Array.from(s.x.subarray(row * widths[0], (row + 1) * widths[0]));
  for (let l = 0; l + 1 < widths.length; l++) {
    const o = widths[l + 1], i = widths[l], z = new Float64Array(o);
    for (let r = 0; r < o; r++) {
      let acc = b[l] >= 0 ? th[b[l] + r] : 0;
      for (let k = 0; k < i; k++) acc += th[w[l] + r * i + k] * h[k];
      z[r] = acc;
    }
    h = relu && l + 2 < widths.length ? z.map((t) => Math.max(0, t)) : z;
  }
  return h;
}

/** H·v = (2/n) Σ_x J_xᵀ J_x v in Float64: per row, J_x v by forward mode, then J_xᵀ u by reverse mode. */
function hv64(s: Stack, v: Float64Array): Float64Array {
  const { widths, relu } = s.spec;
  const { w, b } = offsets(s);
  const th = s.theta, L = widths.length - 1;
  const out = new Float64Array(th.length);
  for (const row of s.rows) {
    const hs: Float64Array[] = [Float64Array.from(s.x.subarray(row * widths[0], (row + 1) * widths[0]))];
    const zs: Float64Array[] = [];
    let hd = new Float64Array(widths[0]);
    let u = new Float64Array(0);
    for (let l = 0; l < L; l++) {
      const o = widths[l + 1], i = widths[l], z = new Float64Array(o), zd = new Float64Array(o);
      for (let r = 0; r < o; r++) {
        let acc = b[l] >= 0 ? th[b[l] + r] : 0, dacc = b[l] >= 0 ? v[b[l] + r] : 0;
        for (let k = 0; k < i; k++) {
          acc += th[w[l] + r * i + k] * hs[l][k];
          dacc += v[w[l] + r * i + k] * hs[l][k] + th[w[l] + r * i + k] * hd[k];
        }
        z[r] = acc;
        zd[r] = dacc;
      }
      zs.push(z);
      if (l === L - 1) { u = zd; break; }
      const act = relu ? z.map((t) => Math.max(0, t)) : z;
      hs.push(act);
      hd = relu ? zd.map((t, r) => (z[r] > 0 ? t : 0)) : zd;
    }
    let delta = u;
    for (let l = L - 1; l >= 0; l--) {
      const o = widths[l + 1], i = widths[l];
      for (let r = 0; r < o; r++) {
        for (let k = 0; k < i; k++) out[w[l] + r * i + k] += delta[r] * hs[l][k];
        if (b[l] >= 0) out[b[l] + r] += delta[r];
      }
      if (l === 0) break;
      const next = new Float64Array(i);
      for (let k = 0; k < i; k++) {
        let acc = 0;
        for (let r = 0; r < o; r++) acc += delta[r] * th[w[l] + r * i + k];
        next[k] = relu && !(zs[l - 1][k] > 0) ? 0 : acc;
      }
      delta = next;
    }
  }
  const sc = 2 / s.rows.length;
  for (let j = 0; j < out.length; j++) out[j] *= sc;
  return out;
}

/** The dense Jacobian [rows·K, d] by central differences of forward64 (small cases only). */
function fdJacobian(s: Stack, h = 1e-6): Float64Array {
  const th = Float64Array.from(s.theta), d = th.length;
  const K = s.spec.widths[s.spec.widths.length - 1], m = s.rows.length * K;
  const J = new Float64Array(m * d);
  for (let j = 0; j < d; j++) {
    const t0 = th[j];
    s.rows.forEach((row, ri) => {
      th[j] = t0 + h; const fp = forward64(s, th, row);
      th[j] = t0 - h; const fm = forward64(s, th, row);
      for (let k = 0; k < K; k++) J[(ri * K + k) * d + j] = (fp[k] - fm[k]) / (2 * h);
    });
    th[j] = t0;
  }
  return J;
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

const gauss = (d: number, seed: number): Float32Array => { const r = makeRng(seed), v = new Float32Array(d); for (let i = 0; i < d; i++) v[i] = r.normal(); return v; };
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));

function fakeMnist(n: number, seed: number): Dataset {
  const rng = makeRng(seed);
  // A blank border two pixels wide, as in MNIST: those columns are zero on every row and dropped.
  const x = Float32Array.from({ length: n * 784 }, (_, i) => {
    const c = (i % 784) % 28, r = Math.floor((i % 784) / 28);
    const u = rng.next(), w = rng.next();
    return c < 2 || c >= 26 || r < 2 || r >= 26 || u < 0.6 ? 0 : Math.round(w * 255) / 255;
  });
  const y = Int32Array.from({ length: n }, () => rng.int(10));
  const all = Int32Array.from({ length: n }, (_, i) => i);
  return { kind: 'mnist', label: 'random digits', n, inputDim: 784, x, y, outDim: 10, trainIdx: all, testIdx: new Int32Array(0) };
}

/** A custom stack (ReLU or linear, with or without biases) with its own layout, random θ and x. */
function customStack(widths: number[], relu: boolean, biased: boolean, n: number, seed: number, zeroCols: number[] = []): Stack {
  const specs = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    specs.push({ name: `l${l}.w`, shape: [widths[l + 1], widths[l]] });
    if (biased) specs.push({ name: `l${l}.b`, shape: [widths[l + 1]] });
  }
  const layout = makeLayout(specs);
  const rng = makeRng(seed);
  const theta = Float32Array.from({ length: layout.size }, () => rng.normal() * 0.5);
  // Rows 0..n+2, of which the operator takes a shuffled subset (a gather, not the first n).
  const x = Float32Array.from({ length: (n + 3) * widths[0] }, (_, i) => (zeroCols.includes(i % widths[0]) ? 0 : rng.normal()));
  const rows = Int32Array.from({ length: n }, (_, i) => (i * 7 + 2) % (n + 3));
  const spec: StackPassSpec = { widths, weight: (l) => `l${l}.w`, bias: (l) => (biased ? `l${l}.b` : null), relu };
  return { spec, layout, theta, x, rows };
}

/** A built-in architecture as a Stack (its own denseStack spec). */
function archStack(config: ModelConfig, ds: Dataset, seed: number): Stack & { config: ModelConfig; ds: Dataset } {
  const spec = getArch(config.arch).denseStack!(config as never);
  return { spec, layout: layoutFor(config), theta: initParams(config, seed), x: ds.x as Float32Array, rows: ds.trainIdx, config, ds };
}

const CASES: { name: string; make: () => Stack }[] = [
  { name: 'mnist-mlp [784, 9, 6, 10], 37 rows (ReLU, biases)', make: () => archStack({ arch: 'mnist-mlp', hidden: [9, 6] }, fakeMnist(37, 3), 7) },
  { name: 'matfac [5, 4, 3, 6] (linear, no biases)', make: () => archStack({ arch: 'matfac', widths: [5, 4, 3, 6] }, matfacDataset({ inDim: 5, outDim: 6, nTrain: 11, seed: 3 }), 8) },
  { name: 'ReLU, no biases [7, 5, 4, 3], 23 rows', make: () => customStack([7, 5, 4, 3], true, false, 23, 11) },
  { name: 'linear with biases [5, 4, 3, 6], 19 rows', make: () => customStack([5, 4, 3, 6], false, true, 19, 12) },
  { name: 'ReLU, biases, several tiles [40, 33, 17, 18], 50 rows', make: () => customStack([40, 33, 17, 18], true, true, 50, 13) },
  { name: 'one layer [6, 3] with bias, 5 rows', make: () => customStack([6, 3], true, true, 5, 14) },
  // 700 rows: the weight and bias gradients are split over the rows (split-K) and their partials summed.
  { name: 'split-K: ReLU, biases [6, 5, 3], 700 rows', make: () => customStack([6, 5, 3], true, true, 700, 15) },
  { name: 'zero input columns dropped: ReLU, biases [12, 7, 4], 30 rows', make: () => customStack([12, 7, 4], true, true, 30, 16, [0, 3, 5, 11]) },
  { name: 'split-K: zero input columns dropped, linear [40, 6, 3], 600 rows', make: () => customStack([40, 6, 3], false, false, 600, 17, [1, 2, 20, 39]) },
];

/** Per tensor: ‖got − ref‖ ≤ tol·‖ref_t‖ + 1e-6·‖ref‖ (so a wrong bias block cannot hide in the norm of the weights). */
function expectClose(layout: ParamLayout, got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string): void {
  const total = norm(ref);
  for (const t of layout.tensors) {
    let e = 0, r = 0;
    for (let j = t.offset; j < t.offset + t.size; j++) { e += (got[j] - ref[j]) ** 2; r += ref[j] ** 2; }
    const err = Math.sqrt(e), lim = tol * Math.sqrt(r) + 1e-6 * total;
    if (!(err <= lim)) throw new Error(`${what}: ${t.name}: ‖error‖ = ${err.toExponential(3)} > ${lim.toExponential(3)} (‖ref_t‖ = ${Math.sqrt(r).toExponential(3)})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Token-pair models: Float64 reference (f = W2·act(W_L E[a] + W_R E[b] + b1) + b2, per row)
// ---------------------------------------------------------------------------------------------

interface Pairs { spec: PairsPassSpec; layout: ParamLayout; theta: Float32Array; x: Int32Array; rows: Int32Array; config: ModelConfig; ds: Dataset }

function pairsCase(config: ModelConfig & { arch: 'modadd' | 'modadd-gelu' }, trainFraction: number, seed: number): Pairs {
  const ds = modAddDataset({ p: config.p, trainFraction, seed, op: config.arch === 'modadd-gelu' ? 'random' : undefined });
  const spec = getArch(config.arch).pairsSpec!(config as never);
  const theta = initParams(config, seed + 100);
  // initParams may give zero biases: make them random so a dropped bias term shows.
  const layout = layoutFor(config);
  const rng = makeRng(seed + 200);
  for (const name of [spec.hiddenBias, spec.outBias]) if (name) { const t = slot(layout, name); for (let j = 0; j < t.size; j++) theta[t.offset + j] = rng.normal() * 0.3; }
  return { spec, layout, theta, x: ds.x as Int32Array, rows: ds.trainIdx, config, ds };
}

function hvPairs64(c: Pairs, v: Float64Array): Float64Array {
  const { p, e, h, activation } = c.spec;
  const th = c.theta, L = c.layout;
  const off = (name: string): number => slot(L, name).offset;
  const E = off(c.spec.embed);
  // W_s[i, k] at wAt(s, i, k).
  const wAt = 'joined' in c.spec.first
    ? ((j: number) => (s: number, i: number, k: number): number => j + i * 2 * e + s * e + k)(off(c.spec.first.joined))
    : ((l: number, r: number) => (s: number, i: number, k: number): number => (s === 0 ? l : r) + i * e + k)(off(c.spec.first.left), off(c.spec.first.right));
  const b1 = c.spec.hiddenBias ? off(c.spec.hiddenBias) : -1, W2 = off(c.spec.out), b2 = off(c.spec.outBias);
  const K = slot(L, c.spec.out).shape[0];
  const act = (z: number): number => (activation === 'relu' ? Math.max(0, z) : 0.5 * z * (1 + erf64(z / Math.SQRT2)));
  const dact = (z: number): number => (activation === 'relu' ? (z > 0 ? 1 : 0) : 0.5 * (1 + erf64(z / Math.SQRT2)) + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI));
  const out = new Float64Array(th.length);
  void p;
  for (const row of c.rows) {
    const tok = [c.x[2 * row], c.x[2 * row + 1]];
    const z = new Float64Array(h), zd = new Float64Array(h);
    for (let i = 0; i < h; i++) {
      let s = b1 >= 0 ? th[b1 + i] : 0, sd = b1 >= 0 ? v[b1 + i] : 0;
      for (let side = 0; side < 2; side++) {
        for (let k = 0; k < e; k++) {
          const ei = E + tok[side] * e + k, wi = wAt(side, i, k);
          s += th[wi] * th[ei];
          sd += v[wi] * th[ei] + th[wi] * v[ei];
        }
      }
      z[i] = s;
      zd[i] = sd;
    }
    const g = z.map(act), gd = zd.map((t, i) => dact(z[i]) * t);
    const u = new Float64Array(K);
    for (let o = 0; o < K; o++) {
      let s = v[b2 + o];
      for (let i = 0; i < h; i++) s += v[W2 + o * h + i] * g[i] + th[W2 + o * h + i] * gd[i];
      u[o] = s;
    }
    const dz = new Float64Array(h);
    for (let o = 0; o < K; o++) {
      out[b2 + o] += u[o];
      for (let i = 0; i < h; i++) { out[W2 + o * h + i] += u[o] * g[i]; dz[i] += u[o] * th[W2 + o * h + i]; }
    }
    for (let i = 0; i < h; i++) {
      dz[i] *= dact(z[i]);
      if (b1 >= 0) out[b1 + i] += dz[i];
      for (let side = 0; side < 2; side++) {
        for (let k = 0; k < e; k++) {
          out[wAt(side, i, k)] += dz[i] * th[E + tok[side] * e + k];
          out[E + tok[side] * e + k] += dz[i] * th[wAt(side, i, k)];
        }
      }
    }
  }
  const sc = 2 / c.rows.length;
  for (let j = 0; j < out.length; j++) out[j] *= sc;
  return out;
}

const PAIR_CASES: { name: string; make: () => Pairs }[] = [
  { name: 'modadd p = 7, e = 4, h = 6 (ReLU, joined first layer, hidden bias)', make: () => pairsCase({ arch: 'modadd', p: 7, e: 4, h: 6 }, 0.6, 1) },
  { name: 'modadd-gelu p = 7, e = 3, h = 5 (GELU, left/right, no hidden bias)', make: () => pairsCase({ arch: 'modadd-gelu', p: 7, e: 3, h: 5 }, 0.7, 2) },
  { name: 'modadd p = 23, e = 18, h = 33 (several tiles)', make: () => pairsCase({ arch: 'modadd', p: 23, e: 18, h: 33 }, 0.5, 3) },
  { name: 'modadd-gelu p = 19, e = 17, h = 20 (several tiles)', make: () => pairsCase({ arch: 'modadd-gelu', p: 19, e: 17, h: 20 }, 0.5, 4) },
  { name: 'split-K: modadd p = 31, e = 5, h = 7, 672 pairs', make: () => pairsCase({ arch: 'modadd', p: 31, e: 5, h: 7 }, 0.7, 5) },
];

describe.skipIf(!hasAdapter)('WGSL Gauss–Newton product of token-pair models', () => {
  for (const c of PAIR_CASES) {
    test(`${c.name}: against the Float64 reference; symmetric`, async () => {
      const s = c.make();
      const gn = await GpuGnPairs.open(device, s);
      try {
        const scale = 2 / s.rows.length;
        for (const seed of [1, 2]) {
          const v = gauss(s.layout.size, seed);
          const out = new Float64Array(s.layout.size);
          await gn.apply(v, out, scale);
          expectClose(s.layout, out, hvPairs64(s, Float64Array.from(v)), 2e-5, c.name);
        }
        expect(gn.splitSteps > 0).toBe(c.name.startsWith('split-K'));
        const v = gauss(s.layout.size, 3), u = gauss(s.layout.size, 4);
        const hv = new Float32Array(s.layout.size), hu = new Float32Array(s.layout.size);
        await gn.apply(v, hv, scale);
        await gn.apply(u, hu, scale);
        expect(Math.abs(dot(u, hv) - dot(v, hu))).toBeLessThan(1e-5 * (norm(u) * norm(hv) + norm(v) * norm(hu)));
      } finally {
        gn.destroy();
      }
    });
  }

  test('gaussNewtonOperator with a GPU device runs the WGSL product and agrees with the CPU operator (modadd, modadd-gelu)', async () => {
    const dummy: DataSpec = { kind: 'matfac', inDim: 1, outDim: 1, nTrain: 1, seed: 0 };
    for (const mk of [PAIR_CASES[0], PAIR_CASES[3]]) {
      const s = mk.make();
      const model: ModelBundle = { name: 'm', config: s.config, theta: s.theta, data: dummy };
      const cpu = await gaussNewtonOperator(model, s.ds, s.rows);
      setFusedKernelsEnabled(false);
      let gpu;
      try {
        gpu = await gaussNewtonOperator(model, s.ds, s.rows, { gpu: device });
      } finally {
        setFusedKernelsEnabled(true);
      }
      try {
        expect(cpu.engine).toBe('resident');
        expect(gpu.engine).toBe('wgsl');
        const v = gauss(cpu.d, 9);
        expectClose(s.layout, await gpu.applyF32(v), await cpu.applyF32(v), 2e-5, `${mk.name}: WGSL against the CPU operator`);
      } finally {
        cpu.dispose();
        gpu.dispose();
      }
    }
  });
});

describe.skipIf(!hasAdapter)('WGSL Gauss–Newton product of dense stacks', () => {
  for (const c of CASES) {
    test(`${c.name}: against the Float64 reference; symmetric`, async () => {
      const s = c.make();
      const gn = await GpuGnStack.open(device, s);
      try {
        const scale = 2 / s.rows.length;
        for (const seed of [1, 2]) {
          const v = gauss(s.layout.size, seed);
          const out = new Float64Array(s.layout.size);
          await gn.apply(v, out, scale);
          expectClose(s.layout, out, hv64(s, Float64Array.from(v)), 2e-5, c.name);
        }
        expect(gn.splitSteps > 0).toBe(c.name.startsWith('split-K'));
        const in0 = s.spec.widths[0], used = new Set<number>([0]);
        for (const r of s.rows) for (let j = 0; j < in0; j++) if (s.x[r * in0 + j] !== 0) used.add(j);
        expect(gn.keptColumns).toBe(used.size);
        const v = gauss(s.layout.size, 3), u = gauss(s.layout.size, 4);
        const hv = new Float32Array(s.layout.size), hu = new Float32Array(s.layout.size);
        await gn.apply(v, hv, scale);
        await gn.apply(u, hu, scale);
        const a = dot(u, hv), b = dot(v, hu);
        expect(Math.abs(a - b)).toBeLessThan(1e-5 * (norm(u) * norm(hv) + norm(v) * norm(hu)));
        expect(gn.dispatches).toBeGreaterThan(0);
      } finally {
        gn.destroy();
      }
    });
  }

  test('a small case against the dense Jacobian by finite differences: H = (2/n) JᵀJ', async () => {
    const s = customStack([4, 3, 3, 2], true, true, 6, 21);
    const J = fdJacobian(s), d = s.layout.size, m = J.length / d;
    const gn = await GpuGnStack.open(device, s);
    try {
      const v = gauss(d, 5);
      const Jv = new Float64Array(m);
      for (let i = 0; i < m; i++) { let acc = 0; for (let j = 0; j < d; j++) acc += J[i * d + j] * v[j]; Jv[i] = acc; }
      const ref = new Float64Array(d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) ref[j] += (2 / s.rows.length) * J[i * d + j] * Jv[i];
      const out = new Float64Array(d);
      await gn.apply(v, out, 2 / s.rows.length);
      expectClose(s.layout, out, ref, 1e-5, 'finite differences');
      expectClose(s.layout, hv64(s, Float64Array.from(v)), ref, 1e-7, 'the Float64 reference itself');
    } finally {
      gn.destroy();
    }
  });

  test('gaussNewtonOperator with a GPU device runs the WGSL product and agrees with the CPU operator', async () => {
    const dummy: DataSpec = { kind: 'matfac', inDim: 1, outDim: 1, nTrain: 1, seed: 0 };
    for (const mk of [CASES[0], CASES[1]]) {
      const s = mk.make() as ReturnType<typeof archStack>;
      const model: ModelBundle = { name: 'm', config: s.config, theta: s.theta, data: dummy };
      const cpu = await gaussNewtonOperator(model, s.ds, s.rows);
      // The resident CPU engine keeps precedence on wasm: switch it off to see the WGSL wiring.
      setFusedKernelsEnabled(false);
      let gpu;
      try {
        gpu = await gaussNewtonOperator(model, s.ds, s.rows, { gpu: device });
      } finally {
        setFusedKernelsEnabled(true);
      }
      try {
        expect(cpu.engine).toBe('resident');
        expect(gpu.engine).toBe('wgsl');
        expect(gpu.fallback).toBeUndefined();
        const v = gauss(cpu.d, 9);
        const a = await cpu.applyF32(v), b = await gpu.applyF32(v);
        expectClose(layoutFor(s.config), b, a, 2e-5, `${mk.name}: WGSL against the CPU operator`);
        const a64 = await gpu.apply(Float64Array.from(v));
        expectClose(layoutFor(s.config), a64, b, 1e-7, 'apply and applyF32');
      } finally {
        cpu.dispose();
        gpu.dispose();
      }
    }
  });

  test('fallbacks: an architecture without a WGSL product, the KL loss and a device too small say why and use the tfjs passes', async () => {
    const dummy: DataSpec = { kind: 'matfac', inDim: 1, outDim: 1, nTrain: 1, seed: 0 };
    setFusedKernelsEnabled(false);
    try {
      const s = CASES[0].make() as ReturnType<typeof archStack>;
      const kl = await gaussNewtonOperator({ name: 'm', config: s.config, theta: s.theta, data: dummy }, s.ds, s.rows, { gpu: device, loss: 'kl' });
      expect(kl.engine).toBe('tfjs');
      expect(kl.fallback).toMatch(/mse/);
      kl.dispose();
      const off = await gaussNewtonOperator({ name: 'm', config: s.config, theta: s.theta, data: dummy }, s.ds, s.rows, { gpu: false });
      expect(off.engine).toBe('tfjs');
      expect(off.fallback).toBeUndefined();
      off.dispose();
    } finally {
      setFusedKernelsEnabled(true);
    }
    // A device whose binding limit is below the rows' buffers.
    const small = new Proxy(device, {
      get(t, k) {
        if (k === 'limits') return { ...Object.fromEntries(Object.entries(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(t.limits))).map(([n]) => [n, (t.limits as unknown as Record<string, number>)[n]])), maxStorageBufferBindingSize: 1024, maxBufferSize: 1024 };
        const val = Reflect.get(t, k, t) as unknown;
        return typeof val === 'function' ? (val as (...a: unknown[]) => unknown).bind(t) : val;
      },
    });
    const s = CASES[0].make() as ReturnType<typeof archStack>;
    // An architecture with no WGSL product for its data (a pair model on float rows).
    const cfg: ModelConfig = { arch: 'modadd', p: 7, e: 4, h: 6 };
    const wrong = await openGpuGn(device, cfg, layoutFor(cfg), initParams(cfg, 1), s.x, s.rows);
    expect(wrong.reason).toMatch(/no WGSL Gauss–Newton product for modadd on float rows/);
    const got = await openGpuGn(small, s.config, s.layout, s.theta, s.x, s.rows);
    expect(got.gn).toBeUndefined();
    expect(got.reason).toMatch(/binding limit/);
  });

  test('the bench row: WGSL product against the other product, or why it was skipped', async () => {
    const dummy: DataSpec = { kind: 'matfac', inDim: 1, outDim: 1, nTrain: 1, seed: 0 };
    const s = CASES[0].make() as ReturnType<typeof archStack>;
    const model: ModelBundle = { name: 'm', config: s.config, theta: s.theta, data: dummy };
    const cpu = await gaussNewtonOperator(model, s.ds, s.rows);
    expect(await gnWgslBench(cpu, model, s.ds, s.rows, 'wasm', 1, 0)).toEqual({ skipped: expect.stringMatching(/active backend is wasm/) });
    cpu.dispose();
    setFusedKernelsEnabled(false);
    const gpu = await gaussNewtonOperator(model, s.ds, s.rows, { gpu: device });
    setFusedKernelsEnabled(true);
    try {
      // On wasm the comparison product is the resident CPU engine's (on the webgpu backend, tfjs's ops).
      const r = await gnWgslBench(gpu, model, s.ds, s.rows, 'webgpu', 1, 0);
      if ('skipped' in r) throw new Error(r.skipped);
      expect(r.maxRelDiff).toBeLessThan(1e-5);
      expect(r.speedup).toBeGreaterThan(0);
      expect(r.wgsl.d).toBe(s.layout.size);
    } finally {
      gpu.dispose();
    }
  });

  test('concurrent products run one after another and equal the sequential ones', async () => {
    const s = CASES[4].make();
    const gn = await GpuGnStack.open(device, s);
    try {
      const vs = [1, 2, 3].map((k) => gauss(s.layout.size, k));
      const seq: Float32Array[] = [];
      for (const v of vs) { const o = new Float32Array(s.layout.size); await gn.apply(v, o, 0.5); seq.push(o); }
      const par = vs.map(() => new Float32Array(s.layout.size));
      await Promise.all(vs.map((v, i) => gn.apply(v, par[i], 0.5)));
      par.forEach((o, i) => expect(o).toEqual(seq[i]));
      await expect(gn.apply(new Float32Array(3), new Float32Array(3), 1)).rejects.toThrow(/entries/);
    } finally {
      gn.destroy();
    }
  });

  test('a lost device fails the product with a clear error, no hang', async () => {
    const dev = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const s = CASES[2].make();
    const gn = await GpuGnStack.open(dev, s);
    const v = gauss(s.layout.size, 1), out = new Float32Array(s.layout.size);
    await gn.apply(v, out, 1);
    dev.destroy();
    await expect(gn.apply(v, out, 1)).rejects.toThrow(/GPU device was lost/);
    gn.destroy();
  });
});
