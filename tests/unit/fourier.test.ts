import { describe, expect, test } from 'vitest';
import { circleProjection, fourierAnalysis, fourierOfEmbedding } from '../../src/core/internals/fourier';
import type { ModelBundle } from '../../src/core/models/bundle';
import { layoutFor, type ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { view } from '../../src/core/params';
import { makeRng } from '../../src/core/rng';

const p = 53, e = 24;
const KEYS = [3, 11, 17];
const AMP = [3, 2, 1.5];

/** k orthonormal vectors in ℝ^m (Gram–Schmidt of seeded Gaussians), written independently of the code under test. */
function orthonormal(k: number, m: number, seed: number): number[][] {
  const rng = makeRng(seed);
  const out: number[][] = [];
  while (out.length < k) {
    const v = Array.from({ length: m }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) for (const q of out) { const d = q.reduce((s, x, i) => s + x * v[i], 0); q.forEach((x, i) => { v[i] -= d * x; }); }
    const nv = Math.hypot(...v);
    out.push(v.map((x) => x / nv));
  }
  return out;
}

/**
 * E[a] = Σ_k A_k (cos(2πka/p) α_k + sin(2πka/p) β_k) + noise, with α_k, β_k orthonormal directions
 * of the embedding space (a learned circuit in its own plane), plus a constant offset.
 */
function embedding(noise: number, seed = 1): Float64Array {
  const dirs = orthonormal(2 * KEYS.length + 1, e, seed);
  const rng = makeRng(seed + 100);
  const E = new Float64Array(p * e);
  for (let a = 0; a < p; a++) for (let j = 0; j < e; j++) {
    let s = 0.7 * dirs[2 * KEYS.length][j] + noise * rng.normal();
    KEYS.forEach((k, i) => {
      s += AMP[i] * (Math.cos((2 * Math.PI * k * a) / p) * dirs[2 * i][j] + Math.sin((2 * Math.PI * k * a) / p) * dirs[2 * i + 1][j]);
    });
    E[a * e + j] = s;
  }
  return E;
}

describe('Fourier view of the embedding (seed 003)', () => {
  test('finds exactly the planted frequencies, and their circles have constant radius', () => {
    const E = embedding(0.01);
    const f = fourierOfEmbedding(E, p, e);
    expect(f.frequencies.length).toBe(26);
    expect([...f.keyFrequencies].sort((x, y) => x - y)).toEqual(KEYS);
    expect(f.keyFrequencies).toEqual([3, 11, 17]); // by decreasing norm (amplitudes 3, 2, 1.5)
    expect([...f.circuits].sort((x, y) => x - y)).toEqual(KEYS);
    // u_k = Eᵀĉ_k = A_k √(2/p)·(p/2)·α_k (cos² sums to p/2 over the tokens), likewise v_k, so
    // norm_k = √(‖u_k‖² + ‖v_k‖²) = A_k √p.
    KEYS.forEach((k, i) => expect(f.norms[k - 1]).toBeCloseTo(AMP[i] * Math.sqrt(p), 1));
    for (const c of f.circles) expect(c.normCos).toBeCloseTo(AMP[KEYS.indexOf(c.k)] * Math.sqrt(p / 2), 1);
    expect(f.keyEnergyFraction).toBeGreaterThan(0.99);
    // Parseval: Σ_k norm_k² + constant energy = ‖E‖_F² (p odd: no Nyquist term).
    const total = E.reduce((s, v) => s + v * v, 0);
    expect(f.norms.reduce((s, v) => s + v * v, 0) + f.constantEnergy).toBeCloseTo(total, 6);
    for (const c of f.circles) {
      const i = KEYS.indexOf(c.k);
      expect(c.circularity).toBeLessThan(0.02);
      expect(c.meanRadius).toBeCloseTo(AMP[i], 1);
      expect(Math.abs(c.cosAngle)).toBeLessThan(0.02);
      // Token a sits at angle ±2πka/p (+ a phase): consecutive tokens turn by 2πk/p.
      const step = (2 * Math.PI * c.k) / p;
      let sign = 0;
      for (let a = 0; a + 1 < p; a++) {
        let d = Math.atan2(c.y[a + 1], c.x[a + 1]) - Math.atan2(c.y[a], c.x[a]);
        d = Math.atan2(Math.sin(d), Math.cos(d));
        const target = Math.atan2(Math.sin(step), Math.cos(step));
        sign ||= Math.sign(d);
        expect(Math.abs(d - sign * target)).toBeLessThan(0.05); // noise 0.01 on a radius ≥ 1.5
      }
    }
  });

  test('an untrained (Gaussian) embedding has no key frequencies', () => {
    for (const seed of [1, 2, 3]) {
      const rng = makeRng(seed);
      const E = Float64Array.from({ length: p * e }, () => rng.normal());
      const f = fourierOfEmbedding(E, p, e);
      expect(f.keyFrequencies).toEqual([]);
      expect(f.circuits).toEqual([]);
      expect(f.separation).toBeLessThan(4);
    }
  });

  test('a key frequency whose plane is sheared is found but is not a circle', () => {
    // Frequency 5 with cos and sin written along nearly the same direction: an ellipse.
    const dirs = orthonormal(2, e, 9);
    const E = new Float64Array(p * e);
    const rng = makeRng(4);
    for (let a = 0; a < p; a++) for (let j = 0; j < e; j++) {
      const th = (2 * Math.PI * 5 * a) / p;
      E[a * e + j] = 2 * Math.cos(th) * dirs[0][j] + 2 * Math.sin(th) * (0.95 * dirs[0][j] + 0.31 * dirs[1][j]) + 0.01 * rng.normal();
    }
    const f = fourierOfEmbedding(E, p, e);
    expect(f.keyFrequencies).toEqual([5]);
    expect(f.circles[0].circularity).toBeGreaterThan(0.3);
    expect(f.circuits).toEqual([]);
    // Any chosen frequency can be drawn; a planted one from the first fixture is a circle.
    expect(circleProjection(embedding(0.01), p, e, 11).circularity).toBeLessThan(0.02);
  });

  test('reads embed.weight of a modadd model and refuses other architectures', () => {
    const config: ModelConfig = { arch: 'modadd', p, e, h: 8 };
    const theta = initParams(config, 1);
    view(layoutFor(config), theta, 'embed.weight').set(embedding(0.01));
    const model: ModelBundle = { name: 'm', config, theta, data: { kind: 'modadd', p, trainFraction: 0.8, seed: 0, op: 'sum' } };
    expect(fourierAnalysis(model).circuits.slice().sort((x, y) => x - y)).toEqual(KEYS);
    const mlp: ModelBundle = { ...model, config: { arch: 'mnist-mlp', hidden: [4] } };
    expect(() => fourierAnalysis(mlp)).toThrow(/modular-addition/);
  });
});
