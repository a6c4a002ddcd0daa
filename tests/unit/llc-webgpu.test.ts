/**
 * SGLD chains on the webgpu backend (Node, Dawn from the `webgpu` package on SwiftShader, as in
 * train-webgpu.test.ts): plain steps run on the target's GPU chain (gpu/trainStep.ts langevinStep,
 * the steps' L and ‖w − w*‖² read from its ring every readEvery steps, at least every ring() steps).
 * It draws the noise in the tfjs path's order, so a seed's chain is the tfjs path's to float32
 * rounding: checked step for step against the tfjs ops on webgpu and against a host chain (the tfjs
 * path on wasm), for a token-pair model (minibatches) and a dense stack (full batch, nll and
 * behavioral losses); λ̂ on a quadratic loss against its closed form and an independent host chain
 * within the standard errors; full-data losses and
 * MALA probes read w out without moving the chain; a ring shorter than readEvery; the fallback when
 * the GPU chain cannot be had. Skips where no adapter is found.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { webgpuAdapter } from './helpers/webgpu';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { estimateLlc, type SgldOptions, type SgldPartial, type SgldResult } from '../../src/core/llc/sgld';
import { resolveSgldOptions, sampleLlc, setNativeChainsEnabled } from '../../src/core/llc/chain';
import { modelTarget } from '../../src/core/llc/target';
import { createJobContext } from '../../src/core/jobs';
import { modAddDataset } from '../../src/core/data/modadd';
import { matfacDataset } from '../../src/core/data/matfac';
import type { ModelBundle } from '../../src/core/models/bundle';
import type { ModelConfig } from '../../src/core/models/config';
import { initParams } from '../../src/core/models/init';
import { defaultDataSpec } from '../../src/core/data/spec';
import type * as TrainStep from '../../src/core/gpu/trainStep';
import { orthonormalRows } from '../../src/core/data/matfac';
import { quadraticLlc } from '../../src/core/llc/quadratic';
import { makeRng } from '../../src/core/rng';

/** Lets a test refuse the GPU engine, or give it a short ring, and counts the trainers opened. */
const force = vi.hoisted(() => ({ refuse: false, ring: 0, opened: 0 }));
vi.mock('../../src/core/gpu/trainStep', async (importOriginal) => {
  const real = await importOriginal<typeof TrainStep>();
  return {
    ...real,
    openGpuTrainer: (...[device, config, inp]: Parameters<typeof real.openGpuTrainer>) => {
      if (force.refuse) return Promise.resolve({ reason: 'forced: the device refused the buffers' });
      force.opened += 1;
      return real.openGpuTrainer(device, config, force.ring ? { ...inp, lossRing: force.ring } : inp);
    },
  };
});

const hasAdapter = await webgpuAdapter();
if (!hasAdapter) console.warn('llc-webgpu.test.ts: no WebGPU adapter (Dawn + SwiftShader ICD not found); skipping');

afterEach(() => { setNativeChainsEnabled(true); force.refuse = false; force.ring = 0; });

const ctx = () => createJobContext<SgldPartial>();

const pairsCfg: ModelConfig = { arch: 'modadd', p: 7, e: 4, h: 8 };
const pairsModel: ModelBundle = { name: 'pairs', config: pairsCfg, theta: initParams(pairsCfg, 2), data: { kind: 'modadd', p: 7, trainFraction: 0.6, seed: 1, op: 'sum' } };
const pairsDs = modAddDataset({ p: 7, trainFraction: 0.6, seed: 1 });
const stackCfg: ModelConfig = { arch: 'matfac', widths: [4, 3, 4] };
const stackModel: ModelBundle = { name: 'stack', config: stackCfg, theta: initParams(stackCfg, 3), data: defaultDataSpec(stackCfg) };
const stackDs = matfacDataset({ inDim: 4, outDim: 4, seed: 0 });

