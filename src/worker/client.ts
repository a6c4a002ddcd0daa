/**
 * The main-thread side of the compute worker. Gives every job an id and a promise, keeps
 * "latest wins" for interactive requests (a newer job with the same key cancels the older),
 * replaces a crashed worker and tells the UI, and restarts on a lost GPU device with wasm.
 * No React and no store here: the UI wires events into its store (src/state/jobs.ts).
 */
import type { BackendInfo, BackendPreference } from '../core/backend';
import { CancelledError } from '../core/jobs';
import type { TaskName, TaskParams, TaskPartial, TaskResult } from '../core/tasks/index';
import { storageChoiceMemory, type ChoiceMemory } from './choiceMemory';
import type { ErrorKind, FromWorker, JobControl, JobId, ToWorker } from './protocol';

export type JobStatus = 'queued' | 'running' | 'done' | 'cancelled' | 'error';

/**
 * The rejection of a job that was queued or running when the GPU device was lost. The client's
 * own notice names every such job, so callers need not report it again.
 */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

export interface JobUpdate {
  id: JobId;
  task: TaskName;
  label: string;
  status: JobStatus;
  fraction: number;
  phase: string;
  error?: string;
  errorKind?: ErrorKind;
  /** Backend the result was computed on (set when done). */
  backend?: string;
  ms?: number;
  pausable: boolean;
  paused?: boolean;
}

export type BackendStatus = 'starting' | 'ready' | 'failed';

export interface ClientEvents {
  onBackend(status: BackendStatus, info: BackendInfo | null, message?: string): void;
  onJob(update: JobUpdate): void;
  onNotice(kind: 'error' | 'warning' | 'info', message: string): void;
}

export interface RunOptions<K extends TaskName> {
  label?: string;
  /** Latest wins: a new job with the same key cancels a queued or running older one. */
  latestKey?: string;
  onProgress?(fraction: number, phase: string): void;
  onPartial?(data: TaskPartial<K>): void;
  /** Buffers to transfer with the params (the caller must not use them afterwards). */
  transfer?: ArrayBuffer[];
  pausable?: boolean;
}

export interface JobHandle<K extends TaskName> {
  id: JobId;
  promise: Promise<TaskResult<K>>;
  cancel(): void;
  control(action: JobControl): void;
}

interface Pending {
  update: JobUpdate;
  latestKey?: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?(fraction: number, phase: string): void;
  onPartial?(data: unknown): void;
  message: ToWorker;
  transfer: ArrayBuffer[];
}

