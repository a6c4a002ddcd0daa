/** Glossary entries: neurons, synchronization, Grams, the interaction basis and Fourier circuits. */
import type { GlossaryEntry, TermId } from './types';

export const INTERNALS_TERMS = {
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
    source: 'degeneracy paper eq. 14; docs/science.md §6',
  },
  firingFraction: {
    label: 'firing fraction',
    definition: 'The share of inputs on which a ReLU neuron fires. 0 is a dead neuron, 1 an always-on (linear) one.',
    tex: '\\phi_i = \\frac{1}{n}\\sum_{x} r_i(x)',
    source: 'docs/science.md §6',
  },
  deadNeuron: {
    label: 'dead neuron',
    definition: 'A ReLU neuron that never fires on the data: its incoming weights and bias (fan-in) and its outgoing weights (fan-out) are all free directions.',
    tex: 'r_i(x) = 0 \\quad \\forall x \\in \\mathcal{D}',
    source: 'docs/science.md §6; src/core/internals/zeros.ts',
  },
  alwaysOnNeuron: {
    label: 'always-on neuron',
    definition: 'A ReLU neuron that fires on every data point, so it acts linearly there; always-on neurons are synchronized with each other.',
    tex: 'r_i(x) = 1 \\quad \\forall x \\in \\mathcal{D}',
    source: 'docs/science.md §6',
  },
  syncBlock: {
    label: 'synchronized block S_a',
    definition: 'A group of ReLU neurons with the same firing pattern on all training points (or within a tolerance). Mixing neurons inside a block by C = I + εA, with W^l → CW^l and W^{l+1} → W^{l+1}C⁻¹, leaves the outputs unchanged. Approximate blocks are formed greedily around representatives.',
    tex: 'S_a = \\{\\, i : r_i(x) = r_{S_a}(x)\\ \\forall x \\in \\mathcal{D} \\,\\}',
    source: 'degeneracy paper §3.2, eq. 16; docs/science.md §6',
  },
  largestBlock: {
    label: 'largest block',
    definition: 'The number of neurons in the biggest synchronized block.',
    tex: '\\max_a |S_a|',
    source: 'docs/science.md §6',
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
    source: 'degeneracy paper eq. 20; docs/science.md §6',
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
    source: 'docs/science.md §6; src/core/internals/sync.ts',
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
    source: 'degeneracy paper eq. 11, 23 (note 6); docs/science.md §6',
  },
  gramK: {
    label: 'Gram K^l',
    definition: 'The Gram of the output Jacobians with respect to the next layer\'s preactivations. Each (near-)zero eigenvalue is a preactivation direction the outputs ignore, freeing its incoming weights (and bias).',
    tex: 'K^l = \\frac{1}{n}\\sum_x \\sum_k \\Bigl(\\frac{\\partial f_k(x)}{\\partial p^{l+1}}\\Bigr)^{\\!\\top} \\frac{\\partial f_k(x)}{\\partial p^{l+1}}',
    source: 'degeneracy paper eq. 12, 24; docs/science.md §6',
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
    source: 'degeneracy paper §3.1.1; docs/science.md §6',
  },
  fanIn: {
    label: 'fan-in',
    definition: 'Hessian zero directions from ignored preactivation directions: each zero of K frees one weight per input coordinate, bias included (the paper counts d^l).',
    tex: '\\#\\text{zeros}(K^l) \\cdot (d^l + 1)',
    source: 'degeneracy paper §3.1.2; docs/science.md §6',
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
    source: 'degeneracy paper §4, app. D; docs/science.md §7',
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
    source: 'docs/science.md §8; src/core/internals/fourier.ts',
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
    source: 'docs/science.md §8; src/core/internals/fourier.ts',
  },
  fourierCircuit: {
    label: 'learned circuit',
    definition: 'A key frequency whose projection is a circle (circularity ≤ 0.2): tokens placed at angle 2πka/p, the representation modular addition uses.',
    tex: 'k \\in \\text{key},\\quad \\frac{\\operatorname{std}(r)}{\\operatorname{mean}(r)} \\le 0.2',
    source: 'seed 003; src/core/internals/fourier.ts',
  },
} satisfies Partial<Record<TermId, GlossaryEntry>>;
