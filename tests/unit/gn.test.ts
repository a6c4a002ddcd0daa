/**
 * Gauss–Newton products (src/core/hessian/gn.ts) against references computed here in Float64,
 * independently of the tfjs code: a plain-JS forward pass, its Jacobian by central finite
 * differences, and the Hessian of the behavioral loss L_B(θ | θ*) (docs/science.md §2) by finite
 * differences of the loss itself.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { gaussNewtonOperator, jacobianDense, type GnOperator } from '../../src/core/hessian/gn';
import { layoutFor, outputDim, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import type { ModelBundle } from '../../src/core/models/bundle';
import { matfacDataset } from '../../src/core/data/matfac';
import { modAddDataset } from '../../src/core/data/modadd';
import type { Dataset } from '../../src/core/data/types';
import type { DataSpec } from '../../src/core/data/spec';
import { makeRng } from '../../src/core/rng';
import { useWasm } from './helpers/tf';
import { erf64 } from './helpers/reference';

beforeAll(useWasm);

// ---------------------------------------------------------------------------------------------
// Float64 reference model (plain JS, PyTorch layouts; written from docs/science.md §1, not from gn.ts)
// ---------------------------------------------------------------------------------------------

const gelu64 = (z: number): number => 0.5 * z * (1 + erf64(z / Math.SQRT2));

interface Case {
  name: string;
  config: ModelConfig;
  dataset: Dataset;
  rows: Int32Array;
  theta: Float32Array;
}

/** f_θ(x) for every row, row-major [rows, K], Float64 throughout. */
function refForward(c: ModelConfig, th: Float64Array, ds: Dataset, rows: Int32Array): Float64Array {
  const L = layoutFor(c);
  const off = (name: string): number => L.tensors.find((t) => t.name === name)!.offset;
  const K = outputDim(c);
  const out = new Float64Array(rows.length * K);
  /** y = W x (+ b) for W [o, i] at offset w. */
  const lin = (x: Float64Array, w: number, o: number, i: number, b: number | null): Float64Array => {
    const y = new Float64Array(o);
    for (let r = 0; r < o; r++) {
      let s = b === null ? 0 : th[b + r];
      const base = w + r * i;
      for (let k = 0; k < i; k++) s += th[base + k] * x[k];
      y[r] = s;
    }
    return y;
  };
  rows.forEach((row, ri) => {
    let f: Float64Array;
    switch (c.arch) {
      case 'modadd': {
        const { p, e, h } = c;
        const emb = new Float64Array(2 * e);
        const E = off('embed.weight');
        for (let k = 0; k < e; k++) {
          emb[k] = th[E + ds.x[2 * row] * e + k];
          emb[e + k] = th[E + ds.x[2 * row + 1] * e + k];
        }
        const z = lin(emb, off('hidden.weight'), h, 2 * e, off('hidden.bias')).map((v) => Math.max(0, v));
        f = lin(z, off('out.weight'), p, h, off('out.bias'));
        break;
      }
      case 'modadd-gelu': {
        const { p, e, h } = c;
        const E = off('embed.weight');
        const ea = th.slice(E + ds.x[2 * row] * e, E + ds.x[2 * row] * e + e);
        const eb = th.slice(E + ds.x[2 * row + 1] * e, E + ds.x[2 * row + 1] * e + e);
        const l = lin(ea, off('left.weight'), h, e, null);
        const r = lin(eb, off('right.weight'), h, e, null);
        const g = l.map((v, i) => gelu64(v + r[i]));
        f = lin(g, off('out.weight'), p, h, off('out.bias'));
        break;
      }
      case 'mnist-mlp': {
        const widths = [784, ...c.hidden, 10];
        let x: Float64Array = Float64Array.from(ds.x.subarray(row * 784, row * 784 + 784));
        for (let l = 0; l + 1 < widths.length; l++) {
          x = lin(x, off(`fc${l + 1}.weight`), widths[l + 1], widths[l], off(`fc${l + 1}.bias`));
          if (l + 2 < widths.length) x = x.map((v) => Math.max(0, v));
        }
        f = x;
        break;
      }
      case 'matfac': {
        const w = c.widths;
        let x: Float64Array = Float64Array.from(ds.x.subarray(row * w[0], row * w[0] + w[0]));
        for (let l = 0; l + 1 < w.length; l++) x = lin(x, off(`layers.${l}.weight`), w[l + 1], w[l], null);
        f = x;
        break;
      }
    }
    out.set(f, ri * K);
  });
  return out;
}

