/**
 * Fourier view of a modular-addition embedding (seed 003; docs/science.md §8, (S21)). Pure Float64, no tfjs.
 *
 * Token-space basis (orthonormal over a = 0..p−1):
 *   ĉ_k(a) = √(2/p) cos(2πka/p),  ŝ_k(a) = √(2/p) sin(2πka/p),   k = 1..⌊(p−1)/2⌋,
 * plus the constant 1/√p (and, for even p, the Nyquist cos(πa)/√p, reported separately).
 * For E = embed.weight [p × e], the frequency-k components in embedding space are
 *   u_k = Eᵀ ĉ_k,  v_k = Eᵀ ŝ_k ∈ ℝ^e,   and the norm of frequency k is √(‖u_k‖² + ‖v_k‖²),
 * so Σ_k norm_k² + ‖Eᵀ 1/√p‖² (+ Nyquist) = ‖E‖_F² (Parseval).
 *
 * Key frequencies (documented rule: a two-class split of the log energies, Otsu's method). Sort
 * the energies norm_k² in decreasing order; for every split "top m | rest" (1 ≤ m < K) compute the
 * between-class variance of log(energy), w_top·w_rest·(μ_top − μ_rest)² (w: class fractions,
 * μ: class means of the log energies), and take the m that maximises it. The top m frequencies
 * are key when the two classes are well separated: exp(μ_top − μ_rest), the ratio of their
 * geometric-mean energies, is ≥ `separation` (default 4, i.e. 2× in norm); otherwise there are
 * none (a flat spectrum such as an untrained Gaussian embedding, whose energies are χ²-spread
 * around one value). Unlike "a multiple of the median" it works however many frequencies are key,
 * and unlike "the largest drop between consecutive energies" it copes with key energies that
 * decay gradually (the shipped modadd model). Caveat: with three or more well-separated energy
 * levels it returns only the split between the two main groups; and for a tiny embedding
 * (e ≤ 2, where each frequency's energy is χ² with 4 degrees of freedom) pure noise can pass the
 * separation test (it did for 2 of 5 seeds at p = 53; never for e ≥ 4 in our checks).
 *
 * The circle of frequency k: the plane in embedding space spanned by u_k and v_k, with the
 * orthonormal basis q1 = u_k/‖u_k‖, q2 = (v_k − (v_k·q1) q1)/‖…‖ (Gram–Schmidt); token a is drawn
 * at (x_a, y_a) = ((E_a − Ē)·q1, (E_a − Ē)·q2), Ē the mean embedding. A learned circuit puts
 * u_k ⊥ v_k with ‖u_k‖ = ‖v_k‖ and keeps the other frequencies out of the plane, so the tokens
 * lie on a circle with angle ±2πka/p (+ phase); any linear map of a circle gives an ellipse, and
 * other frequencies leaking into the plane scatter the radius. Circularity = the coefficient of
 * variation of the radius, std(r)/mean(r) (0 for a perfect circle). A key frequency is counted as
 * a learned circuit when its circularity is ≤ `circleTol` (default 0.2).
 */
import type { ModelBundle } from '../models/bundle';
import { layoutFor } from '../models/config';
import { getArchSpec } from '../arch/registry';
import { view } from '../params';

export interface FourierOptions {
  /** Minimum ratio of the geometric-mean energies of the key and the other frequencies (default 4). */
  separation?: number;
  /** Largest radius coefficient of variation of a circle counted as a learned circuit (default 0.2). */
  circleTol?: number;
}

export interface CircleProjection {
  k: number;
  /** Token coordinates in the (q1, q2) plane, index a. */
  x: Float64Array;
  y: Float64Array;
  radius: Float64Array;
  meanRadius: number;
  /** std(r)/mean(r). */
  circularity: number;
  /** ‖u_k‖, ‖v_k‖ and the cosine of the angle between them. */
  normCos: number;
  normSin: number;
  cosAngle: number;
}

export interface FourierResult {
  p: number;
  e: number;
  /** Frequencies 1..⌊(p−1)/2⌋. */
  frequencies: Int32Array;
  /** norm_k (index k−1). */
  norms: Float64Array;
  /** Fraction of ‖E − Ē‖² (the non-constant energy) in each frequency. */
  energyFraction: Float64Array;
  /** Energy of the constant component ‖Eᵀ1/√p‖² and, for even p, of the Nyquist frequency. */
  constantEnergy: number;
  nyquistEnergy: number;
  /** Key frequencies by decreasing norm. */
  keyFrequencies: number[];
  /** Fraction of the non-constant energy in the key frequencies. */
  keyEnergyFraction: number;
  /** Ratio of the geometric-mean energies of the two classes of the best split (what `separation` is compared with). */
  separation: number;
  /** Circle projections of the key frequencies (same order). */
  circles: CircleProjection[];
  /** Key frequencies whose projection is a circle (circularity ≤ circleTol): the learned circuits. */
  circuits: number[];
}

/** ĉ_k and ŝ_k over tokens 0..p−1 (orthonormal). */
export function fourierBasis(p: number, k: number): { c: Float64Array; s: Float64Array } {
  const c = new Float64Array(p), s = new Float64Array(p);
  const a0 = Math.sqrt(2 / p);
  for (let a = 0; a < p; a++) {
    // Reduce ka mod p first: exact angles for large k·a.
    const th = (2 * Math.PI * ((k * a) % p)) / p;
    c[a] = a0 * Math.cos(th);
    s[a] = a0 * Math.sin(th);
  }
  return { c, s };
}

