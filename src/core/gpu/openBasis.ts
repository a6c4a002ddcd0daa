/**
 * Which Krylov basis a Lanczos run gets: the GPU-resident one (gpuBasis.ts) when a WebGPU device is
 * given and the basis fits it, else the CPU one (KrylovBasis: JS or wasm SIMD), with the reason
 * when a GPU basis was asked for and could not be had. `gpuBasisDevice` picks the device for a
 * job: the webgpu backend's own device ('auto' on the webgpu backend, or 'gpu'), or (only for
 * 'gpu' on another backend) a device of its own from navigator.gpu.
 */
import { KrylovBasis, type BasisStorage, type KrylovStore } from '../linalg/krylovBasis';
import { GpuBasisUnavailable, GpuKrylovBasis, type GpuBasisOptions } from './gpuBasis';

/** 'auto': the GPU basis only when the job runs on the webgpu backend; 'cpu' / 'gpu': as named. */
export type BasisChoice = 'auto' | 'cpu' | 'gpu';

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

let ownDevice: Promise<GPUDevice | string> | null = null;

/** A device of our own (for 'gpu' off the webgpu backend), with the adapter's buffer limits; or why not. */
function requestOwnDevice(): Promise<GPUDevice | string> {
  ownDevice ??= (async (): Promise<GPUDevice | string> => {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) return 'WebGPU is not available here (no navigator.gpu)';
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return 'no WebGPU adapter was found';
      const device = await adapter.requestDevice({
        requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
      });
      device.lost.then(() => { ownDevice = null; }).catch(() => undefined);
      return device;
    } catch (e) {
      return `the WebGPU device could not be had: ${e instanceof Error ? e.message : String(e)}`;
    }
  })();
  return ownDevice;
}

/**
 * The device a job's Lanczos basis should use, or undefined with the reason it runs on the CPU.
 * `backend` is the job's tfjs backend name and `backendDevice` its GPUDevice when that is webgpu.
 */
export async function gpuBasisDevice(choice: BasisChoice, backend: string, backendDevice: GPUDevice | undefined): Promise<{ device?: GPUDevice; reason?: string }> {
  if (choice === 'cpu') return { reason: 'the CPU basis was asked for' };
  if (backend === 'webgpu' && backendDevice) return { device: backendDevice };
  if (choice === 'auto') return {};
  const own = await requestOwnDevice();
  return typeof own === 'string' ? { reason: own } : { device: own };
}
