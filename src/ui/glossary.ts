/**
 * One definition per quantity the explorer shows: what `<Term id="…">` puts in its tooltip and
 * what `termTitle(id)` gives to an SVG <title>. Each entry says what the app actually computes
 * (read from src/core), the defining equation in KaTeX TeX, and where it comes from. Where the app
 * departs from a paper, the definition says so.
 *
 * Sources: "SCIENCE.md §n" is /shared/SCIENCE.md (the project's conventions); "degeneracy paper"
 * is seed 000 (Bushnaq et al. 2024); "seed 002" the Hessian-rank / accuracy-cutoff report;
 * "seed 003" the modular-addition SGLD post. Plain file paths point at the code that computes it.
 */

export type TermId =
  // model and data
  | 'd' | 'n' | 'rows' | 'p' | 'embedDim' | 'hiddenWidth' | 'mlpWidths' | 'matfacWidths'
  | 'initSeed' | 'dataSeed' | 'trainFraction' | 'modOp'
  // training
  | 'optimizer' | 'learningRate' | 'weightDecay' | 'momentum' | 'batchSize' | 'lrSchedule'
  | 'trainSteps' | 'trainSeed' | 'evalEvery' | 'checkpointEvery'
  | 'crossEntropy' | 'mse' | 'accuracy' | 'trainAccuracy' | 'testAccuracy' | 'throughput'
  // behavioral loss, Hessian, spectrum
  | 'behavioralLoss' | 'klBehavioralLoss' | 'hessian' | 'hvp' | 'hk' | 'h1' | 'eps' | 'd1' | 'dFree' | 'llcBounds'
  | 'traceH' | 'slqDensity' | 'lanczosK' | 'spectrumMethod' | 'residual' | 'noiseFloor' | 'floorF32' | 'logGap' | 'defaultEps'
  | 'projection' | 'accuracyCutoff' | 'kStar' | 'epsStar' | 'zeroCountKStar' | 'kronecker' | 'eigLoading'
  // LLC
  | 'landscape' | 'landscapeC' | 'crossingK' | 'volume' | 'llcEps' | 'llcLimit' | 'multiplicity'
  | 'llcHat' | 'llcHatLandscape' | 'quadraticLlc' | 'rankBoundLlc'
  | 'stepSize' | 'gamma' | 'nBeta' | 'chains' | 'draws' | 'burnin' | 'sgldBatch' | 'sgldLoss'
  | 'initLoss' | 'fractionBelow' | 'mala' | 'calibrationGrid'
  // internals: neurons and synchronization
  | 'layerWidth' | 'firingPattern' | 'firingFraction' | 'deadNeuron' | 'alwaysOnNeuron'
  | 'syncBlock' | 'largestBlock' | 'blockRank' | 'syncN' | 'syncDedup' | 'syncTol' | 'syncFraction' | 'eq17'
  // internals: Grams and predicted zeros
  | 'gramG' | 'gramK' | 'gramM' | 'blockParams' | 'gZeros' | 'kZeros' | 'fanOut' | 'fanIn' | 'overlap' | 'predictedZeros'
  // internals: interaction basis
  | 'interactionBasis' | 'rankG' | 'basisSize' | 'edgeStrength' | 'gini' | 'top10Share'
  // internals: Fourier
  | 'fourierNorm' | 'keyFrequency' | 'keyEnergyFraction' | 'circularity' | 'fourierCircuit';

export interface GlossaryEntry {
  /** Short label, as the UI shows the quantity by default. */
  label: string;
  /** One to three plain sentences. */
  definition: string;
  /** KaTeX TeX of the defining equation. */
  tex: string;
  /** Where it comes from: 'SCIENCE.md §3', 'degeneracy paper eq. 20', a source file… */
  source: string;
}

