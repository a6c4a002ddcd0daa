/** Glossary entries: the behavioral loss, its Hessian and the spectrum. */
import type { GlossaryEntry, TermId } from './types';

export const SPECTRUM_TERMS = {
  // ------------------------------------------------------------------ behavioral loss, Hessian, spectrum
  behavioralLoss: {
    label: 'behavioral loss L_B',
    definition: 'How far the outputs of parameters θ are from those of the trained θ*: squared difference summed over outputs, averaged over the n data points. θ* is its global minimum by construction.',
    tex: 'L_B(\\theta \\mid \\theta^*) = \\frac{1}{n}\\sum_{x \\in \\mathcal{D}} \\lVert f_\\theta(x) - f_{\\theta^*}(x) \\rVert^2',
    source: 'degeneracy paper eq. 3; docs/science.md §2',
  },
  klBehavioralLoss: {
    label: 'behavioral loss (KL)',
    definition: 'Optional behavioral loss for classifiers: the KL divergence of the output softmax from that of θ*. Its Hessian is the softmax Gauss–Newton matrix below; it matches a cross-entropy training loss.',
    tex: 'H_{\\text{KL}} = \\frac{1}{n}\\sum_x J_x^\\top \\bigl(\\operatorname{diag}(q_x) - q_x q_x^\\top\\bigr) J_x,\\quad q_x = \\operatorname{softmax} f_{\\theta^*}(x)',
    source: 'docs/science.md §2',
  },
  hessian: {
    label: 'Hessian H',
    definition: 'The Hessian of the behavioral loss at θ*, which is exactly the Gauss–Newton matrix there (J_x is the Jacobian of all outputs). The factor is 2/n; the paper\'s eq. 21 writes 1/(2n).',
    tex: 'H = \\nabla^2 L_B\\big|_{\\theta^*} = \\frac{2}{n}\\sum_{x} J_x^\\top J_x,\\qquad J_x = \\frac{\\partial f_\\theta(x)}{\\partial \\theta}\\Big|_{\\theta^*}',
    source: 'docs/science.md §2',
  },
  hvp: {
    label: 'products H·v',
    definition: 'Hessian-vector products: one forward-mode pass (J v) and one backward pass (Jᵀ u). H is never formed; Lanczos, SLQ and the trace only need these.',
    tex: 'H v = \\frac{2}{n}\\, J^\\top (J v)',
    source: 'src/core/hessian/gn.ts',
  },
  hk: {
    label: 'eigenvalue h_k',
    definition: 'The k-th largest eigenvalue of H: how much the outputs change, in squared-output units, along eigenvector v_k. All are ≥ 0 (H is a Gauss–Newton matrix), up to float noise.',
    tex: 'H v_k = h_k v_k,\\qquad h_1 \\ge h_2 \\ge \\cdots \\ge h_d \\ge 0',
    source: 'docs/science.md §3',
  },
  h1: {
    label: 'h₁',
    definition: 'The largest eigenvalue of H: the stiffest direction in parameter space. Residuals and the float32 noise floor are measured relative to it.',
    tex: 'h_1 = \\max_{\\lVert v \\rVert = 1} v^\\top H v',
    source: 'docs/science.md §3',
  },
  eps: {
    label: 'loss scale ε',
    definition: 'How much extra loss counts as "the same behaviour". In the Spectrum and Internals views it is an eigenvalue cutoff in units of H (h > ε means used); in the LLC view it is the sampling temperature ε = 1/(nβ). One slider value is shared by all views.',
    tex: 'V(\\epsilon) = \\operatorname{vol}\\{\\theta : L(\\theta) < L(\\theta^*) + \\epsilon\\},\\qquad \\epsilon = 1/(n\\beta)\\ \\text{(LLC view)}',
    source: 'degeneracy paper eq. 5; docs/science.md §3–4',
  },
  d1: {
    label: 'd₁(ε)',
    definition: 'The number of Hessian eigenvalues above ε: directions the model uses at this loss scale. When all computed Lanczos eigenvalues exceed ε the rest of the count comes from SLQ (shown ± 2 standard errors), or is a lower bound without SLQ.',
    tex: 'd_1(\\epsilon) = \\#\\{\\, i : h_i > \\epsilon \\,\\}',
    source: 'docs/science.md §3; seed 002 §1.3',
  },
  dFree: {
    label: 'd − d₁(ε)',
    definition: 'Eigenvalues at or below ε: parameter directions that are free (change the outputs by less than the loss scale).',
    tex: 'd - d_1(\\epsilon) = \\#\\{\\, i : h_i \\le \\epsilon \\,\\}',
    source: 'docs/science.md §3; seed 002 §1.3',
  },
  llcBounds: {
    label: 'LLC bounds',
    definition: 'The Hessian rank bounds the learning coefficient: each used direction contributes ½, each free one between 0 and ¼ (higher-order terms decide where).',
    tex: '\\frac{d_1}{2} \\;\\le\\; \\lambda \\;\\le\\; \\frac{d_1}{2} + \\frac{d - d_1}{4}',
    source: 'seed 002 §1.3; docs/science.md §3',
  },
  traceH: {
    label: 'trace H',
    definition: 'Sum of all d eigenvalues, estimated by Hutchinson\'s method with Rademacher probes (mean ± standard error over probes, 20 by default); exact from the eigenvalues when dense.',
    tex: '\\operatorname{tr} H = \\sum_i h_i \\approx \\frac{1}{P}\\sum_{p=1}^{P} z_p^\\top H z_p,\\quad z_p \\in \\{\\pm 1\\}^d',
    source: 'src/core/linalg/slq.ts',
  },
  slqDensity: {
    label: 'spectral density (SLQ)',
    definition: 'The eigenvalue density of the whole spectrum by stochastic Lanczos quadrature: each random unit probe gives Gauss nodes θ_pj with weights τ_pj; averaged and scaled by d they estimate the eigenvalue count. Plotted per unit log₁₀ h, each node broadened by a Gaussian in log h.',
    tex: '\\#\\{h_i \\in I\\} \\approx \\frac{d}{P} \\sum_{p=1}^{P} \\sum_{j :\\, \\theta_{pj} \\in I} \\tau_{pj}',
    source: 'docs/science.md §3; src/core/linalg/slq.ts',
  },
  lanczosK: {
    label: 'k (Lanczos)',
    definition: 'Number of top eigenpairs computed by Lanczos (Float64 recurrence with full reorthogonalization, H·v in float32). More k means more of the spectrum exact, at k vectors of memory.',
    tex: 'H V_k \\approx V_k \\operatorname{diag}(h_1, \\dots, h_k),\\quad V_k^\\top V_k = I_k',
    source: 'docs/science.md §3; seed 002 §2',
  },
  spectrumMethod: {
    label: 'method',
    definition: 'Dense: all d eigenvalues exactly (Float64), used when d ≤ 2,500 under "auto". Lanczos: the top k exactly, and the rest of the spectrum as an SLQ density.',
    tex: '\\text{dense: } H = V \\operatorname{diag}(h) V^\\top \\qquad \\text{Lanczos: } \\{h_1..h_k\\} + \\text{SLQ}',
    source: 'docs/science.md §3',
  },
  residual: {
    label: 'residual ‖Hv − hv‖',
    definition: 'How well a computed eigenpair (h, v) satisfies the eigen-equation, with ‖v‖ = 1; compare it with h₁. Small means the pair is accurate.',
    tex: 'r_k = \\lVert H v_k - h_k v_k \\rVert_2',
    source: 'src/core/tasks/spectrum.ts',
  },
  noiseFloor: {
    label: 'noise floor',
    definition: 'H·v products run in float32, so eigenvalues below about 10⁻⁶·h₁ are indistinguishable from zero. The count above it is a numerical rank.',
    tex: '\\#\\{\\, i : h_i > 10^{-6}\\, h_1 \\,\\}',
    source: 'src/core/spectrum/projection.ts',
  },
  floorF32: {
    label: 'numerical floor (measured)',
    definition: 'How large the rounding error of the float32 product H·v is for a unit vector v, measured on this model: H·v and H·(3v)/3 agree exactly in exact arithmetic but round differently in float32, so their difference is the rounding noise (the largest of 3 seeded probes, ÷√2, ×2 for safety). An eigenvalue below it cannot be told from noise; ε axes mark it. Tested against a Float64 reference product on small models.',
    tex: '\\text{floor} = 2\\max_{v}\\,\\tfrac{1}{\\sqrt2}\\big\\|\\tfrac13\\mathrm{fl}(H\\cdot 3v) - \\mathrm{fl}(H v)\\big\\|',
    source: 'src/core/spectrum/floor.ts (issue 13)',
  },
  logGap: {
    label: 'eigen-gap (log)',
    definition: 'A wide gap between consecutive eigenvalues on a log scale, above the numerical floor: any ε inside it gives the same d₁(ε), so the count does not depend on the exact choice of ε there. The widest gaps are marked on every ε axis.',
    tex: '\\log_{10}(h_i / h_{i+1})',
    source: 'src/core/spectrum/epsilon.ts',
  },
  defaultEps: {
    label: 'default ε',
    definition: 'The ε the view opens with: ε* (the eigenvalue at the accuracy cutoff k*) when the projection curve reached the cutoff, otherwise the geometric middle of the widest log-gap above the numerical floor. Never a fixed constant; a link with eps=… overrides it.',
    tex: '\\varepsilon_0 = \\begin{cases} \\varepsilon^* = h_{k^*} & k^* \\text{ known} \\\\ \\sqrt{h_i h_{i+1}} & \\text{widest gap above the floor} \\end{cases}',
    source: 'src/core/spectrum/epsilon.ts (issue 13)',
  },
  projection: {
    label: 'projection θ_k',
    definition: 'The parameters projected onto the top-k eigenvectors of H. Measuring the model at θ_k as k grows shows how many directions its behaviour needs. Evaluated on a grid of k (every k up to 30, then ~60 points on linear and log scales).',
    tex: '\\theta_k = V_k V_k^\\top \\theta^* = \\sum_{i \\le k} (v_i^\\top \\theta^*)\\, v_i',
    source: 'seed 002 §2.2–3; docs/science.md §3',
  },
  accuracyCutoff: {
    label: 'accuracy cutoff c',
    definition: 'The fraction of the original accuracy the projected model must keep (seed 002 uses 99.5 %). For matfac (MSE) the app instead asks the MSE to be within a factor 1/c of the MSE at the float32 noise-floor rank.',
    tex: '\\mathrm{acc}(\\theta_k) \\ge c\\cdot \\mathrm{acc}(\\theta^*) \\qquad \\text{(MSE: } \\mathrm{MSE}(\\theta_k) \\le \\mathrm{MSE}(\\theta_{k_{\\text{ref}}}) / c)',
    source: 'seed 002 §2.2; src/core/spectrum/projection.ts',
  },
  kStar: {
    label: 'k*',
    definition: 'The smallest evaluated k whose projected model meets the accuracy cutoff (on the chosen split): the number of directions the behaviour needs. The projection is evaluated on a grid of k; for the 99.5 % cutoff (train and test) the gap holding the crossing is then bisected, so k* − 1 misses the cutoff. Accuracy against k is not monotone near the crossing, so an isolated smaller k can also pass; for other cutoffs the view shows the gap the exact value lies in.',
    tex: 'k^* = \\min\\{\\, k : \\mathrm{acc}(\\theta_k) \\ge c\\cdot\\mathrm{acc}(\\theta^*) \\,\\}',
    source: 'seed 002 §2.2–3; docs/science.md §3',
  },
  epsStar: {
    label: 'ε*',
    definition: 'The loss scale matching the accuracy cutoff: the eigenvalue of the last direction kept, so that d₁(ε) = k* just below it.',
    tex: '\\epsilon^* = h_{k^*}',
    source: 'docs/science.md §3',
  },
  zeroCountKStar: {
    label: 'zero count d − k*',
    definition: 'Directions that can be projected out without losing the cutoff accuracy: the "zero eigenvalue" count of seed 002.',
    tex: 'd - k^*',
    source: 'seed 002 §2.3; docs/science.md §3',
  },
  kronecker: {
    label: 'Kronecker approximation 2·K ⊗ G',
    definition: 'Per layer, treating activations and Jacobians as independent and layers as decoupled, the Hessian block factorizes into the two Grams; its eigenvalues are all products 2·κ_a·g_b. The factor 2 follows the app\'s H = (2/n)ΣJᵀJ (the paper writes ½); modadd embeddings are not covered.',
    tex: 'H_l \\approx 2\\, K^l \\otimes G^l,\\qquad \\operatorname{eig}(H_l) \\approx \\{\\, 2\\,\\kappa_a\\, g_b \\,\\}',
    source: 'degeneracy paper eq. 22; src/core/spectrum/kronecker.ts',
  },
  eigLoading: {
    label: 'eigenvector loading',
    definition: 'The share of eigenvector v_k\'s squared mass on the parameters P attached to one neuron or tensor. Loadings over a partition of the parameters sum to 1.',
    tex: '\\ell_P(v_k) = \\sum_{i \\in P} v_{k,i}^2,\\qquad \\lVert v_k \\rVert = 1',
    source: 'docs/science.md §3 (eigenvectors of H)',
  },
} satisfies Partial<Record<TermId, GlossaryEntry>>;
