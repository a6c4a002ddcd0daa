/**
 * Default SGLD hyperparameters per architecture, without tfjs (the UI reads them to fill its
 * form without loading the compute core; sgld.ts re-exports them).
 */
import type { ModelConfig } from '../models/config';

/** Batch rows used when none is given (or the whole training set when it is smaller). */
export const DEFAULT_BATCH = 512;

/**
 * Per-architecture defaults for the training loss at the shipped (pretrained) models with
 * nβ = n/log n, γ = 100, batch 512. Chosen from ε_s scans on wasm (seed 1, one chain, 100–300
 * draws after as many burn-in steps; "MALA" is the full-batch acceptance, the step's own
 * discretization health): the largest step with MALA ≳ 0.8 whose λ̂ agrees with smaller steps
 * once those have relaxed. The flat directions relax at rate ε_s γ / 2 per step, so burn-in should
 * be several times 2/(ε_s γ) steps (67 at ε_s = 3e-4, 200 at 1e-4, for γ = 100).
 */
export interface SgldDefaults {
  stepSize: number;
  gamma: number;
  note: string;
}

const DEFAULTS: Record<ModelConfig['arch'], SgldDefaults> = {
  modadd: {
    stepSize: 3e-4, gamma: 100,
    note: 'modadd p=53 (86,197 params, n = 2,247, nβ = 291): full-batch MALA 0.90 / 0.80 / 0.66 at ε_s = 1e-4 / 3e-4 / 1e-3; ' +
      'λ̂ 82.3 at 3e-4 and 84.6 at 1e-3 (200 steps), while 1e-4 had not relaxed after 600 steps (75.7, ‖w − w*‖ still growing).',
  },
  'modadd-gelu': {
    stepSize: 3e-4, gamma: 100,
    note: 'modadd-gelu p=53 (4,849 params, nβ = 291): full-batch MALA 0.96 / 0.83 / 0.61 at ε_s = 3e-4 / 1e-3 / 3e-3 with λ̂ 28.8 / 29.3 / 31.8; ' +
      '1e-4 and below had not relaxed in 200 steps (λ̂ 19.8 at 1e-4).',
  },
  'mnist-mlp': {
    stepSize: 1e-4, gamma: 100,
    note: 'mnist-mlp 784-50-50-10 (42,310 params, n = 8,000, nβ = 890): full-batch MALA 0.92 / 0.77 at ε_s = 1e-4 / 3e-4 (λ̂ 91.9 / 92.1); ' +
      'with batch 512, λ̂ 87 / 101 / 231 at 1e-4 / 3e-4 / 1e-3 (MALA 0.2 at 1e-3: too large). Use burn-in ≥ 400 at 1e-4.',
  },
  matfac: {
    stepSize: 1e-3, gamma: 100,
    note: 'matfac 20-20-20 (800 params, n = 20, nβ = 6.7): full-batch MALA 0.997 / 0.92 / 0.53 at ε_s = 1e-4 / 1e-3 / 1e-2 with λ̂ 2.85 (not relaxed) / 3.24 / 4.26. ' +
      'With only 20 rows nβ = n/log n is far below γ: set nβ explicitly to probe the landscape.',
  },
};

export function defaultSgldSettings(config: ModelConfig): SgldDefaults {
  return DEFAULTS[config.arch];
}

