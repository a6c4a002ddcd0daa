/**
 * Saved models, training runs and their checkpoints in the browser's IndexedDB, so they survive
 * a reload. Parameter vectors are stored as Float32Array values (structured clone keeps typed
 * arrays as they are: no base64, no JSON).
 *
 * Big arrays live in `models` and `checkpoints`; each has a small sibling store (`modelMeta`,
 * `checkpointMeta`) written in the same transaction, so listing 50 models or 200 checkpoints
 * reads a few hundred bytes each instead of deserialising every θ.
 *
 * Every failure reaches the caller as a StorageError whose message a user can act on (storage
 * full, IndexedDB missing, a damaged record); records are validated on the way out, so a corrupt
 * entry is refused with its name rather than handed to the compute core.
 *
 * Every function takes an optional database handle (tests open their own with openExplorerDB);
 * without one it uses a lazily opened connection shared by the page.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { ModelBundle } from '../core/models/bundle';
import { describeConfig, paramCount, type ModelConfig } from '../core/models/config';
import { configProblem, dataProblem, isTimestamp, metaProblem, modelProblem, runProblem } from './records';
import type { DataSpec } from '../core/data/spec';
import { isPlainObject } from '../core/io/json';
import { NO_IDB, StorageError, toStorageError } from './errors';

export { estimateUsage, quotaMessage, StorageError, toStorageError } from './errors';

export const DB_NAME = 'slt-explorer';
/** Bump together with a new `if (oldVersion < N)` step in upgrade(). */
export const DB_VERSION = 1;


/** What listModels returns: enough to show and pick a model, without its parameters. */
export interface StoredModelMeta {
  id: string;
  name: string;
  savedAt: number;
  config: ModelConfig;
  paramCount: number;
}

/** A saved model as stored: the bundle's fields plus identity and the parameter count it was saved with. */
export interface StoredModelRecord extends StoredModelMeta {
  data: DataSpec;
  theta: Float32Array;
  trainIdx?: Int32Array;
  dataX?: Float32Array;
  dataY?: Float32Array;
  metadata?: Record<string, string>;
}

/** A training run: what was trained and its curves (one row of metrics per evaluation). */
export interface StoredRun {
  runId: string;
  name: string;
  config: ModelConfig;
  data: DataSpec;
  createdAt: number;
  recipe?: Record<string, unknown>;
  history?: Array<Record<string, number>>;
}

/** What saveRun accepts: runId and createdAt are filled in when absent. */
export type RunInput = Omit<StoredRun, 'runId' | 'createdAt'> & { runId?: string; createdAt?: number };

/** What listRuns returns: a run without its recipe and curves. */
export type StoredRunMeta = Pick<StoredRun, 'runId' | 'name' | 'config' | 'data' | 'createdAt'>;

export interface CheckpointMeta {
  runId: string;
  step: number;
  savedAt: number;
  /** θ's length when saved; checked against the stored θ and the run's architecture on load. */
  paramCount: number;
  modelId?: string;
  metrics?: Record<string, number>;
}

export interface CheckpointRecord extends CheckpointMeta {
  theta: Float32Array;
}

interface ExplorerSchema extends DBSchema {
  models: { key: string; value: StoredModelRecord };
  modelMeta: { key: string; value: StoredModelMeta; indexes: { savedAt: number } };
  runs: { key: string; value: StoredRun; indexes: { createdAt: number } };
  checkpoints: { key: [string, number]; value: CheckpointRecord; indexes: { runId: string } };
  checkpointMeta: { key: [string, number]; value: CheckpointMeta };
}

export type ExplorerDB = IDBPDatabase<ExplorerSchema>;
type StoreName = StoreNames<ExplorerSchema>;
type Tx<S extends StoreName[], M extends IDBTransactionMode> = IDBPTransaction<ExplorerSchema, S, M>;


// ---------------------------------------------------------------------------------------------
// Opening

/**
 * Opens (creating or upgrading) the explorer's database. `name` exists for tests, which open a
 * fresh database each; the app uses the default.
 */
