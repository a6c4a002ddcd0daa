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
import type { HostState, SgldTarget } from './target';
import { chainStateAt, malaProbe, metropolisStep, sgldStep, type ChainState, type LangevinKernel, type Transition } from './langevin';
import { disposeRecord, newChainRecord, readBack } from './readback';
import type { CalibrationReport } from './calibrate';
import { DIVERGENCE_RADII, fmtSmall, type ResolvedSgldOptions, type SgldChainResult, type SgldPartial, type SgldResult } from './options';

export {
  FULL_BATCH_ROWS, fmtSmall, resolveSgldOptions, validateSgldOptions, SgldDivergedError,
  type NBetaMode, type ResolvedSgldOptions, type SgldChainResult, type SgldLossKind, type SgldOptions, type SgldPartial, type SgldResult,
} from './options';

/** d standard normals from the chain's noise stream (ziggurat: the JS side of a step at d ≈ 10⁵). */
function normals(rng: Rng, d: number): Float32Array {
  const out = new Float32Array(d);
  rng.fillNormal(out);
  return out;
}

let nativeChains = true;
/** Whether plain SGLD steps may run whole in a target's resident engine or on its GPU chain (tests and the bench compare both). */
export function setNativeChainsEnabled(on = true): void { nativeChains = on; }

/** w ← values (host, layout order). */
function assignHost(w: tf.Variable<tf.Rank.R1>, values: Float32Array): void {
  const t = tf.tensor1d(values, 'float32');
  w.assign(t);
  t.dispose();
}

/** What the calibration hands the sampler besides the options (for the health verdict). */
export interface SampleExtras {
  calibration?: CalibrationReport;
  gammaConfirmed?: boolean;
  calibrationDoubts?: string[];
  /**
   * Where every chain starts (default w*): the calibration hands over its pilot's last
   * state, an approximate draw from the localized posterior, so the chains need little burn-in.
   * The localization, ‖w − w*‖ and λ̂ stay relative to w*.
   */
  start?: Float32Array;
  /** Called with the last chain's final state (for the calibration's warm start). */
  onFinalState?(w: Float32Array): void;
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
  const maxDist = gamma > 0 ? DIVERGENCE_RADII * Math.sqrt(d / gamma) : Infinity;
  const fullBatch = o.fullBatch || n <= o.batchSize;
  const adjust = o.metropolis && fullBatch;
  const w = tf.variable(target.wStar, false, undefined, 'float32') as tf.Variable<tf.Rank.R1>;
  const chains: SgldChainResult[] = [];
  let gHat: tf.Tensor1D | null = null;
  let ranNative = false, ranGpu = false;
  let gpuRefused: string | undefined;
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
    const k: LangevinKernel = { target, nBeta, gamma, eps, gHat };

    const master = makeRng(o.seed);
    const streams = Array.from({ length: o.chains }, () => ({ noise: makeRng(master.fork()), batch: makeRng(master.fork()) }));
    const probeStreams = Array.from({ length: o.chains }, () => makeRng(master.fork()));
    // Forked after the others, so the noise and batch streams of a seed are the same with or without it.
    const acceptStreams = Array.from({ length: o.chains }, () => makeRng(master.fork()));

    // Plain steps (no rejection, no MALA ratio of every transition, no projection) run whole in the
    // target's resident engine where it has one: w stays there between draws and is read out only
    // for the steps that run a tfjs pass on it (full-data losses, MALA probes) and at the end.
    // Metropolis-adjusted steps too; not the unadjusted full-batch runs that score every transition's
    // MALA ratio, nor steps restricted to the hyperplane normal to ∇L(w*).
    const native = nativeChains && !gHat && (adjust || !(o.mala && fullBatch)) ? target.native ?? null : null;
    ranNative = native !== null;
    // On webgpu, unadjusted steps (the same cases, less the Metropolis-adjusted ones) run whole on
    // the GPU where the target has a GPU chain: nothing is read back per step; the steps' L and
    // ‖w − w*‖² wait in its ring, read at least every ring() steps.
    let gpu = nativeChains && !gHat && !adjust && !(o.mala && fullBatch) && !native ? target.gpuChain ?? null : null;
    if (gpu) {
      const why = await gpu.open();
      if (why !== null) { gpuRefused = why; gpu = null; }
    }
    ranGpu = gpu !== null;
    const gpuRing = gpu ? gpu.ring() : Infinity;
    const consts = { nBeta, gamma, eps };

