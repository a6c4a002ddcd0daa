/**
 * Training the current model (curves and checkpoints stream into the run; persist.ts writes them
 * to browser storage as they arrive), pause/resume/step, and making a checkpoint the current model.
 */
import { isCancelled } from '../core/jobs';
import { describeRecipe } from '../core/train/describe';
import { getClient, requireModel, runJob } from './jobs';
import { loadCheckpointTheta, recordRunAsItGoes, type RunRecorder } from './persist';
import { useStore, type TrainingRun } from './store';

/** Trains the current model with the form's options; curves and checkpoints stream in. */
export async function startTraining(): Promise<void> {
  const model = requireModel();
  if (!model) return;
  const opts = { ...useStore.getState().trainOpts };
  // Checkpoints are written to browser storage as they arrive, once the run has an id.
  let recorder: RunRecorder | null = null;
  const settle = (status: TrainingRun['status'], error?: string) => {
    useStore.getState().updateRun((r) => (r.jobId === job.id ? { ...r, status, error } : r));
    recorder!.finish();
  };
  const job = runJob('train', { model, opts }, {
    label: `Train ${model.name} (${opts.steps} steps)`,
    latestKey: 'train',
    pausable: true,
    failure: 'Training',
    onPartial: (p) => {
      useStore.getState().updateRun((r) => (r.jobId !== job.id ? r
        : p.kind === 'metrics' ? { ...r, history: [...r.history, p.metrics] }
          : { ...r, checkpoints: [...r.checkpoints, { step: p.step, theta: p.theta }] }));
      if (p.kind === 'checkpoint') recorder?.checkpoint(p.step, p.theta);
    },
    onError: (e) => {
      const cancelled = isCancelled(e);
      settle(cancelled ? 'cancelled' : 'error', cancelled ? undefined : String((e as Error).message ?? e));
    },
  });
  const run: TrainingRun = { jobId: job.id, status: 'running', baseName: model.name, opts, history: [], checkpoints: [] };
  useStore.getState().setRun(run);
  recorder = recordRunAsItGoes(job.id, run, `${model.name} · ${describeRecipe(opts)}`);
  const r = await job.result;
  if (!r) return;
  settle('done');
  useStore.getState().adoptModel(r.model);
}

export function controlTraining(action: 'pause' | 'resume' | 'step'): void {
  const run = useStore.getState().run;
  if (run && run.status === 'running' && run.jobId !== null) getClient().control(run.jobId, action);
}

/**
 * Makes a checkpoint of the current run the current model (for analyses and scrubbing). The
 * architecture must match the current model's; θ comes from memory or from browser storage.
 */
export async function adoptCheckpoint(step: number): Promise<void> {
  const s = useStore.getState();
  const run = s.run;
  const cp = run?.checkpoints.find((c) => c.step === step);
  if (!run || !cp || !s.model) return;
  const theta = cp.theta ?? (run.runId ? await loadCheckpointTheta(run.runId, step) : null);
  if (!theta) return;
  if (theta.length !== s.model.theta.length) {
    s.pushNotice('error', `Checkpoint ${step} has ${theta.length} parameters but the current model has ${s.model.theta.length}; load the run's model first.`);
    return;
  }
  s.setModel({ ...s.model, name: `${run.baseName} @ step ${step}`, theta: theta.slice() });
}
