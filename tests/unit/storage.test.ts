import 'fake-indexeddb/auto';
import { openDB, type IDBPDatabase } from 'idb';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { ModelBundle } from '../../src/core/models/bundle';
import {
  closeStorage, deleteModel, deleteRun, getRun, listCheckpoints, listModels, listRuns, loadCheckpoint, loadModel,
  openExplorerDB, quotaMessage, saveCheckpoint, saveModel, saveRun, StorageError, type ExplorerDB,
} from '../../src/storage/db';

// Each test opens its own database in fake-indexeddb's in-memory factory.
let dbCount = 0;
const opened: { close(): void }[] = [];

async function freshDB(): Promise<{ db: ExplorerDB; name: string }> {
  const name = `slt-test-${++dbCount}`;
  const db = await openExplorerDB(name);
  opened.push(db);
  return { db, name };
}

/** A second, untyped connection, to write records the API would refuse. */
async function rawDB(name: string): Promise<IDBPDatabase> {
  const db = await openDB(name);
  opened.push(db);
  return db;
}

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  for (const db of opened.splice(0)) db.close();
  await closeStorage();
});

/** Sizes written out by hand: matfac [3, 2, 4] has weights 2×3 and 4×2, no biases. */
const MATFAC_D = 2 * 3 + 4 * 2;
/** modadd p=5 e=2 h=3: embed 5×2, hidden 3×4 + 3, out 5×3 + 5. */
const MODADD_D = 5 * 2 + 3 * 4 + 3 + 5 * 3 + 5;

