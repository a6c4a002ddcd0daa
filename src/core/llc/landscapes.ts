/**
 * Teaching landscapes: losses K(w) in one or two parameters on the box [−1, 1]^m with w* = 0, the
 * exact volume of their sublevel sets and the LLC at a loss scale (docs/science.md §4.1, (S11); eq. 5 of seed 000)
 *
 *   V(ε) = vol{w ∈ [−1, 1]^m : K(w) < ε},      λ(ε) = ε d/dε log V(ε) = d log V / d log ε,
 *
 * a grid of K for drawing {K < ε}, and a tiny seeded SGLD sampler (the estimator of sgld.ts in plain
 * Float64 JS) for animating samples.
 *
 * Landscapes and their small-ε limits (V ~ C ε^λ (−log ε)^(m−1), m the multiplicity):
 * - w²: λ = ½ at every ε < 1.   w⁴: λ = ¼.   c²w² + w⁴: λ ≈ ½ for ε ≪ c⁴, ≈ ¼ for ε ≫ c⁴.
 * - (w1·w2)²: λ(ε) = ½ − 1/(2 − ln ε) exactly (docs/science.md (S22)), → ½ with multiplicity 2.
 * - Normal crossing (w1^k1 · w2^k2)²: the squared-loss model f = w1^k1 w2^k2 of docs/science.md §9, so
 *   K = w1^(2k1) w2^(2k2) and λ = 1/(2 max(k1, k2)): (1,1) → ½, (2,2) → ¼, (k,3) → 1/6 for k ≤ 3;
 *   multiplicity 2 when k1 = k2. (In the K-exponent convention K = w1^(2k1) w2^(2k2) it is the
 *   familiar min_i 1/(2k_i).) Closed forms for checking: with δ = ε^(1/(2k)), k1 = k2 = k gives
 *   V = 4δ(1 − ln δ), λ = 1/(2k) − 1/(2k − ln ε); k1 < k2 gives
 *   V = 4 (k2 ε^(1/(2k2)) − k1 ε^(1/(2k1))) / (k2 − k1).
 * - Two circuits: K = min(A(w), s·B(w)) with normal crossings A = w1^(2a1) w2^(2a2) and
 *   B = w1^(2b1) w2^(2b2): the loss is small where either circuit works, so {K < ε} is the union
 *   of the two sublevel sets and V ≈ V_A + V_B. Default A = w1² (λ_A = ½) and B = w2⁴ (λ_B = ¼) with
 *   scale s = 10⁶: V = 4(√ε + (ε/s)^¼ − √ε (ε/s)^¼) for ε ≤ 1, so λ(ε) ≈ ½ for 1/s ≪ ε ≪ 1 (the
 *   gentle circuit A holds most of the volume) and switches to ≈ ¼ for ε ≪ 1/s, where the more
 *   degenerate but steeper circuit B takes over. The volume ratio V_B/V_A = (sε)^(−¼) moves one
 *   decade per four decades of ε, so the switch is broad: λ = 0.48 at ε = 10⁻², 0.375 at 10⁻⁶,
 *   0.27 at 10⁻¹⁰. The product A·B would instead give a single normal crossing with no switch, so
 *   the min is the one that shows λ moving between two values.
 *
 * Every landscape here is even in each coordinate and nondecreasing in |w_i| with the other
 * coordinate fixed. That is what the integrator uses: the slice {w2 ∈ [0, 1] : K(w1, w2) < ε} is an
 * interval [0, r(w1)), found by bisection (relative precision 2⁻⁵⁵), and
 * V = 4 ∫₀¹ r(w1) dw1 is integrated by adaptive Gauss–Kronrod (7/15) after splitting [0, 1] where
 * r reaches 1 (K(w1, 1) = ε) and 0 (K(w1, 0) = ε), in the variable log w1 when the remaining range
 * spans decades (near the singular axis w1 = 0 the slice length is a power law in w1, smooth in
 * log w1). λ(ε) in 2-D is the fourth-order central difference of log V in log ε (step 10⁻³; the
 * quadrature is converged to ~10⁻¹³ relative, so the difference is good to ~10⁻⁹). In 1-D,
 * V = 2 r(ε) with K(r) = ε by root-finding and λ = ε / (r K'(r)) exactly (implicit differentiation).
 */
