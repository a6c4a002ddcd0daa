/**
 * The Langevin steps the SGLD sampler (chain.ts) is made of, as named functions on the backend:
 * the potential U(w) = nβ L(w) + (γ/2)‖w − w*‖² and its drift, the MALA log-ratio, one unadjusted
 * SGLD step, one Metropolis-adjusted step, and a full-batch MALA probe. Each returns tensors the
 * caller owns (nothing is read back here: the sampler reads a batch of steps at once, see
 * readBack in chain.ts). Conventions and the formula for log α: sgld.ts's header.
 */
import * as tf from '@tensorflow/tfjs';
import type { SgldTarget } from './target';
import { fusedLangevinStep } from '../train/wasmKernels';

/** U, its (projected) gradient and ‖w − w*‖² at a point. */
export interface Potential { u: tf.Scalar; drift: tf.Tensor1D; dist2: tf.Scalar }

/** The state a Metropolis-adjusted chain keeps across steps: L, U, ∇U and ‖w − w*‖² at w. */
export interface ChainState extends Potential { value: tf.Scalar }

/** What a full-batch unadjusted chain keeps to score its previous transition's MALA ratio. */
export interface Transition { u: tf.Scalar; drift: tf.Tensor1D; xi: tf.Tensor1D }

export interface LangevinKernel {
  target: SgldTarget;
  nBeta: number;
  gamma: number;
  eps: number;
  /** Unit vector along ∇L(w*) when steps are restricted to its normal hyperplane, else null. */
  gHat: tf.Tensor1D | null;
}

/** v − (v·ĝ)ĝ: a vector restricted to the hyperplane normal to ∇L(w*) (v itself without ĝ). Inside tidy. */
export function project(k: LangevinKernel, v: tf.Tensor1D): tf.Tensor1D {
  return k.gHat ? tf.sub(v, tf.mul(k.gHat, tf.sum(tf.mul(v, k.gHat)))) as tf.Tensor1D : v;
}

/** U(w) = nβ L(w) + γ/2 ‖w − w*‖² and its (projected) gradient, from a loss value and gradient. Inside tidy. */
export function potential(k: LangevinKernel, at: tf.Tensor1D, value: tf.Scalar, grad: tf.Tensor1D): Potential {
  const diff = tf.sub(at, k.target.wStar);
  const dist2 = tf.sum(tf.square(diff)) as tf.Scalar;
  const u = tf.add(tf.mul(value, k.nBeta), tf.mul(dist2, k.gamma / 2)) as tf.Scalar;
  const drift = project(k, tf.add(tf.mul(grad, k.nBeta), tf.mul(diff, k.gamma)) as tf.Tensor1D);
  return { u, drift, dist2 };
}

/**
 * log α of a Langevin move x → y with drifts ∇U(x), ∇U(y) and the (projected) noise ξ:
 * U(x) − U(y) − (ε/8)‖s‖² + (√ε/2)⟨s, ξ⟩, s = ∇U(x) + ∇U(y). Inside tidy.
 */
export function logAlpha(k: LangevinKernel, u0: tf.Scalar, drift0: tf.Tensor1D, u1: tf.Scalar, drift1: tf.Tensor1D, xi: tf.Tensor1D): tf.Scalar {
  const s = tf.add(drift0, drift1);
  return tf.addN([tf.sub(u0, u1), tf.mul(tf.sum(tf.square(s)), -k.eps / 8), tf.mul(tf.sum(tf.mul(s, xi)), Math.sqrt(k.eps) / 2)]) as tf.Scalar;
}

/** The Langevin proposal x − (ε/2)∇U(x) + √ε ξ. Inside tidy. */
function propose(k: LangevinKernel, x: tf.Tensor1D, drift: tf.Tensor1D, noise: tf.Tensor1D): tf.Tensor1D {
  return tf.add(tf.sub(x, tf.mul(drift, k.eps / 2)), tf.mul(noise, Math.sqrt(k.eps))) as tf.Tensor1D;
}

/** The chain state at w (one full-batch loss and gradient). */
export function chainStateAt(k: LangevinKernel, w: tf.Tensor1D): ChainState {
  return tf.tidy(() => {
    const a = k.target.lossAndGrad(w, null);
    const p = potential(k, w, a.value, a.grad);
    return { value: a.value, ...p };
  });
}

