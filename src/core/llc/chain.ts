/**
 * The SGLD chain sampler on a target (target.ts): traces, λ̂ and its health verdict for fully
 * resolved options. estimateLlc (sgld.ts) resolves and calibrates the options first; the
 * conventions are in sgld.ts's header.
 */
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../errors';
import type { JobContext } from '../jobs';
import { makeRng, permutation, type Rng } from '../rng';
import { meanStd } from '../stats';
import { assessHealth } from './health';
import type { SgldTarget } from './target';
import type { CalibrationReport } from './calibrate';
import { DIVERGENCE_RADII, SgldDivergedError, type ResolvedSgldOptions, type SgldChainResult, type SgldPartial, type SgldResult } from './options';

export {
  FULL_BATCH_ROWS, resolveSgldOptions, validateSgldOptions, SgldDivergedError,
  type NBetaMode, type ResolvedSgldOptions, type SgldChainResult, type SgldLossKind, type SgldOptions, type SgldPartial, type SgldResult,
} from './options';

/** Fills `out` with standard normals from the chain's noise stream. */
function normals(rng: Rng, d: number): Float32Array {
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) out[i] = rng.normal();
  return out;
}

export function fmtSmall(v: number): string {
  return v.toExponential(1).replace('e-', 'e−');
}

/** What the calibration hands the sampler besides the options (for the health verdict). */
export interface SampleExtras {
  calibration?: CalibrationReport;
  gammaConfirmed?: boolean;
  calibrationDoubts?: string[];
}

/**
 * SGLD chains on a target with fully resolved options: the traces, λ̂ and its health verdict.
 * Cancellable (ctx.checkpoint every step); progress and partials every readEvery steps. The
 * target stays owned by the caller.
 */
