/** Glossary entries: models, data and training. */
import type { GlossaryEntry, TermId } from './types';

export const MODEL_TERMS = {
  // ------------------------------------------------------------------ model and data
  d: {
    label: 'parameters d',
    definition: 'The number of trainable parameters θ (every weight and bias, PyTorch tensor layout). The Hessian is d × d, so every spectrum has d eigenvalues.',
    tex: 'd = \\dim\\theta = \\textstyle\\sum_{T}\\,|T|',
    source: 'docs/science.md §1',
  },
  n: {
    label: 'data points n',
    definition: 'The number of data rows the loss and the Hessian average over: the training split by default (the Spectrum view can use all rows). SGLD uses the training rows.',
    tex: 'n = |\\mathcal{D}|,\\qquad L_B = \\frac{1}{n}\\sum_{x\\in\\mathcal{D}} \\lVert f_\\theta(x) - f_{\\theta^*}(x)\\rVert^2',
    source: 'docs/science.md §2',
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
    source: 'docs/science.md §1',
  },
  embedDim: {
    label: 'e',
    definition: 'Embedding width: each token gets a learned vector of e numbers (one table shared by both tokens).',
    tex: '\\texttt{embed.weight} \\in \\mathbb{R}^{p \\times e}',
    source: 'docs/science.md §1',
  },
  hiddenWidth: {
    label: 'h',
    definition: 'Hidden width: the number of neurons between the embeddings and the logits (ReLU for modadd, GELU for modadd-gelu).',
    tex: '\\texttt{hidden.weight} \\in \\mathbb{R}^{h \\times 2e}\\ \\text{(modadd)},\\quad \\texttt{left},\\texttt{right} \\in \\mathbb{R}^{h\\times e}\\ \\text{(gelu)}',
    source: 'docs/science.md §1',
  },
  mlpWidths: {
    label: 'hidden widths',
    definition: 'Widths of the hidden ReLU layers of the MNIST classifier, input 784 pixels and 10 logits at the ends.',
    tex: '784 \\to h_1 \\to \\cdots \\to h_L \\to 10',
    source: 'docs/science.md §1 (seed 002 A.1)',
  },
  matfacWidths: {
    label: 'widths',
    definition: 'Layer widths of the deep linear network (no biases, no nonlinearity): input, hidden widths, output. It is fit to y = A x by MSE.',
    tex: 'f_\\theta(x) = W_L \\cdots W_2 W_1 x,\\qquad W_l \\in \\mathbb{R}^{h_l \\times h_{l-1}}',
    source: 'docs/science.md §1 (seed 002 A.3)',
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
    source: 'docs/science.md §1; src/core/data/modadd.ts',
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
    source: 'docs/science.md §1; seed 003',
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
} satisfies Partial<Record<TermId, GlossaryEntry>>;
