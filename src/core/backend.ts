/**
 * Explicit tfjs backend selection. A named backend is tried first, then the rest in the order
 * webgpu → wasm → cpu. "auto" starts webgpu and wasm where available, times each on a short
 * calibration (backendChoice.ts, ≤ 1 s in all) and keeps the faster — a software WebGPU adapter
 * such as SwiftShader loses to wasm unless it measures faster — or reuses a choice remembered for
 * this adapter and browser, which the caller injects (`remembered`; the page keeps them in
 * localStorage, the core has no storage of its own).
 *
 * tfjs would otherwise pick a backend by priority and silently fall back (to webgl in a page
 * without WebGPU flags), so the explorer always chooses one itself and reports why each
 * candidate was or was not used. Runs in Node, in a Worker and in tests (no DOM).
 */
import * as tf from '@tensorflow/tfjs';
import {
  calibrate, chooseBackend, choiceKey, validRecord,
  type AdapterFacts, type BackendMeasurement, type CalibrationRecord, type MeasuredBackend,
} from './backendChoice';
import { initThreads } from './wasm/threads';
import { ensureWasmTrainingKernels } from './train/wasmKernels';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was not used (or a short description of what was found when it was). */
  reason: string;
}

export interface BackendInfo {
  requested: BackendPreference;
  active: BackendName;
  attempts: BackendAttempt[];
  /** One line for the UI badge, e.g. "wasm (WebGPU unavailable: no adapter)". */
  summary: string;
  /** Adapter description when WebGPU is active. */
  adapter?: string;
  /** "auto" only: the measurements and the decision (or the remembered ones). */
  calibration?: CalibrationInfo;
  /**
   * Threads our own wasm kernels (Krylov sweeps, large GEMMs) run on, the caller included: 1 where
   * threads are unavailable (a page that is not cross-origin isolated) or not wanted.
   */
  kernelThreads?: number;
}

export interface CalibrationInfo {
  /** The key to remember `record` under (adapter + user agent; see `choiceKey`). */
  key: string;
  record: CalibrationRecord;
  /** True when `record` came from `BackendOptions.remembered` and nothing was measured now. */
  fromMemory: boolean;
  /** The WebGPU adapter's facts, when there is one. */
  adapter?: AdapterFacts;
}

/** Paths (URLs in a browser, file paths or URLs in Node) of tfjs-backend-wasm's binaries. */
export interface WasmPaths {
  'tfjs-backend-wasm.wasm'?: string;
  'tfjs-backend-wasm-simd.wasm'?: string;
  'tfjs-backend-wasm-threaded-simd.wasm'?: string;
}

export interface BackendOptions {
  wasmPaths?: WasmPaths;
  /**
   * Run even small ops on the GPU (tfjs's webgpu backend otherwise runs inputs under ~1000
   * elements on CPU kernels, docs/platform.md §1). Default true so "webgpu" means what it says.
   */
  webgpuNoCpuForward?: boolean;
  /** Called if the GPU device is lost after initialisation (driver reset, tab backgrounded...). */
  onDeviceLost?: (reason: string) => void;
  /** "auto": earlier calibrations by key (see `CalibrationInfo.key`); a match skips the measurement. */
  remembered?: Readonly<Record<string, unknown>>;
  /** "auto": calibration budget per backend in ms (default webgpu 550, wasm 300, cpu 300). */
  calibrationBudgetMs?: Partial<Record<MeasuredBackend, number>>;
  /**
   * Threads for our wasm kernels (the Krylov sweeps, large GEMMs), the caller included; default
   * `defaultKernelThreads()`. tfjs's own kernels stay on one thread.
   */
  threads?: number;
}

/**
 * The default thread count for our wasm kernels: SLT_THREADS when set (Node), else the cores this
 * runtime reports (Node: os.availableParallelism, browser: navigator.hardwareConcurrency), at most 4. Each kernel still runs on one thread below a
 * measured size (BENCHMARKS.md "Threads"), so small work stays where one core is faster.
 */
export async function defaultKernelThreads(): Promise<number> {
  const g = globalThis as { process?: { env?: Record<string, string | undefined>; versions?: { node?: string } }; navigator?: { hardwareConcurrency?: number } };
  const env = g.process?.env?.SLT_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  let cores = g.navigator?.hardwareConcurrency ?? 1;
  if (g.process?.versions?.node) {
    const spec = 'node:os';
    const os = (await import(/* @vite-ignore */ spec)) as { availableParallelism?: () => number; cpus: () => unknown[] };
    cores = os.availableParallelism?.() ?? os.cpus().length;
  }
  return Math.max(1, Math.min(4, Math.floor(cores)));
}

