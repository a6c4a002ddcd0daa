/**
 * Every job the compute worker (and the CLI) can run: one table mapping a task name to its
 * parameters, streamed partial results and final result. The worker protocol is derived from
 * this table, so adding a task here is all a new analysis needs to become a job.
 */
import type { JobContext } from '../jobs';
import type { TaskEnv } from './env';
import { runForward, type ForwardParams, type ForwardResult } from './forward';
import { runInitModel, type InitModelParams } from './model';
import type { ModelBundle } from '../models/bundle';
import { runRegisterIdx, type RegisterIdxParams, type RegisterIdxResult } from './idx';
import { runSpectrum, type SpectrumParams, type SpectrumPartial, type SpectrumResult } from './spectrum';
import { runFourierCheckpoints, runInternals, type FourierCheckpointsParams, type FourierCheckpointsResult, type InternalsParams, type InternalsResult } from './internals';
import {
  runLandscape, runLlc, runLlcCheckpoints, runLlcCurve, runLlcGrid, runLlcSweep,
  type LandscapeParams, type LandscapeResult, type LlcCheckpointPoint, type LlcCheckpointsParams, type LlcCurveParams, type LlcCurvePoint,
  type LlcGridParams, type LlcParams, type LlcSweepParams, type LlcSweepPoint, type LlcSweepResult,
} from './llc';
import type { CalibrationCell, CalibrationResult, SgldPartial, SgldResult } from '../llc/sgld';
import { runTrain, type TrainParams, type TrainPartial, type TrainResult } from './train';
import { runExportModelFile, runExportSession, runImportSession, runLoadModelFile, type ExportModelFileParams, type LoadModelFileParams } from './files';
import type { Session } from '../io/session';
import { runBrowserBench, type BrowserBenchParams, type BrowserBenchResult } from '../bench/browserBench';

export interface TaskDefs {
  'init-model': { params: InitModelParams; partial: never; result: ModelBundle };
  forward: { params: ForwardParams; partial: never; result: ForwardResult };
  'load-model-file': { params: LoadModelFileParams; partial: never; result: ModelBundle };
  'export-model-file': { params: ExportModelFileParams; partial: never; result: Uint8Array };
  'export-session': { params: { session: Session }; partial: never; result: Uint8Array };
  'import-session': { params: { bytes: Uint8Array }; partial: never; result: Session };
  train: { params: TrainParams; partial: TrainPartial; result: TrainResult };
  'register-idx': { params: RegisterIdxParams; partial: never; result: RegisterIdxResult };
  spectrum: { params: SpectrumParams; partial: SpectrumPartial; result: SpectrumResult };
  internals: { params: InternalsParams; partial: never; result: InternalsResult };
  'fourier-checkpoints': { params: FourierCheckpointsParams; partial: never; result: FourierCheckpointsResult };
  llc: { params: LlcParams; partial: SgldPartial; result: SgldResult };
  'llc-grid': { params: LlcGridParams; partial: CalibrationCell; result: CalibrationResult };
  'llc-curve': { params: LlcCurveParams; partial: LlcCurvePoint; result: LlcCurvePoint[] };
  'llc-checkpoints': { params: LlcCheckpointsParams; partial: LlcCheckpointPoint; result: LlcCheckpointPoint[] };
  'llc-sweep': { params: LlcSweepParams; partial: LlcSweepPoint; result: LlcSweepResult };
  landscape: { params: LandscapeParams; partial: never; result: LandscapeResult };
  bench: { params: BrowserBenchParams; partial: never; result: BrowserBenchResult };
}

export type TaskName = keyof TaskDefs;
export type TaskParams<K extends TaskName> = TaskDefs[K]['params'];
export type TaskPartial<K extends TaskName> = TaskDefs[K]['partial'];
export type TaskResult<K extends TaskName> = TaskDefs[K]['result'];

export type TaskFn<K extends TaskName> = (
  params: TaskParams<K>,
  ctx: JobContext<TaskPartial<K>>,
  env: TaskEnv,
) => Promise<TaskResult<K>>;

export const TASKS: { [K in TaskName]: TaskFn<K> } = {
  'init-model': runInitModel,
  forward: runForward,
  'load-model-file': runLoadModelFile,
  'export-model-file': runExportModelFile,
  'export-session': runExportSession,
  'import-session': runImportSession,
  train: runTrain,
  'register-idx': runRegisterIdx,
  spectrum: runSpectrum,
  internals: runInternals,
  'fourier-checkpoints': runFourierCheckpoints,
  llc: runLlc,
  'llc-grid': runLlcGrid,
  'llc-curve': runLlcCurve,
  'llc-checkpoints': runLlcCheckpoints,
  'llc-sweep': runLlcSweep,
  landscape: runLandscape,
  bench: runBrowserBench,
};

export function runTask<K extends TaskName>(name: K, params: TaskParams<K>, ctx: JobContext<TaskPartial<K>>, env: TaskEnv): Promise<TaskResult<K>> {
  const fn = TASKS[name] as TaskFn<K> | undefined;
  if (!fn) return Promise.reject(new Error(`Unknown task "${String(name)}"`));
  return fn(params, ctx, env);
}
