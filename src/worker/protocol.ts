/**
 * The one message union both sides of the compute worker import (STYLE.md: a typed protocol).
 * Main → worker: init, start, cancel, control (and the test hooks crash, debug-lose-device).
 * Worker → main: ready, progress, partial, result, cancelled, error, device-lost. Large typed
 * arrays inside params and results travel as transferables (zero-copy); see transferablesOf.
 */
import type { BackendInfo, BackendPreference } from '../core/backend';
import type { CalibrationRecord } from '../core/backendChoice';
import type { TaskName, TaskParams, TaskPartial, TaskResult } from '../core/tasks/index';

export type JobId = number;

export type StartMessage = { [K in TaskName]: { type: 'start'; jobId: JobId; task: K; params: TaskParams<K> } }[TaskName];

/** Pause / resume / single-step for jobs that support it (training). */
export type JobControl = 'pause' | 'resume' | 'step';

export type ToWorker =
  /** `remembered`: the page's past "auto" calibrations by key (see worker/choiceMemory.ts). */
  | { type: 'init'; backend: BackendPreference; remembered?: Record<string, CalibrationRecord> }
  | StartMessage
  | { type: 'cancel'; jobId: JobId }
  | { type: 'control'; jobId: JobId; action: JobControl }
  /** Test hook: make the worker crash (an uncaught error outside any job). */
  | { type: 'crash' }
  /** Test hook: destroy the webgpu backend's GPUDevice, so `device.lost` resolves the real way (ignored on other backends). */
  | { type: 'debug-lose-device' };

export type ErrorKind = 'error' | 'out-of-memory' | 'device-lost' | 'bad-input';

export type FromWorker =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'init-failed'; message: string }
  | { type: 'started'; jobId: JobId }
  | { type: 'progress'; jobId: JobId; fraction: number; phase: string }
  | { type: 'partial'; jobId: JobId; data: TaskPartial<TaskName> }
  | { type: 'result'; jobId: JobId; data: TaskResult<TaskName>; ms: number; backend: string }
  | { type: 'cancelled'; jobId: JobId }
  | { type: 'error'; jobId: JobId; message: string; kind: ErrorKind }
  | { type: 'device-lost'; reason: string };

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array | Int16Array | Uint16Array | Int8Array;

function isTyped(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/**
 * The ArrayBuffers of large typed arrays found in a message payload, to pass as transfer
 * list. Only arrays that own their whole buffer are transferred (a subarray view would detach
 * its parent); small ones are cheaper to copy. The sender must not use them afterwards.
 */
export function transferablesOf(value: unknown, minBytes = 4096): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 6) return;
    seen.add(v);
    if (isTyped(v)) {
      const buf = v.buffer;
      if (buf instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === buf.byteLength && v.byteLength >= minBytes) out.add(buf);
      return;
    }
    if (Array.isArray(v)) { for (const x of v) walk(x, depth + 1); return; }
    for (const x of Object.values(v as Record<string, unknown>)) walk(x, depth + 1);
  };
  walk(value, 0);
  return [...out];
}
