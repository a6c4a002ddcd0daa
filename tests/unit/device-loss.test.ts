// The client's side of a lost GPU device (the real loss is provoked in tests/e2e/run.mjs):
// queued and running jobs fail with a DeviceLostError named in one notice, one new worker
// starts on wasm, and whatever the old worker still delivers is ignored.
import { describe, expect, test } from 'vitest';
import { ComputeClient, DeviceLostError, type JobUpdate, type WorkerLike } from '../../src/worker/client';
import type { FromWorker, ToWorker } from '../../src/worker/protocol';
import type { BackendInfo } from '../../src/core/backend';

class FakeWorker implements WorkerLike {
  sent: ToWorker[] = [];
  terminated = false;
  onmessage: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  postMessage(msg: ToWorker): void { this.sent.push(msg); }
  terminate(): void { this.terminated = true; }
  reply(msg: FromWorker): void { this.onmessage?.({ data: msg } as MessageEvent<FromWorker>); }
}

const info = (active: 'webgpu' | 'wasm'): BackendInfo => ({ requested: 'auto', active, attempts: [], summary: active });
const model = { name: 'm', config: { arch: 'matfac' as const, widths: [2, 2] }, theta: new Float32Array(4), data: { kind: 'matfac' as const, inDim: 2, outDim: 2, nTrain: 2, seed: 0 } };

function setup() {
  const workers: FakeWorker[] = [];
  const jobs: JobUpdate[] = [];
  const notices: string[] = [];
  const client = new ComputeClient(() => { const w = new FakeWorker(); workers.push(w); return w; }, {
    onBackend: () => undefined,
    onJob: (u) => jobs.push(u),
    onNotice: (_k, m) => notices.push(m),
  });
  client.start('auto');
  workers[0].reply({ type: 'ready', backend: info('webgpu') });
  return { client, workers, jobs, notices };
}

describe('lost GPU device', () => {
  test('running and queued jobs fail with a DeviceLostError, one notice names them, one wasm worker starts', async () => {
    const { client, workers, jobs, notices } = setup();
    const old = workers[0];
    const a = client.run('forward', { model, split: 'all' }, { label: 'Forward pass (all)' });
    const b = client.run('forward', { model, split: 'all' }, { label: 'Forward pass (test)' });
    old.reply({ type: 'started', jobId: a.id });
    old.reply({ type: 'device-lost', reason: 'destroyed: ' });
    const err = await a.promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as Error).message).toBe('Stopped: the GPU device was lost (destroyed). Run it again; the compute worker now runs on wasm.');
    await expect(b.promise).rejects.toBeInstanceOf(DeviceLostError);
    expect(jobs.filter((j) => j.id === a.id).at(-1)).toMatchObject({ status: 'error', errorKind: 'device-lost' });
    expect(notices).toEqual(['The GPU device was lost (destroyed). The compute worker restarts on wasm; results already computed are kept. Stopped: Forward pass (all), Forward pass (test) (run them again). Switch back with the backend menu.']);
    expect(old.terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect(workers[1].sent).toEqual([{ type: 'init', backend: 'wasm' }]);
    // What the old worker still delivers (the job's own failure, the loss again) is ignored.
    old.reply({ type: 'error', jobId: a.id, message: 'GPUDevice was lost', kind: 'device-lost' });
    old.reply({ type: 'device-lost', reason: 'destroyed: ' });
    old.onerror?.({ message: 'late', preventDefault() {} } as ErrorEvent);
    expect(workers).toHaveLength(2);
    expect(notices).toHaveLength(1);
    // The new worker takes jobs.
    const c = client.run('forward', { model, split: 'all' });
    workers[1].reply({ type: 'ready', backend: info('wasm') });
    workers[1].reply({ type: 'result', jobId: c.id, data: { ok: 1 } as never, ms: 1, backend: 'wasm' });
    await expect(c.promise).resolves.toEqual({ ok: 1 });
  });

  test('a job that fails with a device-lost error first restarts once, and the later device-lost is ignored', async () => {
    const { client, workers, notices } = setup();
    const a = client.run('spectrum', { model, method: 'lanczos', k: 2, split: 'train', loss: 'ce' } as never, { label: 'Spectrum of m' });
    workers[0].reply({ type: 'error', jobId: a.id, message: 'mapAsync: Device is lost', kind: 'device-lost' });
    await expect(a.promise).rejects.toThrow(/GPU device was lost \(mapAsync: Device is lost\)/);
    workers[0].reply({ type: 'device-lost', reason: 'destroyed: ' });
    expect(workers).toHaveLength(2);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/Stopped: Spectrum of m \(run it again\)/);
  });

  test('the debug hook is sent only while webgpu is active', () => {
    const { client, workers } = setup();
    expect(client.debugLoseDevice()).toBe(true);
    expect(workers[0].sent.at(-1)).toEqual({ type: 'debug-lose-device' });
    workers[0].reply({ type: 'device-lost', reason: 'destroyed: ' });
    workers[1].reply({ type: 'ready', backend: info('wasm') });
    expect(client.debugLoseDevice()).toBe(false);
    expect(workers[1].sent.some((m) => m.type === 'debug-lose-device')).toBe(false);
  });
});