import { makeRng } from '../rng';
import { meanStd } from '../stats';

export type LandscapeSpec =
  | { kind: 'w2' }
  | { kind: 'w4' }
  /** c²w² + w⁴ (c ≥ 0; c = 0 is w⁴). */
  | { kind: 'quad-quartic'; c: number }
  /** (w1·w2)², the normal crossing (1, 1). */
  | { kind: 'w1w2' }
  /** (w1^k1 · w2^k2)² with whole k1, k2 ≥ 0, not both 0. */
  | { kind: 'crossing'; k1: number; k2: number }
  /** min(A, s·B), A = (w1^a1 w2^a2)², B = (w1^b1 w2^b2)² (defaults a = [1, 0], b = [0, 2], s = 1e6). */
  | { kind: 'two-circuits'; s?: number; a?: [number, number]; b?: [number, number] };

export interface Landscape {
  spec: LandscapeSpec;
  dim: 1 | 2;
  /** Short name for menus, e.g. "(w1·w2)²". */
  label: string;
  /** The loss written out, e.g. "K(w) = 0.25 w² + w⁴". */
  formula: string;
  /** K(w) in Float64. */
  loss(w: ArrayLike<number>): number;
  /** ∇K(w) (for min, the gradient of the active branch). */
  grad(w: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** max of K on the box: V(ε) = 2^dim for ε above it. */
  maxLoss: number;
  /** λ and multiplicity m as ε → 0: V ~ C ε^λ (−log ε)^(m−1). */
  limit: { llc: number; multiplicity: number };
}

const pow = (x: number, k: number): number => (k === 0 ? 1 : Math.pow(x, k));

/** Monomial K = w1^(2k1) w2^(2k2) with its gradient. */
function monomial(k1: number, k2: number): { f: (w1: number, w2: number) => number; g: (w1: number, w2: number, out: Float64Array) => void } {
  return {
    f: (w1, w2) => pow(w1, 2 * k1) * pow(w2, 2 * k2),
    g: (w1, w2, out) => {
      out[0] = k1 === 0 ? 0 : 2 * k1 * pow(w1, 2 * k1 - 1) * pow(w2, 2 * k2);
      out[1] = k2 === 0 ? 0 : 2 * k2 * pow(w1, 2 * k1) * pow(w2, 2 * k2 - 1);
    },
  };
}

function crossingLimit(k1: number, k2: number): { llc: number; multiplicity: number } {
  const k = Math.max(k1, k2);
  return { llc: 1 / (2 * k), multiplicity: k1 === k2 ? 2 : 1 };
}

function sup(n: number): string {
  const map: Record<string, string> = { 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
  return String(n).split('').map((ch) => map[ch] ?? ch).join('');
}

function monomialText(k1: number, k2: number): string {
  const part = (v: string, k: number) => (k === 0 ? '' : k === 1 ? v : `${v}${sup(k)}`);
  const body = [part('w1', 2 * k1), part('w2', 2 * k2)].filter(Boolean).join('·');
  return body || '1';
}

function checkPower(name: string, k: number): void {
  if (!Number.isInteger(k) || k < 0 || k > 20) throw new RangeError(`${name} must be a whole number from 0 to 20 (got ${k})`);
}

export function makeLandscape(spec: LandscapeSpec): Landscape {
  switch (spec.kind) {
    case 'w2':
      return {
        spec, dim: 1, label: 'w²', formula: 'K(w) = w²', maxLoss: 1, limit: { llc: 0.5, multiplicity: 1 },
        loss: (w) => w[0] * w[0],
        grad: (w, out = new Float64Array(1)) => { out[0] = 2 * w[0]; return out; },
      };
    case 'w4':
      return {
        spec, dim: 1, label: 'w⁴', formula: 'K(w) = w⁴', maxLoss: 1, limit: { llc: 0.25, multiplicity: 1 },
        loss: (w) => w[0] ** 4,
        grad: (w, out = new Float64Array(1)) => { out[0] = 4 * w[0] ** 3; return out; },
      };
    case 'quad-quartic': {
      const c = spec.c;
      if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`c must be a number ≥ 0 (got ${c})`);
      const c2 = c * c;
      return {
        spec, dim: 1, label: 'c²w² + w⁴', formula: `K(w) = ${+c2.toPrecision(4)} w² + w⁴`, maxLoss: c2 + 1,
        limit: { llc: c > 0 ? 0.5 : 0.25, multiplicity: 1 },
        loss: (w) => c2 * w[0] * w[0] + w[0] ** 4,
        grad: (w, out = new Float64Array(1)) => { out[0] = 2 * c2 * w[0] + 4 * w[0] ** 3; return out; },
      };
    }
    case 'w1w2':
    case 'crossing': {
      const k1 = spec.kind === 'crossing' ? spec.k1 : 1, k2 = spec.kind === 'crossing' ? spec.k2 : 1;
      checkPower('k1', k1); checkPower('k2', k2);
      if (k1 === 0 && k2 === 0) throw new RangeError('A normal crossing needs k1 or k2 above 0');
      const m = monomial(k1, k2);
      return {
        spec, dim: 2,
        label: spec.kind === 'w1w2' ? '(w1·w2)²' : `normal crossing (${k1}, ${k2})`,
        formula: `K(w) = ${monomialText(k1, k2)}`,
        maxLoss: 1, limit: crossingLimit(k1, k2),
        loss: (w) => m.f(w[0], w[1]),
        grad: (w, out = new Float64Array(2)) => { m.g(w[0], w[1], out); return out; },
      };
    }
    case 'two-circuits': {
      const s = spec.s ?? 1e6;
      const [a1, a2] = spec.a ?? [1, 0];
      const [b1, b2] = spec.b ?? [0, 2];
      [a1, a2, b1, b2].forEach((k, i) => checkPower(['a1', 'a2', 'b1', 'b2'][i], k));
      if ((a1 === 0 && a2 === 0) || (b1 === 0 && b2 === 0)) throw new RangeError('Each circuit needs a positive power');
      if (!(Number.isFinite(s) && s > 0)) throw new RangeError(`s must be a positive number (got ${s})`);
      const A = monomial(a1, a2), B = monomial(b1, b2);
      const la = crossingLimit(a1, a2), lb = crossingLimit(b1, b2);
      const limit = la.llc < lb.llc ? la : lb.llc < la.llc ? lb : { llc: la.llc, multiplicity: Math.max(la.multiplicity, lb.multiplicity) };
      return {
        spec, dim: 2, label: 'two circuits (min)',
        formula: `K(w) = min(${monomialText(a1, a2)}, ${+s.toPrecision(4)}·${monomialText(b1, b2)})`,
        maxLoss: Math.min(1, s), limit,
        loss: (w) => Math.min(A.f(w[0], w[1]), s * B.f(w[0], w[1])),
        grad: (w, out = new Float64Array(2)) => {
          if (A.f(w[0], w[1]) <= s * B.f(w[0], w[1])) A.g(w[0], w[1], out);
          else { B.g(w[0], w[1], out); out[0] *= s; out[1] *= s; }
          return out;
        },
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Root-finding and quadrature (Float64)
// ---------------------------------------------------------------------------------------------

/**
 * sup{t ∈ [0, 1] : f(t) < ε} for f nondecreasing on [0, 1]: 0 if f(0) ≥ ε, 1 if f(1) < ε, else
 * the crossing to relative precision 2⁻⁵⁵ (halving to bracket tiny roots, then bisection).
 */
export function sublevelRoot(f: (t: number) => number, eps: number): number {
  if (!(f(0) < eps)) return 0;
  if (f(1) < eps) return 1;
  let hi = 1;
  // f(hi) ≥ ε throughout; halve until f(hi/2) < ε.
  while (hi > 1e-300 && f(hi / 2) >= eps) hi /= 2;
  let lo = hi / 2;
  for (let i = 0; i < 60 && hi - lo > 2.8e-17 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (f(mid) < eps) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

// Gauss–Kronrod 7/15 nodes and weights on [−1, 1] (QUADPACK qk15).
const XGK = [0.9914553711208126, 0.9491079123427585, 0.8648644233597691, 0.7415311855993945, 0.5860872354676911, 0.4058451513773972, 0.20778495500789848, 0];
const WGK = [0.022935322010529224, 0.06309209262997856, 0.10479001032225019, 0.14065325971552592, 0.1690047266392679, 0.19035057806478542, 0.20443294007529889, 0.20948214108472782];
const WG = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189, 0.4179591836734694];

function gk15(f: (x: number) => number, a: number, b: number): { value: number; error: number } {
  const c = 0.5 * (a + b), h = 0.5 * (b - a);
  const fc = f(c);
  let k = fc * WGK[7], g = fc * WG[3];
  for (let j = 0; j < 7; j++) {
    const dx = h * XGK[j];
    const s = f(c - dx) + f(c + dx);
    k += WGK[j] * s;
    if (j % 2 === 1) g += WG[(j - 1) / 2] * s;
  }
  return { value: k * h, error: Math.abs((k - g) * h) };
}

/**
 * ∫_a^b f by adaptive Gauss–Kronrod: intervals are bisected until each one's |K15 − G7| is within
 * its share (by length) of relTol·|∫| (or absTol), at most `maxIntervals` intervals.
 */
export function integrate(f: (x: number) => number, a: number, b: number, relTol = 1e-13, absTol = 0, maxIntervals = 4000): number {
  if (!(b > a)) return 0;
  const whole = gk15(f, a, b);
  let total = whole.value;
  const target = (): number => Math.max(absTol, relTol * Math.abs(total));
  const stack: { a: number; b: number; v: number; e: number }[] = [{ a, b, v: whole.value, e: whole.error }];
  let accepted = 0, intervals = 1;
  while (stack.length) {
    const it = stack.pop() as { a: number; b: number; v: number; e: number };
    const share = target() * ((it.b - it.a) / (b - a));
    if (it.e <= share || intervals >= maxIntervals || it.b - it.a < 1e-15 * Math.max(1, Math.abs(it.a))) {
      accepted += it.v;
      continue;
    }
    const m = 0.5 * (it.a + it.b);
    const l = gk15(f, it.a, m), r = gk15(f, m, it.b);
    total += l.value + r.value - it.v;
    intervals++;
    stack.push({ a: it.a, b: m, v: l.value, e: l.error }, { a: m, b: it.b, v: r.value, e: r.error });
  }
  return accepted;
}

// ---------------------------------------------------------------------------------------------
// V(ε) and λ(ε)
// ---------------------------------------------------------------------------------------------

/** The slice length r(w1) = sup{w2 ∈ [0, 1] : K(w1, w2) < ε} (2-D landscapes). */
function sliceRoot(l: Landscape, w1: number, eps: number): number {
  const w = [w1, 0];
  return sublevelRoot((t) => { w[1] = t; return l.loss(w); }, eps);
}

/** V(ε) = vol{w ∈ [−1, 1]^m : K(w) < ε}. */
export function sublevelVolume(l: Landscape, eps: number): number {
  if (!(eps > 0)) return 0;
  if (l.dim === 1) return 2 * sublevelRoot((t) => l.loss([t]), eps);
  // r = 1 on [0, b1), 0 beyond b0; both ends from the monotone edges K(·, 1) and K(·, 0).
  const b1 = sublevelRoot((t) => l.loss([t, 1]), eps);
  const b0 = sublevelRoot((t) => l.loss([t, 0]), eps);
  if (b0 <= b1) return 4 * b1;
  let inner: number;
  if (b1 > 0 && b0 / b1 > 4) {
    // ∫ r(w1) dw1 = ∫ r(e^u) e^u du: power laws in w1 near the singular axis are smooth in u.
    inner = integrate((u) => { const x = Math.exp(u); return sliceRoot(l, x, eps) * x; }, Math.log(b1), Math.log(b0));
  } else {
    inner = integrate((x) => sliceRoot(l, x, eps), b1, b0);
  }
  return 4 * (b1 + inner);
}

/** Step in log ε of the central difference for λ(ε) in 2-D. */
const LOG_STEP = 1e-3;

/** λ(ε) = d log V / d log ε (eq. 5 of seed 000); 0 once ε is above max K (V is then the whole box). */
export function localLlc(l: Landscape, eps: number): number {
  if (!(eps > 0) || eps > l.maxLoss) return 0;
  if (l.dim === 1) {
    const r = sublevelRoot((t) => l.loss([t]), eps);
    if (r >= 1) return 0;
    // V = 2r with K(r) = ε:  dV/dε = 2/K'(r), so λ = ε V'/V = ε / (r K'(r)).
    return eps / (r * l.grad([r])[0]);
  }
  const f = (k: number) => Math.log(sublevelVolume(l, eps * Math.exp(k * LOG_STEP)));
  // Fourth-order central difference: (−f(2h) + 8f(h) − 8f(−h) + f(−2h)) / (12h).
  return (-f(2) + 8 * f(1) - 8 * f(-1) + f(-2)) / (12 * LOG_STEP);
}

export interface LlcCurve {
  eps: Float64Array;
  volume: Float64Array;
  llc: Float64Array;
}

/** V(ε) and λ(ε) at each ε (e.g. a log grid from logGrid). */
export function llcCurve(l: Landscape, eps: ArrayLike<number>): LlcCurve {
  const n = eps.length;
  const out = { eps: Float64Array.from(eps), volume: new Float64Array(n), llc: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    out.volume[i] = sublevelVolume(l, eps[i]);
    out.llc[i] = localLlc(l, eps[i]);
  }
  return out;
}

/** `count` points from lo to hi, evenly spaced in log. */
export function logGrid(lo: number, hi: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const a = Math.log(lo), b = Math.log(hi);
  for (let i = 0; i < count; i++) out[i] = Math.exp(count === 1 ? a : a + ((b - a) * i) / (count - 1));
  return out;
}

/**
 * The thermodynamic LLC at inverse temperature nβ on the box, E[nβ K] under ∝ exp(−nβ K(w)) on
 * [−1, 1]^m — what the landscape sampler estimates with γ = 0 and reflecting walls. If V(ε) = C ε^λ
 * exactly it equals λ, so it is λ(ε) smoothed over loss scales around ε = 1/nβ. From V alone, by
 * parts (Z = ∫ e^(−nβ ε) dV):
 *   Z = e^(−nβ K̄) V(K̄) + nβ ∫₀^K̄ e^(−nβ ε) V(ε) dε,
 *   ∫ ε e^(−nβ ε) dV = K̄ e^(−nβ K̄) V(K̄) − ∫₀^K̄ (1 − nβ ε) e^(−nβ ε) V(ε) dε,   K̄ = max K,
 * integrated in log ε from 10⁻¹⁴/nβ (the range below contributes O(10⁻¹⁴)).
 */
export function gibbsLlc(l: Landscape, nBeta: number): number {
  const top = l.maxLoss;
  const vTop = Math.pow(2, l.dim);
  const lo = Math.min(top, 1e-14 / nBeta);
  const memo = new Map<number, number>();
  const V = (e: number): number => {
    let v = memo.get(e);
    if (v === undefined) { v = sublevelVolume(l, e); memo.set(e, v); }
    return v;
  };
  const z = integrate((u) => { const e = Math.exp(u); return nBeta * Math.exp(-nBeta * e) * V(e) * e; }, Math.log(lo), Math.log(top), 1e-10);
  const m1 = integrate((u) => { const e = Math.exp(u); return (1 - nBeta * e) * Math.exp(-nBeta * e) * V(e) * e; }, Math.log(lo), Math.log(top), 1e-10);
  const edge = Math.exp(-nBeta * top) * vTop;
  const Z = edge + z;
  const firstMoment = top * edge - m1;
  return (nBeta * firstMoment) / Z;
}

// ---------------------------------------------------------------------------------------------
// Drawing and sampling
// ---------------------------------------------------------------------------------------------

export interface ContourGrid {
  dim: 1 | 2;
  /** Coordinates of the grid lines on [−1, 1] (the same for both axes). */
  xs: Float64Array;
  /** K at the grid points: [i] in 1-D; row-major [i2 * n + i1] = K(xs[i1], xs[i2]) in 2-D. */
  values: Float64Array;
  maxValue: number;
}

/** K on an n (or n×n) grid over the box, for drawing {K < ε} by thresholding or marching squares. */
export function contourGrid(l: Landscape, n = 101): ContourGrid {
  if (!(Number.isInteger(n) && n >= 2 && n <= 2049)) throw new RangeError(`grid size must be a whole number from 2 to 2049 (got ${n})`);
  const xs = Float64Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  const values = new Float64Array(l.dim === 1 ? n : n * n);
  let maxValue = 0;
  if (l.dim === 1) {
    for (let i = 0; i < n; i++) { values[i] = l.loss([xs[i]]); maxValue = Math.max(maxValue, values[i]); }
  } else {
    const w = [0, 0];
    for (let i2 = 0; i2 < n; i2++) {
      w[1] = xs[i2];
      for (let i1 = 0; i1 < n; i1++) {
        w[0] = xs[i1];
        const v = l.loss(w);
        values[i2 * n + i1] = v;
        if (v > maxValue) maxValue = v;
      }
    }
  }
  return { dim: l.dim, xs, values, maxValue };
}

export interface LandscapeSamplerOptions {
  nBeta: number;
  stepSize: number;
  /** Steps per chain, burn-in included. */
  steps: number;
  /** Steps left out of λ̂ at the start of each chain (default steps / 2). */
  burnin?: number;
  /** Localization γ toward w* = 0 (default 0: the box walls localize). */
  gamma?: number;
  chains?: number;
  seed?: number;
  /** 'reflect' (default): mirror steps that leave [−1, 1]^m, so the target is ∝ exp(−nβK − γ|w|²/2) on the box. */
  boundary?: 'reflect' | 'free';
  /** Keep every thin-th position in `positions` (default 1). λ̂ uses every step. */
  thin?: number;
  /** Start (default w* = 0). */
  start?: number[];
}

export interface LandscapeChain {
  /** Kept positions, [k * dim + i], burn-in included. */
  positions: Float64Array;
  /** K(w_t) at every step. */
  losses: Float64Array;
  /** nβ · mean over t ≥ burnin of K(w_t) (K(w*) = 0). */
  llc: number;
}

export interface LandscapeSamples {
  dim: 1 | 2;
  chains: LandscapeChain[];
  llc: { mean: number; std: number; stderr: number };
  burnin: number;
  thin: number;
}

/** Reflects x into [−1, 1]. */
function reflect(x: number): number {
  for (let i = 0; i < 8 && (x > 1 || x < -1); i++) x = x > 1 ? 2 - x : -2 - x;
  return Math.max(-1, Math.min(1, x));
}

/**
 * SGLD on the landscape (the update of sgld.ts with L = K, w* = 0):
 *   w ← w − (ε_s/2)(nβ ∇K(w) + γ w) + N(0, ε_s),   λ̂ = nβ · mean_t K(w_t).
 * Seeded: each chain takes its own stream forked from `seed`.
 */
export function sampleLandscape(l: Landscape, o: LandscapeSamplerOptions): LandscapeSamples {
  const chainsN = o.chains ?? 1, thin = o.thin ?? 1, gamma = o.gamma ?? 0;
  const burnin = o.burnin ?? Math.floor(o.steps / 2);
  if (!(o.nBeta > 0 && o.stepSize > 0 && Number.isInteger(o.steps) && o.steps > burnin && burnin >= 0 && Number.isInteger(thin) && thin >= 1 && chainsN >= 1)) {
    throw new RangeError('sampleLandscape needs nβ > 0, a step size > 0, whole steps > burn-in ≥ 0, thin ≥ 1 and chains ≥ 1');
  }
  const dim = l.dim, eps = o.stepSize, sq = Math.sqrt(eps);
  const master = makeRng(o.seed ?? 0);
  const chains: LandscapeChain[] = [];
  const g = new Float64Array(dim);
  for (let c = 0; c < chainsN; c++) {
    const rng = makeRng(master.fork());
    const w = Float64Array.from({ length: dim }, (_, i) => o.start?.[i] ?? 0);
    const positions = new Float64Array(Math.ceil(o.steps / thin) * dim);
    const losses = new Float64Array(o.steps);
    let sum = 0;
    for (let t = 0; t < o.steps; t++) {
      const k = l.loss(w);
      losses[t] = k;
      if (t >= burnin) sum += k;
      if (t % thin === 0) positions.set(w, (t / thin) * dim);
      l.grad(w, g);
      for (let i = 0; i < dim; i++) {
        const next = w[i] - (eps / 2) * (o.nBeta * g[i] + gamma * w[i]) + sq * rng.normal();
        w[i] = o.boundary === 'free' ? next : reflect(next);
      }
    }
    chains.push({ positions, losses, llc: (o.nBeta * sum) / (o.steps - burnin) });
  }
  return { dim, chains, llc: meanStd(chains.map((ch) => ch.llc)), burnin, thin };
}
