/**
 * The quadratic prediction of the LLC from a Hessian spectrum (docs/science.md §4.2, (S12)–(S13)) and the Hessian-rank
 * bounds band (§3), on the common loss-scale axis.
 *
 * Sampling ∝ exp(−nβ L(w) − (γ/2)‖w − w*‖²) around an exactly quadratic L = L* + ½ (w − w*)ᵀ H (w − w*)
 * is Gaussian with precision nβH + γI, so E[(w − w*)ᵀ H (w − w*)] = tr(H (nβH + γI)⁻¹) and
 *
 *   λ_quad(nβ, γ) = E[nβ (L − L*)] = Σ_i ½ · nβ h_i / (nβ h_i + γ),                          (Q)
 *
 * exactly what the SGLD estimator (sgld.ts) returns on such a loss. Directions with nβh ≫ γ count
 * ½, those with nβh ≪ γ count 0: the smooth version of d1/2. Negative eigenvalues (float noise, or
 * θ* not at a minimum) count 0 here.
 *
 * Conventions of the axis:
 * - The loss scale ε is the temperature: ε = 1/(nβ) (so the SGLD estimate at nβ and λ(ε) of the
 *   teaching landscapes sit at the same abscissa; for a landscape with V(ε) = Cε^λ the Gibbs
 *   average E[nβ K] at nβ = 1/ε is exactly λ).
 * - The d1 bounds band at loss scale ε uses the Hessian cutoff h_cut = γ·ε: d1(ε) = #{h_i > γε}.
 *   That is where a direction's term in (Q) is ¼, half its full ½ (nβ h = γ), so the smooth
 *   prediction crosses the middle of each step of d1/2 on the same axis.
 *
 * From a spectrum given as SLQ quadrature (per probe p: Ritz values θ_pj and weights τ_pj summing to
 * 1), tr f(H) ≈ d · mean_p Σ_j τ_pj f(θ_pj) (Ubaru, Chen & Saad 2017). With the top-k eigenvalues
 * known exactly as well, each probe's counting measure d·Σ τ δ_θ has its top mass k removed (the
 * part the SLQ nodes spend on the top of the spectrum) and replaced by the k exact eigenvalues;
 * the standard error is over probes.
 */
import { d1At, llcBounds, type SpectrumLike } from '../spectrum/counts';
import { meanStd } from '../stats';

/** A spectrum: exact eigenvalues (all d, descending), or the top k with an SLQ quadrature for the rest. */
export interface SpectrumInput {
  d: number;
  /** Descending. All d of them (exact), or the top k (then `slq` describes the rest). */
  eigenvalues?: ArrayLike<number>;
  slq?: { nodes: Float64Array[]; weights: Float64Array[] };
}

export interface Estimate {
  value: number;
  /** Standard error over SLQ probes (0 when exact). */
  stderr: number;
  source: 'exact' | 'slq' | 'top-k+slq';
}

/** The temperature ε = 1/(nβ) of an inverse temperature nβ (the loss-scale axis). */
export function lossScaleFromNBeta(nBeta: number): number {
  return 1 / nBeta;
}

export function nBetaFromLossScale(eps: number): number {
  return 1 / eps;
}

/** The Hessian eigenvalue cutoff matching loss scale ε under localization γ: h_cut = γ·ε (nβ h = γ). */
export function hessianCutoff(eps: number, gamma: number): number {
  return gamma * eps;
}

/** One direction's term of (Q): ½ · nβh / (nβh + γ); 0 for h ≤ 0. With γ = 0 every h > 0 counts ½. */
export function quadraticTerm(h: number, nBeta: number, gamma: number): number {
  if (!(h > 0)) return 0;
  const a = nBeta * h;
  return (0.5 * a) / (a + gamma);
}

/** (Q) from eigenvalues (any order). */
export function quadraticLlc(eigenvalues: ArrayLike<number>, nBeta: number, gamma: number): number {
  let s = 0;
  for (let i = 0; i < eigenvalues.length; i++) s += quadraticTerm(eigenvalues[i], nBeta, gamma);
  return s;
}

/**
 * d · Σ_j τ_pj f(θ_pj) for one probe, with the top mass `topMass` of its counting measure removed
 * (nodes taken from the largest down; a node may be removed in part).
 */
