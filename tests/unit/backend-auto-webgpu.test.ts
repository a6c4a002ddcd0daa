/**
 * initBackend('auto') with a software WebGPU adapter in Node (Dawn from the `webgpu` package on
 * SwiftShader's Vulkan ICD from Debian's chromium, as in train-webgpu.test.ts): both backends are
 * measured and wasm is chosen, because SwiftShader measures slower; the webgpu arm's step is the
 * WGSL whole training step (gpu/trainStep.ts), the tfjs op chain where that cannot be opened or
 * training is switched to the tfjs path. Skips where no adapter is found.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { webgpuAdapter } from './helpers/webgpu';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { calibrate, formatMeasurement } from '../../src/core/backendChoice';
import { setGpuTrainingEnabled } from '../../src/core/gpu/trainStep';
import type * as TrainStep from '../../src/core/gpu/trainStep';
import { GpuGnUnavailable } from '../../src/core/gpu/gnKernels';

/** Counts the WGSL trainers the calibration opens and their steps, and lets a test make the device refuse one. */
const spy = vi.hoisted(() => ({ opened: 0, steps: 0, refuse: false }));
vi.mock('../../src/core/gpu/trainStep', async (importOriginal) => {
  const real = await importOriginal<typeof TrainStep>();
  const open: typeof real.GpuStackTrainer.open = (...args) => {
    if (spy.refuse) return Promise.reject(new GpuGnUnavailable('forced: the device refused the buffers'));
    spy.opened += 1;
    return real.GpuStackTrainer.open(...args).then((tr) => {
      const step = tr.step.bind(tr);
      tr.step = (rows, lr) => { spy.steps += 1; step(rows, lr); };
      return tr;
    });
  };
  return { ...real, GpuStackTrainer: new Proxy(real.GpuStackTrainer, { get: (t, p, r) => (p === 'open' ? open : Reflect.get(t, p, r)) }) };
});

const hasAdapter = await webgpuAdapter();

afterEach(() => { spy.refuse = false; setGpuTrainingEnabled(true); });

describe.skipIf(!hasAdapter)('auto on a software WebGPU adapter (Node, SwiftShader)', () => {
  test('both are measured within the budget, wasm is chosen, the reason names the software adapter', async () => {
    const t0 = performance.now();
    const info = await initBackend('auto');
    const ms = performance.now() - t0;
    const c = info.calibration!;
    console.log(`    ${info.summary} (initBackend ${ms.toFixed(0)} ms)`);
    expect(c.record.measurements.map((x) => x.name).sort()).toEqual(['wasm', 'webgpu']);
    expect(c.adapter?.description).toBeTruthy();
    const gpu = c.record.measurements.find((x) => x.name === 'webgpu')!;
    const wasm = c.record.measurements.find((x) => x.name === 'wasm')!;
    // The budget is checked between dispatches. Dawn in-process (Node) compiles each new kernel
    // synchronously, seconds on SwiftShader under load, so one op may overrun it here; in a browser
    // the compilation runs in the GPU process and the read-back race keeps the budget.
    expect(gpu.totalMs).toBeLessThan(15_000);
    expect(wasm.totalMs).toBeLessThan(1000);
    // Whatever SwiftShader measured, the choice follows the numbers.
    if (gpu.timedOut || gpu.totalMs >= wasm.totalMs) {
      expect(info.active).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
    } else {
      expect(info.active).toBe('webgpu');
    }
    expect(info.attempts.find((a) => a.name === 'webgpu')?.ok).toBe(true);
    // The webgpu arm timed the WGSL whole step (when it got that far); wasm the tfjs op chain.
    expect(gpu.step).toBe('wgsl');
    expect(gpu.stepFallback).toBeUndefined();
    expect(wasm.step).toBe('tfjs');
    expect(spy.opened).toBeGreaterThan(0);
  });

  test('calibrate on webgpu times the WGSL step (read back, leaving no tensor); the tfjs op chain where it is refused or switched off', async () => {
    expect((await initBackend('webgpu')).active).toBe('webgpu');
    const before = tf.memory().numTensors;
    const opened = spy.opened, steps = spy.steps;
    const w = await calibrate('webgpu', { budgetMs: 60_000, reps: 2 });
    expect(spy.opened).toBe(opened + 1);
    // The warm-up and the two timed steps ran on the WGSL engine.
    expect(spy.steps).toBe(steps + 3);
    expect(w).toMatchObject({ name: 'webgpu', step: 'wgsl', timedOut: false });
    expect(w.stepFallback).toBeUndefined();
    expect(w.chainMs).toBeGreaterThan(0);
    expect(w.totalMs).toBeCloseTo(w.matMulMs + w.chainMs, 9);
    expect(formatMeasurement(w)).toMatch(/WGSL step/);
    expect(tf.memory().numTensors).toBe(before);

    spy.refuse = true;
    const refused = await calibrate('webgpu', { budgetMs: 60_000, reps: 1 });
    expect(refused).toMatchObject({ step: 'tfjs', stepFallback: 'forced: the device refused the buffers', timedOut: false });
    expect(refused.chainMs).toBeGreaterThan(0);
    spy.refuse = false;

    // Training on the tfjs path (or asked for the op chain): the op chain, the WGSL engine not opened.
    setGpuTrainingEnabled(false);
    const n = spy.opened, m = spy.steps;
    expect((await calibrate('webgpu', { budgetMs: 60_000, reps: 1 })).step).toBe('tfjs');
    setGpuTrainingEnabled(true);
    expect((await calibrate('webgpu', { budgetMs: 60_000, reps: 1, wgslStep: false })).step).toBe('tfjs');
    expect(spy.opened).toBe(n);
    expect(spy.steps).toBe(m);
    expect(tf.memory().numTensors).toBe(before);

    // A budget too small to open the engine: a lower bound, promptly, and the late trainer closed.
    const t0 = performance.now();
    const boxed = await calibrate('webgpu', { budgetMs: 0.01 });
    expect(boxed.timedOut).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
  }, 120_000);
});