/** The candidates tried for a preference: the preferred one first, then the rest in order. */
export function candidatesFor(pref: BackendPreference): BackendName[] {
  if (pref === 'auto') return [...BACKEND_ORDER];
  const start = BACKEND_ORDER.indexOf(pref);
  return BACKEND_ORDER.slice(start);
}

type GpuLike = { requestAdapter(): Promise<GPUAdapter | null> };

function getGpu(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The WebGPU adapter's facts without starting tfjs, or why there is none. */
async function probeAdapter(): Promise<{ facts?: AdapterFacts; reason: string }> {
  const gpu = getGpu();
  if (!gpu) return { reason: 'WebGPU unavailable: navigator.gpu is missing in this context' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { reason: 'WebGPU unavailable: no adapter' };
    const info = (adapter as { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
    const description = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter' : 'unnamed adapter';
    const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? info?.isFallbackAdapter ?? false;
    return { facts: { description, isFallbackAdapter: fallback }, reason: `adapter: ${description}` };
  } catch (e) {
    return { reason: `WebGPU unavailable: requestAdapter failed (${errorText(e)})` };
  }
}

async function tryWebgpu(opts: BackendOptions, watch = true): Promise<{ ok: boolean; reason: string; adapter?: string }> {
  const gpu = getGpu();
  if (!gpu) return { ok: false, reason: 'WebGPU unavailable: navigator.gpu is missing in this context' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { ok: false, reason: `WebGPU unavailable: requestAdapter failed (${errorText(e)})` };
  }
  if (!adapter) return { ok: false, reason: 'WebGPU unavailable: no adapter' };
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const adapterName = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter' : 'unnamed adapter';
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (opts.webgpuNoCpuForward !== false) tf.env().set('WEBGPU_CPU_FORWARD', false);
    const ok = await tf.setBackend('webgpu');
    if (!ok) return { ok: false, reason: 'WebGPU unavailable: tfjs could not initialise the webgpu backend' };
    await tf.ready();
    if (watch) watchDeviceLoss(opts.onDeviceLost);
    return { ok: true, reason: `adapter: ${adapterName}`, adapter: adapterName };
  } catch (e) {
    return { ok: false, reason: `WebGPU unavailable: ${errorText(e)}` };
  }
}

/** The webgpu backend's GPUDevice, or undefined when the active backend is not webgpu. */
export function webgpuDevice(): GPUDevice | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  return (tf.backend() as unknown as { device?: GPUDevice }).device;
}

function watchDeviceLoss(onLost?: (reason: string) => void): void {
  if (!onLost) return;
  const device = webgpuDevice();
  device?.lost.then((info) => onLost(`${info.reason}: ${info.message}`)).catch(() => undefined);
}

async function tryWasm(opts: BackendOptions): Promise<{ ok: boolean; reason: string }> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Threaded wasm hung setBackend under Vite with COOP/COEP (docs/platform.md §1): use one thread.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (opts.wasmPaths) wasm.setWasmPaths(opts.wasmPaths as Record<string, string>);
    const ok = await tf.setBackend('wasm');
    if (!ok) return { ok: false, reason: 'wasm unavailable: tfjs could not initialise the wasm backend' };
    await tf.ready();
    // Kernels tfjs-backend-wasm 4.22 lacks for gradients (segment sums) and fast matMul grads.
    ensureWasmTrainingKernels();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { ok: true, reason: simd ? 'SIMD, 1 thread' : 'no SIMD, 1 thread' };
  } catch (e) {
    return { ok: false, reason: `wasm unavailable: ${errorText(e)}` };
  }
}

async function tryCpu(): Promise<{ ok: boolean; reason: string }> {
  try {
    const ok = await tf.setBackend('cpu');
    await tf.ready();
    return ok ? { ok: true, reason: 'pure JavaScript (slow)' } : { ok: false, reason: 'cpu backend failed to initialise' };
  } catch (e) {
    return { ok: false, reason: `cpu unavailable: ${errorText(e)}` };
  }
}

/**
 * Activates the first backend that works for the preference and says why the others were not
 * used. Throws only if none works (not expected: cpu always exists).
 */
export async function initBackend(pref: BackendPreference = 'auto', opts: BackendOptions = {}): Promise<BackendInfo> {
  // Our own kernel threads (wasm/threads.ts), whatever tfjs runs on: before any kernel instance exists.
  const threads = await initThreads(opts.threads ?? (await defaultKernelThreads()));
  const info = pref === 'auto' ? await initAuto(opts) : await initPreferred(pref, opts);
  return { ...info, kernelThreads: threads, summary: threads > 1 ? `${info.summary}; our kernels on ${threads} threads` : info.summary };
}