function probeSum(nodes: Float64Array, weights: Float64Array, d: number, f: (h: number) => number, topMass: number): number {
  const order = Array.from(nodes.keys()).sort((a, b) => nodes[b] - nodes[a]);
  let remove = topMass, s = 0;
  for (const j of order) {
    let m = d * weights[j];
    if (remove > 0) {
      const cut = Math.min(m, remove);
      m -= cut;
      remove -= cut;
    }
    if (m > 0) s += m * f(nodes[j]);
  }
  return s;
}

/**
 * tr f(H) from SLQ, optionally with the top eigenvalues exact: Σ_{i≤k} f(h_i) + (the SLQ measure
 * less its top mass k). Mean and standard error over probes.
 */
export function slqTrace(slq: { nodes: Float64Array[]; weights: Float64Array[] }, d: number, f: (h: number) => number, topExact: ArrayLike<number> = []): { mean: number; stderr: number } {
  if (slq.nodes.length === 0) throw new RangeError('SLQ quadrature has no probes');
  let exact = 0;
  for (let i = 0; i < topExact.length; i++) exact += f(topExact[i]);
  const k = Math.min(topExact.length, d);
  const per = slq.nodes.map((nodes, p) => exact + probeSum(nodes, slq.weights[p], d, f, k));
  const { mean, stderr } = meanStd(per);
  return { mean, stderr };
}

/** (Q) from a spectrum: exact when all d eigenvalues are given, else SLQ (plus the exact top k). */
export function quadraticPrediction(s: SpectrumInput, nBeta: number, gamma: number): Estimate {
  const f = (h: number) => quadraticTerm(h, nBeta, gamma);
  const eig = s.eigenvalues ?? [];
  if (eig.length >= s.d) return { value: quadraticLlc(eig, nBeta, gamma), stderr: 0, source: 'exact' };
  if (!s.slq) throw new RangeError(`Only ${eig.length} of ${s.d} eigenvalues and no SLQ quadrature: the quadratic prediction needs the rest of the spectrum`);
  const r = slqTrace(s.slq, s.d, f, eig);
  return { value: r.mean, stderr: r.stderr, source: eig.length ? 'top-k+slq' : 'slq' };
}

/** (Q) along a grid of loss scales ε (nβ = 1/ε), fixed γ. */
export function quadraticCurve(s: SpectrumInput, eps: ArrayLike<number>, gamma: number): { eps: Float64Array; value: Float64Array; stderr: Float64Array } {
  const n = eps.length;
  const out = { eps: Float64Array.from(eps), value: new Float64Array(n), stderr: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const e = quadraticPrediction(s, nBetaFromLossScale(eps[i]), gamma);
    out.value[i] = e.value;
    out.stderr[i] = e.stderr;
  }
  return out;
}

function spectrumLike(s: SpectrumInput): SpectrumLike {
  const eig = Float64Array.from(s.eigenvalues ?? []).sort().reverse();
  return { d: s.d, method: eig.length >= s.d ? 'dense' : 'lanczos', eigenvalues: eig, slq: s.slq };
}

export interface BoundsBand {
  eps: Float64Array;
  /** h_cut = γ·ε per point. */
  cutoff: Float64Array;
  /** d1 at the cutoff (best value) and its band (SLQ ± 2 standard errors; equal when exact). */
  d1: Float64Array;
  d1Lo: Float64Array;
  d1Hi: Float64Array;
  /** d1/2 ≤ λ ≤ d1/2 + (d − d1)/4 (seed 002 §1.3), from d1Lo and d1Hi for the widest band. */
  lower: Float64Array;
  upper: Float64Array;
}

/** The Hessian-rank bounds on λ along a grid of loss scales, with the cutoff h_cut = γ·ε. */
export function boundsBand(s: SpectrumInput, eps: ArrayLike<number>, gamma: number): BoundsBand {
  const spec = spectrumLike(s);
  const n = eps.length;
  const band: BoundsBand = {
    eps: Float64Array.from(eps), cutoff: new Float64Array(n), d1: new Float64Array(n), d1Lo: new Float64Array(n), d1Hi: new Float64Array(n),
    lower: new Float64Array(n), upper: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const h = hessianCutoff(eps[i], gamma);
    const c = d1At(spec, h);
    band.cutoff[i] = h;
    band.d1[i] = c.value;
    band.d1Lo[i] = c.lo;
    band.d1Hi[i] = c.hi;
    band.lower[i] = llcBounds(s.d, c.lo).lower;
    band.upper[i] = llcBounds(s.d, c.hi).upper;
  }
  return band;
}