export async function openExplorerDB(name: string = DB_NAME): Promise<ExplorerDB> {
  if (typeof indexedDB === 'undefined' || indexedDB === null) throw new StorageError(NO_IDB);
  try {
    return await openDB<ExplorerSchema>(name, DB_VERSION, {
      upgrade(db, oldVersion) {
        // One step per version, applied in order, so a database from any older version upgrades.
        if (oldVersion < 1) {
          db.createObjectStore('models', { keyPath: 'id' });
          db.createObjectStore('modelMeta', { keyPath: 'id' }).createIndex('savedAt', 'savedAt');
          db.createObjectStore('runs', { keyPath: 'runId' }).createIndex('createdAt', 'createdAt');
          db.createObjectStore('checkpoints', { keyPath: ['runId', 'step'] }).createIndex('runId', 'runId');
          db.createObjectStore('checkpointMeta', { keyPath: ['runId', 'step'] });
        }
      },
      blocked() {
        console.warn('Saved models: another tab holds an older version of the database open; close it to continue.');
      },
    });
  } catch (err) {
    throw await toStorageError(err, 'open the saved-models database');
  }
}

let shared: Promise<ExplorerDB> | null = null;

/** The page's shared connection, opened on first use. A failed open is retried on the next call. */
function defaultDB(): Promise<ExplorerDB> {
  if (!shared) {
    const opening = openExplorerDB().then((db) => {
      // Let a newer version in another tab upgrade: drop our connection and reopen on next use.
      db.addEventListener('versionchange', () => { db.close(); if (shared === opening) shared = null; });
      db.addEventListener('close', () => { if (shared === opening) shared = null; });
      return db;
    });
    opening.catch(() => { if (shared === opening) shared = null; });
    shared = opening;
  }
  return shared;
}

/** Closes the shared connection (the next call reopens it). */
export async function closeStorage(): Promise<void> {
  const p = shared;
  shared = null;
  if (p) {
    try { (await p).close(); } catch { /* it never opened */ }
  }
}

function handle(db?: ExplorerDB): Promise<ExplorerDB> {
  return db ? Promise.resolve(db) : defaultDB();
}

// ---------------------------------------------------------------------------------------------
// Errors and transactions

/**
 * Runs `body` in one transaction and resolves once the transaction has committed. If the body
 * throws, the transaction is aborted (nothing it wrote is kept). An aborted transaction's own
 * error is preferred to the request's generic AbortError, since that is where a full disk shows.
 */
async function inTx<S extends StoreName[], M extends IDBTransactionMode, T>(
  db: ExplorerDB, stores: S, mode: M, action: string, body: (tx: Tx<S, M>) => Promise<T>,
): Promise<T> {
  let tx: Tx<S, M> | undefined;
  try {
    tx = db.transaction(stores, mode);
    const t = tx;
    // The body starts synchronously: a transaction with no request queued in this task commits.
    const work = (async () => body(t))().catch((err: unknown) => {
      try { t.abort(); } catch { /* already finished */ }
      throw err;
    });
    const [result] = await Promise.all([work, t.done]);
    return result;
  } catch (err) {
    const txError = tx?.error;
    throw await toStorageError(err instanceof StorageError || !txError ? err : txError, action);
  }
}

/**
 * Issues requests in order and waits for all of them. If issuing one throws (the transaction
 * already aborted), the ones already issued still get a handler, so their AbortError is not
 * reported as an unhandled rejection.
 */
async function all(requests: Array<() => Promise<unknown>>): Promise<void> {
  const issued: Promise<unknown>[] = [];
  try {
    for (const r of requests) issued.push(r());
  } catch (err) {
    for (const p of issued) p.catch(() => undefined);
    throw err;
  }
  await Promise.all(issued);
}

async function guard<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await toStorageError(err, action);
  }
}

function damaged(kind: string, label: string, problem: string): StorageError {
  return new StorageError(`The saved ${kind} ${label} is damaged and cannot be used: ${problem}. Delete it from the saved list.`);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A random id: crypto.randomUUID where the page is a secure context, else time + randomness. */
export function newId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const rand = Array.from({ length: 3 }, () => Math.floor(Math.random() * 2 ** 32).toString(36).padStart(7, '0')).join('');
  return `${Date.now().toString(36)}-${rand}`;
}

let lastStamp = 0;
/**
 * Date.now(), nudged to be strictly increasing within the page, so two saves in the same
 * millisecond still list in the order they were made.
 */
