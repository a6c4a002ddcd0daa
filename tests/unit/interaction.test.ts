import { beforeAll, describe, expect, test } from 'vitest';
import { gini, interactionBasis, toInteractionBasis, topShare, type InteractionResult } from '../../src/core/internals/interaction';
import { loadDataset } from '../../src/core/data/index';
import { gatherRows, type Dataset } from '../../src/core/data/types';
import type { ModelBundle } from '../../src/core/models/bundle';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { view } from '../../src/core/params';
import { makeRng } from '../../src/core/rng';
import { nodeAssetReader } from '../../src/node/assets';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);

const widths = [6, 5, 4];
const config: ModelConfig = { arch: 'matfac', widths };
const data = { kind: 'matfac' as const, inDim: 6, outDim: 4, nTrain: 6, seed: 2 };

/** Row-major product A [r × k] · B [k × c]. */
function mul(A: ArrayLike<number>, B: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let t = 0; t < k; t++) for (let j = 0; j < c; j++) out[i * c + j] += A[i * k + t] * B[t * c + j];
  return out;
}

/** Gauss–Jordan inverse with partial pivoting. */
function inverse(A: Float64Array, n: number): Float64Array {
  const a = A.slice(), inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[piv * n + c])) piv = r;
    for (let j = 0; j < n; j++) {
      [a[c * n + j], a[piv * n + j]] = [a[piv * n + j], a[c * n + j]];
      [inv[c * n + j], inv[piv * n + j]] = [inv[piv * n + j], inv[c * n + j]];
    }
    const d = a[c * n + c];
    for (let j = 0; j < n; j++) { a[c * n + j] /= d; inv[c * n + j] /= d; }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      for (let j = 0; j < n; j++) { a[r * n + j] -= f * a[c * n + j]; inv[r * n + j] -= f * inv[c * n + j]; }
    }
  }
  return inv;
}

/** Activations f^0, f^1, f^2 of a matfac [6, 5, 4] net over the training rows, row-major [n × width]. */
function activations(model: ModelBundle, ds: Dataset): Float64Array[] {
  const L = layoutFor(model.config);
  const W0 = view(L, model.theta, 'layers.0.weight'), W1 = view(L, model.theta, 'layers.1.weight');
  const X = Float64Array.from(gatherRows(ds.x, 6, ds.trainIdx));
  const tr = (M: ArrayLike<number>, r: number, c: number) => { const t = new Float64Array(r * c); for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = M[i * c + j]; return t; };
  const n = ds.trainIdx.length;
  const f1 = mul(X, tr(W0, 5, 6), n, 6, 5);
  const f2 = mul(f1, tr(W1, 4, 5), n, 5, 4);
  return [X, f1, f2];
}

/** Columns of [n × r] (one per basis direction) equal up to sign, relative tolerance. */
function expectSameUpToSign(a: Float64Array, b: Float64Array, n: number, r: number, rel: number): void {
  for (let i = 0; i < r; i++) {
    let dm = 0, dp = 0, nn = 0;
    for (let x = 0; x < n; x++) {
      const u = a[x * r + i], v = b[x * r + i];
      dm += (u - v) ** 2; dp += (u + v) ** 2; nn += u * u;
    }
    expect(Math.sqrt(Math.min(dm, dp) / nn)).toBeLessThan(rel);
  }
}