async function initPreferred(pref: Exclude<BackendPreference, 'auto'>, opts: BackendOptions): Promise<BackendInfo> {
  const attempts: BackendAttempt[] = [];
  let adapter: string | undefined;
  for (const name of candidatesFor(pref)) {
    const r = name === 'webgpu' ? await tryWebgpu(opts) : name === 'wasm' ? await tryWasm(opts) : await tryCpu();
    attempts.push({ name, ok: r.ok, reason: r.reason });
    if (r.ok) {
      if ('adapter' in r) adapter = r.adapter as string | undefined;
      const skipped = attempts.filter((a) => !a.ok).map((a) => a.reason);
      const summary = skipped.length ? `${name} (${skipped.join('; ')})` : `${name} (${r.reason})`;
      return { requested: pref, active: name, attempts, summary, adapter };
    }
  }
  throw new Error(`No tfjs backend could be started: ${attempts.map((a) => a.reason).join('; ')}`);
}

const DEFAULT_BUDGET: Record<MeasuredBackend, number> = { webgpu: 550, wasm: 300, cpu: 300 };

/**
 * "auto": start webgpu (when there is an adapter) and wasm, then pick by measurement or by the
 * remembered choice for this adapter and browser; cpu only when neither starts.
 */
async function initAuto(opts: BackendOptions): Promise<BackendInfo> {
  const attempts: BackendAttempt[] = [];
  const probe = await probeAdapter();
  const facts = probe.facts;
  const userAgent = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? 'unknown runtime';
  const key = choiceKey(facts, userAgent);
  const available: MeasuredBackend[] = [];
  let adapter: string | undefined;
  if (facts) {
    const r = await tryWebgpu(opts, false);
    attempts.push({ name: 'webgpu', ok: r.ok, reason: r.reason });
    if (r.ok) { available.push('webgpu'); adapter = r.adapter; }
  } else {
    attempts.push({ name: 'webgpu', ok: false, reason: probe.reason });
  }
  const w = await tryWasm(opts);
  attempts.push({ name: 'wasm', ok: w.ok, reason: w.reason });
  if (w.ok) available.push('wasm');
  if (available.length === 0) {
    const c = await tryCpu();
    attempts.push({ name: 'cpu', ok: c.ok, reason: c.reason });
    if (!c.ok) throw new Error(`No tfjs backend could be started: ${attempts.map((a) => a.reason).join('; ')}`);
    const skipped = attempts.filter((a) => !a.ok).map((a) => a.reason);
    return { requested: 'auto', active: 'cpu', attempts, summary: `cpu (${skipped.join('; ')})` };
  }
  const past = opts.remembered?.[key];
  let record: CalibrationRecord;
  let fromMemory = false;
  if (validRecord(past, available)) {
    record = past;
    fromMemory = true;
  } else {
    // wasm first: a software GPU that runs past its budget keeps working in the background, and
    // must not slow the other measurement.
    const measurements: BackendMeasurement[] = [];
    for (const name of ['wasm', 'webgpu'] as const) {
      if (!available.includes(name)) continue;
      try {
        await tf.setBackend(name);
        measurements.push(await calibrate(name, { budgetMs: opts.calibrationBudgetMs?.[name] ?? DEFAULT_BUDGET[name] }));
      } catch (e) {
        // A backend that fails its calibration is not used.
        const a = attempts.find((x) => x.name === name);
        if (a) { a.ok = false; a.reason = `${name} failed its calibration: ${errorText(e)}`; }
      }
    }
    if (measurements.length === 0) {
      const c = await tryCpu();
      attempts.push({ name: 'cpu', ok: c.ok, reason: c.reason });
      if (!c.ok) throw new Error(`No tfjs backend could be started: ${attempts.map((a) => a.reason).join('; ')}`);
      return { requested: 'auto', active: 'cpu', attempts, summary: `cpu (${attempts.filter((a) => !a.ok).map((a) => a.reason).join('; ')})` };
    }
    const d = chooseBackend(measurements, facts);
    record = { choice: d.choice, reason: d.reason, measurements, at: new Date().toISOString() };
  }
  const active = record.choice;
  await tf.setBackend(active);
  await tf.ready();
  if (active === 'webgpu') watchDeviceLoss(opts.onDeviceLost);
  for (const a of attempts) if (a.ok && a.name !== active) a.reason += ' — started, not chosen';
  const summary = `${active} (auto: ${fromMemory ? `remembered for this device — ${record.reason}` : record.reason})`;
  return {
    requested: 'auto', active, attempts, summary, adapter: active === 'webgpu' ? adapter : undefined,
    calibration: { key, record, fromMemory, adapter: facts },
  };
}
