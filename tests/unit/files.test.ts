// The page side of opening files (state/files.ts, state/compute.ts): oversized files are refused
// before a byte is read, and files the worker refuses (NaN checkpoints, float IDX pixels, labels
// outside 0..9) leave the app state as it was. The worker is replaced by an in-process stand-in
// that runs the real core tasks, so the whole path page → job → core → notice is exercised.
import type { TrainOptions } from '../../src/core/train/options';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { runTask } from '../../src/core/tasks/index';
import { createJobContext } from '../../src/core/jobs';
import { isBadInput } from '../../src/core/errors';
import { encodeSession } from '../../src/core/io/session';
import { initParams } from '../../src/core/models/init';
import { defaultDataSpec } from '../../src/core/data/spec';
import type { ModelConfig } from '../../src/core/models/config';
import type { FromWorker, ToWorker } from '../../src/worker/protocol';
import { fileSizeProblem, MAX_FILE_BYTES, type FileLike } from '../../src/state/files';

/** A valid training recipe for the sessions these tests write. */
const RECIPE: TrainOptions = { optimizer: 'adamw', lr: 0.01, weightDecay: 0, batchSize: 'full', steps: 100, seed: 0, evalEvery: 10, checkpointEvery: 50 };

/** Runs jobs in this process with the real core tasks; answers like compute.worker.ts. */
class InProcessWorker {
  static sent: ToWorker[] = [];
  onmessage: ((ev: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  private reply(msg: FromWorker): void { setTimeout(() => this.onmessage?.({ data: msg } as MessageEvent<FromWorker>), 0); }
  postMessage(msg: ToWorker): void {
    InProcessWorker.sent.push(msg);
    if (msg.type === 'init') this.reply({ type: 'ready', backend: { requested: msg.backend, active: 'cpu', attempts: [], summary: 'in-process test worker' } });
    if (msg.type !== 'start') return;
    this.reply({ type: 'started', jobId: msg.jobId });
    runTask(msg.task, msg.params as never, createJobContext() as never, { readAsset: async () => new Uint8Array() }).then(
      (data) => this.reply({ type: 'result', jobId: msg.jobId, data: data as never, ms: 0, backend: 'cpu' }),
      (e: Error) => this.reply({ type: 'error', jobId: msg.jobId, message: e.message, kind: isBadInput(e) ? 'bad-input' : 'error' }),
    );
  }
  terminate(): void {}
}

vi.stubGlobal('Worker', InProcessWorker);
const { importSession, loadIdxFiles, loadModelFile, sessionSettings } = await import('../../src/state/compute');
const { useStore } = await import('../../src/state/store');

/** A File stand-in whose contents must never be read (a real 300 MB File would be allocated). */
function unreadable(name: string, size: number): FileLike & { arrayBuffer: ReturnType<typeof vi.fn> } {
  return { name, size, arrayBuffer: vi.fn(async () => { throw new Error(`${name} was read`); }) };
}
function file(name: string, bytes: Uint8Array): FileLike {
  return { name, size: bytes.length, arrayBuffer: async () => bytes.slice().buffer };
}

const config: ModelConfig = { arch: 'matfac', widths: [3, 2, 3] };
const current = { name: 'current', config, theta: initParams(config, 7), data: defaultDataSpec(config) };
const lastNotice = () => useStore.getState().notices.at(-1);
const starts = () => InProcessWorker.sent.filter((m) => m.type === 'start');

/** The parts of the state a refused file must not touch. */
function snapshot() {
  const s = useStore.getState();
  return { model: s.model, run: s.run, spectrum: s.spectrum, userMnist: s.userMnist, arch: s.arch, widths: s.widths, eps: s.eps, view: s.view };
}

beforeAll(() => {
  useStore.getState().setModel(current);
});
afterEach(() => {
  InProcessWorker.sent = [];
});

describe('file size limits (state/files.ts)', () => {
  test('limits: model 200 MB, session 1 GB, IDX 256 MB per file; at the limit is fine, one byte over is not', () => {
    expect(MAX_FILE_BYTES).toEqual({ model: 200e6, session: 1e9, idx: 256e6 });
    for (const kind of ['model', 'session', 'idx'] as const) {
      expect(fileSizeProblem({ name: 'f', size: MAX_FILE_BYTES[kind] }, kind)).toBeNull();
      expect(fileSizeProblem({ name: 'f', size: MAX_FILE_BYTES[kind] + 1 }, kind)).toMatch(/^f is .* are refused/);
    }
    expect(fileSizeProblem({ name: 'big.safetensors', size: 300e6 }, 'model'))
      .toBe('big.safetensors is 300 MB (300,000,000 bytes); model files larger than 200 MB are refused (the largest supported model is about 20 MB). Nothing was loaded.');
  });

  test('a 300 MB model file is refused unread: false, a notice with its size and the limit, the model unchanged', async () => {
    const before = snapshot();
    const f = unreadable('huge.safetensors', 300e6);
    await expect(loadModelFile(f)).resolves.toBe(false);
    expect(f.arrayBuffer).not.toHaveBeenCalled();
    expect(lastNotice()).toMatchObject({ kind: 'error' });
    expect(lastNotice()!.message).toMatch(/^huge\.safetensors is 300 MB .*model files larger than 200 MB are refused/);
    expect(snapshot()).toEqual(before);
    expect(useStore.getState().model).toBe(current);
    expect(starts()).toEqual([]); // no job was even started
  });

  test('IDX files: one oversized file refuses the drop before any file is read', async () => {
    const before = snapshot();
    const small = unreadable('train-labels-idx1-ubyte', 60_008);
    const big = unreadable('train-images-idx3-ubyte', 300e6);
    await expect(loadIdxFiles([small, big])).resolves.toBe(false);
    expect(small.arrayBuffer).not.toHaveBeenCalled();
    expect(big.arrayBuffer).not.toHaveBeenCalled();
    expect(lastNotice()!.message).toMatch(/^train-images-idx3-ubyte is 300 MB .*IDX files larger than 256 MB are refused/);
    expect(snapshot()).toEqual(before);
    expect(starts()).toEqual([]);
  });

  test('a session file over 1 GB is refused unread', async () => {
    const before = snapshot();
    const f = unreadable('session.safetensors', 1.5e9);
    await expect(importSession(f)).resolves.toBe(false);
    expect(f.arrayBuffer).not.toHaveBeenCalled();
    expect(lastNotice()!.message).toMatch(/^session\.safetensors is 1,500 MB .*session files larger than 1,000 MB are refused/);
    expect(snapshot()).toEqual(before);
  });

  test('two files for the same role are refused by name', async () => {
    const a = unreadable('train-images-idx3-ubyte', 100);
    const b = unreadable('train-images-idx3-ubyte.gz', 100);
    await expect(loadIdxFiles([a, b])).resolves.toBe(false);
    expect(lastNotice()!.message).toBe('train-images-idx3-ubyte and train-images-idx3-ubyte.gz both look like the train images file; drop one of each kind.');
  });
});

/** An IDX file: 00 00 type ndims, big-endian dims, payload. */
function idx(type: number, dims: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const dv = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

describe('files the worker refuses leave the app state unchanged', () => {
  test('IDX images of type float32 with NaN pixels: refused, naming the file; no dataset is adopted', async () => {
    const before = snapshot();
    const px = new Uint8Array(2 * 784 * 4);
    new DataView(px.buffer).setFloat32(4 * 5, NaN, false);
    const ok = await loadIdxFiles([file('train-images-idx3-float', idx(0x0d, [2, 28, 28], px)), file('train-labels-idx1-ubyte', idx(0x08, [2], Uint8Array.of(1, 2)))]);
    expect(ok).toBe(false);
    expect(lastNotice()).toMatchObject({ kind: 'error', message: 'Loading the IDX files failed: train images (train-images-idx3-float): IDX type code 0x0d (float) is not supported; MNIST files use 0x08 (unsigned byte)' });
    expect(snapshot()).toEqual(before);
  });

  test('IDX labels outside 0..9: the file, index and value', async () => {
    const before = snapshot();
    const ok = await loadIdxFiles([file('train-images-idx3-ubyte', idx(0x08, [3, 28, 28], new Uint8Array(3 * 784))), file('train-labels-idx1-ubyte', idx(0x08, [3], Uint8Array.of(4, 11, 2)))]);
    expect(ok).toBe(false);
    expect(lastNotice()!.message).toBe('Loading the IDX files failed: train labels (train-labels-idx1-ubyte): label 11 at index 1 is outside 0..9');
    expect(snapshot()).toEqual(before);
    // The same files with valid labels are adopted (the wiring works).
    await expect(loadIdxFiles([file('train-images-idx3-ubyte', idx(0x08, [3, 28, 28], new Uint8Array(3 * 784))), file('train-labels-idx1-ubyte', idx(0x08, [3], Uint8Array.of(4, 9, 2)))])).resolves.toBe(true);
    expect(useStore.getState().userMnist?.label).toMatch(/3 digits/);
    useStore.getState().setUserMnist(null);
  });

  test('a session with a NaN checkpoint: refused, naming the step and the weight; model, run, spectrum and settings unchanged', async () => {
    const before = snapshot();
    const other: ModelConfig = { arch: 'matfac', widths: [4, 4] };
    const theta = initParams(other, 3);
    const bad = initParams(other, 4);
    bad[5] = NaN;
    const bytes = encodeSession({
      settings: { arch: 'matfac', widths: [4, 4], eps: 0.5, view: 'spectrum' },
      model: { name: 'from-session', config: other, theta, data: defaultDataSpec(other) },
      run: { baseName: 'from-session', opts: RECIPE, history: [{ step: 0, trainLoss: 1, testLoss: 1 }], checkpoints: [{ step: 0, theta }, { step: 100, theta: bad }] },
      spectrum: { info: { d: 16 }, eigenvalues: Float64Array.of(2, 1), residuals: Float64Array.of(0, 0) },
    });
    await expect(importSession(file('bad-session.safetensors', bytes))).resolves.toBe(false);
    expect(lastNotice()).toMatchObject({ kind: 'error', message: 'Importing bad-session.safetensors failed: Checkpoint at step 100 (run.checkpoint.100): weight layers.0.weight[1, 1] is NaN; a session with a non-finite checkpoint is refused' });
    expect(snapshot()).toEqual(before);
    expect(useStore.getState().model).toBe(current);
  });

  test('a session whose model θ holds +Inf is refused the same way', async () => {
    const before = snapshot();
    const good = encodeSession({ settings: {}, model: current, run: null, spectrum: null });
    // Overwrite the last weight of the embedded model file (F32 little-endian) with +Inf.
    const hacked = good.slice();
    const lastWeight = current.theta[current.theta.length - 1];
    const needle = new Uint8Array(Float32Array.of(lastWeight).buffer);
    let pos = -1;
    for (let i = hacked.length - 4; i >= 0 && pos < 0; i--) if (hacked.subarray(i, i + 4).every((b, k) => b === needle[k])) pos = i;
    expect(pos).toBeGreaterThan(0);
    hacked.set(new Uint8Array(Float32Array.of(Infinity).buffer), pos);
    await expect(importSession(file('inf.safetensors', hacked))).resolves.toBe(false);
    expect(lastNotice()!.message).toMatch(/^Importing inf\.safetensors failed: The session's model: .*weight layers\.1\.weight\[2, 1\] is \+Inf/);
    expect(snapshot()).toEqual(before);
  });

  test('session settings pass the link checks: unknown keys are dropped, invalid values listed', () => {
    const r = sessionSettings({ arch: 'matfac', widths: [4, 4], eps: null, view: 'nowhere', notices: [], model: { evil: 1 }, p: 'x' });
    expect(r.values).toEqual({ arch: 'matfac', widths: [4, 4] });
    expect(r.rejected).toEqual(['p="x"', 'eps=null', 'view="nowhere"']);
  });
});
