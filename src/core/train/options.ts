/**
 * Training options and metrics, and the options' validation (no tfjs: sessions and the page read
 * them; trainer.ts re-exports them).
 */
export interface TrainOptions {
  optimizer: 'adamw' | 'sgd';
  lr: number;
  /** AdamW: decoupled decay (θ ← θ − lr·wd·θ). SGD: L2 term added to the gradient. */
  weightDecay: number;
  /** Rows per step, or 'full' for full-batch gradient descent. */
  batchSize: number | 'full';
  steps: number;
  /** Seeds the minibatch order (the initial θ comes from the bundle). */
  seed: number;
  /** SGD momentum (PyTorch convention; ignored by AdamW). */
  momentum?: number;
  /**
   * Learning-rate schedule over the run (default 'constant'). 'cosine' is PyTorch's
   * CosineAnnealingLR(T_max = steps, eta_min = 0): step k (0-based) uses lr·(1 + cos(πk/steps))/2,
   * so a run ends settled in a minimum rather than bouncing around it.
   */
  schedule?: 'constant' | 'cosine';
  /** Evaluate train/test metrics every this many steps (0: only at the start and the end). */
  evalEvery: number;
  /** Snapshot θ every this many steps (0: none). */
  checkpointEvery: number;
}

/**
 * Losses are means over the split (cross-entropy for classifiers, MSE for matfac); accuracies
 * are fractions in [0, 1], present for classifiers only. A split with no rows gives NaN.
 */
export interface Metrics {
  step: number;
  trainLoss: number;
  testLoss: number;
  trainAcc?: number;
  testAcc?: number;
}

/** Problems with a set of options, in words a user can act on; empty when valid. */
export function validateTrainOptions(o: TrainOptions): string[] {
  const errs: string[] = [];
  const posInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const natInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (o.optimizer !== 'adamw' && o.optimizer !== 'sgd') errs.push(`optimizer must be "adamw" or "sgd" (got ${String(o.optimizer)})`);
  if (!(Number.isFinite(o.lr) && o.lr > 0)) errs.push(`learning rate must be a positive number (got ${o.lr})`);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) errs.push(`weight decay must be ≥ 0 (got ${o.weightDecay})`);
  if (o.batchSize !== 'full' && !posInt(o.batchSize)) errs.push(`batch size must be a positive integer or "full" (got ${String(o.batchSize)})`);
  if (!natInt(o.steps)) errs.push(`steps must be a whole number ≥ 0 (got ${o.steps})`);
  if (!Number.isInteger(o.seed)) errs.push(`seed must be an integer (got ${o.seed})`);
  if (o.momentum !== undefined && !(Number.isFinite(o.momentum) && o.momentum >= 0 && o.momentum < 1)) errs.push(`momentum must be in [0, 1) (got ${o.momentum})`);
  if (o.schedule !== undefined && o.schedule !== 'constant' && o.schedule !== 'cosine') errs.push(`schedule must be "constant" or "cosine" (got ${String(o.schedule)})`);
  if (!natInt(o.evalEvery)) errs.push(`evalEvery must be a whole number ≥ 0 (got ${o.evalEvery})`);
  if (!natInt(o.checkpointEvery)) errs.push(`checkpointEvery must be a whole number ≥ 0 (got ${o.checkpointEvery})`);
  return errs;
}