/** Minimal surface of a Worker, so tests can drive the client with a fake. */
export interface WorkerLike {
  postMessage(msg: ToWorker, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((ev: MessageEvent<FromWorker>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  onmessageerror?: ((ev: MessageEvent) => void) | null;
}

export class ComputeClient {
  private worker: WorkerLike | null = null;
  private jobs = new Map<JobId, Pending>();
  private nextId = 1;
  private pref: BackendPreference = 'auto';
  private crashTimes: number[] = [];
  backend: BackendInfo | null = null;

  /**
   * `memory`: where "auto" calibrations are remembered per device (default: localStorage, a no-op
   * where there is none).
   */
  constructor(
    private readonly makeWorker: () => WorkerLike,
    private readonly events: ClientEvents,
    private readonly memory: ChoiceMemory = storageChoiceMemory(),
  ) {}

  /** Forget the remembered "auto" calibrations; the next "auto" start measures again. */
  forgetCalibrations(): void {
    this.memory.clear();
  }

  /** Starts (or restarts) the worker with a backend preference. Running jobs are cancelled. */
  start(pref: BackendPreference = this.pref): void {
    this.pref = pref;
    this.stopWorker('The compute backend was switched; the job was stopped. Run it again.');
    this.backend = null;
    this.events.onBackend('starting', null);
    const w = this.makeWorker();
    // A replaced worker may still deliver what it queued (an error and a device-lost for the
    // same loss): only the current worker is listened to.
    w.onmessage = (ev) => { if (this.worker === w) this.onMessage(ev.data); };
    w.onerror = (ev) => {
      ev.preventDefault?.();
      if (this.worker === w) this.onCrash(ev.message || 'unknown error');
    };
    w.onmessageerror = () => this.events.onNotice('warning', 'A message from the compute worker could not be read.');
    this.worker = w;
    w.postMessage(pref === 'auto' ? { type: 'init', backend: pref, remembered: this.memory.load() } : { type: 'init', backend: pref });
  }

  get preference(): BackendPreference {
    return this.pref;
  }

  run<K extends TaskName>(task: K, params: TaskParams<K>, opts: RunOptions<K> = {}): JobHandle<K> {
    if (!this.worker) this.start();
    if (opts.latestKey) {
      for (const p of this.jobs.values()) {
        if (p.latestKey === opts.latestKey) this.cancel(p.update.id, 'Superseded by a newer request');
      }
    }
    const id = this.nextId++;
    const update: JobUpdate = { id, task, label: opts.label ?? task, status: 'queued', fraction: 0, phase: 'queued', pausable: !!opts.pausable };
    const message = { type: 'start', jobId: id, task, params } as ToWorker;
    const promise = new Promise<TaskResult<K>>((resolve, reject) => {
      this.jobs.set(id, {
        update,
        latestKey: opts.latestKey,
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: opts.onProgress,
        onPartial: opts.onPartial as ((d: unknown) => void) | undefined,
        message,
        transfer: opts.transfer ?? [],
      });
    });
    // Callers that only watch the store should not get "unhandled rejection" noise on cancel.
    promise.catch(() => undefined);
    this.events.onJob({ ...update });
    this.worker!.postMessage(message, opts.transfer ?? []);
    return { id, promise, cancel: () => this.cancel(id), control: (a) => this.control(id, a) };
  }

  cancel(id: JobId, reason = 'Cancelled'): void {
    const p = this.jobs.get(id);
    if (!p) return;
    this.worker?.postMessage({ type: 'cancel', jobId: id });
    // Settle at once: the UI should not wait for the worker's acknowledgement.
    this.finish(id, 'cancelled', undefined, new CancelledError(reason));
  }

  control(id: JobId, action: JobControl): void {
    const p = this.jobs.get(id);
    if (!p || !p.update.pausable) return;
    this.worker?.postMessage({ type: 'control', jobId: id, action });
    p.update.paused = action !== 'resume';
    this.events.onJob({ ...p.update });
  }

  /** Test hook: crash the worker to exercise recovery. */
  crashForTest(): void {
    this.worker?.postMessage({ type: 'crash' });
  }

  /**
   * Test hook: the worker destroys its GPUDevice, so the loss arrives through the browser's own
   * `device.lost` path. False (and nothing sent) when the active backend is not webgpu.
   */
  debugLoseDevice(): boolean {
    if (!this.worker || this.backend?.active !== 'webgpu') return false;
    this.worker.postMessage({ type: 'debug-lose-device' });
    return true;
  }

  dispose(): void {
    this.stopWorker('The compute worker was shut down.');
  }

  private stopWorker(reason: string): void {
    for (const id of [...this.jobs.keys()]) this.finish(id, 'cancelled', undefined, new CancelledError(reason));
    this.worker?.terminate();
    this.worker = null;
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        this.backend = msg.backend;
        if (msg.backend.calibration && !msg.backend.calibration.fromMemory) this.memory.save(msg.backend.calibration.key, msg.backend.calibration.record);
        this.events.onBackend('ready', msg.backend);
        return;
      case 'init-failed':
        this.events.onBackend('failed', null, msg.message);
        this.events.onNotice('error', `The compute backend could not start: ${msg.message}`);
        return;
      case 'device-lost':
        this.onDeviceLost(msg.reason);
        return;
    }
    const p = this.jobs.get(msg.jobId);
    if (!p) return; // settled already (cancelled on this side)
    switch (msg.type) {
      case 'started':
        Object.assign(p.update, { status: 'running', phase: 'started' });
        this.events.onJob({ ...p.update });
        break;
      case 'progress':
        Object.assign(p.update, { status: 'running', fraction: msg.fraction, phase: msg.phase });
        p.onProgress?.(msg.fraction, msg.phase);
        this.events.onJob({ ...p.update });
        break;
      case 'partial':
        p.onPartial?.(msg.data);
        break;
      case 'result':
        Object.assign(p.update, { backend: msg.backend, ms: msg.ms, fraction: 1, phase: 'done' });
        this.finish(msg.jobId, 'done', msg.data);
        break;
      case 'cancelled':
        this.finish(msg.jobId, 'cancelled', undefined, new CancelledError());
        break;
      case 'error': {
        // A job that failed because the device went away is one of the jobs the loss stopped.
        if (msg.kind === 'device-lost') this.onDeviceLost(msg.message);
        else {
          p.update.errorKind = msg.kind;
          this.finish(msg.jobId, 'error', undefined, new Error(msg.message));
        }
        break;
      }
    }
  }

  private finish(id: JobId, status: JobStatus, value?: unknown, error?: Error): void {
    const p = this.jobs.get(id);
    if (!p) return;
    this.jobs.delete(id);
    p.update.status = status;
    if (error && status === 'error') p.update.error = error.message;
    if (status === 'cancelled') p.update.phase = error?.message ?? 'cancelled';
    this.events.onJob({ ...p.update });
    if (status === 'done') p.resolve(value);
    else p.reject(error);
  }

  /**
   * The GPU device is gone (driver reset, or destroyed): every queued or running job fails with a
   * DeviceLostError, one notice names them, and a new worker starts on wasm. Results already on
   * the page are untouched (they live in the store, not in the worker).
   */
  private onDeviceLost(reason: string): void {
    const why = reason.replace(/:\s*$/, '') || 'no reason given';
    const names = [...this.jobs.values()].map((p) => p.update.label);
    for (const id of [...this.jobs.keys()]) {
      this.jobs.get(id)!.update.errorKind = 'device-lost';
      this.finish(id, 'error', undefined, new DeviceLostError(`Stopped: the GPU device was lost (${why}). Run it again; the compute worker now runs on wasm.`));
    }
    const stopped = names.length ? ` Stopped: ${names.join(', ')} (run ${names.length === 1 ? 'it' : 'them'} again).` : '';
    this.events.onNotice('error', `The GPU device was lost (${why}). The compute worker restarts on wasm; results already computed are kept.${stopped} Switch back with the backend menu.`);
    this.start('wasm');
  }

  private onCrash(message: string): void {
    const now = Date.now();
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < 30_000), now];
    const names = [...this.jobs.values()].map((p) => p.update.label);
    for (const id of [...this.jobs.keys()]) {
      const p = this.jobs.get(id)!;
      p.update.errorKind = 'error';
      this.finish(id, 'error', undefined, new Error(`The compute worker crashed (${message}). It was restarted; run the job again.`));
    }
    this.worker?.terminate();
    this.worker = null;
    if (this.crashTimes.length > 3) {
      this.events.onBackend('failed', null, 'The compute worker crashed repeatedly');
      this.events.onNotice('error', `The compute worker crashed ${this.crashTimes.length} times in 30 s (${message}). It was not restarted; reload the page or pick another backend.`);
      return;
    }
    const what = names.length ? ` while running ${names.join(', ')}` : '';
    // A crash on the GPU path is most often the GPU's: the new worker falls back to wasm.
    const onGpu = this.backend?.active === 'webgpu';
    this.events.onNotice('error', `The compute worker crashed${what} (${message}). A new worker was started${onGpu ? ' on wasm (switch back with the backend menu)' : ''}. Results already computed are kept.`);
    this.start(onGpu ? 'wasm' : this.pref);
  }
}
