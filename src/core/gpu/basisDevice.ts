/**
 * The WebGPU device a job offers its Lanczos basis (openBasis.ts): the webgpu backend's own device
 * ('auto' on the webgpu backend unless the adapter is a software one, or 'gpu'), or, only for 'gpu'
 * on another backend, a device of its own from navigator.gpu with the adapter's buffer limits.
 */
import { isSoftwareAdapter } from '../backendChoice';

/** 'auto': the GPU basis only when the job runs on the webgpu backend of a hardware adapter; 'cpu' / 'gpu': as named. */
export type BasisChoice = 'auto' | 'cpu' | 'gpu';

/** Whether the device's adapter is CPU-emulated (GPUDevice.adapterInfo where the browser has it). */
function softwareDevice(device: GPUDevice): boolean {
  const info = (device as { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
  if (!info) return false;
  const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return isSoftwareAdapter({ description, isFallbackAdapter: info.isFallbackAdapter ?? false });
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
 * 'auto' takes the webgpu backend's device unless its adapter is a software one (SwiftShader:
 * one 1,000 × 86,197 sweep took 3.3 s there against 40 ms on the CPU basis, BENCHMARKS.md).
 */
export async function gpuBasisDevice(choice: BasisChoice, backend: string, backendDevice: GPUDevice | undefined): Promise<{ device?: GPUDevice; reason?: string }> {
  if (choice === 'cpu') return { reason: 'the CPU basis was asked for' };
  if (backend === 'webgpu' && backendDevice) {
    if (choice === 'auto' && softwareDevice(backendDevice)) return { reason: 'the WebGPU adapter is a software one (CPU-emulated), where a sweep measured ~80× slower than the CPU basis' };
    return { device: backendDevice };
  }
  if (choice === 'auto') return {};
  const own = await requestOwnDevice();
  return typeof own === 'string' ? { reason: own } : { device: own };
}