/** J_ij = (f_i(θ + h e_j) − f_i(θ − h e_j)) / 2h, row-major [rows·K, d]. */
function fdJacobian(cs: Case, h = 1e-6): Float64Array {
  const th = Float64Array.from(cs.theta);
  const d = th.length;
  const m = cs.rows.length * outputDim(cs.config);
  const J = new Float64Array(m * d);
  for (let j = 0; j < d; j++) {
    const t0 = th[j];
    th[j] = t0 + h;
    const fp = refForward(cs.config, th, cs.dataset, cs.rows);
    th[j] = t0 - h;
    const fm = refForward(cs.config, th, cs.dataset, cs.rows);
    th[j] = t0;
    for (let i = 0; i < m; i++) J[i * d + j] = (fp[i] - fm[i]) / (2 * h);
  }
  return J;
}

/** L_B(θ | θ*) = (1/n) Σ_x ‖f_θ(x) − f_θ*(x)‖² (docs/science.md (S1); seed 000 eq. 3). */
function behavioralLoss(cs: Case, th: Float64Array, fStar: Float64Array): number {
  const f = refForward(cs.config, th, cs.dataset, cs.rows);
  let s = 0;
  for (let i = 0; i < f.length; i++) s += (f[i] - fStar[i]) ** 2;
  return s / cs.rows.length;
}

// ---------------------------------------------------------------------------------------------
// Float64 helpers
// ---------------------------------------------------------------------------------------------

function matVec(A: Float64Array, rows: number, cols: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += A[i * cols + j] * x[j];
    y[i] = s;
  }
  return y;
}

function matTVec(A: Float64Array, rows: number, cols: number, y: ArrayLike<number>): Float64Array {
  const x = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const yi = y[i];
    for (let j = 0; j < cols; j++) x[j] += A[i * cols + j] * yi;
  }
  return x;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let s = 0;
  for (let i = 0; i < got.length; i++) s += (got[i] - want[i]) ** 2;
  return Math.sqrt(s) / norm(want);
}

function randomUnit(d: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const v = Float64Array.from({ length: d }, () => rng.normal());
  const s = norm(v);
  return v.map((x) => x / s);
}

/** Reference H·v = (2/n) Jᵀ(J v) in Float64 from a Jacobian. */
function refHv(J: Float64Array, m: number, d: number, n: number, v: Float64Array): Float64Array {
  return matTVec(J, m, d, matVec(J, m, d, v)).map((x) => (2 / n) * x);
}

/** Householder reduction of a symmetric matrix (row-major, overwritten) to tridiagonal (diag, off). */
function tridiagonalize(A: Float64Array, n: number): { a: Float64Array; b: Float64Array } {
  const v = new Float64Array(n), p = new Float64Array(n), w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let alpha = 0;
    for (let i = k + 1; i < n; i++) alpha += A[i * n + k] ** 2;
    alpha = Math.sqrt(alpha);
    if (alpha === 0) continue;
    if (A[(k + 1) * n + k] > 0) alpha = -alpha;
    // v = x − α e1 on rows k+1..n-1; H = I − 2 v vᵀ / (vᵀ v)
    for (let i = k + 1; i < n; i++) v[i] = A[i * n + k];
    v[k + 1] -= alpha;
    let vv = 0;
    for (let i = k + 1; i < n; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    const beta = 2 / vv;
    for (let i = k; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += A[i * n + j] * v[j];
      p[i] = beta * s;
    }
    let pv = 0;
    for (let i = k + 1; i < n; i++) pv += p[i] * v[i];
    for (let i = k; i < n; i++) w[i] = p[i] - (beta / 2) * pv * (i > k ? v[i] : 0);
    v[k] = 0;
    for (let i = k; i < n; i++) {
      for (let j = k; j < n; j++) A[i * n + j] -= v[i] * w[j] + w[i] * v[j];
    }
  }
  const a = new Float64Array(n), b = new Float64Array(n);
  for (let i = 0; i < n; i++) { a[i] = A[i * n + i]; if (i > 0) b[i] = A[i * n + i - 1]; }
  return { a, b };
}