    for (let c = 0; c < o.chains && !diverged; c++) {
      if (native) native.start(extras.start);
      else if (gpu) gpu.start(extras.start);
      else if (extras.start) assignHost(w, extras.start);
      else w.assign(target.wStar);
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
      const rec = newChainRecord(steps, o.mala || adjust);
      let prev: Transition | null = null;
      // Metropolis-adjusted runs: the current state's L, U, ∇U and ‖w − w*‖² (kept across steps);
      // in the engine, L, ‖w − w*‖² and U on the host (∇U stays in the engine).
      let cur: ChainState | null = null;
      let host: HostState | null = null;
      const g = gpu;
      const read = async (upTo: number): Promise<void> => {
        const own = g ? () => g.recent(upTo - rec.readFrom) : undefined;
        const stop = await readBack(rec, upTo, { chain: c, o, steps, maxDist, initLoss, finishedLlcs: chains.map((ch) => ch.llc) }, ctx, own);
        if (stop) diverged = stop;
      };

      try {
        for (let t = 0; t < steps && rec.stoppedAt < 0; t++) {
          await ctx.checkpoint();
          const rows = nextRows();
          const draw = t - o.burnin;
          const full = o.fullLossEvery > 0 && draw >= 0 && draw % o.fullLossEvery === 0;
          // A full-batch MALA probe from w_t (minibatch runs only; the chain is not moved by it).
          const probe = o.mala && !fullBatch && draw >= 0 && (draw + 1) % o.malaEvery === 0;
          // In the engine the probe is a Metropolis step that is always rejected (log u = +∞): it
          // scores the proposal from w_t and puts w_t and ∇L(w_t) back, so w need not be read out.
          const here = !(full || (probe && !native)) ? null : native ? native.state() : g ? await g.state() : null;
          if (here) assignHost(w, here);
          if (full) rec.pendingFull.push({ step: t, t: tf.tidy(() => target.fullLoss(w)) });
          if (probe) {
            const alpha = native ? tf.scalar(native.metropolisStep(probeRng, Infinity, consts, null).logAlpha, 'float32') : malaProbe(k, w, normals(probeRng, d));
            rec.pendingAlpha.push({ step: t, t: alpha });
          }
          if (native && adjust) {
            const m = native.metropolisStep(noiseRng, Math.log(Math.max(acceptRng.next(), 1e-300)), consts, host);
            rec.pending.push(tf.tensor1d([m.before.value, m.before.dist2], 'float32'));
            rec.pendingAlpha.push({ step: t, t: tf.scalar(m.logAlpha, 'float32') });
            host = m.after;
          } else if (g) {
            // The probe's and the full loss's tfjs passes do not touch the GPU chain's buffers.
            g.step(rows, noiseRng, consts);
          } else if (native) {
            const [value, dist2] = native.step(rows, noiseRng, consts);
            rec.pending.push(tf.tensor1d([value, dist2], 'float32'));
          } else if (adjust) {
            const xi = normals(noiseRng, d);
            // MALA with rejection: propose y = w − (ε/2)∇U(w) + √ε ξ, accept with min(1, α). The draw
            // of step t is the state before the move (as in the unadjusted chain).
            const c0 = cur ?? chainStateAt(k, w);
            cur = c0;
            const step = metropolisStep(k, w, c0, xi, Math.log(Math.max(acceptRng.next(), 1e-300)));
            rec.pending.push(step.stats);
            rec.pendingAlpha.push({ step: t, t: step.logAlpha });
            tf.dispose([c0.value, c0.u, c0.drift, c0.dist2]);
            cur = step.state;
          } else {
            const step = sgldStep(k, w, rows, normals(noiseRng, d), o.mala && fullBatch ? { prev } : null);
            rec.pending.push(step.stats);
            if (step.next) {
              if (step.prevLogAlpha) rec.pendingAlpha.push({ step: t - 1, t: step.prevLogAlpha });
              if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
              prev = step.next;
            }
          }
          if ((t + 1) % o.readEvery === 0 || t + 1 === steps || t + 1 - rec.readFrom >= gpuRing) await read(t + 1);
        }
        if (native) assignHost(w, native.state());
        else if (g) assignHost(w, await g.state());
      } finally {
        disposeRecord(rec);
        if (prev) tf.dispose([prev.u, prev.drift, prev.xi]);
        if (cur) tf.dispose([cur.value, cur.u, cur.drift, cur.dist2]);
      }

      const { lossTrace, distTrace, accTrace } = rec;
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
      if (o.fullLossEvery > 0) chain.fullLoss = { steps: Int32Array.from(rec.fullSteps), loss: Float64Array.from(rec.fullVals) };
      chains.push(chain);
    }
    if (extras.onFinalState && !diverged) extras.onFinalState(Float32Array.from(await w.data() as Float32Array));
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
  if (ranGpu) notes.push('The chains ran on the GPU (WGSL steps, gpu/trainStep.ts), w kept there between draws; the noise is drawn in the tfjs path\'s order, so a seed gives the tfjs path\'s chain to float32 rounding.');
  else if (gpuRefused !== undefined) notes.push(`The chains ran on the tfjs ops: the GPU chain could not be had (${gpuRefused}).`);
  if (ranNative) notes.push('The chains ran in the model\'s resident engine (our wasm kernels), w kept there between draws; it draws the noise in its own parameter order, so a seed gives a different chain than on the tfjs path.');
  if (extras.start) notes.push(`Every chain started from the last state of the calibration pilot at this γ and ε_s, not from w*; burn-in ${o.burnin} steps.`);
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
