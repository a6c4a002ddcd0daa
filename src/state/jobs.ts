/**
 * The one way the page starts work: the compute client (created once, its events wired into the
 * store's backend, jobs and notices slices) and `runJob`, which every action uses to start a job
 * and turn its failure into a notice. The UI never computes: everything numerical is a job.
 */
import type { BackendPreference } from '../core/backend';
import { isCancelled } from '../core/jobs';
import type { ModelBundle } from '../core/models/bundle';
import type { TaskName, TaskParams, TaskResult } from '../core/tasks/index';
import { ComputeClient, DeviceLostError, type RunOptions, type WorkerLike } from '../worker/client';
import type { JobId } from '../worker/protocol';
import { useStore } from './store';

function makeWorker(): WorkerLike {
  return new Worker(new URL('../worker/compute.worker.ts', import.meta.url), { type: 'module', name: 'slt-compute' }) as unknown as WorkerLike;
}

let client: ComputeClient | null = null;
/** Called each time a worker is ready (the first, and any replacement after a crash or a backend switch). */
const readyListeners: (() => void)[] = [];

/** Registers what a new worker must be told again (the user's IDX data): runs on every 'ready'. */
export function onWorkerReady(listener: () => void): void {
  readyListeners.push(listener);
}

export function getClient(): ComputeClient {
  if (!client) {
    const st = useStore.getState;
    client = new ComputeClient(makeWorker, {
      onBackend: (status, info, message) => {
        st().setBackendState(status, info, message);
        if (status === 'ready') for (const listener of readyListeners) listener();
      },
      onJob: (u) => st().upsertJob(u),
      onNotice: (kind, message) => st().pushNotice(kind, message),
    });
  }
  return client;
}

export function startCompute(): void {
  getClient().start(useStore.getState().backend);
}

export function switchBackend(pref: BackendPreference): void {
  useStore.getState().setBackendPref(pref);
  getClient().start(pref);
}

export function cancelJob(id: number): void {
  getClient().cancel(id);
}

export function crashWorkerForTest(): void {
  getClient().crashForTest();
}

/** Test hook (`?debug=1`): destroys the worker's GPUDevice; false when the backend is not webgpu. */
export function loseDeviceForTest(): boolean {
  return getClient().debugLoseDevice();
}

/** "<what> failed: <message>" as an error notice; silent for a cancel and for a lost GPU device (the client's own notice names every job it stopped). */
export function reportFailure(what: string, e: unknown): void {
  if (isCancelled(e) || e instanceof DeviceLostError) return;
  const msg = e instanceof Error ? e.message : String(e);
  useStore.getState().pushNotice('error', `${what} failed: ${msg}`);
}

/** The current model, or null after the notice that asks for one. */
export function requireModel(): ModelBundle | null {
  const s = useStore.getState();
  if (!s.model) s.pushNotice('warning', 'Build or load a model first.');
  return s.model;
}

export interface JobOptions<K extends TaskName> extends RunOptions<K> {
  /** Names the work in the failure notice: "<failure> failed: <message>". */
  failure: string;
  /** Sees the error first (to settle what the job was filling in); returning true means it was handled and no notice is shown. */
  onError?(e: unknown): boolean | void;
}

export interface Job<K extends TaskName> {
  id: JobId;
  /** The result, or null once the failure was handled or reported (never rejects). */
  result: Promise<TaskResult<K> | null>;
}

/**
 * Starts `task` in the worker (progress flows into the jobs slice through the client's events;
 * `latestKey` cancels an older job with the same key) and reports its failure as a notice.
 */
export function runJob<K extends TaskName>(task: K, params: TaskParams<K>, opts: JobOptions<K>): Job<K> {
  const { failure, onError, ...run } = opts;
  const handle = getClient().run(task, params, run);
  const result = handle.promise.then(
    (r) => r,
    (e: unknown) => {
      if (!onError?.(e)) reportFailure(failure, e);
      return null;
    },
  );
  return { id: handle.id, result };
}