/** θ with awkward entries (−0, subnormal, ±∞, a NaN payload) so a lossy path would show. */
function thetaOf(n: number, salt: number): Float32Array {
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = Math.sin(i * 1.7 + salt) * 10 ** ((i % 7) - 3);
  t[0] = -0;
  if (n > 3) {
    t[1] = 1.4e-45;
    t[2] = -Infinity;
    new Uint32Array(t.buffer)[3] = 0x7fc01234; // a NaN with a payload
  }
  return t;
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function matfacBundle(name = 'deep linear'): ModelBundle {
  return {
    name,
    config: { arch: 'matfac', widths: [3, 2, 4] },
    theta: thetaOf(MATFAC_D, 1),
    data: { kind: 'matfac', inDim: 3, outDim: 4, nTrain: 5, seed: 9 },
    trainIdx: Int32Array.from([4, 0, 2]),
    dataX: Float32Array.from({ length: 15 }, (_, i) => i / 8),
    dataY: Float32Array.from({ length: 20 }, (_, i) => -i / 16),
    metadata: { source: 'unit test', recipe: 'none' },
  };
}

function modaddBundle(name: string, salt: number): ModelBundle {
  return {
    name,
    config: { arch: 'modadd', p: 5, e: 2, h: 3 },
    theta: thetaOf(MODADD_D, salt),
    data: { kind: 'modadd', p: 5, trainFraction: 0.5, seed: 3, op: 'sum' },
  };
}

describe('saved models', () => {
  test('save then load gives back the same bundle, bit for bit, from a copy', async () => {
    const { db } = await freshDB();
    const b = matfacBundle();
    const expectedBits = bits(thetaOf(MATFAC_D, 1));
    const id = await saveModel(b, 'my model', db);
    b.theta.fill(7); // the stored copy must not follow later edits
    b.dataX!.fill(7);

    const back = await loadModel(id, db);
    expect(back.theta).toBeInstanceOf(Float32Array);
    expect(bits(back.theta)).toEqual(expectedBits);
    expect(Object.is(back.theta[0], -0)).toBe(true);
    expect(back.name).toBe('my model');
    expect(back.config).toEqual({ arch: 'matfac', widths: [3, 2, 4] });
    expect(back.data).toEqual({ kind: 'matfac', inDim: 3, outDim: 4, nTrain: 5, seed: 9 });
    expect(back.trainIdx).toBeInstanceOf(Int32Array);
    expect(Array.from(back.trainIdx!)).toEqual([4, 0, 2]);
    expect(Array.from(back.dataX!)).toEqual(Array.from({ length: 15 }, (_, i) => Math.fround(i / 8)));
    expect(Array.from(back.dataY!)).toEqual(Array.from({ length: 20 }, (_, i) => Math.fround(-i / 16)));
    expect(back.metadata).toEqual({ source: 'unit test', recipe: 'none' });
  });

  test('a bundle without optional fields loads without them; name defaults to the bundle name', async () => {
    const { db } = await freshDB();
    const id = await saveModel(modaddBundle('grokked', 2), undefined, db);
    const back = await loadModel(id, db);
    expect(Object.keys(back).sort()).toEqual(['config', 'data', 'name', 'theta']);
    expect(back.name).toBe('grokked');
    expect(bits(back.theta)).toEqual(bits(thetaOf(MODADD_D, 2)));
  });

  test('a θ that is a view into a larger buffer is stored without the rest of the buffer', async () => {
    const { db, name } = await freshDB();
    const big = new Float32Array(10_000);
    big.set(thetaOf(MATFAC_D, 5), 100);
    const b = { ...matfacBundle(), theta: big.subarray(100, 100 + MATFAC_D) };
    const id = await saveModel(b, undefined, db);
    const raw = await rawDB(name);
    const rec = (await raw.get('models', id)) as { theta: Float32Array };
    expect(rec.theta.buffer.byteLength).toBe(4 * MATFAC_D);
    expect(bits((await loadModel(id, db)).theta)).toEqual(bits(thetaOf(MATFAC_D, 5)));
  });

  test('listing is newest first and carries no parameters', async () => {
    const { db, name } = await freshDB();
    const a = await saveModel(modaddBundle('first', 1), undefined, db);
    const b = await saveModel(matfacBundle('second'), undefined, db);
    const c = await saveModel(modaddBundle('third', 3), undefined, db);
    const list = await listModels(db);
    expect(list.map((m) => m.id)).toEqual([c, b, a]);
    expect(list.map((m) => m.name)).toEqual(['third', 'second', 'first']);
    expect(list.map((m) => m.paramCount)).toEqual([MODADD_D, MATFAC_D, MODADD_D]);
    expect(list[1].config).toEqual({ arch: 'matfac', widths: [3, 2, 4] });
    for (const m of list) expect(Object.keys(m).sort()).toEqual(['config', 'id', 'name', 'paramCount', 'savedAt']);
    expect(list[0].savedAt).toBeGreaterThan(list[1].savedAt);
    expect(list[1].savedAt).toBeGreaterThan(list[2].savedAt);
    // The listing reads a store whose rows hold no arrays at all.
    const raw = await rawDB(name);
    for (const row of (await raw.getAll('modelMeta')) as Record<string, unknown>[]) {
      expect(Object.values(row).some((v) => ArrayBuffer.isView(v))).toBe(false);
    }
  });

  test('delete removes the model and its listing entry, and is idempotent', async () => {
    const { db, name } = await freshDB();
    const a = await saveModel(modaddBundle('keep', 1), undefined, db);
    const b = await saveModel(modaddBundle('drop', 2), undefined, db);
    await deleteModel(b, db);
    expect((await listModels(db)).map((m) => m.id)).toEqual([a]);
    await expect(loadModel(b, db)).rejects.toThrow(`No saved model with id "${b}"`);
    const raw = await rawDB(name);
    expect(await raw.getAllKeys('models')).toEqual([a]);
    await deleteModel(b, db);
    expect(bits((await loadModel(a, db)).theta)).toEqual(bits(thetaOf(MODADD_D, 1)));
  });

  test('a bundle whose θ does not fit its config is refused and nothing is written', async () => {
    const { db } = await freshDB();
    const bad = { ...matfacBundle(), theta: new Float32Array(MATFAC_D + 1) };
    await expect(saveModel(bad, undefined, db)).rejects.toThrow(`${MATFAC_D + 1} entries, its architecture needs ${MATFAC_D}`);
    expect(await listModels(db)).toEqual([]);
  });
});

describe('missing records', () => {
  test('loading an unknown id is a StorageError naming the id', async () => {
    const { db } = await freshDB();
    const err = await loadModel('no-such-id', db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).name).toBe('StorageError');
    expect((err as Error).message).toBe('No saved model with id "no-such-id"');
    await expect(getRun('no-run', db)).rejects.toThrow('No saved run with id "no-run"');
    await expect(loadCheckpoint('no-run', 3, db)).rejects.toThrow('No checkpoint at step 3 of run "no-run"');
  });
});

