/**
 * WebGPU in Node for the tests: Dawn from the `webgpu` package, on SwiftShader's Vulkan ICD from
 * Debian's chromium when no GPU is there (docs/platform.md §2). Installs `navigator.gpu` (with a
 * user agent, which the backend choice keys its memory by) and says whether an adapter was found,
 * so a test can skip cleanly without one.
 */
import { existsSync } from 'node:fs';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function webgpuAdapter(): Promise<boolean> {
  try {
    if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create([]);
    if (!(await gpu.requestAdapter())) return false;
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node test' }, configurable: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * A device on the first adapter with the adapter's largest storage binding and buffer (the WGSL
 * tests' buffers exceed WebGPU's default limits). Call after `webgpuAdapter()` found one.
 */
export async function testDevice(): Promise<GPUDevice> {
  const adapter = (await navigator.gpu.requestAdapter())!;
  return adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
}
