/**
 * The read-back of an SGLD chain (chain.ts): the steps' scalars queue on the backend and are read in
 * one round trip every readEvery steps, written into the chain's traces, checked for divergence,
 * and streamed as a partial with progress.
 */
import * as tf from '@tensorflow/tfjs';
import type { JobContext } from '../jobs';
import { DIVERGENCE_RADII, fmtSmall, SgldDivergedError, type ResolvedSgldOptions, type SgldPartial, type SgldResult } from './options';

/** One chain's traces and what is queued on the backend for the next read. */
export interface ChainRecord {
  lossTrace: Float32Array;
  distTrace: Float32Array;
  accTrace?: Float32Array;
  fullSteps: number[];
  fullVals: number[];
  /** Per step: [L, ‖w − w*‖²]; log α values (of a transition or a probe) at their steps; full-data losses. */
  pending: tf.Tensor[];
  pendingAlpha: { step: number; t: tf.Scalar }[];
  pendingFull: { step: number; t: tf.Scalar }[];
  readFrom: number;
  drawSum: number;
  drawCount: number;
  /** The step at which the chain diverged (−1 while it has not). */
  stoppedAt: number;
}

export function newChainRecord(steps: number, acceptance: boolean): ChainRecord {
  const rec: ChainRecord = {
    lossTrace: new Float32Array(steps).fill(NaN), distTrace: new Float32Array(steps).fill(NaN),
    fullSteps: [], fullVals: [], pending: [], pendingAlpha: [], pendingFull: [],
    readFrom: 0, drawSum: 0, drawCount: 0, stoppedAt: -1,
  };
  if (acceptance) rec.accTrace = new Float32Array(steps).fill(NaN);
  return rec;
}

/** Releases whatever is still queued (a cancelled or failed chain). */
export function disposeRecord(rec: ChainRecord): void {
  tf.dispose([...rec.pending, ...rec.pendingAlpha.map((a) => a.t), ...rec.pendingFull.map((a) => a.t)]);
  rec.pending = []; rec.pendingAlpha = []; rec.pendingFull = [];
}

export interface ReadContext {
  chain: number;
  o: ResolvedSgldOptions;
  steps: number;
  maxDist: number;
  initLoss: number;
  finishedLlcs: number[];
}

/**
 * Reads everything queued up to step `upTo` in one round trip, fills the traces, streams a partial
 * and progress. Returns the divergence that stopped the chain, if one did (or throws
 * SgldDivergedError with onDivergence 'throw'). `ownSteps`: where the steps' [L, ‖w − w*‖²] are not
 * queued as tensors (a GPU chain keeps them in its own ring), the read of those of steps
 * readFrom..upTo − 1, interleaved; it runs beside the backend's read.
 */
export async function readBack(rec: ChainRecord, upTo: number, rc: ReadContext, ctx: JobContext<SgldPartial>, ownSteps?: () => Promise<Float32Array>): Promise<SgldResult['diverged'] | undefined> {
  if (upTo === rec.readFrom) return undefined;
  const { o, chain: c, initLoss } = rc;
  const nA = rec.pendingAlpha.length, nF = rec.pendingFull.length;
  const parts = [
    ...(ownSteps ? [] : [rec.pending]),
    ...(nA ? [rec.pendingAlpha.map((a) => a.t)] : []),
    ...(nF ? [rec.pendingFull.map((a) => a.t)] : []),
  ];
  const packed = parts.length ? tf.tidy(() => tf.concat(parts.map((ts) => tf.reshape(tf.stack(ts), [-1])))) : null;
  const [all, own] = await Promise.all([packed ? packed.data() : new Float32Array(0), ownSteps ? ownSteps() : null]);
  const alphaSteps = rec.pendingAlpha.map((a) => a.step), fullStepList = rec.pendingFull.map((a) => a.step);
  packed?.dispose();
  disposeRecord(rec);
  const vals = own ?? all.subarray(0, 2 * (upTo - rec.readFrom));
  const off = own ? 0 : vals.length;
  const alphas = nA ? all.subarray(off, off + nA) : null;
  const fulls = nF ? all.subarray(off + nA) : null;
  let diverged: SgldResult['diverged'] | undefined;
  for (let t = rec.readFrom; t < upTo; t++) {
    const l = vals[(t - rec.readFrom) * 2], dist = Math.sqrt(vals[(t - rec.readFrom) * 2 + 1]);
    if (!Number.isFinite(l) || !Number.isFinite(dist) || dist > rc.maxDist) {
      const what = !Number.isFinite(l) ? `the loss became ${l}` : !Number.isFinite(dist) ? `‖w − w*‖ became ${dist}` : `‖w − w*‖ reached ${dist.toPrecision(3)}, beyond ${DIVERGENCE_RADII}·√(d/γ) = ${rc.maxDist.toPrecision(3)}`;
      const message = `SGLD diverged in chain ${c + 1} of ${o.chains} at step ${t + 1} of ${rc.steps}: ${what}. ` +
        `Try a smaller step size (ε_s = ${fmtSmall(o.stepSize)} now, e.g. ${fmtSmall(o.stepSize / 10)}) or a larger γ (now ${o.gamma}).`;
      if (o.onDivergence === 'throw') throw new SgldDivergedError(message, c, t);
      diverged = { chain: c, step: t, message };
      rec.stoppedAt = t;
      break;
    }
    rec.lossTrace[t] = l;
    rec.distTrace[t] = dist;
    if (t >= o.burnin) { rec.drawSum += l - initLoss; rec.drawCount++; }
  }
  const acc = rec.accTrace;
  if (alphas && acc) alphaSteps.forEach((s, i) => { acc[s] = Math.min(1, Math.exp(alphas[i])); });
  if (fulls) fullStepList.forEach((s, i) => { rec.fullSteps.push(s); rec.fullVals.push(fulls[i]); });
  const to = rec.stoppedAt >= 0 ? rec.stoppedAt : upTo;
  const partial: SgldPartial = {
    chain: c, chains: o.chains, fromStep: rec.readFrom, stepsPerChain: rc.steps, burnin: o.burnin,
    loss: rec.lossTrace.slice(rec.readFrom, to), distance: rec.distTrace.slice(rec.readFrom, to),
    runningLlc: rec.drawCount > 0 ? o.nBeta * (rec.drawSum / rec.drawCount) : NaN,
    finishedLlcs: rc.finishedLlcs, initLoss, nBeta: o.nBeta,
  };
  if (acc) partial.acceptance = acc.slice(rec.readFrom, to);
  if (fulls) partial.fullLoss = { steps: Int32Array.from(fullStepList), loss: Float64Array.from(fulls) };
  ctx.partial(partial);
  rec.readFrom = upTo;
  ctx.progress((c * rc.steps + upTo) / (o.chains * rc.steps), `chain ${c + 1}/${o.chains}, ${upTo <= o.burnin ? `burn-in ${upTo}/${o.burnin}` : `draw ${upTo - o.burnin}/${o.draws}`}`);
  return diverged;
}
