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
  test('fillNormal is, draw for draw, a scalar ziggurat over the generator\'s 32-bit stream, and leaves the stream where that one does', () => {
    // Reference: Marsaglia & Tsang's 128-layer ziggurat written out plainly, fed one 32-bit draw at a
    // time from a twin generator's fork() (its raw stream), so the inlined fast path, its hand-off to
    // the rare path and the state written back after each call are all checked.
    const kn = new Float64Array(128), wn = new Float64Array(128), fn = new Float64Array(128);
    const m1 = 2147483648, vn = 9.91256303526217e-3;
    let dn = 3.442619855899, tn = dn;
    const q = vn / Math.exp(-0.5 * dn * dn);
    kn[0] = (dn / q) * m1; kn[1] = 0; wn[0] = q / m1; wn[127] = dn / m1; fn[0] = 1; fn[127] = Math.exp(-0.5 * dn * dn);
    for (let i = 126; i >= 1; i--) {
      dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
      kn[i + 1] = (dn / tn) * m1; tn = dn; fn[i] = Math.exp(-0.5 * dn * dn); wn[i] = dn / m1;
    }
    const twin = makeRng(21);
    const u32 = (): number => twin.fork();
    const uni = (): number => (u32() + 0.5) / 4294967296;
    const one = (): number => {
      let hz = u32() | 0, iz = hz & 127;
      if (Math.abs(hz) < kn[iz]) return hz * wn[iz];
      for (;;) {
        if (iz === 0) {
          let x: number, y: number;
          do { x = -Math.log(uni()) / 3.442619855899; y = -Math.log(uni()); } while (y + y < x * x);
          return hz > 0 ? 3.442619855899 + x : -3.442619855899 - x;
        }
        const x = hz * wn[iz];
        if (fn[iz] + uni() * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) return x;
        hz = u32() | 0; iz = hz & 127;
        if (Math.abs(hz) < kn[iz]) return hz * wn[iz];
      }
    };
    const rng = makeRng(21);
    let rare = 0;
    for (const len of [1, 7, 1000, 33_333, 65_536]) {
      const got = new Float64Array(len);
      rng.fillNormal(got);
      const want = Float64Array.from({ length: len }, one);
      for (const v of want) if (Math.abs(v) > 3.2) rare++;
      expect(got).toEqual(want);
      expect(rng.fork()).toBe(u32()); // the stream continues from the same state
    }
    expect(rare).toBeGreaterThan(50); // the rare path (tail and wedges) was taken
    expect(rng.next()).toBe(twin.next());
  });
  test('normal (Box–Muller) is N(0, 1)', () => {
    const rng = makeRng(5);
    check(Float64Array.from({ length: 200_000 }, () => rng.normal()));
  });
});