function stamp(): number {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return lastStamp;
}

/**
 * A copy that owns exactly its elements. Structured clone stores a view's whole underlying
 * buffer (a subarray of a 100 MB buffer would store 100 MB), and cannot store a view of a
 * SharedArrayBuffer at all.
 */
function compact<T extends Float32Array | Int32Array>(a: T): T {
  const owns = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return owns ? a : (a.slice() as T);
}

function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new StorageError(`A checkpoint step must be a whole number ≥ 0 (got ${step})`);
}

// ---------------------------------------------------------------------------------------------
// Models

/**
 * Saves a copy of the bundle under a new id and returns it. `name` defaults to the bundle's
 * name, or a description of its architecture. Refuses a bundle whose θ does not fit its config.
 */
export async function saveModel(bundle: ModelBundle, name?: string, db?: ExplorerDB): Promise<string> {
  const cp = configProblem(bundle.config);
  if (cp) throw new StorageError(`Cannot save this model: ${cp}`);
  const d = paramCount(bundle.config);
  if (!(bundle.theta instanceof Float32Array) || bundle.theta.length !== d) {
    throw new StorageError(`Cannot save this model: its parameter vector has ${bundle.theta?.length} entries, its architecture needs ${d}`);
  }
  const dp = dataProblem(bundle.data);
  if (dp) throw new StorageError(`Cannot save this model: ${dp}`);
  const id = newId();
  const meta: StoredModelMeta = {
    id,
    name: (name ?? bundle.name ?? '').trim() || describeConfig(bundle.config),
    savedAt: stamp(),
    config: bundle.config,
    paramCount: d,
  };
  const rec: StoredModelRecord = { ...meta, data: bundle.data, theta: compact(bundle.theta) };
  if (bundle.trainIdx) rec.trainIdx = compact(bundle.trainIdx);
  if (bundle.dataX) rec.dataX = compact(bundle.dataX);
  if (bundle.dataY) rec.dataY = compact(bundle.dataY);
  if (bundle.metadata) rec.metadata = bundle.metadata;
  const h = await guard('open the saved-models database', () => handle(db));
  await inTx(h, ['models', 'modelMeta'], 'readwrite', `save the model "${meta.name}"`, async (tx) => {
    await all([() => tx.objectStore('models').put(rec), () => tx.objectStore('modelMeta').put(meta)]);
  });
  return id;
}

/**
 * Saved models, newest first, without their parameters. Entries whose metadata is damaged are
 * left out (loadModel on their id explains what is wrong; deleteModel removes them).
 */
export async function listModels(db?: ExplorerDB): Promise<StoredModelMeta[]> {
  const h = await guard('open the saved-models database', () => handle(db));
  return inTx(h, ['modelMeta'], 'readonly', 'list saved models', async (tx) => {
    const out: StoredModelMeta[] = [];
    let cursor = await tx.objectStore('modelMeta').index('savedAt').openCursor(null, 'prev');
    while (cursor) {
      const v: unknown = cursor.value;
      if (isPlainObject(v) && typeof v.id === 'string' && metaProblem(v) === null) {
        const m = v as unknown as StoredModelMeta;
        out.push({ id: m.id, name: m.name, savedAt: m.savedAt, config: m.config, paramCount: m.paramCount });
      }
      cursor = await cursor.continue();
    }
    return out;
  });
}

/** The saved model as a bundle. Throws StorageError when it is missing or damaged. */
export async function loadModel(id: string, db?: ExplorerDB): Promise<ModelBundle> {
  const h = await guard('open the saved-models database', () => handle(db));
  const rec: unknown = await inTx(h, ['models'], 'readonly', `load the saved model ${id}`, (tx) => tx.objectStore('models').get(id));
  if (rec === undefined) throw new StorageError(`No saved model with id "${id}"`);
  const problem = modelProblem(rec, id);
  if (problem) {
    const name = isPlainObject(rec) && typeof rec.name === 'string' ? `"${rec.name}" (${id})` : `with id "${id}"`;
    throw damaged('model', name, problem);
  }
  const r = rec as StoredModelRecord;
  const bundle: ModelBundle = { name: r.name, config: r.config, theta: r.theta, data: r.data };
  if (r.trainIdx) bundle.trainIdx = r.trainIdx;
  if (r.dataX) bundle.dataX = r.dataX;
  if (r.dataY) bundle.dataY = r.dataY;
  if (r.metadata) bundle.metadata = r.metadata;
  return bundle;
}

