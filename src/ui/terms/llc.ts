/** Glossary entries: the LLC, SGLD and its calibration. */
import type { GlossaryEntry, TermId } from './types';

export const LLC_TERMS = {
  // ------------------------------------------------------------------ LLC
  landscape: {
    label: 'landscape K(w)',
    definition: 'A teaching loss in one or two parameters on the box [−1, 1]^m with its minimum K = 0 at w = 0, whose volume V(ε) is integrated numerically.',
    tex: 'V(\\epsilon) = \\operatorname{vol}\\{\\, w \\in [-1, 1]^m : K(w) < \\epsilon \\,\\}',
    source: 'docs/science.md §4.1; src/core/llc/landscapes.ts',
  },
  landscapeC: {
    label: 'c',
    definition: 'Strength of the quadratic term in c²w² + w⁴: λ(ε) ≈ ½ for ε ≪ c⁴ (quadratic visible) and ≈ ¼ for ε ≫ c⁴ (quartic dominates).',
    tex: 'K(w) = c^2 w^2 + w^4',
    source: 'degeneracy paper §2.2; docs/science.md §9',
  },
  crossingK: {
    label: 'k₁, k₂',
    definition: 'Powers of the normal crossing, the squared loss of the model f = w₁^k₁ w₂^k₂. As ε → 0, λ → 1/(2·max(k₁, k₂)).',
    tex: 'K(w) = \\bigl(w_1^{k_1} w_2^{k_2}\\bigr)^2,\\qquad \\lambda = \\frac{1}{2\\max(k_1, k_2)}',
    source: 'docs/science.md §9; src/core/llc/landscapes.ts',
  },
  volume: {
    label: 'volume V(ε)',
    definition: 'The volume of near-optimal parameters: those whose loss exceeds the minimum by less than ε.',
    tex: 'V(\\epsilon) = \\operatorname{vol}\\{\\, \\theta : L(\\theta) < L(\\theta^*) + \\epsilon \\,\\}',
    source: 'degeneracy paper eq. 2, 5',
  },
  llcEps: {
    label: 'λ(ε)',
    definition: 'The local learning coefficient at loss scale ε: the exponent of the volume scaling, V ∝ ε^λ locally. A regular d-parameter minimum has λ = d/2; degenerate ones less. For the teaching landscapes it is computed exactly by numerical integration.',
    tex: '\\lambda(\\epsilon) = \\epsilon\\,\\frac{d}{d\\epsilon} \\log V(\\epsilon) = \\frac{d \\log V}{d \\log \\epsilon}',
    source: 'degeneracy paper eq. 5; docs/science.md §4',
  },
  llcLimit: {
    label: 'λ as ε → 0',
    definition: 'The learning coefficient of SLT proper: the small-ε limit of λ(ε), with multiplicity m the power of the log correction.',
    tex: 'V(\\epsilon) \\sim C\\, \\epsilon^{\\lambda} (-\\log \\epsilon)^{m-1}\\quad (\\epsilon \\to 0)',
    source: 'docs/science.md §4, §9',
  },
  multiplicity: {
    label: 'multiplicity m',
    definition: 'The power of the logarithmic factor in the volume as ε → 0; m > 1 makes λ(ε) approach its limit only logarithmically (e.g. (w₁w₂)² has m = 2).',
    tex: 'V(\\epsilon) \\sim C\\, \\epsilon^{\\lambda} (-\\log \\epsilon)^{m-1}',
    source: 'src/core/llc/landscapes.ts',
  },
  llcHat: {
    label: 'λ̂ (SGLD)',
    definition: 'The SGLD estimate of the LLC: nβ times the mean excess loss over the draws, with nβ = n/log n (β = 1/log n) by default. Each draw\'s L(w_t) is the loss of the minibatch that step used; L(w*) is the full-data loss. Reported as mean ± std over chains.',
    tex: '\\hat\\lambda = n\\beta\\,\\Bigl(\\frac{1}{T}\\sum_{t} L(w_t) - L(w^*)\\Bigr),\\qquad n\\beta = \\frac{n}{\\log n}',
    source: 'seed 003 (Lau, Murfet & Wei); docs/science.md §5; src/core/llc/sgld.ts',
  },
  llcHatLandscape: {
    label: 'SGLD λ̂ (landscape)',
    definition: 'The same estimator on a teaching landscape, in Float64 with one chain: nβ times the mean of K over the draws, at nβ = 1/ε (so it sits at the same ε as λ(ε)), γ = 0, with reflecting walls on the box.',
    tex: '\\hat\\lambda = n\\beta\\cdot \\frac{1}{T}\\sum_t K(w_t),\\qquad n\\beta = 1/\\epsilon',
    source: 'docs/science.md §4.1; src/core/llc/landscapes.ts',
  },
  quadraticLlc: {
    label: 'quadratic prediction',
    definition: 'What SGLD would return if the loss were exactly quadratic with Hessian H: each direction counts ½ once nβh ≫ γ and 0 when nβh ≪ γ. Plotted against ε = 1/(nβ) at fixed γ; SGLD above it means higher-order structure.',
    tex: '\\lambda_{\\text{quad}}(n\\beta) = \\sum_{i} \\frac{1}{2}\\,\\frac{n\\beta\\, h_i}{n\\beta\\, h_i + \\gamma}',
    source: 'docs/science.md §4.2; src/core/llc/quadratic.ts',
  },
  rankBoundLlc: {
    label: 'bound d₁/2',
    definition: 'The lower rank bound on the LLC axis. Here the eigenvalue cutoff is γ·ε, not ε (where the quadratic prediction counts a direction ¼, half its ½), so it differs from d₁(ε) in the Spectrum view by the factor γ.',
    tex: '\\frac{d_1(\\gamma\\epsilon)}{2},\\qquad d_1(\\gamma\\epsilon) = \\#\\{\\, i : h_i > \\gamma\\,\\epsilon \\,\\}',
    source: 'src/core/llc/quadratic.ts; seed 002 §1.3',
  },
  stepSize: {
    label: 'step ε_s',
    definition: 'The SGLD step size: the drift is scaled by ε_s/2 and the Gaussian noise has variance ε_s. Too large diverges (the run stops and says so); too small never relaxes within burn-in.',
    tex: 'w_{t+1} = w_t - \\frac{\\epsilon_s}{2}\\bigl(n\\beta\\, \\nabla L_{\\mathcal{B}_t}(w_t) + \\gamma\\,(w_t - w^*)\\bigr) + \\mathcal{N}(0, \\epsilon_s I)',
    source: 'docs/science.md §5; src/core/llc/sgld.ts',
  },
  gamma: {
    label: 'localization γ',
    definition: 'Strength of the Gaussian pull toward w* that keeps the sampler local; directions with nβh ≪ γ are held by it rather than by the loss and count 0.',
    tex: 'p(w) \\propto \\exp\\Bigl(-n\\beta\\, L(w) - \\frac{\\gamma}{2}\\lVert w - w^* \\rVert^2\\Bigr)',
    source: 'docs/science.md §4–5',
  },
  nBeta: {
    label: 'nβ',
    definition: 'The inverse temperature times the number of training rows. Default n/log n (Watanabe\'s β* = 1/log n); optionally batch/log batch (devinterp\'s default). The loss scale is its reciprocal, ε = 1/(nβ).',
    tex: 'n\\beta = \\frac{n}{\\log n}\\quad\\Bigl(\\text{or } \\frac{B}{\\log B}\\Bigr),\\qquad \\epsilon = \\frac{1}{n\\beta}',
    source: 'docs/science.md §5; src/core/llc/sgld.ts',
  },
  chains: {
    label: 'chains',
    definition: 'Independent SGLD chains from w*, each with its own seeded noise and minibatch order; λ̂ is the mean over chains, ± their sample standard deviation.',
    tex: '\\hat\\lambda = \\frac{1}{C}\\sum_{c=1}^{C} \\hat\\lambda_c \\pm \\operatorname{std}_c(\\hat\\lambda_c)',
    source: 'docs/science.md §5',
  },
  draws: {
    label: 'draws',
    definition: 'Steps per chain after burn-in whose loss enters λ̂ (one draw per step, no thinning).',
    tex: '\\hat\\lambda_c = n\\beta\\,\\Bigl(\\frac{1}{T}\\sum_{t = b}^{b + T - 1} L(w_t) - L(w^*)\\Bigr)',
    source: 'src/core/llc/sgld.ts',
  },
  burnin: {
    label: 'burn-in',
    definition: 'Steps dropped at the start of each chain while it relaxes away from w*. Flat directions relax at rate ε_sγ/2 per step, so use several times 2/(ε_sγ), and at least as many as the draws.',
    tex: 'b \\gtrsim \\frac{2}{\\epsilon_s \\gamma},\\qquad b \\ge T',
    source: 'docs/science.md §5; src/core/llc/defaults.ts',
  },
  sgldBatch: {
    label: 'batch',
    definition: 'Training rows per SGLD step (default 512), or "full". The gradient and the recorded draw L(w_t) both come from that minibatch.',
    tex: '\\nabla L_{\\mathcal{B}_t}(w) = \\nabla \\frac{1}{|\\mathcal{B}_t|}\\sum_{i \\in \\mathcal{B}_t} \\ell_i(w)',
    source: 'src/core/llc/sgld.ts',
  },
  sgldLoss: {
    label: 'loss L',
    definition: 'Which loss SGLD samples: the training loss (cross-entropy, or MSE for matfac) or the behavioral loss relative to w*. Always labelled in the results.',
    tex: 'L \\in \\Bigl\\{\\, \\mathcal{L}_{\\text{train}},\\ \\ L_B(w \\mid w^*) = \\frac{1}{n}\\sum_x \\lVert f_w(x) - f_{w^*}(x) \\rVert^2 \\,\\Bigr\\}',
    source: 'docs/science.md §5',
  },
  initLoss: {
    label: 'L(w*)',
    definition: 'The loss at the starting point over the full training data (not one minibatch): the baseline λ̂ subtracts.',
    tex: 'L(w^*) = \\frac{1}{n}\\sum_{i=1}^{n} \\ell_i(w^*)',
    source: 'docs/science.md §5',
  },
  fractionBelow: {
    label: 'draws below L(w*)',
    definition: 'Fraction of draws whose loss is below L(w*). Large values mean w* is not a local minimum at this scale (or minibatch noise dominates), and λ̂ is then unreliable.',
    tex: '\\frac{1}{CT}\\,\\#\\{\\, (c, t) : L(w_t^{(c)}) < L(w^*) \\,\\}',
    source: 'docs/science.md §5; src/core/llc/sgld.ts',
  },
  mala: {
    label: 'MALA acceptance',
    definition: 'The Metropolis–Hastings acceptance probability of each Langevin proposal. With full batches (up to 2,048 rows) the chains reject with it (MALA): they sample the localized posterior exactly and the acceptance only sets how fast they mix. With minibatches nothing is rejected and a full-batch probe every 10 draws measures the step\'s discretization health; healthy around 0.9.',
    tex: '\\log\\alpha = U(w_t) - U(w_{t+1}) - \\frac{\\epsilon_s}{8}\\lVert s \\rVert^2 + \\frac{\\sqrt{\\epsilon_s}}{2}\\langle s, \\xi_t \\rangle,\\quad s = \\nabla U(w_t) + \\nabla U(w_{t+1})',
    source: 'docs/science.md §5; src/core/llc/sgld.ts',
  },
  llcHealth: {
    label: 'health verdict',
    definition: 'ok, doubtful or failed, with reasons. Failed: a divergence or NaN, λ̂ < 0 beyond 2 standard errors, or an unadjusted chain with acceptance < 0.5. Doubtful: acceptance < 0.8 for an unadjusted chain, or < 0.5 for a Metropolis-adjusted one (exact at any acceptance; ≈ 0.57 is optimal for MALA), draws drifting between the halves of a chain (> 4 s.e.), chains disagreeing (split-R̂ > 1.1), fewer than 40 effective draws, the localization dominating (E‖w − w*‖² > ½·d/γ), or a γ the calibration could not confirm.',
    tex: '\\hat R = \\sqrt{\\frac{\\tfrac{N-1}{N}W + \\tfrac{1}{N}B}{W}},\\quad \\mathrm{ESS} = \\frac{N}{1 + 2\\sum_k \\rho_k}',
    source: 'src/core/llc/health.ts; Gelman et al. (split-R̂), Geyer (initial monotone sequence ESS)',
  },
  llcCalibration: {
    label: 'calibration',
    definition: 'How γ, ε_s, burn-in and the draws were chosen from pilot chains when not given: ε_s the largest step with full-batch MALA acceptance ≥ 0.9; γ walked down 100, 10, 1, 0.1, 0.01 until λ̂ stops rising by more than 5 % (a rise within noise of that takes the smaller γ, since the localization only lowers λ̂); a fall beyond 3 standard errors keeps the larger γ with a doubt; burn-in 100 steps after a warm start from the pilot (twice its relaxation without one); draws for a 3 % standard error and at least two relaxation times 2/(ε_sγ) per chain. The pilots and the estimate share a budget of 45 s of work on the reference machine (about 45 s there; the same seed gives the same settings anywhere).',
    tex: '\\gamma^* = \\max\\{\\gamma : \\hat\\lambda(\\gamma/10) - \\hat\\lambda(\\gamma) \\le 0.05\\,\\hat\\lambda(\\gamma)\\}',
    source: 'src/core/llc/calibrate.ts; README "How the LLC estimate calibrates itself"',
  },
  calibrationGrid: {
    label: 'calibration grid',
    definition: 'λ̂ over a grid of step sizes ε_s × inverse temperatures nβ (one short chain each), to pick a step that is stable and relaxed; unhealthy cells are listed.',
    tex: '\\hat\\lambda(\\epsilon_s, n\\beta)\\ \\text{for}\\ \\epsilon_s \\in \\{\\tfrac{s}{10}, \\tfrac{s}{3}, s, 3s\\},\\ n\\beta \\in \\{30, 100, 300, 1000\\}',
    source: 'docs/science.md §5',
  },
} satisfies Partial<Record<TermId, GlossaryEntry>>;
