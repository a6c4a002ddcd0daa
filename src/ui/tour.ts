/**
 * The guided tour through Singular Learning Theory on the live views, in order: degeneracy on a
 * 2-D landscape → volume and λ(ε) → behavioral loss → Hessian rank and the bounds → ε cutoffs and
 * the accuracy cutoff → SGLD → synchronized neurons → the interaction basis. Each step says what
 * to look at, shows the formula, and sets the views up (the learner moves the sliders).
 */
import type { ArchId } from '../core/models/config';
import type { ViewId } from '../state/url';

export interface TourStep {
  id: string;
  title: string;
  view: ViewId;
  /** The model the step wants (its pretrained default is loaded if another is current). */
  arch?: ArchId;
  eps?: number;
  /** Start the step's computation when the step opens (spectrum / internals), if not already there. */
  compute?: 'spectrum' | 'internals';
  /** Which teaching landscape to show (LLC view). */
  landscape?: string;
  text: string;
  tex: string;
  /** What to try: shown under the text. */
  tryIt: string;
  /** The element the step is about (for the highlight and the e2e test). */
  target: string;
}

export const TOUR: TourStep[] = [
  {
    id: 'landscape', title: '1 · Degeneracy on a 2-D landscape', view: 'llc', landscape: 'w1w2', eps: 1e-2, target: 'landscape-plot',
    text: 'The loss K(w₁, w₂) = (w₁w₂)² is zero on both axes: a whole cross of minima. Yellow is the set of parameters whose loss is below ε. Near a degenerate minimum that set is much bigger than near a regular one.',
    tex: 'K(w_1,w_2) = (w_1 w_2)^2, \\qquad \\{w : K(w) < \\varepsilon\\}',
    tryIt: 'Move ε and watch the yellow cross thin out; the dots are SGLD samples at that temperature.',
  },
  {
    id: 'volume', title: '2 · Volume and λ(ε)', view: 'llc', landscape: 'qq', eps: 1e-3, target: 'chart-landscape-llc',
    text: 'The learning coefficient measures how fast that volume shrinks as ε falls: V(ε) ∝ ε^λ. A regular minimum in d dimensions has λ = d/2; c²w² + w⁴ looks quadratic (λ ≈ ½) at small ε and quartic (λ ≈ ¼) at large ε.',
    tex: '\\lambda(\\varepsilon) = \\varepsilon\\,\\frac{d}{d\\varepsilon}\\log V(\\varepsilon), \\qquad V(\\varepsilon)=\\operatorname{vol}\\{w: K(w) < \\varepsilon\\}',
    tryIt: 'Slide ε across c⁴ and watch λ(ε) move between ½ and ¼.',
  },
  {
    id: 'behavioral', title: '3 · The behavioral loss', view: 'forward', arch: 'modadd', target: 'run-forward',
    text: 'For a trained network we compare a nearby θ with the trained θ* by how much the outputs change. θ* is a global minimum of this loss by construction, so its Hessian is exactly the Gauss–Newton matrix.',
    tex: 'L_B(\\theta\\mid\\theta^*) = \\frac1n\\sum_x \\lVert f_\\theta(x) - f_{\\theta^*}(x)\\rVert^2, \\qquad H = \\frac2n\\sum_x J_x^\\top J_x',
    tryIt: 'Run a forward pass: these outputs are what L_B compares.',
  },
  {
    id: 'rank', title: '4 · Hessian rank and the bounds', view: 'spectrum', arch: 'matfac', eps: 1e-3, compute: 'spectrum', target: 'eps-slider',
    text: 'Directions with eigenvalue above ε are ones the model uses; the rest are free at that scale. Their count d₁(ε) bounds the LLC. The 20-20-20 deep linear network has 800 parameters but only 400 are used: a clean gap.',
    tex: 'd_1(\\varepsilon)=\\#\\{i : h_i > \\varepsilon\\}, \\qquad \\frac{d_1}{2} \\le \\lambda \\le \\frac{d_1}{2} + \\frac{d-d_1}{4}',
    tryIt: 'Drag ε through the gap between the two groups of eigenvalues.',
  },
  {
    id: 'cutoff', title: '5 · ε cutoffs and the accuracy cutoff', view: 'spectrum', arch: 'matfac', compute: 'spectrum', target: 'chart-projection',
    text: 'Which ε is right? Project θ* onto its top-k eigenvectors and see how much behavior survives. The smallest k that keeps 99.5 % of the accuracy (or where the MSE curve goes flat) gives k* and the cutoff ε* = h_{k*}.',
    tex: '\\theta_k = V_k V_k^\\top \\theta^*, \\qquad \\varepsilon^* = h_{k^*}',
    tryIt: 'Click the projection curve to set ε = h_k; press “set ε = ε*”.',
  },
  {
    id: 'sgld', title: '6 · Estimating λ with SGLD', view: 'llc', arch: 'matfac', eps: 1e-3, target: 'llc-run',
    text: 'For a real network we cannot integrate the volume, but we can sample near θ* at temperature 1/(nβ) and measure how much the loss rises. Where the estimate exceeds the Hessian’s quadratic prediction, the landscape has higher-order structure.',
    tex: 'w \\leftarrow w - \\tfrac{\\epsilon_s}{2}\\big(n\\beta\\,\\nabla L(w) + \\gamma (w-w^*)\\big) + \\mathcal N(0,\\epsilon_s), \\quad \\hat\\lambda = n\\beta\\,\\big(\\mathbb E[L(w)] - L(w^*)\\big)',
    tryIt: 'Press “Estimate λ̂” and watch the chains settle above L(w*).',
  },
  {
    id: 'sync', title: '7 · Synchronized neurons', view: 'internals', arch: 'mnist-mlp', compute: 'internals', target: 'raster',
    text: 'ReLU neurons that switch on and off on exactly the same inputs act as one linear block: weights can be traded among them without changing the function. Each block of rank s frees s² directions; dead neurons free all of theirs.',
    tex: 'r_i(x) = [p_i(x) > 0], \\qquad N = \\sum_a s_a^2',
    tryIt: 'Raise the tolerance and watch neurons merge into blocks.',
  },
  {
    id: 'interaction', title: '8 · The interaction basis', view: 'internals', arch: 'mnist-mlp', compute: 'internals', target: 'interaction-table',
    text: 'Whitening each layer’s activations by G and its Jacobians by M removes the directions that do nothing, and gives a basis that does not depend on how the layer is parameterized. The interaction graph between layers is then sparser.',
    tex: 'C^l = (D_M^{-1/2})^{+}\\, V\\, (D_G^{-1/2})^{+}\\, U, \\qquad \\hat f^l = C^l f^l',
    tryIt: 'Compare the edge heatmaps in the neuron basis and the interaction basis.',
  },
];

const KEY = 'slt-explorer:tour';

/** The step to resume at (null: not started or finished/skipped). */
export function savedTourStep(): number | null {
  try {
    const v = globalThis.localStorage?.getItem(KEY);
    if (v === null || v === undefined) return null;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n < TOUR.length ? n : null;
  } catch {
    return null;
  }
}

export function saveTourStep(step: number | null): void {
  try {
    if (step === null) globalThis.localStorage?.removeItem(KEY);
    else globalThis.localStorage?.setItem(KEY, String(step));
  } catch {
    /* storage unavailable: the tour simply does not resume */
  }
}
