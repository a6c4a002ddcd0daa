/** Unit tests run the core on tfjs's wasm backend in Node (one thread, SIMD). */
import { initBackend } from '../../../src/core/backend';

let ready: Promise<unknown> | null = null;
export function useWasm(): Promise<unknown> {
  ready ??= initBackend('wasm').then((info) => {
    if (info.active !== 'wasm') throw new Error(`expected wasm, got ${info.summary}`);
    return info;
  });
  return ready;
}
