/**
 * initBackend('auto') with a software WebGPU adapter in Node (Dawn from the `webgpu` package on
 * SwiftShader's Vulkan ICD from Debian's chromium, as in train-webgpu.test.ts): both backends are
 * measured and wasm is chosen, because SwiftShader measures slower. Skips where no adapter is found.
 */
import { describe, expect, test } from 'vitest';
import { webgpuAdapter } from './helpers/webgpu';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';

const hasAdapter = await webgpuAdapter();

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
  });
});
