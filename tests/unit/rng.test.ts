/** The seeded generator's normal draws: Box–Muller (normal) and the ziggurat (fillNormal) against N(0, 1). */
import { describe, expect, test } from 'vitest';
import { makeRng } from '../../src/core/rng';
import { erf64 } from './helpers/reference';

const Phi = (x: number): number => 0.5 * (1 + erf64(x / Math.SQRT2));

function check(xs: Float64Array): void {
  const n = xs.length;
  let m = 0;
  for (const x of xs) m += x;
  m /= n;
  let v = 0, k4 = 0;
  for (const x of xs) { v += (x - m) ** 2; k4 += (x - m) ** 4; }
  v /= n; k4 /= n;
  // Standard errors of the mean, variance and fourth moment of N(0, 1): 1/√n, √(2/n), √(96/n).
  expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(n));
  expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  expect(Math.abs(k4 - 3)).toBeLessThan(5 * Math.sqrt(96 / n));
  // Kolmogorov–Smirnov distance to Φ (the 0.1 % critical value is 1.95/√n).
  const s = Float64Array.from(xs).sort();
  let ks = 0;
  for (let i = 0; i < n; i++) { const F = Phi(s[i]); ks = Math.max(ks, Math.abs(F - i / n), Math.abs(F - (i + 1) / n)); }
  expect(ks).toBeLessThan(1.95 / Math.sqrt(n));
  // Tails, including beyond the ziggurat's base strip (r ≈ 3.44, drawn by a separate rejection loop).
  for (const t of [2, 3, 3.6]) {
    let c = 0;
    for (const x of xs) if (Math.abs(x) > t) c++;
    const p = 2 * (1 - Phi(t));
    expect(Math.abs(c / n - p), `tail beyond ${t}`).toBeLessThan(5 * Math.sqrt(p / n) + 1 / n);
  }
}

describe('normal draws', () => {
  test('fillNormal (ziggurat) is N(0, 1): moments, KS distance and tails on 400,000 draws', () => {
    const out = new Float64Array(400_000);
    makeRng(11).fillNormal(out);
    check(out);
  });
  test('fillNormal into float32, with two seeds giving different streams', () => {
    const a = new Float32Array(200_000), b = new Float32Array(200_000);
    makeRng(1).fillNormal(a);
    makeRng(2).fillNormal(b);
    check(Float64Array.from(a));
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    expect(same).toBeLessThan(10);
    const c = new Float32Array(200_000);
    makeRng(1).fillNormal(c);
    expect(c).toEqual(a); // seeded: the same seed, the same stream
  });
  test('normal (Box–Muller) is N(0, 1)', () => {
    const rng = makeRng(5);
    check(Float64Array.from({ length: 200_000 }, () => rng.normal()));
  });
});