/** u = Eᵀ w for E [p × e] row-major. */
function project(E: ArrayLike<number>, p: number, e: number, w: Float64Array): Float64Array {
  const u = new Float64Array(e);
  for (let a = 0; a < p; a++) {
    const wa = w[a];
    for (let j = 0; j < e; j++) u[j] += wa * E[a * e + j];
  }
  return u;
}

const dot = (a: Float64Array, b: Float64Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/** The 2-D circle projection of frequency k (see the module comment). */
export function circleProjection(E: ArrayLike<number>, p: number, e: number, k: number): CircleProjection {
  const { c, s } = fourierBasis(p, k);
  const u = project(E, p, e, c), v = project(E, p, e, s);
  const nu = Math.sqrt(dot(u, u)), nv = Math.sqrt(dot(v, v));
  const q1 = new Float64Array(e), q2 = new Float64Array(e);
  if (nu > 0) for (let j = 0; j < e; j++) q1[j] = u[j] / nu;
  const vq = dot(v, q1);
  for (let j = 0; j < e; j++) q2[j] = v[j] - vq * q1[j];
  const n2 = Math.sqrt(dot(q2, q2));
  if (n2 > 0) for (let j = 0; j < e; j++) q2[j] /= n2;
  const mean = new Float64Array(e);
  for (let a = 0; a < p; a++) for (let j = 0; j < e; j++) mean[j] += E[a * e + j] / p;
  const x = new Float64Array(p), y = new Float64Array(p), radius = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    let sx = 0, sy = 0;
    for (let j = 0; j < e; j++) { const z = E[a * e + j] - mean[j]; sx += z * q1[j]; sy += z * q2[j]; }
    x[a] = sx; y[a] = sy; radius[a] = Math.hypot(sx, sy);
  }
  const mr = radius.reduce((t, r) => t + r, 0) / p;
  const sd = Math.sqrt(radius.reduce((t, r) => t + (r - mr) ** 2, 0) / p);
  return { k, x, y, radius, meanRadius: mr, circularity: mr > 0 ? sd / mr : Infinity, normCos: nu, normSin: nv, cosAngle: nu > 0 && nv > 0 ? dot(u, v) / (nu * nv) : 0 };
}

/** Fourier analysis of an embedding matrix E [p × e] (row-major). */
export function fourierOfEmbedding(E: ArrayLike<number>, p: number, e: number, opts: FourierOptions = {}): FourierResult {
  const separationMin = opts.separation ?? 4;
  const circleTol = opts.circleTol ?? 0.2;
  if (p < 3) throw new RangeError(`the Fourier view needs p ≥ 3 (got ${p})`);
  const kmax = Math.floor((p - 1) / 2);
  const norms = new Float64Array(kmax);
  for (let k = 1; k <= kmax; k++) {
    const { c, s } = fourierBasis(p, k);
    const u = project(E, p, e, c), v = project(E, p, e, s);
    norms[k - 1] = Math.sqrt(dot(u, u) + dot(v, v));
  }
  const one = new Float64Array(p).fill(1 / Math.sqrt(p));
  const u0 = project(E, p, e, one);
  const constantEnergy = dot(u0, u0);
  let nyquistEnergy = 0;
  if (p % 2 === 0) {
    const ny = Float64Array.from({ length: p }, (_, a) => (a % 2 === 0 ? 1 : -1) / Math.sqrt(p));
    const un = project(E, p, e, ny);
    nyquistEnergy = dot(un, un);
  }
  const energy = Float64Array.from(norms, (x) => x * x);
  const varEnergy = energy.reduce((t, x) => t + x, 0) + nyquistEnergy;
  const order = Array.from({ length: kmax }, (_, i) => i).sort((i, j) => energy[j] - energy[i] || i - j);
  // Otsu on log energies (a floor keeps exact zeros finite).
  const floor = Math.max(1e-300, 1e-12 * (energy[order[0]] || 0));
  const logs = order.map((i) => Math.log(Math.max(energy[i], floor)));
  const total = logs.reduce((t, x) => t + x, 0);
  let best = 0, bestVar = -1, sep = 1, head = 0;
  for (let m = 1; m < kmax; m++) {
    head += logs[m - 1];
    const mu1 = head / m, mu2 = (total - head) / (kmax - m);
    const between = (m / kmax) * ((kmax - m) / kmax) * (mu1 - mu2) ** 2;
    if (between > bestVar) { bestVar = between; best = m; sep = Math.exp(mu1 - mu2); }
  }
  const keyFrequencies = sep >= separationMin ? order.slice(0, best).map((i) => i + 1) : [];
  const keyEnergy = keyFrequencies.reduce((t, k) => t + energy[k - 1], 0);
  const circles = keyFrequencies.map((k) => circleProjection(E, p, e, k));
  return {
    p, e,
    frequencies: Int32Array.from({ length: kmax }, (_, i) => i + 1),
    norms,
    energyFraction: Float64Array.from(energy, (x) => (varEnergy > 0 ? x / varEnergy : 0)),
    constantEnergy,
    nyquistEnergy,
    keyFrequencies,
    keyEnergyFraction: varEnergy > 0 ? keyEnergy / varEnergy : 0,
    separation: sep,
    circles,
    circuits: circles.filter((c) => c.circularity <= circleTol).map((c) => c.k),
  };
}

/** The Fourier view of a modadd / modadd-gelu model's `embed.weight`. */
export function fourierAnalysis(model: ModelBundle, opts: FourierOptions = {}): FourierResult {
  const c = model.config;
  const tokens = getArchSpec(c.arch).tokens;
  if (!tokens) throw new RangeError(`the Fourier view is for modular-addition models (got ${c.arch})`);
  return fourierOfEmbedding(view(layoutFor(c), model.theta, tokens.embed), tokens.vocab(c), tokens.embedDim(c), opts);
}