describe('runs and checkpoints', () => {
  const run = {
    name: 'grokking run',
    config: { arch: 'modadd', p: 5, e: 2, h: 3 } as const,
    data: { kind: 'modadd', p: 5, trainFraction: 0.5, seed: 3, op: 'sum' } as const,
  };

  test('checkpoints list in step order with their metrics and load bit for bit', async () => {
    const { db } = await freshDB();
    const r1 = await saveRun({ ...run, runId: 'run-1' }, db);
    const r10 = await saveRun({ ...run, runId: 'run-10' }, db);
    expect([r1, r10]).toEqual(['run-1', 'run-10']);
    // Out of order, and in an order where text sorting ("10" < "100" < "2") would differ.
    for (const step of [10, 2, 100, 0]) {
      await saveCheckpoint('run-1', step, thetaOf(MODADD_D, step), { trainLoss: step / 4 }, {}, db);
    }
    await saveCheckpoint('run-10', 5, thetaOf(MODADD_D, 55), undefined, {}, db);

    expect(await listCheckpoints('run-1', db)).toEqual([
      { step: 0, metrics: { trainLoss: 0 } },
      { step: 2, metrics: { trainLoss: 0.5 } },
      { step: 10, metrics: { trainLoss: 2.5 } },
      { step: 100, metrics: { trainLoss: 25 } },
    ]);
    expect(await listCheckpoints('run-10', db)).toEqual([{ step: 5 }]);
    expect(bits(await loadCheckpoint('run-1', 10, db))).toEqual(bits(thetaOf(MODADD_D, 10)));
    expect(bits(await loadCheckpoint('run-10', 5, db))).toEqual(bits(thetaOf(MODADD_D, 55)));
  });

  test('deleting a run deletes its checkpoints and nobody else\'s', async () => {
    const { db, name } = await freshDB();
    await saveRun({ ...run, runId: 'a' }, db);
    await saveRun({ ...run, runId: 'ab' }, db);
    for (const step of [1, 2, 3]) await saveCheckpoint('a', step, thetaOf(MODADD_D, step), undefined, {}, db);
    await saveCheckpoint('ab', 1, thetaOf(MODADD_D, 9), undefined, {}, db);

    await deleteRun('a', db);
    await expect(getRun('a', db)).rejects.toThrow('No saved run with id "a"');
    expect(await listCheckpoints('a', db)).toEqual([]);
    await expect(loadCheckpoint('a', 2, db)).rejects.toThrow(StorageError);
    const raw = await rawDB(name);
    expect(await raw.getAllKeys('checkpoints')).toEqual([['ab', 1]]);
    expect(await raw.getAllKeys('checkpointMeta')).toEqual([['ab', 1]]);
    expect(bits(await loadCheckpoint('ab', 1, db))).toEqual(bits(thetaOf(MODADD_D, 9)));
    expect((await listRuns(db)).map((r) => r.runId)).toEqual(['ab']);
  });

  test('a checkpoint needs a saved run with a matching architecture', async () => {
    const { db, name } = await freshDB();
    await expect(saveCheckpoint('ghost', 0, thetaOf(MODADD_D, 0), undefined, {}, db))
      .rejects.toThrow('No saved run with id "ghost": save the run before its checkpoints');
    await saveRun({ ...run, runId: 'r' }, db);
    await expect(saveCheckpoint('r', 0, thetaOf(MATFAC_D, 0), undefined, {}, db))
      .rejects.toThrow(`it has ${MATFAC_D} parameters, the run's architecture has ${MODADD_D}`);
    await expect(saveCheckpoint('r', 1.5, thetaOf(MODADD_D, 0), undefined, {}, db)).rejects.toThrow('whole number');
    const raw = await rawDB(name);
    expect(await raw.count('checkpoints')).toBe(0);
    expect(await raw.count('checkpointMeta')).toBe(0);
  });

  test('saving a run again updates its curves and keeps its creation time; listing is newest first', async () => {
    const { db } = await freshDB();
    await saveRun({ ...run, runId: 'old', name: 'old run', recipe: { lr: 1e-3 } }, db);
    await saveRun({ ...run, runId: 'new', name: 'new run' }, db);
    const before = await getRun('old', db);
    await saveRun({ ...run, runId: 'old', name: 'old run', recipe: { lr: 1e-3 }, history: [{ step: 0, trainLoss: 1.5 }, { step: 10, trainLoss: 0.25 }] }, db);
    const after = await getRun('old', db);
    expect(after.createdAt).toBe(before.createdAt);
    expect(after.history).toEqual([{ step: 0, trainLoss: 1.5 }, { step: 10, trainLoss: 0.25 }]);
    expect(after.recipe).toEqual({ lr: 1e-3 });
    const list = await listRuns(db);
    expect(list.map((r) => r.runId)).toEqual(['new', 'old']);
    for (const r of list) expect(Object.keys(r).sort()).toEqual(['config', 'createdAt', 'data', 'name', 'runId']);
  });

  test('a run saved without an id gets a fresh one', async () => {
    const { db } = await freshDB();
    const a = await saveRun(run, db);
    const b = await saveRun(run, db);
    expect(a).not.toBe(b);
    expect((await getRun(a, db)).name).toBe('grokking run');
  });
});

