/**
 * Saved models and training runs in the browser (IndexedDB, src/storage/db.ts). Every failure
 * becomes a notice; nothing here can take the app down or change the current model on error.
 */
import * as db from '../storage/db';
import type { Metrics } from '../core/train/trainer';
import { useStore, type TrainingRun } from './store';

function fail(what: string, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  useStore.getState().pushNotice('error', `${what}: ${msg}`);
}

export async function refreshSaved(): Promise<void> {
  try {
    const [savedModels, savedRuns] = await Promise.all([db.listModels(), db.listRuns()]);
    useStore.getState().setSaved({ savedModels, savedRuns, storageError: null });
  } catch (e) {
    useStore.getState().setSaved({ storageError: e instanceof Error ? e.message : String(e) });
  }
}

export async function saveCurrentModel(name?: string): Promise<void> {
  const model = useStore.getState().model;
  if (!model) return;
  try {
    await db.saveModel(model, name ?? model.name);
    useStore.getState().pushNotice('info', `Saved “${name ?? model.name}” in this browser.`);
    await refreshSaved();
  } catch (e) {
    fail('Saving the model failed', e);
  }
}

export async function openSavedModel(id: string): Promise<void> {
  try {
    useStore.getState().adoptModel(await db.loadModel(id));
  } catch (e) {
    fail('Opening the saved model failed', e);
  }
}

export async function deleteSavedModel(id: string): Promise<void> {
  try {
    await db.deleteModel(id);
  } catch (e) {
    fail('Deleting the saved model failed', e);
  }
  await refreshSaved();
}

const plain = (h: Metrics[]) => h.map((m) => ({ ...m }) as Record<string, number>);

/** Records a new run (before its first checkpoint arrives); returns its storage id or undefined. */
async function recordRun(run: TrainingRun, name: string): Promise<string | undefined> {
  const model = useStore.getState().model;
  if (!model) return undefined;
  try {
    return await db.saveRun({ name, config: model.config, data: model.data, recipe: { ...run.opts }, history: plain(run.history) });
  } catch (e) {
    fail('Saving the training run failed (it continues, unsaved)', e);
    return undefined;
  }
}

async function recordCheckpoint(runId: string, step: number, theta: Float32Array, metrics?: Metrics): Promise<void> {
  try {
    await db.saveCheckpoint(runId, step, theta, metrics ? { ...metrics } as Record<string, number> : undefined);
  } catch (e) {
    fail(`Saving checkpoint ${step} failed`, e);
  }
}

async function finishRun(run: TrainingRun): Promise<void> {
  if (!run.runId) return;
  try {
    const stored = await db.getRun(run.runId);
    await db.saveRun({ ...stored, history: plain(run.history) });
  } catch (e) {
    fail('Saving the training curves failed', e);
  }
  await refreshSaved();
}

/** What persists a running training job: each checkpoint as it arrives, the curves once it settles. */
export interface RunRecorder {
  checkpoint(step: number, theta: Float32Array): void;
  /** The job settled: its final curves are written (if the run is still the current one). */
  finish(): void;
}

/**
 * Records the run of training job `jobId` under `name` and hands back its recorder. The storage id
 * arrives later (into the run in the store); checkpoints and the final curves wait for it, and a run
 * that could not be recorded continues unsaved.
 */
export function recordRunAsItGoes(jobId: number, run: TrainingRun, name: string): RunRecorder {
  const runId = recordRun(run, name).then((id) => {
    useStore.getState().updateRun((r) => (r.jobId === jobId ? { ...r, runId: id } : r));
    return id;
  });
  return {
    checkpoint(step, theta) {
      const metrics = useStore.getState().run?.history.find((m) => m.step === step);
      void runId.then((id) => (id ? recordCheckpoint(id, step, theta, metrics) : undefined));
    },
    finish() {
      const r = useStore.getState().run;
      if (r && r.jobId === jobId) void runId.then(() => finishRun(useStore.getState().run!));
    },
  };
}

/** Reopens a stored run: its curves and checkpoint list (θ loads lazily when a checkpoint is used). */
export async function openSavedRun(runId: string): Promise<void> {
  try {
    const [run, cps] = await Promise.all([db.getRun(runId), db.listCheckpoints(runId)]);
    useStore.getState().setRun({
      jobId: null,
      runId,
      status: 'done',
      baseName: run.name,
      opts: run.recipe as unknown as TrainingRun['opts'],
      history: (run.history ?? []) as unknown as Metrics[],
      checkpoints: cps.map((c) => ({ step: c.step })),
    });
  } catch (e) {
    fail('Opening the saved run failed', e);
  }
}

export async function loadCheckpointTheta(runId: string, step: number): Promise<Float32Array | null> {
  try {
    return await db.loadCheckpoint(runId, step);
  } catch (e) {
    fail(`Loading checkpoint ${step} failed`, e);
    return null;
  }
}

export async function deleteSavedRun(runId: string): Promise<void> {
  try {
    await db.deleteRun(runId);
  } catch (e) {
    fail('Deleting the run failed', e);
  }
  await refreshSaved();
}
