import { describe, expect, test } from 'vitest';
import { ComputeClient, type JobUpdate, type WorkerLike } from '../../src/worker/client';
import type { FromWorker, ToWorker } from '../../src/worker/protocol';
import { isCancelled } from '../../src/core/jobs';
import type { BackendInfo } from '../../src/core/backend';

/** A scripted stand-in for the worker: records messages, lets the test answer. */
class FakeWorker implements WorkerLike {
  sent: ToWorker[] = [];
  terminated = false;
  onmessage: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  onmessageerror: ((ev: MessageEvent) => void) | null = null;
  postMessage(msg: ToWorker): void { this.sent.push(msg); }
  terminate(): void { this.terminated = true; }
  reply(msg: FromWorker): void { this.onmessage?.({ data: msg } as MessageEvent<FromWorker>); }
  crash(message: string): void { this.onerror?.({ message, preventDefault() {} } as ErrorEvent); }
  started(): number[] { return this.sent.flatMap((m) => (m.type === 'start' ? [m.jobId] : [])); }
}

const info = (active: 'webgpu' | 'wasm'): BackendInfo => ({ requested: 'auto', active, attempts: [], summary: active });

function setup() {
  const workers: FakeWorker[] = [];
  const jobs: JobUpdate[] = [];
  const notices: string[] = [];
  const backends: string[] = [];
  const client = new ComputeClient(() => { const w = new FakeWorker(); workers.push(w); return w; }, {
    onBackend: (status, i) => backends.push(`${status}:${i?.active ?? ''}`),
    onJob: (u) => jobs.push(u),
    onNotice: (_k, m) => notices.push(m),
  });
  client.start('auto');
  return { client, workers, jobs, notices, backends, w: () => workers[workers.length - 1] };
}

const model = { name: 'm', config: { arch: 'matfac' as const, widths: [2, 2] }, theta: new Float32Array(4), data: { kind: 'matfac' as const, inDim: 2, outDim: 2, nTrain: 2, seed: 0 } };

