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
import type { AnyModelConfig, ModelConfig } from '../models/config';
import type { ParamLayout } from '../params';
import type { HeadKind } from './fused';
import { PairsEngine } from './pairsEngine';
import type { EngineOptimizer, ResidentEngine } from './residentEngine';
import { StackEngine } from './stackEngine';
import { fusedKernelsEnabled } from './wasmKernels';
import { elementwiseKernels } from './wasmF32';

export function wholeStepEngine(config: ModelConfig, layout: ParamLayout, head: HeadKind, maxBatch: number, opt: EngineOptimizer): ResidentEngine | null {
  const backend = tf.getBackend();
  if (!fusedKernelsEnabled() || (backend !== 'wasm' && backend !== 'cpu')) return null;
  if (!elementwiseKernels()) return null; // no WebAssembly SIMD
  const arch = getArch(config.arch);
  const stack = arch.denseStack?.(config as never);
  if (stack) return new StackEngine(stack, layout, head, maxBatch, opt);
  const pairs = arch.pairsSpec?.(config as never);
  if (pairs) return new PairsEngine(pairs, layout, head, maxBatch, opt);
  return null;
}

/**
 * The Gauss–Newton product of the outputs' Jacobian at θ* over `rows` in a whole-step engine, where
 * one applies (dense stacks and token-pair models on wasm or cpu, our kernels on): H·v = scale·Jᵀ(J v) with the
 * forward pass at θ* done once. Null otherwise: hessian/gn.ts keeps the tfjs passes.
 */
export function residentGn(config: AnyModelConfig, layout: ParamLayout, theta: Float32Array, x: Float32Array | Int32Array, rows: Int32Array): { apply(v: Float32Array, out: Float32Array | Float64Array, scale: number): void } | null {
  const backend = tf.getBackend();
  if (!fusedKernelsEnabled() || (backend !== 'wasm' && backend !== 'cpu')) return null;
  if (!elementwiseKernels()) return null; // no WebAssembly SIMD
  const arch = getArch(config.arch);
  const none = { kind: 'sgd', momentum: 0, weightDecay: 0 } as const;
  const pairs = x instanceof Int32Array ? arch.pairsSpec?.(config as never) : undefined;
  const stack = x instanceof Float32Array ? arch.denseStack?.(config as never) : undefined;
  const engine = pairs ? new PairsEngine(pairs, layout, 'sse', rows.length, none) : stack ? new StackEngine(stack, layout, 'sse', rows.length, none) : null;
  if (!engine) return null;
  engine.load(theta);
  engine.prepareGn(x, rows);
  return { apply: (v, out, scale) => engine.gnProduct(v, out, scale) };
}
