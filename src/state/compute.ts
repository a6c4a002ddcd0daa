/**
 * Wires the compute worker client to the store: backend state, job updates and notices flow
 * in; UI actions (build model, run forward pass, cancel, switch backend) flow out as jobs.
 * The UI never computes: everything numerical is a job in the worker.
 */
import type { BackendPreference } from '../core/backend';
import { isCancelled } from '../core/jobs';
import { describeConfig, validateConfig } from '../core/models/config';
import type { Split } from '../core/data/types';
import { ComputeClient, type WorkerLike } from '../worker/client';
import { configOf, dataSpecOf, useStore } from './store';

function makeWorker(): WorkerLike {
  return new Worker(new URL('../worker/compute.worker.ts', import.meta.url), { type: 'module', name: 'slt-compute' }) as unknown as WorkerLike;
}

let client: ComputeClient | null = null;

export function getClient(): ComputeClient {
  if (!client) {
    const st = useStore.getState;
    client = new ComputeClient(makeWorker, {
      onBackend: (status, info, message) => st().setBackendState(status, info, message),
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

function reportFailure(what: string, e: unknown): void {
  if (isCancelled(e)) return;
  const msg = e instanceof Error ? e.message : String(e);
  useStore.getState().pushNotice('error', `${what} failed: ${msg}`);
}

/** Builds a freshly initialised model from the current settings; the old model stays until it succeeds. */
export async function buildModel(): Promise<void> {
  const s = useStore.getState();
  const config = configOf(s);
  const errs = validateConfig(config);
  if (errs.length) {
    s.pushNotice('error', `Cannot build ${describeConfig(config)}: ${errs.join('; ')}`);
    return;
  }
  const job = getClient().run('init-model', { config, seed: s.seed, data: dataSpecOf(s, config) }, { label: `Build ${describeConfig(config)}`, latestKey: 'model' });
  try {
    const model = await job.promise;
    useStore.getState().setModel(model);
  } catch (e) {
    reportFailure('Building the model', e);
  }
}

export async function runForward(split: Split = 'all', repeats = 1): Promise<void> {
  const model = useStore.getState().model;
  if (!model) {
    useStore.getState().pushNotice('warning', 'Build or load a model first.');
    return;
  }
  const job = getClient().run('forward', { model, split, repeats }, {
    label: repeats > 1 ? `Forward pass ×${repeats} (${split})` : `Forward pass (${split})`,
    latestKey: 'forward',
  });
  try {
    useStore.getState().setForward(await job.promise);
  } catch (e) {
    reportFailure('The forward pass', e);
  }
}

export function cancelJob(id: number): void {
  getClient().cancel(id);
}

export function crashWorkerForTest(): void {
  getClient().crashForTest();
}
