/**
 * "auto" backend choice by measurement: the pure decision (measurements + adapter facts → choice and
 * reason), the time-boxed calibration on wasm and cpu in Node, and initBackend('auto') with and
 * without a remembered choice.
 */
import { describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import {
  calibrate, chooseBackend, choiceKey, isSoftwareAdapter, validRecord, type BackendMeasurement, type CalibrationRecord,
} from '../../src/core/backendChoice';

const m = (name: BackendMeasurement['name'], totalMs: number, timedOut = false): BackendMeasurement => ({
  name, matMulMs: timedOut ? NaN : totalMs / 2, chainMs: timedOut ? NaN : totalMs / 2, totalMs, timedOut,
});
const SWIFTSHADER = { description: 'google swiftshader SwiftShader Device (Subzero)', isFallbackAdapter: false };
const NVIDIA = { description: 'nvidia ampere NVIDIA GeForce RTX 3080', isFallbackAdapter: false };

describe('chooseBackend: the decision from measurements and adapter facts', () => {
  test('a hardware GPU that measures faster is chosen; one that measures slower is not', () => {
    expect(chooseBackend([m('wasm', 20), m('webgpu', 5)], NVIDIA).choice).toBe('webgpu');
    const slow = chooseBackend([m('wasm', 5), m('webgpu', 20)], NVIDIA);
    expect(slow.choice).toBe('wasm');
    expect(slow.reason).toMatch(/wasm measured faster/);
    expect(slow.reason).toMatch(/wasm 5\.0 ms/);
    expect(slow.reason).toMatch(/webgpu 20\.0 ms/);
    // The reason says which step was timed: the WGSL whole step on webgpu, the op chain elsewhere.
    expect(chooseBackend([{ ...m('webgpu', 5), step: 'wgsl' }, { ...m('wasm', 20), step: 'tfjs' }], NVIDIA).reason).toMatch(/webgpu 5\.0 ms \(matMul 2\.5 \+ WGSL step 2\.5\), wasm 20\.0 ms \(matMul 10\.0 \+ step 10\.0\)/);
  });

  test('a software adapter (SwiftShader, llvmpipe, lavapipe, or the fallback flag) loses to wasm unless strictly faster', () => {
    for (const a of [SWIFTSHADER, { description: 'mesa llvmpipe (LLVM 15.0.6, 256 bits)', isFallbackAdapter: false }, { description: 'lavapipe', isFallbackAdapter: false }, { description: 'some adapter', isFallbackAdapter: true }]) {
      expect(isSoftwareAdapter(a)).toBe(true);
      const d = chooseBackend([m('webgpu', 400), m('wasm', 6)], a);
      expect(d.choice).toBe('wasm');
      expect(d.reason).toMatch(/software/);
      // A tie goes to wasm for a software adapter (to webgpu for a hardware one).
      expect(chooseBackend([m('webgpu', 6), m('wasm', 6)], a).choice).toBe('wasm');
      const fast = chooseBackend([m('webgpu', 3), m('wasm', 6)], a);
      expect(fast.choice).toBe('webgpu');
      expect(fast.reason).toMatch(/chosen only because it measured faster/);
    }
    expect(isSoftwareAdapter(NVIDIA)).toBe(false);
    expect(isSoftwareAdapter(undefined)).toBe(false);
    expect(chooseBackend([m('webgpu', 6), m('wasm', 6)], NVIDIA).choice).toBe('webgpu');
  });

  test('a measurement that ran out of its budget loses to any finished one; if all ran out, the furthest wins', () => {
    const d = chooseBackend([m('webgpu', 550, true), m('wasm', 900)], SWIFTSHADER);
    expect(d.choice).toBe('wasm');
    expect(d.reason).toMatch(/webgpu > 550 ms/);
    expect(chooseBackend([m('webgpu', 550, true), m('wasm', 300, true)]).reason).toMatch(/no backend finished/);
  });

  test('one measurement: chosen, and said so; none: refused', () => {
    const d = chooseBackend([m('wasm', 7)]);
    expect(d.choice).toBe('wasm');
    expect(d.reason).toMatch(/only wasm was available/);
    expect(() => chooseBackend([])).toThrow();
  });

  test('the memory key separates adapters and browsers; stored records are validated', () => {
    expect(choiceKey(SWIFTSHADER, 'UA 1')).not.toBe(choiceKey(SWIFTSHADER, 'UA 2'));
    expect(choiceKey(SWIFTSHADER, 'UA 1')).not.toBe(choiceKey(NVIDIA, 'UA 1'));
    expect(choiceKey(undefined, 'UA 1')).toMatch(/no WebGPU adapter/);
    const r: CalibrationRecord = { choice: 'wasm', reason: 'x', measurements: [m('wasm', 3)], at: '2026-12-06T00:00:00Z' };
    expect(validRecord(r, ['wasm'])).toBe(true);
    expect(validRecord(r, ['webgpu'])).toBe(false);
    expect(validRecord({ ...r, choice: 'webgl' }, ['wasm'])).toBe(false);
    expect(validRecord(null, ['wasm'])).toBe(false);
    expect(validRecord({ choice: 'wasm' }, ['wasm'])).toBe(false);
  });
});

describe('calibration in Node (wasm, cpu)', () => {
  test('initBackend("auto") without WebGPU measures wasm, chooses it and says why; the whole calibration stays under 1 s', async () => {
    const t0 = performance.now();
    const info = await initBackend('auto');
    expect(info.active).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const c = info.calibration!;
    expect(c.fromMemory).toBe(false);
    expect(c.record.measurements).toHaveLength(1);
    const w = c.record.measurements[0];
    expect(w.name).toBe('wasm');
    expect(w.timedOut).toBe(false);
    expect(w.matMulMs).toBeGreaterThan(0);
    expect(w.chainMs).toBeGreaterThan(0);
    // Off webgpu the step timed is the tfjs op chain.
    expect(w.step).toBe('tfjs');
    expect(w.stepFallback).toBeUndefined();
    expect(w.totalMs).toBeLessThan(1000);
    expect(info.summary).toMatch(/auto: only wasm was available/);
    expect(info.attempts.find((a) => a.name === 'webgpu')?.ok).toBe(false);
    expect(c.key).toMatch(/no WebGPU adapter/);
    console.log(`    wasm calibration: ${w.matMulMs.toFixed(1)} ms matMul + ${w.chainMs.toFixed(1)} ms step; initBackend ${(performance.now() - t0).toFixed(0)} ms`);

    // A remembered record for this key is used as is: nothing is measured.
    const remembered: CalibrationRecord = { choice: 'wasm', reason: 'wasm measured faster: test record', measurements: [{ ...w, totalMs: 1.25 }], at: '2026-01-01T00:00:00Z' };
    const again = await initBackend('auto', { remembered: { [c.key]: remembered } });
    expect(again.calibration?.fromMemory).toBe(true);
    expect(again.calibration?.record).toEqual(remembered);
    expect(again.summary).toMatch(/remembered for this device/);
    // A record naming a backend that is not available here is ignored.
    const stale = await initBackend('auto', { remembered: { [c.key]: { ...remembered, choice: 'webgpu' } } });
    expect(stale.calibration?.fromMemory).toBe(false);
    expect(stale.active).toBe('wasm');
  });

  test('calibrate on cpu finishes or reports a lower bound; a tiny budget times out promptly', async () => {
    await initBackend('cpu');
    const full = await calibrate('cpu', { budgetMs: 5000, reps: 1 });
    expect(full.name).toBe('cpu');
    expect(full.totalMs).toBeGreaterThan(0);
    if (!full.timedOut) expect(full.matMulMs + full.chainMs).toBeCloseTo(full.totalMs, 9);
    const t0 = performance.now();
    const boxed = await calibrate('cpu', { budgetMs: 1 });
    expect(boxed.timedOut).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
    // Every tensor the calibration made is released.
    const before = tf.memory().numTensors;
    await calibrate('cpu', { budgetMs: 5000, reps: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