describe('interaction basis (§4, appendix D)', () => {
  test('is invariant to an invertible R on a layer (f → R f, W → W R⁻¹) up to signs; neuron-basis edges are not', async () => {
    const ds = await loadDataset(data, nodeAssetReader());
    const theta = initParams(config, 9);
    const A: ModelBundle = { name: 'A', config, theta, data };
    // B: the same function with layer 1 transformed by R (random, invertible, seeded; moderately
    // conditioned: the float32 Grams resolve eigenvalues down to ~1e-6 of the largest).
    const rng = makeRng(21);
    const R = Float64Array.from({ length: 25 }, (_, i) => 0.6 * rng.normal() + (i % 6 === 0 ? 1.5 : 0));
    const Rinv = inverse(R, 5);
    const L = layoutFor(config);
    const W0 = view(L, theta, 'layers.0.weight'), W1 = view(L, theta, 'layers.1.weight');
    const thetaB = theta.slice();
    view(L, thetaB, 'layers.0.weight').set(mul(R, W0, 5, 5, 6));
    view(L, thetaB, 'layers.1.weight').set(mul(W1, Rinv, 4, 5, 5));
    const B: ModelBundle = { name: 'B', config, theta: thetaB, data };
    const fa = activations(A, ds), fb = activations(B, ds);
    // Fixture: same function, different layer-1 coordinates.
    fa[2].forEach((v, i) => expect(Math.abs(v - fb[2][i])).toBeLessThan(1e-4));
    expect(Math.abs(fa[1][0] - fb[1][0])).toBeGreaterThan(1e-3);

    const ia = await interactionBasis(A, ds, ds.trainIdx);
    const ib = await interactionBasis(B, ds, ds.trainIdx);
    const n = ds.trainIdx.length;

    expect(ia.layers.map((l) => [l.name, l.rankG, l.basisSize])).toEqual([['input', 6, 4], ['layers.0', 5, 4], ['output', 4, 4]]);
    for (let l = 0; l < 3; l++) {
      const la = ia.layers[l], lb = ib.layers[l];
      expect(lb.basisSize).toBe(la.basisSize);
      // Distinct eigenvalues of M̃ (else the basis is only defined up to rotations).
      for (let i = 1; i < la.basisSize; i++) expect(la.mEigen[i - 1] / la.mEigen[i]).toBeGreaterThan(1.01);
      la.mEigen.forEach((v, i) => expect(Math.abs(v - lb.mEigen[i])).toBeLessThan(1e-4 * la.mEigen[0]));
      const ha = toInteractionBasis(la, fa[l], n), hb = toInteractionBasis(lb, fb[l], n);
      expectSameUpToSign(ha, hb, n, la.basisSize, 2e-3);
    }
    // In the layer-1 coordinates themselves, C changes (C_R = C R⁻¹): the invariance is not trivial.
    let diff = 0;
    ia.layers[1].C.forEach((v, i) => { diff = Math.max(diff, Math.abs(Math.abs(v) - Math.abs(ib.layers[1].C[i]))); });
    expect(diff).toBeGreaterThan(1e-2);
    // Interaction-basis edges are invariant; neuron-basis edges are not.
    for (let t = 0; t < 2; t++) {
      const ea = ia.edges[t].interaction.strength, eb = ib.edges[t].interaction.strength;
      const top = Math.max(...ea);
      ea.forEach((v, i) => expect(Math.abs(v - eb[i])).toBeLessThan(2e-3 * top));
      const na = ia.edges[t].neuron.strength, nb = ib.edges[t].neuron.strength;
      expect(Math.max(...na.map((v, i) => Math.abs(v - nb[i]))) / Math.max(...na)).toBeGreaterThan(1e-2);
    }
  });

  test('whitening and diagonalisation: E[f̂ f̂ᵀ] = D_M⁻¹, Jacobian Gram D_M², C X = I, sign convention', async () => {
    const ds = await loadDataset(data, nodeAssetReader());
    const model: ModelBundle = { name: 'A', config, theta: initParams(config, 4), data };
    const res: InteractionResult = await interactionBasis(model, ds, ds.trainIdx);
    const f = activations(model, ds);
    const L = layoutFor(config);
    const W1 = view(L, model.theta, 'layers.1.weight');
    const lay = res.layers[1];
    const r = lay.basisSize, n = ds.trainIdx.length;
    const h = toInteractionBasis(lay, f[1], n);
    // E[f̂ f̂ᵀ] = D_M⁻¹ (diagonal), from the data directly.
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
      let s = 0;
      for (let x = 0; x < n; x++) s += (h[x * r + i] * h[x * r + j]) / n;
      const want = i === j ? 1 / lay.mEigen[i] : 0;
      expect(Math.abs(s - want)).toBeLessThan(1e-3 / lay.mEigen[r - 1]);
    }
    // Jacobian Gram in f̂: (W1 X)ᵀ(W1 X) = D_M² (layer 1 feeds the linear output, M = W1ᵀW1).
    const WX = mul(W1, lay.X, 4, 5, r);
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += WX[k * r + i] * WX[k * r + j];
      const want = i === j ? lay.mEigen[i] ** 2 : 0;
      expect(Math.abs(s - want)).toBeLessThan(1e-3 * lay.mEigen[0] ** 2);
    }
    const CX = mul(lay.C, lay.X, r, lay.size, r);
    CX.forEach((v, i) => expect(Math.abs(v - (Math.floor(i / r) === i % r ? 1 : 0))).toBeLessThan(1e-9));
    // Signs: E[f̂_i] ≥ 0 (the documented convention).
    for (let i = 0; i < r; i++) expect(lay.mean[i]).toBeGreaterThanOrEqual(0);
  });

  test('edge strengths through a ReLU layer match a direct per-point computation', async () => {
    const p = 5, e = 2, h = 4;
    const cfg: ModelConfig = { arch: 'modadd', p, e, h };
    const spec = { kind: 'modadd' as const, p, trainFraction: 0.8, seed: 1, op: 'sum' as const };
    const model: ModelBundle = { name: 'm', config: cfg, theta: initParams(cfg, 6), data: spec };
    const ds = await loadDataset(spec, nodeAssetReader());
    const rows = ds.trainIdx, n = rows.length;
    const res = await interactionBasis(model, ds, rows);
    const L = layoutFor(cfg);
    const E = view(L, model.theta, 'embed.weight'), W = view(L, model.theta, 'hidden.weight'), B = view(L, model.theta, 'hidden.bias');
    const Wo = view(L, model.theta, 'out.weight'), Bo = view(L, model.theta, 'out.bias');
    const [l0, l1] = res.layers;
    const D0 = 2 * e + 1, D1 = h + 1, r0 = l0.basisSize, r1 = l1.basisSize;
    const f0s: number[][] = [], ons: number[][] = [], f1s: number[][] = [];
    for (const r of rows) {
      const a = ds.x[2 * r], b = ds.x[2 * r + 1];
      const f0 = [...E.subarray(a * e, a * e + e), ...E.subarray(b * e, b * e + e), 1];
      const pre = Array.from({ length: h }, (_, i) => f0.slice(0, 2 * e).reduce((s, v, j) => s + W[i * 2 * e + j] * v, B[i]));
      f0s.push(f0); ons.push(pre.map((z) => (z > 0 ? 1 : 0))); f1s.push([...pre.map((z) => Math.max(0, z)), 1]);
    }
    const Wbar = (i: number, j: number) => (j < 2 * e ? W[i * 2 * e + j] : B[i]);
    // Ĝ^0_jj = E[f̂0_j²] from the data; M̂^1_ii = Σ_k ((W̄_out·X^1)_{k,i})² (K = I at the output; the
    // bias coordinate of f̄^1 is formal, footnote 6, as in the basis itself).
    const h0 = toInteractionBasis(l0, Float64Array.from(f0s.flat()), n);
    const gHat = Array.from({ length: r0 }, (_, j) => { let s = 0; for (let x = 0; x < n; x++) s += h0[x * r0 + j] ** 2 / n; return s; });
    const mHat = Array.from({ length: r1 }, (_, i) => { let s = 0; for (let k = 0; k < p; k++) { let t = Bo[k] * l1.X[h * r1 + i]; for (let a = 0; a < h; a++) t += Wo[k * h + a] * l1.X[a * r1 + i]; s += t * t; } return s; });
    // T̂(x) = C^1[:, :h] diag(r(x)) W̄ X^0, averaged in squares over the data.
    const want = new Float64Array(r1 * r0);
    for (let x = 0; x < n; x++) {
      for (let i = 0; i < r1; i++) for (let j = 0; j < r0; j++) {
        let t = 0;
        for (let k = 0; k < h; k++) {
          if (!ons[x][k]) continue;
          let wx = 0;
          for (let a = 0; a < D0; a++) wx += Wbar(k, a) * l0.X[a * r0 + j];
          t += l1.C[i * D1 + k] * wx;
        }
        want[i * r0 + j] += (t * t) / n;
      }
    }
    for (let i = 0; i < r1; i++) for (let j = 0; j < r0; j++) want[i * r0 + j] = Math.sqrt(want[i * r0 + j] * gHat[j] * mHat[i]);
    const got = res.edges[0].interaction.strength;
    const top = Math.max(...want);
    want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-3 * top));
    // Neuron basis: E_ij = sqrt(firing_i · W̄_ij² · G_jj · M_ii) with M^1_ii = Σ_k Wo[k,i]².
    const nE = res.edges[0].neuron.strength;
    for (let i = 0; i < h; i++) {
      const fire = ons.reduce((s, o) => s + o[i], 0) / n;
      const mii = Array.from({ length: p }, (_, k) => Wo[k * h + i] ** 2).reduce((s, v) => s + v, 0);
      for (let j = 0; j < D0; j++) {
        const gjj = f0s.reduce((s, f) => s + f[j] * f[j], 0) / n;
        expect(nE[i * D0 + j]).toBeCloseTo(Math.sqrt(fire * Wbar(i, j) ** 2 * gjj * mii), 4);
      }
    }
    expect(res.edges[0].interaction.rows).toBe(r1);
    expect(f1s.length).toBe(n);
  });

  test('sparsity measures', () => {
    expect(gini([1, 1, 1, 1])).toBeCloseTo(0, 12);
    expect(gini([0, 0, 0, 4])).toBeCloseTo(0.75, 12); // (m − 1)/m for one nonzero of m
    expect(topShare(Array.from({ length: 20 }, (_, i) => (i < 2 ? 9 : 1)), 0.1)).toBeCloseTo(18 / 36, 12);
    expect(topShare([0, 0, 0], 0.1)).toBe(0);
  });
});
