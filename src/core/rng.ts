/**
 * Seeded pseudo-random numbers. Every random choice in the explorer (initialisation, splits,
 * probes, SGLD noise) comes from here so a seed in the URL reproduces a run.
 */

/** A seeded generator of uniform floats in [0, 1) with normal draws on top. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A 32-bit seed for a child generator (for independent streams, e.g. one per chain). */
  fork(): number;
}

/** splitmix32: scrambles a seed so nearby seeds give unrelated streams. */
function splitmix32(a: number): number {
  a = (a + 0x9e3779b9) | 0;
  let t = a ^ (a >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t = t ^ (t >>> 15);
  t = Math.imul(t, 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

/** sfc32 (Small Fast Counting), a 128-bit-state generator that passes PractRand. */
export function makeRng(seed: number): Rng {
  let a = splitmix32(seed);
  let b = splitmix32(a ^ 0x85ebca6b);
  let c = splitmix32(b ^ 0xc2b2ae35);
  let d = 1;
  const u32 = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  let spare: number | null = null;
  const next = (): number => u32() / 4294967296;
  return {
    next,
    normal(): number {
      if (spare !== null) { const s = spare; spare = null; return s; }
      // Box–Muller; 1 - u keeps the log argument in (0, 1].
      const u = 1 - next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int(n: number): number {
      return Math.floor(next() * n);
    },
    fork(): number {
      return u32();
    },
  };
}

/** Fisher–Yates shuffle of 0..n-1 with the given generator. */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i]; out[i] = out[j]; out[j] = t;
  }
  return out;
}