describe('damaged records', () => {
  const config = { arch: 'matfac', widths: [3, 2, 4] };
  const data = { kind: 'matfac', inDim: 3, outDim: 4, nTrain: 5, seed: 9 };
  const meta = (id: string, name: string) => ({ id, name, savedAt: 1, config, paramCount: MATFAC_D });

  test('a θ shorter than its recorded count is refused, naming the record', async () => {
    const { db, name } = await freshDB();
    const raw = await rawDB(name);
    await raw.put('models', { ...meta('bad-1', 'truncated'), data, theta: new Float32Array(MATFAC_D - 1) });
    await raw.put('modelMeta', meta('bad-1', 'truncated'));
    const err = await loadModel('bad-1', db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain('"truncated" (bad-1) is damaged');
    expect((err as Error).message).toContain(`has ${MATFAC_D - 1} entries, not the ${MATFAC_D} recorded`);
    // It can still be deleted.
    await deleteModel('bad-1', db);
    expect(await raw.count('models')).toBe(0);
  });

  test('other kinds of damage are caught too', async () => {
    const { db, name } = await freshDB();
    const raw = await rawDB(name);
    const cases: [string, Record<string, unknown>, string][] = [
      ['plain-array', { ...meta('plain-array', 'x'), data, theta: Array.from({ length: MATFAC_D }, () => 0) }, 'not a Float32Array'],
      ['count-lies', { ...meta('count-lies', 'x'), paramCount: 5, data, theta: new Float32Array(5) }, `records 5 parameters but its architecture has ${MATFAC_D}`],
      ['bad-arch', { ...meta('bad-arch', 'x'), config: { arch: 'resnet' }, data, theta: new Float32Array(MATFAC_D) }, 'architecture is unknown'],
      ['no-data', { ...meta('no-data', 'x'), theta: new Float32Array(MATFAC_D) }, 'data description is missing'],
      ['bad-idx', { ...meta('bad-idx', 'x'), data, theta: new Float32Array(MATFAC_D), trainIdx: [1, 2] }, 'not an Int32Array'],
    ];
    for (const [id, rec, problem] of cases) {
      await raw.put('models', rec);
      await expect(loadModel(id, db), id).rejects.toThrow(problem);
    }
  });

  test('a damaged listing entry is left out instead of breaking the list', async () => {
    const { db, name } = await freshDB();
    const good = await saveModel(matfacBundle('good'), undefined, db);
    const raw = await rawDB(name);
    await raw.put('modelMeta', { ...meta('junk', 'junk'), config: { arch: 'matfac', widths: 'oops' } });
    await raw.put('modelMeta', { id: 'junk2', savedAt: 5 });
    expect((await listModels(db)).map((m) => m.id)).toEqual([good]);
  });

  test('a damaged checkpoint is refused', async () => {
    const { db, name } = await freshDB();
    await saveRun({ name: 'r', runId: 'r', config: { arch: 'matfac', widths: [3, 2, 4] }, data: { kind: 'matfac', inDim: 3, outDim: 4, nTrain: 5, seed: 9 } }, db);
    const raw = await rawDB(name);
    await raw.put('checkpoints', { runId: 'r', step: 4, savedAt: 1, paramCount: MATFAC_D, theta: new Float32Array(3) });
    await raw.put('checkpoints', { runId: 'r', step: 5, savedAt: 1, paramCount: 3, theta: new Float32Array(3) });
    await expect(loadCheckpoint('r', 4, db)).rejects.toThrow(`has 3 entries, not the ${MATFAC_D} recorded`);
    await expect(loadCheckpoint('r', 5, db)).rejects.toThrow(`has 3 parameters but the run's architecture has ${MATFAC_D}`);
  });
});

describe('the database itself', () => {
  test('opening twice gives the same schema and the same data; reopening keeps it', async () => {
    const { db, name } = await freshDB();
    const second = await openExplorerDB(name);
    opened.push(second);
    expect(second.version).toBe(1);
    expect([...second.objectStoreNames].sort()).toEqual(['checkpointMeta', 'checkpoints', 'modelMeta', 'models', 'runs']);
    expect([...second.transaction('checkpoints').store.indexNames]).toEqual(['runId']);
    const id = await saveModel(modaddBundle('shared', 4), undefined, db);
    expect((await listModels(second)).map((m) => m.id)).toEqual([id]);

    db.close();
    second.close();
    const third = await openExplorerDB(name); // as after a reload
    opened.push(third);
    expect(bits((await loadModel(id, third)).theta)).toEqual(bits(thetaOf(MODADD_D, 4)));
  });

  test('the shared connection opens on first use', async () => {
    const id = await saveModel(modaddBundle('default db', 6));
    expect((await listModels()).some((m) => m.id === id)).toBe(true);
    await deleteModel(id);
    expect((await listModels()).some((m) => m.id === id)).toBe(false);
  });

  test('without IndexedDB every call fails with a clear StorageError, and recovers once it is back', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const msg = 'Saved models are unavailable: this browser does not provide IndexedDB';
    await expect(listModels()).rejects.toThrow(msg);
    await expect(saveModel(modaddBundle('x', 1))).rejects.toThrow(StorageError);
    await expect(openExplorerDB('anything')).rejects.toThrow(msg);
    vi.unstubAllGlobals();
    expect(Array.isArray(await listModels())).toBe(true);
  });

  test('a full disk becomes a message with the figures, and the save leaves nothing behind', async () => {
    const { db, name } = await freshDB();
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 52_400_000, quota: 60_000_000 }) } });
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementationOnce(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const err = await saveModel(matfacBundle(), undefined, db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toBe('Browser storage is full (52 MB used of 60 MB): delete saved models or checkpoints');
    const raw = await rawDB(name);
    expect(await raw.count('models')).toBe(0);
    expect(await raw.count('modelMeta')).toBe(0);
  });

  test.each([
    ['while the requests are issued', true],
    ['after the requests were issued', false],
  ])('a transaction aborted for quota %s gives the same message', async (_when, immediately) => {
    const { db } = await freshDB();
    await saveRun({ name: 'r', runId: 'r', config: { arch: 'matfac', widths: [3, 2, 4] }, data: { kind: 'matfac', inDim: 3, outDim: 4, nTrain: 5, seed: 9 } }, db);
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 2_500_000, quota: 8_000_000 }) } });
    const put = IDBObjectStore.prototype.put;
    // As in browsers, the transaction aborts with QuotaExceededError while its requests only see
    // a generic AbortError. `_abort` is fake-indexeddb's internal abort step.
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      const req = put.apply(this, args);
      const tx = this.transaction as unknown as { _abort(name: string): void; error: DOMException | null };
      const abort = (): void => { if (!tx.error) tx._abort('QuotaExceededError'); };
      if (immediately) abort(); else queueMicrotask(abort);
      return req;
    });
    await expect(saveCheckpoint('r', 1, thetaOf(MATFAC_D, 1), undefined, {}, db))
      .rejects.toThrow('Browser storage is full (2.5 MB used of 8.0 MB): delete saved models or checkpoints');
    vi.restoreAllMocks();
    expect(await listCheckpoints('r', db)).toEqual([]);
  });

  test('quota messages without figures', () => {
    expect(quotaMessage()).toBe('Browser storage is full: delete saved models or checkpoints');
    expect(quotaMessage(2_500_000, 8_000_000)).toBe('Browser storage is full (2.5 MB used of 8.0 MB): delete saved models or checkpoints');
  });
});