/** Deletes a saved model; deleting an id that is not there does nothing. */
export async function deleteModel(id: string, db?: ExplorerDB): Promise<void> {
  const h = await guard('open the saved-models database', () => handle(db));
  await inTx(h, ['models', 'modelMeta'], 'readwrite', `delete the saved model ${id}`, async (tx) => {
    await all([() => tx.objectStore('models').delete(id), () => tx.objectStore('modelMeta').delete(id)]);
  });
}

// ---------------------------------------------------------------------------------------------
// Runs and checkpoints

/**
 * Creates or replaces a run (call it again as the curves grow) and returns its id. A run saved
 * again without createdAt keeps the time it was first saved.
 */
export async function saveRun(run: RunInput, db?: ExplorerDB): Promise<string> {
  const runId = run.runId ?? newId();
  const cp = configProblem(run.config);
  if (cp) throw new StorageError(`Cannot save the run "${run.name}": ${cp}`);
  const dp = dataProblem(run.data);
  if (dp) throw new StorageError(`Cannot save the run "${run.name}": ${dp}`);
  const h = await guard('open the saved-models database', () => handle(db));
  await inTx(h, ['runs'], 'readwrite', `save the run "${run.name}"`, async (tx) => {
    const store = tx.objectStore('runs');
    const old = run.createdAt === undefined ? await store.get(runId) : undefined;
    const rec: StoredRun = {
      runId,
      name: run.name,
      config: run.config,
      data: run.data,
      createdAt: run.createdAt ?? (old && isTimestamp(old.createdAt) ? old.createdAt : stamp()),
    };
    if (run.recipe !== undefined) rec.recipe = run.recipe;
    if (run.history !== undefined) rec.history = run.history;
    await store.put(rec);
  });
  return runId;
}

/** A run with its recipe and curves. Throws StorageError when it is missing or damaged. */
export async function getRun(runId: string, db?: ExplorerDB): Promise<StoredRun> {
  const h = await guard('open the saved-models database', () => handle(db));
  const rec: unknown = await inTx(h, ['runs'], 'readonly', `load the run ${runId}`, (tx) => tx.objectStore('runs').get(runId));
  if (rec === undefined) throw new StorageError(`No saved run with id "${runId}"`);
  const problem = runProblem(rec, runId);
  if (problem) throw damaged('run', isPlainObject(rec) && typeof rec.name === 'string' ? `"${rec.name}" (${runId})` : `with id "${runId}"`, problem);
  return rec as StoredRun;
}

/** Runs, newest first, without recipes and curves; damaged entries are left out. */
export async function listRuns(db?: ExplorerDB): Promise<StoredRunMeta[]> {
  const h = await guard('open the saved-models database', () => handle(db));
  return inTx(h, ['runs'], 'readonly', 'list training runs', async (tx) => {
    const out: StoredRunMeta[] = [];
    let cursor = await tx.objectStore('runs').index('createdAt').openCursor(null, 'prev');
    while (cursor) {
      const v: unknown = cursor.value;
      if (isPlainObject(v) && typeof v.runId === 'string' && runProblem(v, v.runId) === null) {
        const r = v as unknown as StoredRun;
        out.push({ runId: r.runId, name: r.name, config: r.config, data: r.data, createdAt: r.createdAt });
      }
      cursor = await cursor.continue();
    }
    return out;
  });
}

function runRange(runId: string): IDBKeyRange {
  // Keys are [runId, step]; every number sorts between -Infinity and Infinity.
  return IDBKeyRange.bound([runId, -Infinity], [runId, Infinity]);
}

/** Deletes a run and all its checkpoints in one transaction. Deleting a missing run does nothing. */
export async function deleteRun(runId: string, db?: ExplorerDB): Promise<void> {
  const h = await guard('open the saved-models database', () => handle(db));
  await inTx(h, ['runs', 'checkpoints', 'checkpointMeta'], 'readwrite', `delete the run ${runId}`, async (tx) => {
    const range = runRange(runId);
    await all([
      () => tx.objectStore('runs').delete(runId),
      () => tx.objectStore('checkpoints').delete(range),
      () => tx.objectStore('checkpointMeta').delete(range),
    ]);
  });
}

