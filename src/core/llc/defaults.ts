/**
 * Default SGLD hyperparameters per architecture, without tfjs (the UI reads them to fill its
 * form without loading the compute core; sgld.ts re-exports them).
 */
import type { AnyModelConfig } from '../models/config';
import { getArchSpec } from '../arch/registry';
import '../arch/specs';

/** Batch rows used when none is given (or the whole training set when it is smaller). */
export const DEFAULT_BATCH = 512;

/**
 * Per-architecture defaults (each architecture's ArchSpec.sgld, src/core/arch/<id>/spec.ts) for the training loss at the shipped (pretrained) models with
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
  /**
   * Nominal milliseconds per row per step beyond the d·rows term of the calibration's work budget
   * (llc/calibrate.ts nominalStepMs; default ROW_MS there): activations that cost more than their
   * parameter count says (GELU's erf, MNIST's 784 inputs), fitted on the reference machine.
   */
  rowCostMs?: number;
}

/** The architecture's defaults (ArchSpec.sgld, with the measurements behind them in its note). */
export function defaultSgldSettings(config: AnyModelConfig): SgldDefaults {
  return getArchSpec(config.arch).sgld;
}

