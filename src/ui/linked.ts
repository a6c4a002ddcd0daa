/**
 * Small pure helpers behind the linked views: translating the shared band of eigenvalues / loss
 * scales to and from rank intervals, and ranking a neuron's eigenvectors.
 */

/** A loss scale just below eigenvalue h, so that h counts as above it (d₁(ε) = k for ε just below h_k, ties aside). */
export const justBelow = (h: number): number => h * (1 - 1e-9);

/** How many of the (descending) eigenvalues lie in [lo, hi]. */
export function countInBand(eigenvalues: ArrayLike<number>, band: [number, number]): number {
  let c = 0;
  for (let i = 0; i < eigenvalues.length; i++) if (eigenvalues[i] >= band[0] && eigenvalues[i] <= band[1]) c++;
  return c;
}

/** The ranks k (1-based, inclusive) whose eigenvalues lie in [lo, hi], for descending eigenvalues; null if none. */
export function ranksInBand(eigenvalues: ArrayLike<number>, band: [number, number]): [number, number] | null {
  let first = -1, last = -1;
  for (let i = 0; i < eigenvalues.length; i++) {
    if (eigenvalues[i] >= band[0] && eigenvalues[i] <= band[1]) { if (first < 0) first = i; last = i; }
  }
  return first < 0 ? null : [first + 1, last + 1];
}

/** The eigenvalue interval a brushed rank interval [k0, k1] (fractional, any order) covers: [smallest positive h, largest h]; null if it holds no rank or no positive value. */
export function bandOfRanks(eigenvalues: ArrayLike<number>, k0: number, k1: number): [number, number] | null {
  const a = Math.max(1, Math.ceil(Math.min(k0, k1))), b = Math.min(eigenvalues.length, Math.floor(Math.max(k0, k1)));
  if (a > b) return null;
  const hi = eigenvalues[a - 1];
  if (!(hi > 0)) return null;
  // The smallest positive eigenvalue in the ranks (zero or negative ones sit at the log axis's floor).
  let lo = hi;
  for (let k = a; k <= b; k++) if (eigenvalues[k - 1] > 0) lo = Math.min(lo, eigenvalues[k - 1]);
  return lo < hi ? [lo, hi] : [justBelow(hi), hi];
}

/** The `count` largest entries of a profile (e.g. a neuron's share in each eigenvector), as [index, value] descending. */
export function topEntries(values: ArrayLike<number>, count: number): [number, number][] {
  const idx = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[b] - values[a]);
  return idx.slice(0, count).map((i) => [i, values[i]]);
}