/**
 * Stores a copy of θ at `step` of a saved run (replacing one already at that step). The run must
 * have been saved first, and θ must fit its architecture, so no checkpoint is orphaned or
 * mismatched. `extra.modelId` links the checkpoint to a saved model.
 */
export async function saveCheckpoint(
  runId: string, step: number, theta: Float32Array, metrics?: Record<string, number>,
  extra: { modelId?: string } = {}, db?: ExplorerDB,
): Promise<void> {
  checkStep(step);
  if (!(theta instanceof Float32Array)) throw new StorageError('A checkpoint must be a Float32Array');
  const meta: CheckpointMeta = { runId, step, savedAt: stamp(), paramCount: theta.length };
  if (extra.modelId !== undefined) meta.modelId = extra.modelId;
  if (metrics !== undefined) meta.metrics = { ...metrics };
  const rec: CheckpointRecord = { ...meta, theta: compact(theta) };
  const h = await guard('open the saved-models database', () => handle(db));
  await inTx(h, ['runs', 'checkpoints', 'checkpointMeta'], 'readwrite', `save the checkpoint at step ${step}`, async (tx) => {
    const run: unknown = await tx.objectStore('runs').get(runId);
    if (run === undefined) throw new StorageError(`No saved run with id "${runId}": save the run before its checkpoints`);
    const problem = runProblem(run, runId);
    if (problem) throw damaged('run', `with id "${runId}"`, problem);
    const d = paramCount((run as StoredRun).config);
    if (theta.length !== d) {
      throw new StorageError(`Cannot save the checkpoint at step ${step}: it has ${theta.length} parameters, the run's architecture has ${d}`);
    }
    await all([() => tx.objectStore('checkpoints').put(rec), () => tx.objectStore('checkpointMeta').put(meta)]);
  });
}

/** A run's checkpoints in step order, without θ. Empty for a run with none (or no such run). */
export async function listCheckpoints(runId: string, db?: ExplorerDB): Promise<{ step: number; metrics?: Record<string, number> }[]> {
  const h = await guard('open the saved-models database', () => handle(db));
  const rows: unknown[] = await inTx(h, ['checkpointMeta'], 'readonly', `list the checkpoints of run ${runId}`,
    (tx) => tx.objectStore('checkpointMeta').getAll(runRange(runId)));
  const out: { step: number; metrics?: Record<string, number> }[] = [];
  for (const r of rows) {
    if (!isPlainObject(r) || !Number.isInteger(r.step)) continue;
    const row: { step: number; metrics?: Record<string, number> } = { step: r.step as number };
    if (isPlainObject(r.metrics)) row.metrics = r.metrics as Record<string, number>;
    out.push(row);
  }
  return out;
}

/** θ at `step` of a run. Throws StorageError when it is missing or does not fit the run's model. */
export async function loadCheckpoint(runId: string, step: number, db?: ExplorerDB): Promise<Float32Array> {
  const h = await guard('open the saved-models database', () => handle(db));
  const [rec, run] = await inTx(h, ['checkpoints', 'runs'], 'readonly', `load the checkpoint at step ${step}`,
    async (tx) => [await tx.objectStore('checkpoints').get([runId, step]), await tx.objectStore('runs').get(runId)] as const);
  if (rec === undefined) throw new StorageError(`No checkpoint at step ${step} of run "${runId}"`);
  const label = `at step ${step} of run "${runId}"`;
  const r: unknown = rec;
  if (!isPlainObject(r) || !(r.theta instanceof Float32Array)) throw damaged('checkpoint', label, 'its parameters are not a Float32Array');
  if (r.theta.length !== r.paramCount) {
    throw damaged('checkpoint', label, `its parameter vector has ${r.theta.length} entries, not the ${String(r.paramCount)} recorded`);
  }
  if (run !== undefined && configProblem(run.config) === null) {
    const d = paramCount(run.config);
    if (r.theta.length !== d) throw damaged('checkpoint', label, `it has ${r.theta.length} parameters but the run's architecture has ${d}`);
  }
  return r.theta;
}
