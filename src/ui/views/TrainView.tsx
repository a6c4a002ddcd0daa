import { useMemo, useState } from 'react';
import type { TrainOptions } from '../../core/train/trainer';
import { DEFAULT_RECIPES } from '../../core/train/recipes';
import { adoptCheckpoint, cancelJob, controlTraining, startTraining } from '../../state/compute';
import { useStore } from '../../state/store';
import { LineChart, type Series } from '../charts/LineChart';
import { Term, type TermId } from '../components/Term';

function Num(props: { label: string; term?: TermId; value: number; step?: number; min?: number; onChange(v: number): void; testid?: string; title?: string }) {
  return (
    <label className="field" title={props.title}>
      <span>{props.term ? <Term id={props.term}>{props.label}</Term> : props.label}</span>
      <input type="number" value={props.value} step={props.step ?? 'any'} min={props.min} data-testid={props.testid}
        onChange={(e) => { const v = Number(e.target.value); if (e.target.value !== '' && Number.isFinite(v)) props.onChange(v); }} />
    </label>
  );
}

const COLORS = { train: '#2458c6', test: '#c2410c' };

/** Training with live curves, pause / resume / single step, and a checkpoint scrubber. */
export function TrainView() {
  const arch = useStore((s) => s.arch);
  const model = useStore((s) => s.model);
  const o = useStore((s) => s.trainOpts);
  const set = useStore((s) => s.setTrainOpts);
  const reset = useStore((s) => s.resetTrainOpts);
  const run = useStore((s) => s.run);
  const job = useStore((s) => (s.run ? s.jobs.find((j) => j.id === s.run!.jobId) : undefined));
  const selected = useStore((s) => s.selectedCheckpoint);
  const select = useStore((s) => s.selectCheckpoint);
  const [logY, setLogY] = useState(true);
  const running = run?.status === 'running';
  const paused = !!job?.paused;

  const lossSeries: Series[] = useMemo(() => run ? [
    { name: 'train loss', color: COLORS.train, points: run.history.map((m) => [m.step, m.trainLoss]) },
    { name: 'test loss', color: COLORS.test, points: run.history.filter((m) => Number.isFinite(m.testLoss)).map((m) => [m.step, m.testLoss]) },
  ] : [], [run]);
  const accSeries: Series[] = useMemo(() => run && run.history.some((m) => m.trainAcc !== undefined) ? [
    { name: 'train acc', color: COLORS.train, points: run.history.map((m) => [m.step, m.trainAcc ?? NaN]) },
    { name: 'test acc', color: COLORS.test, points: run.history.map((m) => [m.step, m.testAcc ?? NaN]) },
  ] : [], [run]);
  const last = run?.history[run.history.length - 1];
  const steps = run?.checkpoints.map((c) => c.step) ?? [];
  const cpIndex = selected === null ? steps.length - 1 : Math.max(0, steps.indexOf(selected));

  return (
    <div className="train-view">
      <p className="caption">
        Train the current model ({model?.name ?? 'none'}) in the compute worker. Recipe defaults for {arch}: {DEFAULT_RECIPES[arch].note}
      </p>
      <div className="train-form">
        <label className="field">
          <span><Term id="optimizer">Optimizer</Term></span>
          <select value={o.optimizer} onChange={(e) => set({ optimizer: e.target.value as TrainOptions['optimizer'] })}>
            <option value="adamw">AdamW</option>
            <option value="sgd">SGD</option>
          </select>
        </label>
        <Num label="Learning rate" term="learningRate" value={o.lr} onChange={(lr) => set({ lr })} testid="train-lr" />
        <Num label="Weight decay" term="weightDecay" value={o.weightDecay} onChange={(weightDecay) => set({ weightDecay })} />
        {o.optimizer === 'sgd' && <Num label="Momentum" term="momentum" value={o.momentum ?? 0} onChange={(momentum) => set({ momentum })} />}
        <label className="field">
          <span><Term id="batchSize">Batch size</Term></span>
          <input type="text" value={String(o.batchSize)} title="a number, or 'full' for full batch"
            onChange={(e) => { const v = e.target.value.trim(); if (v === 'full') set({ batchSize: 'full' }); else if (/^\d+$/.test(v) && Number(v) > 0) set({ batchSize: Number(v) }); }} />
        </label>
        <label className="field">
          <span><Term id="lrSchedule">LR schedule</Term></span>
          <select value={o.schedule ?? 'constant'} onChange={(e) => set({ schedule: e.target.value as 'constant' | 'cosine' })}>
            <option value="constant">constant</option>
            <option value="cosine">cosine</option>
          </select>
        </label>
        <Num label="Steps" term="trainSteps" value={o.steps} step={1} min={0} onChange={(steps) => set({ steps: Math.round(steps) })} testid="train-steps" />
        <Num label="Seed" term="trainSeed" value={o.seed} step={1} onChange={(seed) => set({ seed: Math.round(seed) })} />
        <Num label="Eval every" term="evalEvery" value={o.evalEvery} step={1} min={0} onChange={(evalEvery) => set({ evalEvery: Math.round(evalEvery) })} testid="train-eval-every" />
        <Num label="Checkpoint every" term="checkpointEvery" value={o.checkpointEvery} step={1} min={0} onChange={(checkpointEvery) => set({ checkpointEvery: Math.round(checkpointEvery) })} testid="train-checkpoint-every" />
      </div>
      <div className="controls">
        <button type="button" className="primary" disabled={!model || running} onClick={() => void startTraining()} data-testid="train-start">Train</button>
        <button type="button" disabled={!running || paused} onClick={() => controlTraining('pause')} data-testid="train-pause">Pause</button>
        <button type="button" disabled={!running || !paused} onClick={() => controlTraining('resume')} data-testid="train-resume">Resume</button>
        <button type="button" disabled={!running || !paused} onClick={() => controlTraining('step')} data-testid="train-step">Single step</button>
        <button type="button" disabled={!running} onClick={() => run && run.jobId !== null && cancelJob(run.jobId)} data-testid="train-cancel">Cancel</button>
        <button type="button" className="link-button" onClick={reset}>reset to recipe</button>
        <label className="field inline"><input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> log-scale loss</label>
      </div>
      {run && (
        <div data-testid="train-run" data-status={run.status}>
          <p className="muted">
            {run.status}{paused ? ' (paused)' : ''} · {job ? job.phase : ''}
            {last && <> · step {last.step}: train <Term id={arch === 'matfac' ? 'mse' : 'crossEntropy'}>loss</Term> {last.trainLoss.toPrecision(3)}{Number.isFinite(last.testLoss) ? `, test loss ${last.testLoss.toPrecision(3)}` : ''}
              {last.trainAcc !== undefined && <>, <Term id="trainAccuracy">train acc</Term> {(last.trainAcc * 100).toFixed(1)} %</>}{last.testAcc !== undefined && Number.isFinite(last.testAcc) && <>, <Term id="testAccuracy">test acc</Term> {(last.testAcc * 100).toFixed(1)} %</>}</>}
          </p>
          <LineChart series={lossSeries} title="Loss" xLabel="step" yLabel={arch === 'matfac' ? 'MSE' : 'cross-entropy'} logY={logY} markerX={steps[cpIndex] ?? null} testid="chart-loss"
            onClickX={steps.length ? (x) => { const nearest = steps.reduce((a, b) => (Math.abs(b - x) < Math.abs(a - x) ? b : a)); select(nearest); } : undefined} />
          {accSeries.length > 0 && <LineChart series={accSeries} title="Accuracy" xLabel="step" yLabel="accuracy" yDomain={[0, 1]} markerX={steps[cpIndex] ?? null} testid="chart-accuracy" />}
          {steps.length > 0 && (
            <div className="checkpoints">
              <label className="field">
                <span>Checkpoint: step {steps[cpIndex]} ({cpIndex + 1} of {steps.length}) — click a curve or drag</span>
                <input type="range" min={0} max={steps.length - 1} value={cpIndex} onChange={(e) => select(steps[Number(e.target.value)])} data-testid="checkpoint-slider" />
              </label>
              <button type="button" disabled={running} onClick={() => void adoptCheckpoint(steps[cpIndex])} data-testid="checkpoint-use">Use this checkpoint as the current model</button>
            </div>
          )}
          {run.error && <p className="error-text">{run.error}</p>}
        </div>
      )}
    </div>
  );
}