export const GLOSSARY: Record<TermId, GlossaryEntry> = {
  // ------------------------------------------------------------------ model and data
  d: {
    label: 'parameters d',
    definition: 'The number of trainable parameters θ (every weight and bias, PyTorch tensor layout). The Hessian is d × d, so every spectrum has d eigenvalues.',
    tex: 'd = \\dim\\theta = \\textstyle\\sum_{T}\\,|T|',
    source: 'SCIENCE.md §1',
  },
  n: {
    label: 'data points n',
    definition: 'The number of data rows the loss and the Hessian average over: the training split by default (the Spectrum view can use all rows). SGLD uses the training rows.',
    tex: 'n = |\\mathcal{D}|,\\qquad L_B = \\frac{1}{n}\\sum_{x\\in\\mathcal{D}} \\lVert f_\\theta(x) - f_{\\theta^*}(x)\\rVert^2',
    source: 'SCIENCE.md §2',
  },
  rows: {
    label: 'rows',
    definition: 'The number of inputs the forward pass evaluated: the chosen split (train, test or all rows) of the model\'s dataset.',
    tex: 'n_{\\text{split}} = |\\mathcal{D}_{\\text{split}}|',
    source: 'src/core/tasks/forward.ts',
  },
  p: {
    label: 'p',
    definition: 'The modulus of the modular-addition task: tokens are 0 … p − 1, the dataset is all p² pairs (a, b), and the model outputs p logits.',
    tex: 'y = (a + b) \\bmod p,\\qquad |\\mathcal{D}_{\\text{all}}| = p^2',
    source: 'SCIENCE.md §1',
  },
  embedDim: {
    label: 'e',
    definition: 'Embedding width: each token gets a learned vector of e numbers (one table shared by both tokens).',
    tex: '\\texttt{embed.weight} \\in \\mathbb{R}^{p \\times e}',
    source: 'SCIENCE.md §1',
  },
  hiddenWidth: {
    label: 'h',
    definition: 'Hidden width: the number of neurons between the embeddings and the logits (ReLU for modadd, GELU for modadd-gelu).',
    tex: '\\texttt{hidden.weight} \\in \\mathbb{R}^{h \\times 2e}\\ \\text{(modadd)},\\quad \\texttt{left},\\texttt{right} \\in \\mathbb{R}^{h\\times e}\\ \\text{(gelu)}',
    source: 'SCIENCE.md §1',
  },
  mlpWidths: {
    label: 'hidden widths',
    definition: 'Widths of the hidden ReLU layers of the MNIST classifier, input 784 pixels and 10 logits at the ends.',
    tex: '784 \\to h_1 \\to \\cdots \\to h_L \\to 10',
    source: 'SCIENCE.md §1 (seed 002 A.1)',
  },
  matfacWidths: {
    label: 'widths',
    definition: 'Layer widths of the deep linear network (no biases, no nonlinearity): input, hidden widths, output. It is fit to y = A x by MSE.',
    tex: 'f_\\theta(x) = W_L \\cdots W_2 W_1 x,\\qquad W_l \\in \\mathbb{R}^{h_l \\times h_{l-1}}',
    source: 'SCIENCE.md §1 (seed 002 A.3)',
  },
  initSeed: {
    label: 'init seed',
    definition: 'Seeds the random initial weights of a freshly built model: the same sizes and seed give the same θ₀.',
    tex: '\\theta_0 = \\operatorname{init}(\\text{sizes}, \\text{seed})',
    source: 'src/core/models/init.ts',
  },
  dataSeed: {
    label: 'data seed',
    definition: 'Seeds the dataset: the train/test permutation (and the random operation table) for modular addition, the target A and inputs x_i for matfac.',
    tex: '\\mathcal{D}_{\\text{train}} = \\text{first } \\operatorname{round}(f N) \\text{ of } \\pi_{\\text{seed}}(1..N)',
    source: 'SCIENCE.md §1; src/core/data/modadd.ts',
  },
  trainFraction: {
    label: 'train fraction',
    definition: 'Share f of the p² pairs in the training split; the rest are the test split. The count is rounded and at least 1.',
    tex: 'n_{\\text{train}} = \\max\\bigl(1, \\operatorname{round}(f\\,p^2)\\bigr)',
    source: 'src/core/data/modadd.ts',
  },
  modOp: {
    label: 'operation',
    definition: 'The labels of modular addition: the sum mod p (learnable by a general algorithm), or a seeded random symmetric table (the control that can only be memorized).',
    tex: 'y_{ab} = (a + b) \\bmod p \\quad\\text{or}\\quad y_{ab} = T_{ab} = T_{ba}\\ \\text{(random)}',
    source: 'SCIENCE.md §1; seed 003',
  },

  // ------------------------------------------------------------------ training
  optimizer: {
    label: 'optimizer',
    definition: 'The update rule, with PyTorch semantics: AdamW (decoupled weight decay) or SGD (optional momentum, L2 weight decay).',
    tex: '\\text{AdamW: } \\theta \\leftarrow \\theta(1-\\eta\\,\\mathrm{wd}) - \\eta\\,\\frac{\\hat m}{\\sqrt{\\hat v} + 10^{-8}}',
    source: 'src/core/train/optimizers.ts',
  },
  learningRate: {
    label: 'learning rate η',
    definition: 'The step size η of the optimizer (at step k under the cosine schedule it is η_k).',
    tex: '\\text{SGD: } \\theta \\leftarrow \\theta - \\eta\\, g \\qquad \\text{AdamW: } \\theta \\leftarrow \\theta - \\eta\\,\\frac{\\hat m}{\\sqrt{\\hat v} + 10^{-8}}',
    source: 'src/core/train/optimizers.ts',
  },
  weightDecay: {
    label: 'weight decay',
    definition: 'Pull of the weights toward zero. AdamW shrinks θ directly each step (decoupled); SGD adds wd·θ to the gradient (an L2 penalty), as in PyTorch.',
    tex: '\\text{AdamW: } \\theta \\leftarrow \\theta\\,(1 - \\eta\\,\\mathrm{wd}) \\qquad \\text{SGD: } g \\leftarrow g + \\mathrm{wd}\\,\\theta',
    source: 'src/core/train/optimizers.ts',
  },
  momentum: {
    label: 'momentum μ',
    definition: 'SGD momentum in PyTorch\'s convention (no dampening): a running sum of past gradients is used as the step.',
    tex: 'b \\leftarrow \\mu\\, b + g,\\qquad \\theta \\leftarrow \\theta - \\eta\\, b',
    source: 'src/core/train/optimizers.ts',
  },
  batchSize: {
    label: 'batch size B',
    definition: 'Training rows per step, drawn without replacement epoch by epoch from a seeded permutation; "full" uses every training row each step.',
    tex: 'g = \\nabla_\\theta \\frac{1}{B} \\sum_{i \\in \\mathcal{B}_t} \\ell(f_\\theta(x_i), y_i)',
    source: 'src/core/train/trainer.ts',
  },
  lrSchedule: {
    label: 'LR schedule',
    definition: 'Constant learning rate, or cosine annealing to zero over the run (PyTorch CosineAnnealingLR with T_max = steps).',
    tex: '\\eta_k = \\eta\\cdot\\tfrac{1}{2}\\bigl(1 + \\cos(\\pi k / T)\\bigr)',
    source: 'src/core/train/trainer.ts',
  },
  trainSteps: {
    label: 'steps T',
    definition: 'Number of optimizer updates in the run (one minibatch each).',
    tex: '\\theta_{k+1} = \\operatorname{update}(\\theta_k, g_k),\\quad k = 0, \\dots, T-1',
    source: 'src/core/train/trainer.ts',
  },
  trainSeed: {
    label: 'seed',
    definition: 'Seeds the minibatch order of the training run (the initial θ comes from the current model).',
    tex: '\\mathcal{B}_t = \\pi_{\\text{seed}, \\text{epoch}}[tB : (t+1)B]',
    source: 'src/core/train/trainer.ts',
  },
  evalEvery: {
    label: 'eval every',
    definition: 'Train and test loss (and accuracy) are measured every this many steps, plus at the start and the end (0: only there).',
    tex: 'k \\bmod \\texttt{evalEvery} = 0',
    source: 'src/core/train/trainer.ts',
  },
  checkpointEvery: {
    label: 'checkpoint every',
    definition: 'A copy of θ is kept every this many steps (step 0 and the last step included; 0: none). Checkpoints feed the LLC-over-training and Fourier-over-training views.',
    tex: '\\theta_k \\text{ kept when } k \\bmod \\texttt{checkpointEvery} = 0',
    source: 'src/core/train/trainer.ts',
  },
  crossEntropy: {
    label: 'cross-entropy',
    definition: 'The training loss of the classifiers: mean over rows of the negative log softmax probability of the label (PyTorch F.cross_entropy).',
    tex: '\\mathcal{L}_{\\text{CE}} = \\frac{1}{n}\\sum_{i=1}^{n} -\\log \\frac{e^{z_{i,y_i}}}{\\sum_k e^{z_{i,k}}}',
    source: 'src/core/train/losses.ts',
  },
  mse: {
    label: 'MSE',
    definition: 'The training loss of matfac: PyTorch nn.MSELoss, the mean over all n·k output entries. Note this is 1/k of the behavioral-loss normalization, which sums over the k outputs.',
    tex: '\\mathcal{L}_{\\text{MSE}} = \\frac{1}{n k}\\sum_{i=1}^{n} \\lVert f_\\theta(x_i) - y_i \\rVert^2',
    source: 'src/core/train/losses.ts',
  },
  accuracy: {
    label: 'accuracy',
    definition: 'Fraction of rows whose largest logit is the label (classifiers only).',
    tex: '\\mathrm{acc} = \\frac{1}{n}\\sum_{i} \\bigl[\\arg\\max_k z_{i,k} = y_i\\bigr]',
    source: 'src/core/train/losses.ts',
  },
  trainAccuracy: {
    label: 'train accuracy',
    definition: 'Accuracy on the training split: how well the data the model was fit on is reproduced.',
    tex: '\\mathrm{acc}_{\\text{train}} = \\frac{1}{n_{\\text{train}}}\\sum_{i \\in \\text{train}} [\\arg\\max_k z_{i,k} = y_i]',
    source: 'src/core/train/trainer.ts',
  },
  testAccuracy: {
    label: 'test accuracy',
    definition: 'Accuracy on the held-out test split: generalization. For the random operation it stays near chance (1/p).',
    tex: '\\mathrm{acc}_{\\text{test}} = \\frac{1}{n_{\\text{test}}}\\sum_{i \\in \\text{test}} [\\arg\\max_k z_{i,k} = y_i]',
    source: 'src/core/train/trainer.ts',
  },
  throughput: {
    label: 'throughput',
    definition: 'Rows evaluated per second by the forward pass on the active backend (repeats included).',
    tex: '\\text{rows/s} = \\frac{n \\cdot \\text{repeats}}{t}',
    source: 'src/core/tasks/forward.ts',
  },

  // ------------------------------------------------------------------ behavioral loss, Hessian, spectrum
  behavioralLoss: {
    label: 'behavioral loss L_B',
    definition: 'How far the outputs of parameters θ are from those of the trained θ*: squared difference summed over outputs, averaged over the n data points. θ* is its global minimum by construction.',
    tex: 'L_B(\\theta \\mid \\theta^*) = \\frac{1}{n}\\sum_{x \\in \\mathcal{D}} \\lVert f_\\theta(x) - f_{\\theta^*}(x) \\rVert^2',
    source: 'degeneracy paper eq. 3; SCIENCE.md §2',
  },
  klBehavioralLoss: {
    label: 'behavioral loss (KL)',
    definition: 'Optional behavioral loss for classifiers: the KL divergence of the output softmax from that of θ*. Its Hessian is the softmax Gauss–Newton matrix below; it matches a cross-entropy training loss.',
    tex: 'H_{\\text{KL}} = \\frac{1}{n}\\sum_x J_x^\\top \\bigl(\\operatorname{diag}(q_x) - q_x q_x^\\top\\bigr) J_x,\\quad q_x = \\operatorname{softmax} f_{\\theta^*}(x)',
    source: 'SCIENCE.md §2',
  },
  hessian: {
    label: 'Hessian H',
    definition: 'The Hessian of the behavioral loss at θ*, which is exactly the Gauss–Newton matrix there (J_x is the Jacobian of all outputs). The factor is 2/n; the paper\'s eq. 21 writes 1/(2n).',
    tex: 'H = \\nabla^2 L_B\\big|_{\\theta^*} = \\frac{2}{n}\\sum_{x} J_x^\\top J_x,\\qquad J_x = \\frac{\\partial f_\\theta(x)}{\\partial \\theta}\\Big|_{\\theta^*}',
    source: 'SCIENCE.md §2',
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
    source: 'SCIENCE.md §3',
  },
  h1: {
    label: 'h₁',
    definition: 'The largest eigenvalue of H: the stiffest direction in parameter space. Residuals and the float32 noise floor are measured relative to it.',
    tex: 'h_1 = \\max_{\\lVert v \\rVert = 1} v^\\top H v',
    source: 'SCIENCE.md §3',
  },
  eps: {
    label: 'loss scale ε',
    definition: 'How much extra loss counts as "the same behaviour". In the Spectrum and Internals views it is an eigenvalue cutoff in units of H (h > ε means used); in the LLC view it is the sampling temperature ε = 1/(nβ). One slider value is shared by all views.',
    tex: 'V(\\epsilon) = \\operatorname{vol}\\{\\theta : L(\\theta) < L(\\theta^*) + \\epsilon\\},\\qquad \\epsilon = 1/(n\\beta)\\ \\text{(LLC view)}',
    source: 'degeneracy paper eq. 5; SCIENCE.md §3–4',
  },
  d1: {
    label: 'd₁(ε)',
    definition: 'The number of Hessian eigenvalues above ε: directions the model uses at this loss scale. When all computed Lanczos eigenvalues exceed ε the rest of the count comes from SLQ (shown ± 2 standard errors), or is a lower bound without SLQ.',
    tex: 'd_1(\\epsilon) = \\#\\{\\, i : h_i > \\epsilon \\,\\}',
    source: 'SCIENCE.md §3; seed 002 §1.3',
  },
  dFree: {
    label: 'd − d₁(ε)',
    definition: 'Eigenvalues at or below ε: parameter directions that are free (change the outputs by less than the loss scale).',
    tex: 'd - d_1(\\epsilon) = \\#\\{\\, i : h_i \\le \\epsilon \\,\\}',
    source: 'SCIENCE.md §3; seed 002 §1.3',
  },
  llcBounds: {
    label: 'LLC bounds',
    definition: 'The Hessian rank bounds the learning coefficient: each used direction contributes ½, each free one between 0 and ¼ (higher-order terms decide where).',
    tex: '\\frac{d_1}{2} \\;\\le\\; \\lambda \\;\\le\\; \\frac{d_1}{2} + \\frac{d - d_1}{4}',
    source: 'seed 002 §1.3; SCIENCE.md §3',
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
    source: 'SCIENCE.md §3; src/core/linalg/slq.ts',
  },
  lanczosK: {
    label: 'k (Lanczos)',
    definition: 'Number of top eigenpairs computed by Lanczos (Float64 recurrence with full reorthogonalization, H·v in float32). More k means more of the spectrum exact, at k vectors of memory.',
    tex: 'H V_k \\approx V_k \\operatorname{diag}(h_1, \\dots, h_k),\\quad V_k^\\top V_k = I_k',
    source: 'SCIENCE.md §3; seed 002 §2',
  },
  spectrumMethod: {
    label: 'method',
    definition: 'Dense: all d eigenvalues exactly (Float64), used when d ≤ 2,500 under "auto". Lanczos: the top k exactly, and the rest of the spectrum as an SLQ density.',
    tex: '\\text{dense: } H = V \\operatorname{diag}(h) V^\\top \\qquad \\text{Lanczos: } \\{h_1..h_k\\} + \\text{SLQ}',
    source: 'SCIENCE.md §3',
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
    source: 'seed 002 §2.2–3; SCIENCE.md §3',
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
    source: 'seed 002 §2.2–3; SCIENCE.md §3',
  },
  epsStar: {
    label: 'ε*',
    definition: 'The loss scale matching the accuracy cutoff: the eigenvalue of the last direction kept, so that d₁(ε) = k* just below it.',
    tex: '\\epsilon^* = h_{k^*}',
    source: 'SCIENCE.md §3',
  },
  zeroCountKStar: {
    label: 'zero count d − k*',
    definition: 'Directions that can be projected out without losing the cutoff accuracy: the "zero eigenvalue" count of seed 002.',
    tex: 'd - k^*',
    source: 'seed 002 §2.3; SCIENCE.md §3',
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
    source: 'SCIENCE.md §3 (eigenvectors of H)',
  },

  // ------------------------------------------------------------------ LLC
  landscape: {
    label: 'landscape K(w)',
    definition: 'A teaching loss in one or two parameters on the box [−1, 1]^m with its minimum K = 0 at w = 0, whose volume V(ε) is integrated numerically.',
    tex: 'V(\\epsilon) = \\operatorname{vol}\\{\\, w \\in [-1, 1]^m : K(w) < \\epsilon \\,\\}',
    source: 'SCIENCE.md §4.1; src/core/llc/landscapes.ts',
  },
  landscapeC: {
    label: 'c',
    definition: 'Strength of the quadratic term in c²w² + w⁴: λ(ε) ≈ ½ for ε ≪ c⁴ (quadratic visible) and ≈ ¼ for ε ≫ c⁴ (quartic dominates).',
    tex: 'K(w) = c^2 w^2 + w^4',
    source: 'degeneracy paper §2.2; SCIENCE.md §9',
  },
  crossingK: {
    label: 'k₁, k₂',
    definition: 'Powers of the normal crossing, the squared loss of the model f = w₁^k₁ w₂^k₂. As ε → 0, λ → 1/(2·max(k₁, k₂)).',
    tex: 'K(w) = \\bigl(w_1^{k_1} w_2^{k_2}\\bigr)^2,\\qquad \\lambda = \\frac{1}{2\\max(k_1, k_2)}',
    source: 'SCIENCE.md §9; src/core/llc/landscapes.ts',
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
    source: 'degeneracy paper eq. 5; SCIENCE.md §4',
  },
  llcLimit: {
    label: 'λ as ε → 0',
    definition: 'The learning coefficient of SLT proper: the small-ε limit of λ(ε), with multiplicity m the power of the log correction.',
    tex: 'V(\\epsilon) \\sim C\\, \\epsilon^{\\lambda} (-\\log \\epsilon)^{m-1}\\quad (\\epsilon \\to 0)',
    source: 'SCIENCE.md §4, §9',
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
    source: 'seed 003 (Lau, Murfet & Wei); SCIENCE.md §5; src/core/llc/sgld.ts',
  },
  llcHatLandscape: {
    label: 'SGLD λ̂ (landscape)',
    definition: 'The same estimator on a teaching landscape, in Float64 with one chain: nβ times the mean of K over the draws, at nβ = 1/ε (so it sits at the same ε as λ(ε)), γ = 0, with reflecting walls on the box.',
    tex: '\\hat\\lambda = n\\beta\\cdot \\frac{1}{T}\\sum_t K(w_t),\\qquad n\\beta = 1/\\epsilon',
    source: 'SCIENCE.md §4.1; src/core/llc/landscapes.ts',
  },
  quadraticLlc: {
    label: 'quadratic prediction',
    definition: 'What SGLD would return if the loss were exactly quadratic with Hessian H: each direction counts ½ once nβh ≫ γ and 0 when nβh ≪ γ. Plotted against ε = 1/(nβ) at fixed γ; SGLD above it means higher-order structure.',
    tex: '\\lambda_{\\text{quad}}(n\\beta) = \\sum_{i} \\frac{1}{2}\\,\\frac{n\\beta\\, h_i}{n\\beta\\, h_i + \\gamma}',
    source: 'SCIENCE.md §4.2; src/core/llc/quadratic.ts',
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
    source: 'SCIENCE.md §5; src/core/llc/sgld.ts',
  },
  gamma: {
    label: 'localization γ',
    definition: 'Strength of the Gaussian pull toward w* that keeps the sampler local; directions with nβh ≪ γ are held by it rather than by the loss and count 0.',
    tex: 'p(w) \\propto \\exp\\Bigl(-n\\beta\\, L(w) - \\frac{\\gamma}{2}\\lVert w - w^* \\rVert^2\\Bigr)',
    source: 'SCIENCE.md §4–5',
  },
  nBeta: {
    label: 'nβ',
    definition: 'The inverse temperature times the number of training rows. Default n/log n (Watanabe\'s β* = 1/log n); optionally batch/log batch (devinterp\'s default). The loss scale is its reciprocal, ε = 1/(nβ).',
    tex: 'n\\beta = \\frac{n}{\\log n}\\quad\\Bigl(\\text{or } \\frac{B}{\\log B}\\Bigr),\\qquad \\epsilon = \\frac{1}{n\\beta}',
    source: 'SCIENCE.md §5; src/core/llc/sgld.ts',
  },
  chains: {
    label: 'chains',
    definition: 'Independent SGLD chains from w*, each with its own seeded noise and minibatch order; λ̂ is the mean over chains, ± their sample standard deviation.',
    tex: '\\hat\\lambda = \\frac{1}{C}\\sum_{c=1}^{C} \\hat\\lambda_c \\pm \\operatorname{std}_c(\\hat\\lambda_c)',
    source: 'SCIENCE.md §5',
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
    source: 'SCIENCE.md §5; src/core/llc/defaults.ts',
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
    source: 'SCIENCE.md §5',
  },
  initLoss: {
    label: 'L(w*)',
    definition: 'The loss at the starting point over the full training data (not one minibatch): the baseline λ̂ subtracts.',
    tex: 'L(w^*) = \\frac{1}{n}\\sum_{i=1}^{n} \\ell_i(w^*)',
    source: 'SCIENCE.md §5',
  },
  fractionBelow: {
    label: 'draws below L(w*)',
    definition: 'Fraction of draws whose loss is below L(w*). Large values mean w* is not a local minimum at this scale (or minibatch noise dominates), and λ̂ is then unreliable.',
    tex: '\\frac{1}{CT}\\,\\#\\{\\, (c, t) : L(w_t^{(c)}) < L(w^*) \\,\\}',
    source: 'SCIENCE.md §5; src/core/llc/sgld.ts',
  },
  mala: {
    label: 'MALA acceptance',
    definition: 'The Metropolis–Hastings acceptance probability each Langevin step would have had (nothing is rejected): a discretization health check, healthy around 0.9. Exact with full batches, indicative with minibatches.',
    tex: '\\log\\alpha = U(w_t) - U(w_{t+1}) - \\frac{\\epsilon_s}{8}\\lVert s \\rVert^2 + \\frac{\\sqrt{\\epsilon_s}}{2}\\langle s, \\xi_t \\rangle,\\quad s = \\nabla U(w_t) + \\nabla U(w_{t+1})',
    source: 'SCIENCE.md §5; src/core/llc/sgld.ts',
  },
  calibrationGrid: {
    label: 'calibration grid',
    definition: 'λ̂ over a grid of step sizes ε_s × inverse temperatures nβ (one short chain each), to pick a step that is stable and relaxed; unhealthy cells are listed.',
    tex: '\\hat\\lambda(\\epsilon_s, n\\beta)\\ \\text{for}\\ \\epsilon_s \\in \\{\\tfrac{s}{10}, \\tfrac{s}{3}, s, 3s\\},\\ n\\beta \\in \\{30, 100, 300, 1000\\}',
    source: 'SCIENCE.md §5',
  },

  // ------------------------------------------------------------------ neurons and synchronization
  layerWidth: {
    label: 'neurons',
    definition: 'The number of neurons d^l of the layer (its width), not counting the constant-1 bias coordinate.',
    tex: 'f^l(x) \\in \\mathbb{R}^{d^l}',
    source: 'degeneracy paper §3',
  },
  firingPattern: {
    label: 'firing pattern r_i',
    definition: 'Whether ReLU neuron i is on at input x. The app records 0/1 and counts a preactivation of exactly 0 as off (the paper sets r = 1 there).',
    tex: 'r_i(x) = \\begin{cases} 1 & p_i(x) > 0 \\\\ 0 & \\text{otherwise} \\end{cases},\\qquad p_i(x) = \\textstyle\\sum_j W_{ij} f_j(x) + b_i',
    source: 'degeneracy paper eq. 14; SCIENCE.md §6',
  },
  firingFraction: {
    label: 'firing fraction',
    definition: 'The share of inputs on which a ReLU neuron fires. 0 is a dead neuron, 1 an always-on (linear) one.',
    tex: '\\phi_i = \\frac{1}{n}\\sum_{x} r_i(x)',
    source: 'SCIENCE.md §6',
  },
  deadNeuron: {
    label: 'dead neuron',
    definition: 'A ReLU neuron that never fires on the data: its incoming weights and bias (fan-in) and its outgoing weights (fan-out) are all free directions.',
    tex: 'r_i(x) = 0 \\quad \\forall x \\in \\mathcal{D}',
    source: 'SCIENCE.md §6; src/core/internals/zeros.ts',
  },
  alwaysOnNeuron: {
    label: 'always-on neuron',
    definition: 'A ReLU neuron that fires on every data point, so it acts linearly there; always-on neurons are synchronized with each other.',
    tex: 'r_i(x) = 1 \\quad \\forall x \\in \\mathcal{D}',
    source: 'SCIENCE.md §6',
  },
  syncBlock: {
    label: 'synchronized block S_a',
    definition: 'A group of ReLU neurons with the same firing pattern on all training points (or within a tolerance). Mixing neurons inside a block by C = I + εA, with W^l → CW^l and W^{l+1} → W^{l+1}C⁻¹, leaves the outputs unchanged. Approximate blocks are formed greedily around representatives.',
    tex: 'S_a = \\{\\, i : r_i(x) = r_{S_a}(x)\\ \\forall x \\in \\mathcal{D} \\,\\}',
    source: 'degeneracy paper §3.2, eq. 16; SCIENCE.md §6',
  },
  largestBlock: {
    label: 'largest block',
    definition: 'The number of neurons in the biggest synchronized block.',
    tex: '\\max_a |S_a|',
    source: 'SCIENCE.md §6',
  },
  blockRank: {
    label: 'block rank s_a',
    definition: 'The dimension of the span of the block\'s preactivations over the data: the numerical rank of their uncentred Gram (singular values above 10⁻⁴ of the largest).',
    tex: 's_a = \\dim \\operatorname{span}\\{\\, p_k \\mid k \\in S_a \\,\\} = \\operatorname{rank}\\Bigl(\\frac{1}{n}\\sum_x p_{S_a}(x)\\, p_{S_a}(x)^\\top\\Bigr)',
    source: 'degeneracy paper eq. 19; src/core/internals/syncGroups.ts',
  },
  syncN: {
    label: 'free directions N',
    definition: 'Free directions predicted by synchronization: each block contributes its rank squared; singleton blocks give the usual ReLU rescaling freedom, 1 each.',
    tex: 'N = \\sum_a s_a^2',
    source: 'degeneracy paper eq. 20; SCIENCE.md §6',
  },
  syncDedup: {
    label: 'sync (de-duplicated) Σ s_a·ρ_a',
    definition: 'The app\'s de-duplicated synchronization count, used in the predicted total: block mixings already counted as fan-in or fan-out zeros are removed by using ρ_a, the rank of K on the block, in place of one factor s_a. Eq. 20 assumes ρ_a = s_a; they differ for duplicated or dead neurons.',
    tex: '\\sum_a s_a\\, \\rho_a,\\qquad \\rho_a = \\operatorname{rank}\\bigl(K^l|_{S_a}\\bigr)\\ \\text{at}\\ \\epsilon',
    source: 'src/core/internals/zeros.ts (departs from degeneracy paper eq. 20)',
  },
  syncTol: {
    label: 'tolerance',
    definition: 'How different two neurons may be and still count as synchronized, in the chosen measure. 0 with the fraction measure gives exact blocks.',
    tex: 'i \\sim j \\iff \\operatorname{dist}(i, j) \\le \\text{tol}',
    source: 'SCIENCE.md §6; src/core/internals/sync.ts',
  },
  syncFraction: {
    label: 'pattern difference',
    definition: 'The share of data points on which two neurons\' firing patterns differ (a Hamming distance).',
    tex: '\\operatorname{dist}(i, j) = \\frac{1}{n}\\,\\#\\{\\, x : r_i(x) \\ne r_j(x) \\,\\}',
    source: 'src/core/internals/sync.ts',
  },
  eq17: {
    label: 'eq. 17 sync measure',
    definition: 'Eq. 17 as printed does not vanish for synchronized neurons, so the app uses the quantity it stands for: the error of mixing neuron j into i, divided by j\'s preactivation energy so it lies in [0, 1]. Two neurons are neighbours when both directions are ≤ tol.',
    tex: '\\tilde e(i \\leftarrow j) = \\frac{\\frac{1}{n}\\sum_x \\bigl(r_i(x) - r_j(x)\\bigr)^2 p_j(x)^2}{\\frac{1}{n}\\sum_x p_j(x)^2},\\qquad \\max\\bigl(\\tilde e(i\\leftarrow j), \\tilde e(j \\leftarrow i)\\bigr) \\le \\text{tol}',
    source: 'degeneracy paper eq. 17 (corrected); src/core/internals/sync.ts',
  },

  // ------------------------------------------------------------------ Grams and predicted zeros
  gramG: {
    label: 'Gram G^l',
    definition: 'The activation Gram of the layer feeding a weight block, with a constant-1 coordinate when the block has a bias. Each (near-)zero eigenvalue is an activation direction never used, freeing d^{l+1} outgoing weights.',
    tex: 'G^l = \\frac{1}{n}\\sum_x \\bar f^l(x)\\, \\bar f^l(x)^\\top,\\qquad \\bar f^l = \\begin{bmatrix} f^l \\\\ 1 \\end{bmatrix}',
    source: 'degeneracy paper eq. 11, 23 (note 6); SCIENCE.md §6',
  },
  gramK: {
    label: 'Gram K^l',
    definition: 'The Gram of the output Jacobians with respect to the next layer\'s preactivations. Each (near-)zero eigenvalue is a preactivation direction the outputs ignore, freeing its incoming weights (and bias).',
    tex: 'K^l = \\frac{1}{n}\\sum_x \\sum_k \\Bigl(\\frac{\\partial f_k(x)}{\\partial p^{l+1}}\\Bigr)^{\\!\\top} \\frac{\\partial f_k(x)}{\\partial p^{l+1}}',
    source: 'degeneracy paper eq. 12, 24; SCIENCE.md §6',
  },
  gramM: {
    label: 'Jacobian Gram M^l',
    definition: 'The output-Jacobian Gram taken with respect to the layer\'s activations instead of the next preactivations: K pulled back through the weights.',
    tex: 'M^l = \\frac{1}{n}\\sum_x \\sum_k \\Bigl(\\frac{\\partial f_k}{\\partial \\bar f^l}\\Bigr)^{\\!\\top} \\frac{\\partial f_k}{\\partial \\bar f^l} = \\bar W^\\top K^l\\, \\bar W',
    source: 'degeneracy paper eq. 25; src/core/internals/grams.ts',
  },
  blockParams: {
    label: 'params',
    definition: 'Parameters in the weight block (weights and bias of one layer transition).',
    tex: 'd^{l+1} \\times (d^l + 1)\\ \\text{(with bias)}',
    source: 'src/core/internals/grams.ts',
  },
  gZeros: {
    label: 'G zeros',
    definition: 'Eigenvalues g_b of G^l counted as zero at ε: even the stiffest fan-out direction they spawn in the Kronecker picture, 2·g_b·κ_max, is ≤ ε. Exact zeros count at every ε.',
    tex: '\\#\\{\\, b : 2\\, g_b\\, \\kappa_{\\max}(K^l) \\le \\epsilon \\,\\}',
    source: 'src/core/internals/zeros.ts',
  },
  kZeros: {
    label: 'K zeros',
    definition: 'Eigenvalues κ_a of K^l counted as zero at ε: 2·κ_a·g_max ≤ ε.',
    tex: '\\#\\{\\, a : 2\\, \\kappa_a\\, g_{\\max}(G^l) \\le \\epsilon \\,\\}',
    source: 'src/core/internals/zeros.ts',
  },
  fanOut: {
    label: 'fan-out',
    definition: 'Hessian zero directions from unused activation directions: each zero of G frees one weight per output neuron.',
    tex: '\\#\\text{zeros}(G^l) \\cdot d^{l+1}',
    source: 'degeneracy paper §3.1.1; SCIENCE.md §6',
  },
  fanIn: {
    label: 'fan-in',
    definition: 'Hessian zero directions from ignored preactivation directions: each zero of K frees one weight per input coordinate, bias included (the paper counts d^l).',
    tex: '\\#\\text{zeros}(K^l) \\cdot (d^l + 1)',
    source: 'degeneracy paper §3.1.2; SCIENCE.md §6',
  },
  overlap: {
    label: 'overlap',
    definition: 'Directions u ⊗ v with u in the null space of K and v in that of G: counted in both fan-out and fan-in, so subtracted once.',
    tex: '\\#\\text{zeros}(G^l) \\cdot \\#\\text{zeros}(K^l)',
    source: 'src/core/internals/zeros.ts',
  },
  predictedZeros: {
    label: 'predicted',
    definition: 'The block\'s predicted Hessian zero count at ε, de-duplicated: fan-out + fan-in − overlap + the de-duplicated sync count Σ s_a·ρ_a (not the N = Σ s_a² of the sync column). Compare the total with the measured d − d₁(ε).',
    tex: 'Z = \\text{fan-out} + \\text{fan-in} - \\text{overlap} + \\sum_a s_a \\rho_a',
    source: 'src/core/internals/zeros.ts',
  },

  // ------------------------------------------------------------------ interaction basis
  interactionBasis: {
    label: 'interaction basis',
    definition: 'A per-layer basis that whitens the activations (G), then diagonalizes the Jacobian Gram in those coordinates (M̃), dropping zero directions of both. It is invariant to any invertible linear reparametrization of the layer, up to signs.',
    tex: '\\hat f = C f,\\qquad C = (D_M^{-1/2})^{+}\\, V\\, (D_G^{-1/2})^{+}\\, U',
    source: 'degeneracy paper §4, app. D; SCIENCE.md §7',
  },
  rankG: {
    label: 'rank G',
    definition: 'The numerical rank of the activation Gram: eigenvalues above 10⁻⁵ of the largest.',
    tex: '\\operatorname{rank} G = \\#\\{\\, b : g_b > 10^{-5}\\, g_1 \\,\\}',
    source: 'src/core/internals/interaction.ts',
  },
  basisSize: {
    label: 'basis size',
    definition: 'Directions kept after both pseudo-inverses (zero directions of G and of M̃ dropped): at most rank G.',
    tex: 'r = \\#\\{\\, i : (D_M)_i > 10^{-5} (D_M)_1 \\,\\} \\le \\operatorname{rank} G',
    source: 'src/core/internals/interaction.ts',
  },
  edgeStrength: {
    label: 'edge strength',
    definition: 'The mean square output variation carried from node j of one layer to node i of the next, in either basis; unchanged by rescaling any node.',
    tex: 'E_{ij} = \\sqrt{\\mathbb{E}_x\\bigl[T_{ij}(x)^2\\bigr]\\, \\hat G^l_{jj}\\, \\hat M^{l+1}_{ii}},\\qquad T(x) = \\frac{\\partial f^{l+1}}{\\partial f^l}',
    source: 'src/core/internals/interaction.ts',
  },
  gini: {
    label: 'Gini sparsity',
    definition: 'Gini coefficient of the edge strengths: 0 when all edges are equal, toward 1 when a few edges carry everything.',
    tex: '\\mathrm{Gini} = \\frac{\\sum_{i=1}^{m} (2i - m - 1)\\, a_{(i)}}{m \\sum_{i} a_{(i)}},\\quad a_{(1)} \\le \\cdots \\le a_{(m)}',
    source: 'src/core/internals/interaction.ts',
  },
  top10Share: {
    label: 'top-10 % share',
    definition: 'The fraction of the total edge strength carried by the strongest 10 % of edges (at least one).',
    tex: '\\frac{\\sum_{i \\le \\lceil 0.1\\, m \\rceil} a_{[i]}}{\\sum_{i} a_{[i]}},\\quad a_{[1]} \\ge a_{[2]} \\ge \\cdots',
    source: 'src/core/internals/interaction.ts',
  },

  // ------------------------------------------------------------------ Fourier
  fourierNorm: {
    label: 'norm per frequency',
    definition: 'The size of frequency k in the token embedding: the embedding matrix projected on the orthonormal cos and sin waves of frequency k over the tokens.',
    tex: '\\lVert k \\rVert = \\sqrt{\\lVert E^\\top \\hat c_k \\rVert^2 + \\lVert E^\\top \\hat s_k \\rVert^2},\\quad \\hat c_k(a) = \\sqrt{2/p}\\cos\\frac{2\\pi k a}{p}',
    source: 'SCIENCE.md §8; src/core/internals/fourier.ts',
  },
  keyFrequency: {
    label: 'key frequency',
    definition: 'Frequencies the embedding concentrates on: the top group of a two-class (Otsu) split of the log energies, kept only if its geometric-mean energy is ≥ 4× the rest.',
    tex: '\\arg\\max_m\\ w_{\\text{top}}\\, w_{\\text{rest}}\\, (\\mu_{\\text{top}} - \\mu_{\\text{rest}})^2,\\quad e^{\\mu_{\\text{top}} - \\mu_{\\text{rest}}} \\ge 4',
    source: 'seed 003; src/core/internals/fourier.ts',
  },
  keyEnergyFraction: {
    label: 'key energy share',
    definition: 'The key frequencies\' share of the embedding\'s non-constant energy (the per-token mean, frequency 0, is left out).',
    tex: '\\frac{\\sum_{k \\in \\text{key}} \\lVert k \\rVert^2}{\\sum_{k \\ge 1} \\lVert k \\rVert^2}',
    source: 'src/core/internals/fourier.ts',
  },
  circularity: {
    label: 'circularity',
    definition: 'How round the tokens\' projection onto a frequency\'s (cos, sin) plane is: the coefficient of variation of the radius. 0 is a perfect circle.',
    tex: '\\frac{\\operatorname{std}_a(r_a)}{\\operatorname{mean}_a(r_a)},\\qquad r_a = \\lVert \\Pi_k (E_a - \\bar E) \\rVert',
    source: 'SCIENCE.md §8; src/core/internals/fourier.ts',
  },
  fourierCircuit: {
    label: 'learned circuit',
    definition: 'A key frequency whose projection is a circle (circularity ≤ 0.2): tokens placed at angle 2πka/p, the representation modular addition uses.',
    tex: 'k \\in \\text{key},\\quad \\frac{\\operatorname{std}(r)}{\\operatorname{mean}(r)} \\le 0.2',
    source: 'seed 003; src/core/internals/fourier.ts',
  },
};

export const TERM_IDS = Object.keys(GLOSSARY) as TermId[];

export function isTermId(id: string): id is TermId {
  return Object.prototype.hasOwnProperty.call(GLOSSARY, id);
}

/** Plain text "definition — source", for an SVG <title> or a native title attribute. */
export function termTitle(id: TermId): string {
  const g = GLOSSARY[id];
  return `${g.definition} — ${g.source}`;
}
