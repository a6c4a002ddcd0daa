/**
 * Which Krylov basis a Lanczos run gets: the GPU-resident one (gpuBasis.ts) when a WebGPU device is
 * given and the basis fits it, else the CPU one (KrylovBasis: JS or wasm SIMD), with the reason
 * when a GPU basis was asked for and could not be had. Which device a job offers is basisDevice.ts's
 * choice (kept apart so that this module, which lanczos.ts imports, stays free of tfjs).
 */
import { KrylovBasis, type BasisStorage, type KrylovStore } from '../linalg/krylovBasis';
import { GpuBasisUnavailable, GpuKrylovBasis, type GpuBasisOptions } from './gpuBasis';

export interface GpuBasisRequest extends GpuBasisOptions {
  device: GPUDevice;
}

/**
 * The basis for a run of dimension d: `plan(gpu)` gives the storage and capacity (the GPU basis is
 * always float32). Errors other than "the GPU basis cannot be had" (e.g. the memory budget's
 * BadInputError) propagate.
 */
export async function openBasis(
  d: number, gpu: GpuBasisRequest | undefined, plan: (gpu: boolean) => { storage: BasisStorage; capacity: number },
): Promise<{ basis: KrylovStore; fallback?: string }> {
  let fallback: string | undefined;
  if (gpu) {
    const p = plan(true);
    try {
      return { basis: await GpuKrylovBasis.open(gpu.device, d, p.capacity, gpu) };
    } catch (e) {
      if (!(e instanceof GpuBasisUnavailable)) throw e;
      fallback = e.message;
    }
  }
  const p = plan(false);
  return { basis: new KrylovBasis(d, p.storage, p.capacity), fallback };
}