describe('compute client', () => {
  test('a job resolves with its result and reports progress and the backend', async () => {
    const { client, w, jobs } = setup();
    w().reply({ type: 'ready', backend: info('webgpu') });
    const seen: number[] = [];
    const job = client.run('forward', { model, split: 'all' }, { onProgress: (f) => seen.push(f) });
    expect(w().sent.at(-1)).toMatchObject({ type: 'start', jobId: job.id, task: 'forward' });
    w().reply({ type: 'started', jobId: job.id });
    w().reply({ type: 'progress', jobId: job.id, fraction: 0.5, phase: 'half' });
    w().reply({ type: 'result', jobId: job.id, data: { n: 1 } as never, ms: 12, backend: 'webgpu' });
    await expect(job.promise).resolves.toEqual({ n: 1 });
    expect(seen).toEqual([0.5]);
    expect(jobs.at(-1)).toMatchObject({ id: job.id, status: 'done', backend: 'webgpu', ms: 12 });
  });

  test('latest wins: a newer job with the same key cancels the older one', async () => {
    const { client, w } = setup();
    const a = client.run('forward', { model, split: 'all' }, { latestKey: 'eps' });
    const b = client.run('forward', { model, split: 'all' }, { latestKey: 'eps' });
    const c = client.run('forward', { model, split: 'all' }, { latestKey: 'other' });
    const err = await a.promise.catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(err.message).toMatch(/Superseded/);
    expect(w().sent).toContainEqual({ type: 'cancel', jobId: a.id });
    expect(w().sent).not.toContainEqual({ type: 'cancel', jobId: b.id });
    expect(w().sent).not.toContainEqual({ type: 'cancel', jobId: c.id });
    // A late result for the superseded job is ignored.
    w().reply({ type: 'result', jobId: a.id, data: {} as never, ms: 1, backend: 'wasm' });
    w().reply({ type: 'result', jobId: b.id, data: { ok: 1 } as never, ms: 1, backend: 'wasm' });
    await expect(b.promise).resolves.toEqual({ ok: 1 });
  });

  test('cancel settles at once and tells the worker', async () => {
    const { client, w, jobs } = setup();
    const a = client.run('forward', { model, split: 'all' });
    a.cancel();
    await expect(a.promise).rejects.toSatisfy(isCancelled);
    expect(w().sent.at(-1)).toEqual({ type: 'cancel', jobId: a.id });
    expect(jobs.at(-1)).toMatchObject({ id: a.id, status: 'cancelled' });
  });

  test('errors carry their kind and message', async () => {
    const { client, w, jobs } = setup();
    const a = client.run('init-model', { config: { arch: 'matfac', widths: [2, 2] }, seed: 0 });
    w().reply({ type: 'error', jobId: a.id, message: 'widths must list…', kind: 'bad-input' });
    await expect(a.promise).rejects.toThrow('widths must list');
    expect(jobs.at(-1)).toMatchObject({ status: 'error', errorKind: 'bad-input', error: 'widths must list…' });
  });

  test('a crashed worker is replaced, its jobs fail with an explanation, and the user is told', async () => {
    const { client, workers, w, notices } = setup();
    const first = w();
    const a = client.run('forward', { model, split: 'all' }, { label: 'Forward pass (all)' });
    first.crash('boom');
    await expect(a.promise).rejects.toThrow(/crashed \(boom\).*restarted/);
    expect(first.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect(w().sent[0]).toMatchObject({ type: 'init', backend: 'auto' });
    expect(notices.at(-1)).toMatch(/crashed while running Forward pass \(all\)/);
    // The new worker takes jobs.
    const b = client.run('forward', { model, split: 'all' });
    expect(w().started()).toEqual([b.id]);
  });

  test('a crash while on WebGPU restarts the worker on wasm', () => {
    const { w, workers, notices } = setup();
    w().reply({ type: 'ready', backend: info('webgpu') });
    w().crash('gpu hang');
    expect(workers).toHaveLength(2);
    expect(w().sent[0]).toEqual({ type: 'init', backend: 'wasm' });
    expect(notices.at(-1)).toMatch(/on wasm/);
  });

  test('repeated crashes stop the restart loop with a clear message', () => {
    const { workers, w, notices, backends } = setup();
    for (let i = 0; i < 4; i++) w().crash('again');
    expect(workers).toHaveLength(4);
    expect(backends.at(-1)).toBe('failed:');
    expect(notices.at(-1)).toMatch(/crashed 4 times/);
  });

  test('a lost GPU device restarts the worker on wasm', () => {
    const { w, workers, notices } = setup();
    w().reply({ type: 'ready', backend: info('webgpu') });
    w().reply({ type: 'device-lost', reason: 'destroyed: test' });
    expect(workers).toHaveLength(2);
    expect(w().sent[0]).toEqual({ type: 'init', backend: 'wasm' });
    expect(notices.at(-1)).toMatch(/GPU device was lost.*wasm/);
  });

  test('pause, resume and single-step reach the worker only for pausable jobs', () => {
    const { client, w } = setup();
    const a = client.run('forward', { model, split: 'all' });
    a.control('pause');
    expect(w().sent.some((m) => m.type === 'control')).toBe(false);
    const b = client.run('forward', { model, split: 'all' }, { pausable: true });
    b.control('pause');
    b.control('step');
    b.control('resume');
    expect(w().sent.filter((m) => m.type === 'control').map((m) => (m as { action: string }).action)).toEqual(['pause', 'step', 'resume']);
  });
});

describe('remembered "auto" calibrations (page side)', () => {
  test('a new calibration is saved under its key; the next "auto" start sends it to the worker; named backends send none', async () => {
    const { storageChoiceMemory } = await import('../../src/worker/choiceMemory');
    const store = new Map<string, string>();
    const memory = storageChoiceMemory({ getItem: (k) => store.get(k) ?? null, setItem: (k, v) => { store.set(k, v); }, removeItem: (k) => { store.delete(k); } });
    const workers: FakeWorker[] = [];
    const client = new ComputeClient(() => { const w = new FakeWorker(); workers.push(w); return w; }, { onBackend: () => {}, onJob: () => {}, onNotice: () => {} }, memory);
    client.start('auto');
    expect(workers[0].sent[0]).toEqual({ type: 'init', backend: 'auto', remembered: {} });
    const record = { choice: 'wasm' as const, reason: 'wasm measured faster', measurements: [{ name: 'wasm' as const, matMulMs: 2, chainMs: 1, totalMs: 3, timedOut: false }], at: '2026-12-06T00:00:00Z' };
    workers[0].reply({ type: 'ready', backend: { ...info('wasm'), calibration: { key: 'adapter | UA', record, fromMemory: false } } });
    expect(memory.load()).toEqual({ 'adapter | UA': record });
    client.start('auto');
    expect(workers[1].sent[0]).toEqual({ type: 'init', backend: 'auto', remembered: { 'adapter | UA': record } });
    // A remembered result is not written again; a named backend sends no memory.
    workers[1].reply({ type: 'ready', backend: { ...info('wasm'), calibration: { key: 'adapter | UA', record: { ...record, at: 'changed' }, fromMemory: true } } });
    expect(memory.load()['adapter | UA'].at).toBe(record.at);
    client.start('wasm');
    expect(workers[2].sent[0]).toEqual({ type: 'init', backend: 'wasm' });
    client.forgetCalibrations();
    expect(memory.load()).toEqual({});
    // Garbage in storage reads as nothing remembered.
    store.set('slt-backend-calibration-v1', '[1,2');
    expect(memory.load()).toEqual({});
  });
});