/**
 * One Metropolis-adjusted step (MALA with rejection) from the state `cur` at w: propose y, accept
 * with min(1, α) against the uniform draw exp(logU); w is assigned the result. Returns the stats of
 * the state before the move ([L, ‖w − w*‖²], the draw of this step), log α, and the new state.
 * `cur` stays the caller's to dispose.
 */
export function metropolisStep(k: LangevinKernel, w: tf.Variable<tf.Rank.R1>, cur: ChainState, xi: Float32Array, logU: number): { stats: tf.Tensor1D; logAlpha: tf.Scalar; state: ChainState } {
  const out = tf.tidy((): tf.Tensor[] => {
    const noise = project(k, tf.tensor1d(xi, 'float32'));
    const y = propose(k, w, cur.drift, noise);
    const b = k.target.lossAndGrad(y, null);
    const p1 = potential(k, y, b.value, b.grad);
    const la = logAlpha(k, cur.u, cur.drift, p1.u, p1.drift, noise);
    // A NaN α (a proposal into overflow) compares false: rejected.
    const accept = tf.less(tf.scalar(logU), la);
    w.assign(tf.where(accept, y, w) as tf.Tensor1D);
    return [tf.stack([cur.value, cur.dist2]), la, tf.where(accept, b.value, cur.value), tf.where(accept, p1.u, cur.u), tf.where(accept, p1.drift, cur.drift), tf.where(accept, p1.dist2, cur.dist2)];
  });
  return {
    stats: out[0] as tf.Tensor1D, logAlpha: out[1] as tf.Scalar,
    state: { value: out[2] as tf.Scalar, u: out[3] as tf.Scalar, drift: out[4] as tf.Tensor1D, dist2: out[5] as tf.Scalar },
  };
}

/**
 * One unadjusted SGLD step on `rows` (null: all rows); w is assigned the result. Returns the stats
 * of w before the step. With `transition` (full-batch runs that measure MALA) it also returns this
 * step's U, drift and noise, and, given the previous step's, the log α of that previous transition.
 */
export function sgldStep(k: LangevinKernel, w: tf.Variable<tf.Rank.R1>, rows: Int32Array | null, xi: Float32Array, transition: { prev: Transition | null } | null): { stats: tf.Tensor1D; next?: Transition; prevLogAlpha?: tf.Scalar } {
  const out = tf.tidy((): tf.Tensor[] => {
    const rowsT = rows ? tf.tensor1d(rows, 'int32') : null;
    const { value, grad } = k.target.lossAndGrad(w, rowsT);
    if (!transition && !k.gHat) {
      // The plain step (no projection, nothing kept for a MALA ratio) as one fused kernel on wasm.
      const f = fusedLangevinStep(w, k.target.wStar, grad, tf.tensor1d(xi, 'float32'), k);
      if (f) {
        w.assign(f.next);
        return [tf.stack([value, f.dist2])];
      }
    }
    const { u, drift, dist2 } = potential(k, w, value, grad);
    const noise = project(k, tf.tensor1d(xi, 'float32'));
    w.assign(propose(k, w, drift, noise));
    const stats = tf.stack([value, dist2]);
    if (!transition) return [stats];
    const prev = transition.prev;
    if (!prev) return [stats, u, drift, noise];
    // log α of w_{t−1} → w_t on the full batch (the MALA ratio in sgld.ts's header).
    return [stats, u, drift, noise, logAlpha(k, prev.u, prev.drift, u, drift, prev.xi)];
  });
  if (out.length === 1) return { stats: out[0] as tf.Tensor1D };
  return {
    stats: out[0] as tf.Tensor1D,
    next: { u: out[1] as tf.Scalar, drift: out[2] as tf.Tensor1D, xi: out[3] as tf.Tensor1D },
    ...(out[4] ? { prevLogAlpha: out[4] as tf.Scalar } : {}),
  };
}

/** A full-batch MALA probe from w: one Langevin proposal with fresh noise and its exact log α (w is not moved). */
export function malaProbe(k: LangevinKernel, w: tf.Tensor1D, xi: Float32Array): tf.Scalar {
  return tf.tidy(() => {
    const a = k.target.lossAndGrad(w, null);
    const p0 = potential(k, w, a.value, a.grad);
    const z = project(k, tf.tensor1d(xi, 'float32'));
    const y = propose(k, w, p0.drift, z);
    const b = k.target.lossAndGrad(y, null);
    const p1 = potential(k, y, b.value, b.grad);
    return logAlpha(k, p0.u, p0.drift, p1.u, p1.drift, z);
  });
}