/** The same run on webgpu's GPU chain, on webgpu's tfjs ops and on wasm's tfjs ops (the host chain). */
async function threeWays(model: ModelBundle, ds: typeof pairsDs, o: SgldOptions): Promise<{ gpu: SgldResult; ops: SgldResult; host: SgldResult }> {
  expect((await initBackend('webgpu')).active).toBe('webgpu');
  const gpu = await estimateLlc(model, ds, o, ctx());
  setNativeChainsEnabled(false);
  const ops = await estimateLlc(model, ds, o, ctx());
  expect((await initBackend('wasm')).active).toBe('wasm');
  const host = await estimateLlc(model, ds, o, ctx());
  setNativeChainsEnabled(true);
  return { gpu, ops, host };
}

/** Largest |a − b| / (|b| + floor) over the steps of every chain. */
function worst(a: SgldResult, b: SgldResult, trace: 'lossTrace' | 'distanceTrace', floor: number): number {
  let w = 0;
  a.chains.forEach((ch, c) => ch[trace].forEach((v, t) => { w = Math.max(w, Math.abs(v - b.chains[c][trace][t]) / (Math.abs(b.chains[c][trace][t]) + floor)); }));
  return w;
}

describe.skipIf(!hasAdapter)('SGLD chains on the GPU (webgpu backend, SwiftShader)', () => {
  test('a token-pair model on minibatches: the GPU chain steps as the tfjs ops on webgpu and the host chain, L and ‖w − w*‖² step for step', async () => {
    const o: SgldOptions = { nBeta: 30, gamma: 100, stepSize: 1e-4, chains: 2, burnin: 10, draws: 30, batchSize: 8, seed: 3, mala: false };
    const before = force.opened;
    const { gpu, ops, host } = await threeWays(pairsModel, pairsDs, o);
    expect(force.opened).toBe(before + 1); // one GPU chain per target, reused by both chains
    expect(gpu.notes.join(' ')).toMatch(/ran on the GPU/);
    expect(ops.notes.join(' ')).not.toMatch(/on the GPU/);
    expect(gpu.backend).toBe('webgpu');
    expect(new Set(gpu.chains[0].lossTrace).size).toBeGreaterThan(20); // minibatches, a moving chain
    expect(gpu.chains[0].distanceTrace[0]).toBe(0);
    for (const ref of [ops, host]) {
      expect(worst(gpu, ref, 'lossTrace', 1e-3)).toBeLessThan(2e-3);
      expect(worst(gpu, ref, 'distanceTrace', 1e-4)).toBeLessThan(2e-2);
      expect(Math.abs(gpu.llc.mean - ref.llc.mean)).toBeLessThanOrEqual(1e-2 * Math.abs(ref.llc.mean) + 1e-3);
    }
  }, 180_000);

  test('a dense stack, full batch, nll and behavioral losses (targets f_w*(x) read from the backend): step for step', async () => {
    for (const loss of ['nll', 'behavioral'] as const) {
      const o: SgldOptions = { nBeta: 50, gamma: 50, stepSize: 3e-4, chains: 1, burnin: 5, draws: 25, batchSize: 'full', seed: 5, loss, metropolis: false, mala: false, fullLossEvery: 4 };
      const { gpu, ops, host } = await threeWays(stackModel, stackDs, o);
      expect(gpu.notes.join(' ')).toMatch(/ran on the GPU/);
      // Full batch: each full-data loss (the tfjs ops at the w read out of the GPU chain at that step) is that step's draw.
      const ch = gpu.chains[0];
      expect(ch.fullLoss?.steps.length).toBe(7);
      ch.fullLoss?.steps.forEach((st, i) => expect(Math.abs(ch.fullLoss!.loss[i] - ch.lossTrace[st])).toBeLessThanOrEqual(1e-5 * ch.lossTrace[st] + 1e-9));
      if (loss === 'behavioral') expect(gpu.chains[0].lossTrace[0]).toBeLessThan(1e-12); // L_B(w* | w*) = 0 up to float32 forward rounding
      for (const ref of [ops, host]) {
        expect(worst(gpu, ref, 'lossTrace', 1e-3)).toBeLessThan(2e-3);
        expect(worst(gpu, ref, 'distanceTrace', 1e-4)).toBeLessThan(2e-2);
      }
    }
  }, 180_000);

  test('a chain started away from w* and its final state (the calibration\'s warm start): as on the tfjs ops', async () => {
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const o = resolveSgldOptions(stackCfg, stackDs.trainIdx.length, { nBeta: 50, gamma: 50, stepSize: 3e-4, chains: 2, burnin: 3, draws: 12, batchSize: 'full', seed: 2, metropolis: false, mala: false });
    const start = stackModel.theta.map((v, i) => v + 0.05 * Math.sin(i));
    const run = async (): Promise<{ r: SgldResult; last: Float32Array }> => {
      const target = modelTarget(stackModel, stackDs, 'nll');
      let last: Float32Array = new Float32Array(0);
      try {
        const r = await sampleLlc(target, o, ctx(), { start, onFinalState: (w) => { last = w; } });
        return { r, last };
      } finally {
        target.dispose();
      }
    };
    const gpu = await run();
    setNativeChainsEnabled(false);
    const ops = await run();
    expect(gpu.r.notes.join(' ')).toMatch(/ran on the GPU/);
    expect(gpu.r.chains[1].distanceTrace[0]).toBeGreaterThan(0.01); // the second chain restarted at the start, not w*
    expect(worst(gpu.r, ops.r, 'lossTrace', 1e-3)).toBeLessThan(2e-3);
    expect(worst(gpu.r, ops.r, 'distanceTrace', 1e-4)).toBeLessThan(2e-2);
    let big = 0, diff = 0;
    ops.last.forEach((v, j) => { big = Math.max(big, Math.abs(v)); diff = Math.max(diff, Math.abs(v - gpu.last[j])); });
    expect(gpu.last.length).toBe(stackModel.theta.length);
    expect(diff).toBeLessThan(1e-4 * big);
  }, 180_000);

  test('λ̂ on the GPU chain on an exactly quadratic loss: the closed form and an independent host chain (another seed) within the standard errors', async () => {
    // L(w) = (1/n) Σ (w·x_i − y_i)² with rows s_i q_i (orthonormal q_i), n = m = 4: H = (2/n) XᵀX
    // has eigenvalues 2 s_i²/n; nβh/γ = 3, 1, 0.5, 0.3, so λ = Σ ½ nβh/(nβh + γ) = 0.907. ε_s = 3e-3:
    // relaxation a = ε(nβh + γ)/2 from 0.06 to 0.02 per step (150 burn-in steps relax the softest).
    // The tfjs ops on SwiftShader run ≈ 3 steps/s, too slow for an independent estimate that
    // resolves λ; the first test has them give the GPU chain's own chain for a seed, λ̂ included.
    const m = 4, nBeta = 100, gamma = 10;
    const h = [3, 1, 0.5, 0.3].map((r) => (r * gamma) / nBeta);
    const rng = makeRng(7);
    const q = orthonormalRows(m, m, rng);
    const wTrue = Float32Array.from({ length: m }, () => rng.normal());
    const x = new Float32Array(m * m), y = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      const si = Math.sqrt((h[i] * m) / 2);
      for (let j = 0; j < m; j++) x[i * m + j] = si * q[i][j];
      for (let j = 0; j < m; j++) y[i] += wTrue[j] * x[i * m + j];
    }
    const config: ModelConfig = { arch: 'matfac', widths: [m, 1] };
    const ds = { kind: 'matfac' as const, label: 'quadratic rows', n: m, inputDim: m, x, y, outDim: 1, trainIdx: Int32Array.from({ length: m }, (_, i) => i), testIdx: new Int32Array(0) };
    const model: ModelBundle = { name: 'quadratic', config, theta: wTrue, data: defaultDataSpec(config) };
    const want = quadraticLlc(h, nBeta, gamma);
    const o: SgldOptions = { nBeta, gamma, stepSize: 3e-3, chains: 6, burnin: 150, draws: 700, batchSize: 'full', loss: 'train', mala: false, metropolis: false, readEvery: 50 };
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const a = await estimateLlc(model, ds, { ...o, seed: 11 }, ctx());
    expect((await initBackend('wasm')).active).toBe('wasm');
    setNativeChainsEnabled(false);
    const b = await estimateLlc(model, ds, { ...o, seed: 12 }, ctx());
    console.log(`    λ = ${want.toFixed(3)}; λ̂ GPU chain ${a.llc.mean.toFixed(3)} ± ${a.llc.stderr.toFixed(3)} (${a.stepsPerSecond.toFixed(0)} steps/s on SwiftShader), host chain ${b.llc.mean.toFixed(3)} ± ${b.llc.stderr.toFixed(3)}`);
    expect(a.notes.join(' ')).toMatch(/ran on the GPU/);
    expect(a.initLoss).toBeLessThan(1e-9);
    expect(a.llc.stderr).toBeLessThan(0.25 * want); // the comparison has some resolving power
    expect(Math.abs(a.llc.mean - want)).toBeLessThan(3 * a.llc.stderr + 0.03 * want); // + the discretization's few percent
    expect(Math.abs(a.llc.mean - b.llc.mean)).toBeLessThan(4 * Math.hypot(a.llc.stderr, b.llc.stderr));
  }, 180_000);

  test('full-data losses and MALA probes read w out of the GPU chain without moving it; a ring shorter than readEvery; no tensor left', async () => {
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const o: SgldOptions = { nBeta: 30, gamma: 100, stepSize: 1e-4, chains: 2, burnin: 6, draws: 30, batchSize: 8, seed: 4 };
    const before = tf.memory().numTensors;
    const probed = await estimateLlc(pairsModel, pairsDs, { ...o, mala: true, malaEvery: 5, fullLossEvery: 7 }, ctx());
    const plain = await estimateLlc(pairsModel, pairsDs, { ...o, mala: false }, ctx());
    expect(tf.memory().numTensors).toBe(before);
    expect(probed.notes.join(' ')).toMatch(/ran on the GPU/);
    for (let c = 0; c < 2; c++) expect(probed.chains[c].lossTrace).toEqual(plain.chains[c].lossTrace);
    expect(probed.chains[0].acceptanceTrace?.filter((v) => !Number.isNaN(v)).length).toBe(6);
    expect(probed.chains[0].fullLoss?.steps.length).toBe(5);
    // A full-data loss is L at the chain's w of that step: the tfjs ops on the w read out.
    expect(probed.chains[0].fullLoss?.loss.every((v) => Number.isFinite(v) && v > 0)).toBe(true);

    // A ring of 8 steps with readEvery 20: read every 8 steps, the same chain.
    force.ring = 8;
    const partials: SgldPartial[] = [];
    const short = await estimateLlc(pairsModel, pairsDs, { ...o, mala: false, readEvery: 20 }, createJobContext<SgldPartial>({ onPartial: (p) => partials.push(p) }));
    for (let c = 0; c < 2; c++) expect(short.chains[c].lossTrace).toEqual(plain.chains[c].lossTrace);
    expect(partials.filter((p) => p.chain === 0).map((p) => p.fromStep)).toEqual([0, 8, 16, 20, 28]);
  }, 180_000);

  test('where the GPU chain cannot be had, or chains are switched off, the tfjs ops run the same chain and the note says why', async () => {
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const o: SgldOptions = { nBeta: 30, gamma: 100, stepSize: 1e-4, chains: 1, burnin: 4, draws: 12, batchSize: 8, seed: 6, mala: false };
    force.refuse = true;
    const refused = await estimateLlc(pairsModel, pairsDs, o, ctx());
    expect(refused.notes.join(' ')).toMatch(/GPU chain could not be had \(forced: the device refused the buffers\)/);
    force.refuse = false;
    setNativeChainsEnabled(false);
    const ops = await estimateLlc(pairsModel, pairsDs, o, ctx());
    expect(refused.chains[0].lossTrace).toEqual(ops.chains[0].lossTrace);
    // Metropolis-adjusted chains stay on the tfjs path on webgpu.
    setNativeChainsEnabled(true);
    const adjusted = await estimateLlc(stackModel, stackDs, { nBeta: 50, gamma: 50, stepSize: 1e-4, chains: 1, burnin: 2, draws: 6, batchSize: 'full', seed: 1, metropolis: true }, ctx());
    expect(adjusted.notes.join(' ')).not.toMatch(/on the GPU/);
  }, 180_000);
});