export async function sampleLlc(target: SgldTarget, o: ResolvedSgldOptions, ctx: JobContext<SgldPartial>, extras: SampleExtras = {}): Promise<SgldResult> {
  const t0 = performance.now();
  const d = target.d, n = target.n;
  const steps = o.burnin + o.draws;
  const { nBeta, gamma, stepSize: eps } = o;
  const sqrtEps = Math.sqrt(eps);
  const maxDist = gamma > 0 ? DIVERGENCE_RADII * Math.sqrt(d / gamma) : Infinity;
  const fullBatch = o.fullBatch || n <= o.batchSize;
  const adjust = o.metropolis && fullBatch;
  const w = tf.variable(target.wStar, false, undefined, 'float32') as tf.Variable<tf.Rank.R1>;
  const chains: SgldChainResult[] = [];
  let gHat: tf.Tensor1D | null = null;
  let diverged: SgldResult['diverged'];

  ctx.progress(0, 'L(w*) on the full training data');
  let initLoss = 0;
  try {
    if (target.kind !== 'behavioral') {
      const l0 = tf.tidy(() => target.fullLoss(target.wStar));
      initLoss = (await l0.data())[0];
      l0.dispose();
      if (!Number.isFinite(initLoss)) throw new BadInputError(`The loss at w* is ${initLoss}: SGLD needs a finite loss`);
    }
    if (o.normalToGradient) {
      const g = tf.tidy(() => target.lossAndGrad(target.wStar, null).grad);
      const norm = (await tf.tidy(() => tf.norm(g)).data())[0];
      if (norm > 1e-20) gHat = tf.tidy(() => tf.div(g, norm) as tf.Tensor1D);
      g.dispose();
    }
    await ctx.checkpoint();
    // v − (v·ĝ)ĝ: the step restricted to the hyperplane normal to ∇L(w*).
    const proj = (v: tf.Tensor1D): tf.Tensor1D => (gHat ? tf.sub(v, tf.mul(gHat, tf.sum(tf.mul(v, gHat)))) as tf.Tensor1D : v);
    /** U(w) = nβ L(w) + γ/2 ‖w − w*‖² and its (projected) gradient, from a loss value and gradient. Inside tidy. */
    const potential = (at: tf.Tensor1D, value: tf.Scalar, grad: tf.Tensor1D) => {
      const diff = tf.sub(at, target.wStar);
      const dist2 = tf.sum(tf.square(diff));
      const u = tf.add(tf.mul(value, nBeta), tf.mul(dist2, gamma / 2)) as tf.Scalar;
      const drift = proj(tf.add(tf.mul(grad, nBeta), tf.mul(diff, gamma)) as tf.Tensor1D);
      return { u, drift, dist2 };
    };
    /** log α of a Langevin move x → y with drifts ∇U(x), ∇U(y) and the (projected) noise ξ. Inside tidy. */
    const logAlpha = (u0: tf.Scalar, drift0: tf.Tensor1D, u1: tf.Scalar, drift1: tf.Tensor1D, xi: tf.Tensor1D): tf.Scalar => {
      const s = tf.add(drift0, drift1);
      return tf.addN([tf.sub(u0, u1), tf.mul(tf.sum(tf.square(s)), -eps / 8), tf.mul(tf.sum(tf.mul(s, xi)), sqrtEps / 2)]) as tf.Scalar;
    };

    const master = makeRng(o.seed);
    const streams = Array.from({ length: o.chains }, () => ({ noise: makeRng(master.fork()), batch: makeRng(master.fork()) }));
    const probeStreams = Array.from({ length: o.chains }, () => makeRng(master.fork()));
    // Forked after the others, so the noise and batch streams of a seed are the same with or without it.
    const acceptStreams = Array.from({ length: o.chains }, () => makeRng(master.fork()));

    for (let c = 0; c < o.chains && !diverged; c++) {
      w.assign(target.wStar);
      const noiseRng = streams[c].noise, batchRng = streams[c].batch, probeRng = probeStreams[c], acceptRng = acceptStreams[c];
      let order: Int32Array | null = null, cursor = 0;
      const nextRows = (): Int32Array | null => {
        if (fullBatch) return null;
        // Epochs of a seeded permutation, like DataLoader(shuffle=True, drop_last=True): every batch
        // has exactly batchSize rows, so the device sees one shape (GPU pipelines compile once).
        if (!order || cursor + o.batchSize > n) { order = permutation(n, batchRng); cursor = 0; }
        const rows = order.subarray(cursor, cursor + o.batchSize);
        cursor += o.batchSize;
        return rows;
      };
      const lossTrace = new Float32Array(steps).fill(NaN), distTrace = new Float32Array(steps).fill(NaN);
      const accTrace = o.mala || adjust ? new Float32Array(steps).fill(NaN) : undefined;
      const fullSteps: number[] = [], fullVals: number[] = [];
      // Per step: [L, ‖w − w*‖²]; with mala, log α values (of a transition or a probe); full-data losses.
      let pending: tf.Tensor[] = [];
      let pendingAlpha: { step: number; t: tf.Scalar }[] = [];
      let pendingFull: { step: number; t: tf.Scalar }[] = [];
      let prev: { u: tf.Scalar; drift: tf.Tensor1D; xi: tf.Tensor1D } | null = null;
      // Metropolis-adjusted runs: the current state's L, U, ∇U and ‖w − w*‖² (kept across steps).
      let cur: { value: tf.Scalar; u: tf.Scalar; drift: tf.Tensor1D; dist2: tf.Scalar } | null = null;
      let readFrom = 0;
      let drawSum = 0, drawCount = 0;
      let stoppedAt = -1;

      const readPending = async (upTo: number): Promise<void> => {
        if (upTo === readFrom) return;
        // One read for everything queued (one GPU round trip).
        const nA = pendingAlpha.length, nF = pendingFull.length;
        const packed = tf.tidy(() => tf.concat([
          tf.reshape(tf.stack(pending), [-1]),
          ...(nA ? [tf.stack(pendingAlpha.map((a) => a.t))] : []),
          ...(nF ? [tf.stack(pendingFull.map((a) => a.t))] : []),
        ]));
        const all = await packed.data();
        const alphaSteps = pendingAlpha.map((a) => a.step), fullStepList = pendingFull.map((a) => a.step);
        tf.dispose([packed, ...pending, ...pendingAlpha.map((a) => a.t), ...pendingFull.map((a) => a.t)]);
        pending = []; pendingAlpha = []; pendingFull = [];
        const vals = all.subarray(0, 2 * (upTo - readFrom));
        const alphas = nA ? all.subarray(vals.length, vals.length + nA) : null;
        const fulls = nF ? all.subarray(vals.length + nA) : null;
        for (let t = readFrom; t < upTo; t++) {
          const l = vals[(t - readFrom) * 2], dist = Math.sqrt(vals[(t - readFrom) * 2 + 1]);
          if (!Number.isFinite(l) || !Number.isFinite(dist) || dist > maxDist) {
            const what = !Number.isFinite(l) ? `the loss became ${l}` : !Number.isFinite(dist) ? `‖w − w*‖ became ${dist}` : `‖w − w*‖ reached ${dist.toPrecision(3)}, beyond ${DIVERGENCE_RADII}·√(d/γ) = ${maxDist.toPrecision(3)}`;
            const message = `SGLD diverged in chain ${c + 1} of ${o.chains} at step ${t + 1} of ${steps}: ${what}. ` +
              `Try a smaller step size (ε_s = ${fmtSmall(eps)} now, e.g. ${fmtSmall(eps / 10)}) or a larger γ (now ${gamma}).`;
            if (o.onDivergence === 'throw') throw new SgldDivergedError(message, c, t);
            diverged = { chain: c, step: t, message };
            stoppedAt = t;
            break;
          }
          lossTrace[t] = l;
          distTrace[t] = dist;
          if (t >= o.burnin) { drawSum += l - initLoss; drawCount++; }
        }
        if (alphas && accTrace) alphaSteps.forEach((s, i) => { accTrace[s] = Math.min(1, Math.exp(alphas[i])); });
        if (fulls) fullStepList.forEach((s, i) => { fullSteps.push(s); fullVals.push(fulls[i]); });
        const to = stoppedAt >= 0 ? stoppedAt : upTo;
        const partial: SgldPartial = {
          chain: c, chains: o.chains, fromStep: readFrom, stepsPerChain: steps, burnin: o.burnin,
          loss: lossTrace.slice(readFrom, to), distance: distTrace.slice(readFrom, to),
          runningLlc: drawCount > 0 ? nBeta * (drawSum / drawCount) : NaN,
          finishedLlcs: chains.map((ch) => ch.llc), initLoss, nBeta,
        };
        if (accTrace) partial.acceptance = accTrace.slice(readFrom, to);
        if (fulls) partial.fullLoss = { steps: Int32Array.from(fullStepList), loss: Float64Array.from(fulls) };
        ctx.partial(partial);
        readFrom = upTo;
        ctx.progress((c * steps + upTo) / (o.chains * steps), `chain ${c + 1}/${o.chains}, ${upTo <= o.burnin ? `burn-in ${upTo}/${o.burnin}` : `draw ${upTo - o.burnin}/${o.draws}`}`);
      };

      try {
        for (let t = 0; t < steps && stoppedAt < 0; t++) {
          await ctx.checkpoint();
          const rows = nextRows();
          const xi = normals(noiseRng, d);
          const draw = t - o.burnin;
          if (o.fullLossEvery > 0 && draw >= 0 && draw % o.fullLossEvery === 0) {
            pendingFull.push({ step: t, t: tf.tidy(() => target.fullLoss(w)) });
          }
          // A full-batch MALA probe from w_t (minibatch runs only; the chain is not moved by it).
          if (o.mala && !fullBatch && draw >= 0 && (draw + 1) % o.malaEvery === 0) {
            const probeXi = normals(probeRng, d);
            pendingAlpha.push({
              step: t,
              t: tf.tidy(() => {
                const a = target.lossAndGrad(w, null);
                const p0 = potential(w, a.value, a.grad);
                const z = proj(tf.tensor1d(probeXi, 'float32'));
                const y = tf.add(tf.sub(w, tf.mul(p0.drift, eps / 2)), tf.mul(z, sqrtEps)) as tf.Tensor1D;
                const b = target.lossAndGrad(y, null);
                const p1 = potential(y, b.value, b.grad);
                return logAlpha(p0.u, p0.drift, p1.u, p1.drift, z);
              }),
            });
          }
          if (adjust) {
            // MALA with rejection: propose y = w − (ε/2)∇U(w) + √ε ξ, accept with min(1, α). The draw
            // of step t is the state before the move (as in the unadjusted chain).
            const c0: NonNullable<typeof cur> = cur ?? tf.tidy(() => {
              const a = target.lossAndGrad(w, null);
              const p = potential(w, a.value, a.grad);
              return { value: a.value, u: p.u, drift: p.drift, dist2: p.dist2 as tf.Scalar };
            });
            cur = c0;
            const logU = Math.log(Math.max(acceptRng.next(), 1e-300));
            const out = tf.tidy((): tf.Tensor[] => {
              const noise = proj(tf.tensor1d(xi, 'float32'));
              const y = tf.add(tf.sub(w, tf.mul(c0.drift, eps / 2)), tf.mul(noise, sqrtEps)) as tf.Tensor1D;
              const b = target.lossAndGrad(y, null);
              const p1 = potential(y, b.value, b.grad);
              const la = logAlpha(c0.u, c0.drift, p1.u, p1.drift, noise);
              // A NaN α (a proposal into overflow) compares false: rejected.
              const accept = tf.less(tf.scalar(logU), la);
              w.assign(tf.where(accept, y, w) as tf.Tensor1D);
              return [tf.stack([c0.value, c0.dist2]), la, tf.where(accept, b.value, c0.value), tf.where(accept, p1.u, c0.u), tf.where(accept, p1.drift, c0.drift), tf.where(accept, p1.dist2, c0.dist2)];
            });
            pending.push(out[0]);
            pendingAlpha.push({ step: t, t: out[1] as tf.Scalar });
            tf.dispose([c0.value, c0.u, c0.drift, c0.dist2]);
            cur = { value: out[2] as tf.Scalar, u: out[3] as tf.Scalar, drift: out[4] as tf.Tensor1D, dist2: out[5] as tf.Scalar };
            if ((t + 1) % o.readEvery === 0 || t + 1 === steps) await readPending(t + 1);
            continue;
          }
          const out = tf.tidy((): tf.Tensor[] => {
            const rowsT = rows ? tf.tensor1d(rows, 'int32') : null;
            const { value, grad } = target.lossAndGrad(w, rowsT);
            const { u, drift, dist2 } = potential(w, value, grad);
            const noise = proj(tf.tensor1d(xi, 'float32'));
            w.assign(tf.add(tf.sub(w, tf.mul(drift, eps / 2)), tf.mul(noise, sqrtEps)) as tf.Tensor1D);
            const stats = tf.stack([value, dist2]);
            if (!o.mala || !fullBatch) return [stats];
            if (!prev) return [stats, u, drift, noise];
            // log α of w_{t−1} → w_t on the full batch (the MALA ratio in the header comment).
            return [stats, u, drift, noise, logAlpha(prev.u, prev.drift, u, drift, prev.xi)];
          });
          pending.push(out[0]);
          if (out.length > 1) {
            if (out[4]) pendingAlpha.push({ step: t - 1, t: out[4] as tf.Scalar });
            if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
            prev = { u: out[1] as tf.Scalar, drift: out[2] as tf.Tensor1D, xi: out[3] as tf.Tensor1D };
          }
          if ((t + 1) % o.readEvery === 0 || t + 1 === steps) await readPending(t + 1);
        }
      } finally {
        tf.dispose([...pending, ...pendingAlpha.map((a) => a.t), ...pendingFull.map((a) => a.t)]);
        if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
        if (cur) tf.dispose([cur.value, cur.u, cur.drift, cur.dist2]);
      }

      const drawsArr = lossTrace.subarray(o.burnin);
      let mean = 0, below = 0;
      for (const l of drawsArr) { mean += l; if (l < initLoss) below++; }
      mean /= drawsArr.length;
      const chain: SgldChainResult = {
        llc: nBeta * (mean - initLoss), // (LLC); NaN when the chain diverged
        lossTrace, excessTrace: lossTrace.map((l) => l - initLoss), centeredTrace: lossTrace.map((l) => l - mean), distanceTrace: distTrace,
        fractionBelowInit: below / drawsArr.length,
      };
      if (accTrace) {
        chain.acceptanceTrace = accTrace;
        let s = 0, k = 0;
        for (let t = o.burnin; t < steps; t++) if (!Number.isNaN(accTrace[t])) { s += accTrace[t]; k++; }
        chain.meanAcceptance = k ? s / k : NaN;
      }
      if (o.fullLossEvery > 0) chain.fullLoss = { steps: Int32Array.from(fullSteps), loss: Float64Array.from(fullVals) };
      chains.push(chain);
    }
  } finally {
    w.dispose();
    gHat?.dispose();
  }

  const ms = performance.now() - t0;
  const notes = [
    fullBatch ? 'Full batch: every draw is the full-data L(w_t).' : `Each draw is L(w_t) on that step's minibatch of ${o.batchSize} rows (as devinterp); L(w*) is over all ${n} training rows.`,
    `nβ = ${nBeta.toPrecision(4)} (${o.nBetaMode}${o.nBetaMode === 'explicit' ? '' : `, ${o.nBetaMode === 'n/log n' ? `n = ${n}` : `batch = ${o.batchSize}`}`}), γ = ${gamma}, ε_s = ${fmtSmall(eps)}.`,
    `L is the ${target.label}.`,
  ];
  if (adjust) notes.push('Metropolis-adjusted Langevin (MALA with rejection): the chains sample the localized posterior exactly; the acceptance is the mean MH probability of the proposals.');
  else if (o.mala) notes.push(fullBatch ? 'MALA acceptance: exact, of every full-batch transition (not used to reject).' : `MALA acceptance: exact, from a full-batch probe every ${o.malaEvery} draws.`);
  if (o.normalToGradient) notes.push(gHat ? 'Steps restricted to the hyperplane normal to ∇L(w*).' : '∇L(w*) = 0: the normal-to-gradient restriction changes nothing.');
  const llcs = chains.map((ch) => ch.llc);
  const llc = diverged ? { mean: NaN, std: NaN, stderr: NaN } : meanStd(llcs);
  const accs = chains.map((ch) => ch.meanAcceptance).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const meanAcceptance = (o.mala || adjust) && accs.length ? accs.reduce((s, v) => s + v, 0) / accs.length : undefined;
  const health = assessHealth({
    draws: chains.map((ch) => ch.excessTrace.subarray(o.burnin)),
    distances: chains.map((ch) => ch.distanceTrace.subarray(o.burnin)),
    nBeta, gamma, d, llc, meanAcceptance: meanAcceptance ?? null,
    diverged: diverged?.message,
    gammaConfirmed: extras.gammaConfirmed, calibrationDoubts: extras.calibrationDoubts, metropolis: adjust,
  });
  const result: SgldResult = {
    llc, chains, loss: target.kind, lossLabel: target.label, initLoss, options: o, n, d,
    fractionBelowInit: chains.reduce((s, ch) => s + ch.fractionBelowInit, 0) / Math.max(1, chains.length),
    health, backend: tf.getBackend(), ms,
    stepsPerSecond: (chains.length * steps) / (ms / 1000),
    notes,
  };
  if (meanAcceptance !== undefined) result.meanAcceptance = meanAcceptance;
  if (diverged) result.diverged = diverged;
  if (extras.calibration) result.calibration = extras.calibration;
  ctx.progress(1, 'done');
  return result;
}