/** Number of eigenvalues of the tridiagonal (a, b) below x (Sturm sequence). */
function countBelow(a: Float64Array, b: Float64Array, x: number): number {
  let count = 0, q = 1;
  for (let i = 0; i < a.length; i++) {
    q = a[i] - x - (i > 0 ? (b[i] * b[i]) / q : 0);
    if (q === 0) q = 1e-300;
    if (q < 0) count++;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

const dummySpec: DataSpec = { kind: 'matfac', inDim: 1, outDim: 1, nTrain: 1, seed: 0 };
const bundle = (cs: Case): ModelBundle => ({ name: cs.name, config: cs.config, theta: cs.theta, data: dummySpec });

function fakeMnist(n: number, seed: number): Dataset {
  const rng = makeRng(seed);
  const x = Float32Array.from({ length: n * 784 }, () => (rng.next() < 0.6 ? 0 : Math.round(rng.next() * 255) / 255));
  const y = Int32Array.from({ length: n }, () => rng.int(10));
  return { kind: 'mnist', label: 'random digits', n, inputDim: 784, x, y, outDim: 10, trainIdx: new Int32Array([0, 2, 3, 5, 6]), testIdx: new Int32Array([1, 4]) };
}

function makeCases(): Case[] {
  const mk = (name: string, config: ModelConfig, dataset: Dataset, seed: number): Case => ({ name, config, dataset, rows: dataset.trainIdx, theta: initParams(config, seed) });
  return [
    mk('modadd', { arch: 'modadd', p: 7, e: 4, h: 6 }, modAddDataset({ p: 7, trainFraction: 0.6, seed: 1 }), 5),
    mk('modadd-gelu', { arch: 'modadd-gelu', p: 7, e: 3, h: 5 }, modAddDataset({ p: 7, trainFraction: 0.7, seed: 2, op: 'random' }), 6),
    mk('mnist-mlp', { arch: 'mnist-mlp', hidden: [6, 5] }, fakeMnist(7, 3), 7),
    mk('matfac', { arch: 'matfac', widths: [4, 3, 5] }, matfacDataset({ inDim: 4, outDim: 5, nTrain: 6, seed: 3 }), 8),
    // h a multiple of 4: the per-token sums run on the fused wasm kernel (fusedPairSums) instead of the grid or segment sums.
    mk('modadd (h = 8)', { arch: 'modadd', p: 7, e: 4, h: 8 }, modAddDataset({ p: 7, trainFraction: 0.6, seed: 4 }), 9),
    mk('modadd-gelu (h = 4)', { arch: 'modadd-gelu', p: 7, e: 3, h: 4 }, modAddDataset({ p: 7, trainFraction: 0.7, seed: 5, op: 'random' }), 10),
  ];
}

const CASES = makeCases();
const jacobians = new Map<string, Float64Array>();
function jac(cs: Case): Float64Array {
  let J = jacobians.get(cs.name);
  if (!J) { J = fdJacobian(cs); jacobians.set(cs.name, J); }
  return J;
}

async function withOp<T>(cs: Case, f: (op: GnOperator) => Promise<T>, opts?: Parameters<typeof gaussNewtonOperator>[3]): Promise<T> {
  const op = await gaussNewtonOperator(bundle(cs), cs.dataset, cs.rows, opts);
  try {
    return await f(op);
  } finally {
    op.dispose();
  }
}

describe.each(CASES.map((cs) => [cs.name, cs] as const))('%s', (_name, cs) => {
  const d = cs.theta.length;
  const n = cs.rows.length;
  const m = n * outputDim(cs.config);

  test('(a) H·v matches (2/n) JᵀJ v from a finite-difference Float64 Jacobian', async () => {
    const J = jac(cs);
    const v = randomUnit(d, 100);
    const want = refHv(J, m, d, n, v);
    await withOp(cs, async (op) => {
      expect(op.d).toBe(d);
      expect(op.n).toBe(n);
      expect(op.flopsPerApply).toBeGreaterThan(0);
      const got = await op.apply(v);
      expect(got).toBeInstanceOf(Float64Array);
      expect(relErr(got, want)).toBeLessThan(1e-4);
      const got32 = await op.applyF32(Float32Array.from(v));
      expect(got32).toBeInstanceOf(Float32Array);
      expect(relErr(got32, want)).toBeLessThan(1e-4);
      // applyInto writes the same product into the caller's array; two in flight at once (sharing
      // the operator's float32 scratch for v) give their own products.
      const into = new Float64Array(d), other = new Float64Array(d);
      const w = Float64Array.from(v, (x, i) => (i % 3 === 0 ? -x : 2 * x));
      await Promise.all([op.applyInto(v, into), op.applyInto(w, other)]);
      expect(into).toEqual(got);
      expect(other).toEqual(await op.apply(w));
      await expect(op.applyInto(v, new Float64Array(d + 1))).rejects.toThrow(/expected/);
    });
    // Small chunks take the other code paths (for the pair models: per-token segment sums
    // instead of the p×p grid).
    const small = await withOp(cs, (op) => op.apply(v), { chunkSize: 4 });
    expect(relErr(small, want)).toBeLessThan(1e-4);
  });

  test('(b) H·v matches the finite-difference Hessian of the behavioral loss L_B(θ | θ*)', async () => {
    const v = randomUnit(d, 200);
    const star = Float64Array.from(cs.theta);
    const fStar = refForward(cs.config, star, cs.dataset, cs.rows);
    // (∇L_B(θ*+tv) − ∇L_B(θ*−tv))_j / 2t with each gradient entry a central difference of L_B:
    // the mixed difference [L(+t,+h) − L(+t,−h) − L(−t,+h) + L(−t,−h)] / 4th. Small t, h so
    // that no ReLU changes sign.
    const t = 1e-4, h = 1e-5;
    const want = new Float64Array(d);
    const plus = star.map((x, i) => x + t * v[i]);
    const minus = star.map((x, i) => x - t * v[i]);
    const at = (base: Float64Array, j: number, s: number): number => {
      const old = base[j];
      base[j] = old + s;
      const L = behavioralLoss(cs, base, fStar);
      base[j] = old;
      return L;
    };
    for (let j = 0; j < d; j++) want[j] = (at(plus, j, h) - at(plus, j, -h) - at(minus, j, h) + at(minus, j, -h)) / (4 * t * h);
    const got = await withOp(cs, (op) => op.apply(v));
    expect(relErr(got, want)).toBeLessThan(1e-4);
  });

  test('(c) jacobianDense matches the finite-difference Jacobian', async () => {
    const J = jac(cs);
    const before = tf.memory().numTensors;
    const got = await jacobianDense(bundle(cs), cs.dataset, cs.rows);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.length).toBe(m * d);
    expect(relErr(got, J)).toBeLessThan(1e-5);
  });

  test('(d) symmetric and positive semi-definite', async () => {
    await withOp(cs, async (op) => {
      for (let s = 0; s < 3; s++) {
        const u = randomUnit(d, 300 + s), v = randomUnit(d, 400 + s);
        const Hu = await op.apply(u), Hv = await op.apply(v);
        const a = dot(u, Hv), b = dot(Hu, v);
        expect(Math.abs(a - b)).toBeLessThan(1e-5 * (norm(Hu) + norm(Hv)));
        expect(dot(v, Hv)).toBeGreaterThanOrEqual(0);
        expect(dot(u, Hu)).toBeGreaterThanOrEqual(0);
      }
    });
  });

  if (cs.config.arch !== 'matfac') {
    test('(d) KL variant matches (1/n) Σ J_xᵀ (diag q − q qᵀ) J_x v in Float64', async () => {
      const J = jac(cs);
      const K = outputDim(cs.config);
      const v = randomUnit(d, 500);
      const f = refForward(cs.config, Float64Array.from(cs.theta), cs.dataset, cs.rows);
      const u = matVec(J, m, d, v);
      const w = new Float64Array(m);
      for (let r = 0; r < n; r++) {
        const row = f.subarray(r * K, r * K + K);
        const mx = Math.max(...row);
        const ex = row.map((z) => Math.exp(z - mx));
        const Z = ex.reduce((s, x) => s + x, 0);
        const q = ex.map((x) => x / Z);
        let qu = 0;
        for (let k = 0; k < K; k++) qu += q[k] * u[r * K + k];
        for (let k = 0; k < K; k++) w[r * K + k] = q[k] * u[r * K + k] - q[k] * qu;
      }
      const want = matTVec(J, m, d, w).map((x) => x / n);
      const got = await withOp(cs, (op) => op.apply(v), { loss: 'kl' });
      expect(relErr(got, want)).toBeLessThan(1e-4);
      // It is a different matrix from the MSE one (not just a rescaling of it).
      const mse = refHv(J, m, d, n, v);
      expect(relErr(got, mse.map((x) => (x * dot(mse, want)) / dot(mse, mse)))).toBeGreaterThan(1e-2);
    });
  }

  test('(f) no tensor leaks over 20 applies; chunked equals unchunked', async () => {
    const before = tf.memory().numTensors;
    const v = randomUnit(d, 600);
    const op = await gaussNewtonOperator(bundle(cs), cs.dataset, cs.rows);
    const held = tf.memory().numTensors;
    let first: Float64Array | null = null;
    for (let i = 0; i < 20; i++) {
      const r = await op.apply(v);
      first ??= r;
      expect(tf.memory().numTensors).toBe(held);
    }
    op.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const chunkSize of [1, 3]) {
      const chunked = await withOp(cs, (o) => o.apply(v), { chunkSize });
      expect(relErr(chunked, first as Float64Array)).toBeLessThan(2e-6);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test('repeated rows are weighted like any other row (H over rows ++ rows = H over rows)', async () => {
    const v = randomUnit(d, 700);
    const once = await withOp(cs, (o) => o.apply(v));
    const rows2 = Int32Array.from([...cs.rows, ...cs.rows]);
    const op2 = await gaussNewtonOperator(bundle(cs), cs.dataset, rows2);
    const twice = await op2.apply(v);
    op2.dispose();
    expect(relErr(twice, once)).toBeLessThan(2e-6);
  });
});

describe('matfac n=20, l=2 (docs/science.md §9)', () => {
  test('(e) the dense H of the operator at a generic θ has rank exactly 400 of 800', async () => {
    // Exact arithmetic gives rank 400 for any full-rank weights and inputs, but the numerical
    // rank at a relative cutoff needs the nonzero eigenvalues above it: with PyTorch-style init
    // and Gaussian inputs the smallest nonzero one was 6.5e-9·λmax (Float64, measured), below
    // the float32 noise floor. So θ and the inputs are generic perturbations of the identity
    // (I + 0.3·G/√20), whose smallest nonzero eigenvalue is ~0.08·λmax.
    const config: ModelConfig = { arch: 'matfac', widths: [20, 20, 20] };
    const rng = makeRng(12);
    const nearI = (): Float32Array => Float32Array.from({ length: 400 }, (_, i) => (i % 21 === 0 ? 1 : 0) + (0.3 * rng.normal()) / Math.sqrt(20));
    const theta = new Float32Array(800);
    theta.set(nearI(), 0);
    theta.set(nearI(), 400);
    const x = nearI();
    const all = Int32Array.from({ length: 20 }, (_, i) => i);
    const dataset: Dataset = { kind: 'matfac', label: 'near-identity inputs', n: 20, inputDim: 20, x, y: new Float32Array(400), outDim: 20, trainIdx: all, testIdx: new Int32Array(0) };
    const cs: Case = { name: 'matfac-20', config, dataset, rows: all, theta };
    const d = 800;
    const H = new Float64Array(d * d);
    await withOp(cs, async (op) => {
      const e = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        e[j] = 1;
        const col = await op.apply(e);
        e[j] = 0;
        for (let i = 0; i < d; i++) H[i * d + j] = col[i];
      }
    });
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) {
      const s = (H[i * d + j] + H[j * d + i]) / 2;
      H[i * d + j] = s; H[j * d + i] = s;
    }
    const { a, b } = tridiagonalize(H, d);
    // λmax by bisection on the Sturm count inside the Gershgorin interval.
    let lo = 0, hi = 0;
    for (let i = 0; i < d; i++) hi = Math.max(hi, a[i] + Math.abs(b[i]) + (i + 1 < d ? Math.abs(b[i + 1]) : 0));
    for (let it = 0; it < 100; it++) { const mid = (lo + hi) / 2; if (countBelow(a, b, mid) < d) lo = mid; else hi = mid; }
    const lmax = hi;
    expect(d - countBelow(a, b, 1e-6 * lmax)).toBe(400);
    // A wide gap, not a threshold accident: the 400 nonzero eigenvalues are all above 1e-2·λmax
    // and the 400 zeros all below 1e-6·λmax (float32 rounding).
    expect(d - countBelow(a, b, 1e-2 * lmax)).toBe(400);
  });
});

describe('errors', () => {
  test('KL needs a classifier; jacobianDense refuses large matrices; bad v is refused', async () => {
    const cs = CASES[3];
    await expect(gaussNewtonOperator(bundle(cs), cs.dataset, cs.rows, { loss: 'kl' })).rejects.toThrow(/classifier/);
    const big: Case = { name: 'big', config: { arch: 'mnist-mlp', hidden: [50, 50] }, dataset: fakeMnist(60, 1), rows: Int32Array.from({ length: 60 }, (_, i) => i), theta: new Float32Array(42310) };
    await expect(jacobianDense(bundle(big), big.dataset, big.rows)).rejects.toThrow(/too large/);
    await withOp(cs, async (op) => {
      await expect(op.apply(new Float64Array(3))).rejects.toThrow(/expected 27/);
    });
  });
});
