/**
 * The compute worker: a thin shell that turns protocol messages into core calls. It picks the
 * tfjs backend, runs one job at a time from a queue, forwards progress and partial results,
 * cancels cooperatively (jobs call ctx.checkpoint()), and transfers result arrays zero-copy.
 */
/// <reference lib="webworker" />
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { getBackend } from '@tensorflow/tfjs';
import { initBackend, webgpuDevice, type BackendInfo } from '../core/backend';
import { createJobContext, isCancelled, PauseGate } from '../core/jobs';
import { runTask } from '../core/tasks/index';
import { isBadInput } from '../core/errors';
import type { TaskEnv } from '../core/tasks/env';
import { transferablesOf, type ErrorKind, type FromWorker, type JobId, type StartMessage, type ToWorker } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

const env: TaskEnv = {
  async readAsset(path: string): Promise<Uint8Array> {
    const url = new URL(import.meta.env.BASE_URL + path.replace(/^\/+/, ''), self.location.origin);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`Could not load ${path}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  },
};

let ready: Promise<BackendInfo> | null = null;
const queue: StartMessage[] = [];
let running: { jobId: JobId; abort: AbortController; gate: PauseGate } | null = null;

function classify(e: unknown): { message: string; kind: ErrorKind } {
  const message = e instanceof Error ? e.message : String(e);
  if (isBadInput(e)) return { message, kind: 'bad-input' };
  if (/out of memory|allocation failed|Array buffer allocation|OOM/i.test(message)) {
    return { message: `Out of memory: ${message}. Try a smaller model, fewer vectors or a smaller chunk size.`, kind: 'out-of-memory' };
  }
  if (/device (was )?lost|GPUDevice.*lost/i.test(message)) return { message, kind: 'device-lost' };
  return { message, kind: 'error' };
}

/**
 * Whether the webgpu device is lost, or is lost within `ms`. A job's GPU call can fail (e.g.
 * "mapAsync … Buffer was unmapped before mapping was resolved") a moment before `device.lost`
 * resolves; waiting for it lets the job's failure be reported as the device loss it is.
 */
async function deviceLostWithin(ms: number): Promise<boolean> {
  const device = webgpuDevice();
  if (!device) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const lost = await Promise.race([
    device.lost.then(() => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); }),
  ]);
  clearTimeout(timer);
  return lost;
}

async function pump(): Promise<void> {
  if (running || !ready) return;
  const msg = queue.shift();
  if (!msg) return;
  const abort = new AbortController();
  const gate = new PauseGate();
  running = { jobId: msg.jobId, abort, gate };
  const { jobId } = msg;
  let lastProgress = 0;
  let pending: { fraction: number; phase: string } | null = null;
  let trailing: ReturnType<typeof setTimeout> | null = null;
  const flush = (): void => {
    if (trailing) { clearTimeout(trailing); trailing = null; }
    if (!pending || running?.jobId !== jobId) return;
    lastProgress = performance.now();
    post({ type: 'progress', jobId, ...pending });
    pending = null;
  };
  try {
    await ready;
    post({ type: 'started', jobId });
    const ctx = createJobContext<unknown>({
      signal: abort.signal,
      gate,
      onProgress: (fraction, phase) => {
        // Throttle to ~20 messages a second; the latest value is always delivered (a trailing
        // send), so a paused or finished job shows where it really stopped.
        const t = performance.now();
        pending = { fraction, phase };
        if (fraction >= 1 || t - lastProgress > 50) flush();
        else trailing ??= setTimeout(flush, 60);
      },
      onPartial: (data) => post({ type: 'partial', jobId, data: data as never }, transferablesOf(data)),
    });
    const t0 = performance.now();
    const result = await runTask(msg.task, msg.params as never, ctx as never, env);
    post({ type: 'result', jobId, data: result, ms: performance.now() - t0, backend: getBackend() }, transferablesOf(result));
  } catch (e) {
    if (isCancelled(e) || abort.signal.aborted) post({ type: 'cancelled', jobId });
    else {
      const c = classify(e);
      // The device-lost message (posted when device.lost resolved) reaches the page first.
      if (c.kind !== 'device-lost' && c.kind !== 'bad-input' && (await deviceLostWithin(250))) {
        post({ type: 'error', jobId, kind: 'device-lost', message: `the job failed as the device went away: ${c.message}` });
      } else post({ type: 'error', jobId, ...c });
    }
  } finally {
    if (trailing) clearTimeout(trailing);
    running = null;
    void pump();
  }
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'init':
      ready = initBackend(msg.backend, {
        wasmPaths: {
          'tfjs-backend-wasm.wasm': wasmPlain,
          'tfjs-backend-wasm-simd.wasm': wasmSimd,
          'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
        },
        onDeviceLost: (reason) => post({ type: 'device-lost', reason }),
        remembered: msg.remembered,
      });
      ready.then(
        (backend) => { post({ type: 'ready', backend }); void pump(); },
        (e) => post({ type: 'init-failed', message: e instanceof Error ? e.message : String(e) }),
      );
      break;
    case 'start':
      queue.push(msg);
      void pump();
      break;
    case 'cancel': {
      const i = queue.findIndex((q) => q.jobId === msg.jobId);
      if (i >= 0) {
        queue.splice(i, 1);
        post({ type: 'cancelled', jobId: msg.jobId });
      } else if (running?.jobId === msg.jobId) {
        running.abort.abort();
      }
      break;
    }
    case 'control':
      if (running?.jobId === msg.jobId) {
        if (msg.action === 'pause') running.gate.pause();
        else if (msg.action === 'resume') running.gate.resume();
        else running.gate.step();
      }
      break;
    case 'crash':
      setTimeout(() => {
        throw new Error('Deliberate worker crash (test hook)');
      }, 0);
      break;
    case 'debug-lose-device':
      // Destroying the device makes `device.lost` resolve (reason "destroyed") through the
      // browser's own path, which initBackend's watcher turns into a device-lost message.
      void ready?.then(() => webgpuDevice()?.destroy(), () => undefined);
      break;
  }
};
