/**
 * The whole-step engine of a model, where one applies (train/residentEngine.ts): a dense stack
 * (stackEngine.ts) or a token-pair model (pairsEngine.ts), our kernels on (setFusedKernelsEnabled)
 * with WebAssembly SIMD, and a CPU backend — wasm or cpu; on webgpu the steps stay on the GPU, and
 * an engine's caller reads w with dataSync, which webgpu must not do. Null otherwise: the caller
 * keeps the tfjs passes.
 */
import * as tf from '@tensorflow/tfjs';
import { getArch } from '../arch/registry';
import '../arch/builtin';
import type { ModelConfig } from '../models/config';
import type { ParamLayout } from '../params';
import type { HeadKind } from './fused';
import { PairsEngine } from './pairsEngine';
import type { EngineOptimizer, ResidentEngine } from './residentEngine';
import { StackEngine } from './stackEngine';
import { fusedKernelsEnabled } from './wasmKernels';

export function wholeStepEngine(config: ModelConfig, layout: ParamLayout, head: HeadKind, maxBatch: number, opt: EngineOptimizer): ResidentEngine | null {
  const backend = tf.getBackend();
  if (!fusedKernelsEnabled() || (backend !== 'wasm' && backend !== 'cpu')) return null;
  const arch = getArch(config.arch);
  try {
    const stack = arch.denseStack?.(config as never);
    if (stack) return new StackEngine(stack, layout, head, maxBatch, opt);
    const pairs = arch.pairsSpec?.(config as never);
    if (pairs) return new PairsEngine(pairs, layout, head, maxBatch, opt);
  } catch {
    // no WebAssembly SIMD
  }
  return null;
}
