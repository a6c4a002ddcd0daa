/** Summary statistics shared by the estimators (SLQ probes, SGLD chains, quadrature traces). */

/**
 * Mean, sample standard deviation (divisor n − 1) and standard error of the mean (std/√n) of a
 * list of independent estimates. std and stderr are NaN for fewer than two values.
 */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number; stderr: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  return { mean, std, stderr: std / Math.sqrt(n) };
}
