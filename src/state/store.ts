/**
 * One zustand store split into slices (zustand's recommendation): model, data, jobs, view,
 * backend, notices and results. Big typed arrays (θ, outputs) live here by reference but are
 * never rendered directly; components select small derived values.
 */
import { create, type StateCreator } from 'zustand';
import type { BackendInfo, BackendPreference } from '../core/backend';
import { DEFAULT_CONFIGS, type ArchId, type ModelConfig } from '../core/models/config';
import { DEFAULT_TRAIN_FRACTION, type DataSpec } from '../core/data/spec';
import type { ModelBundle } from '../core/models/bundle';
import type { ForwardResult } from '../core/tasks/forward';
import type { SpectrumPartial, SpectrumResult } from '../core/tasks/spectrum';
import type { AnalysisFile, StoppedShort } from '../core/io/analysis';
import type { InternalsResult } from '../core/tasks/internals';
import type { LandscapeResult, LlcCheckpointPoint, LlcCurvePoint, LlcSweepPoint, LlcSweepResult } from '../core/tasks/llc';
import type { CalibrationCell, SgldResult } from '../core/llc/sgld';
import type { Metrics, TrainOptions } from '../core/train/trainer';
import { DEFAULT_RECIPES } from '../core/train/recipes';
import type { BackendStatus, JobUpdate } from '../worker/client';
import type { StoredModelMeta, StoredRunMeta } from '../storage/db';
import type { NeuronRef, Shareable, ViewId } from './url';

export const DEFAULT_SHAREABLE: Shareable = {
  arch: 'modadd',
  p: DEFAULT_CONFIGS.modadd.p,
  e: DEFAULT_CONFIGS.modadd.e,
  h: DEFAULT_CONFIGS.modadd.h,
  hidden: [...DEFAULT_CONFIGS['mnist-mlp'].hidden],
  widths: [...DEFAULT_CONFIGS.matfac.widths],
  seed: 0,
  dataSeed: 0,
  trainFraction: DEFAULT_TRAIN_FRACTION,
  op: 'sum',
  eps: 1e-3,
  view: 'spectrum',
  backend: 'auto',
  neuron: null,
  eigen: null,
  band: null,
};

/** The model settings are the shareable ones (one definition, in url.ts). */
export interface ModelSlice extends Pick<Shareable, 'arch' | 'p' | 'e' | 'h' | 'hidden' | 'widths' | 'seed'> {
  model: ModelBundle | null;
  setArch(arch: ArchId): void;
  setSizes(s: Partial<Pick<Shareable, 'p' | 'e' | 'h' | 'hidden' | 'widths' | 'seed'>>): void;
  setModel(m: ModelBundle | null): void;
  /** Makes a loaded model current and updates the settings (arch, sizes, data) to describe it. */
  adoptModel(m: ModelBundle): void;
}

export interface DataSlice extends Pick<Shareable, 'dataSeed' | 'trainFraction' | 'op'> {
  /** MNIST digits the user brought as IDX files (registered in the worker under this key). */
  userMnist: { key: string; label: string } | null;
  setUserMnist(u: { key: string; label: string } | null): void;
  setData(d: Partial<Pick<Shareable, 'dataSeed' | 'trainFraction' | 'op'>>): void;
}

export interface JobsSlice {
  /** Most recent first; finished jobs are kept (up to 30) so the panel shows what happened. */
  jobs: JobUpdate[];
  upsertJob(u: JobUpdate): void;
  clearFinished(): void;
}

/** The view and the linked selections every view shares (ε, one neuron, one eigenvector, a brushed band). */
export interface ViewSlice extends Pick<Shareable, 'view' | 'eps' | 'neuron' | 'eigen' | 'band'> {
  setView(v: ViewId): void;
  setEps(eps: number): void;
  selectNeuron(n: NeuronRef | null): void;
  selectEigen(k: number | null): void;
  /** A brushed interval of eigenvalues / loss scales (ordered; null clears). */
  setBand(b: [number, number] | null): void;
}

export interface BackendSlice {
  backend: BackendPreference;
  backendStatus: BackendStatus;
  backendInfo: BackendInfo | null;
  backendMessage?: string;
  setBackendPref(b: BackendPreference): void;
  setBackendState(status: BackendStatus, info: BackendInfo | null, message?: string): void;
}

export interface Notice {
  id: number;
  kind: 'error' | 'warning' | 'info';
  message: string;
  at: number;
}

export interface NoticeSlice {
  notices: Notice[];
  pushNotice(kind: Notice['kind'], message: string): void;
  dismissNotice(id: number): void;
}

export interface SpectrumSettings {
  method: 'auto' | 'dense' | 'lanczos';
  k: number;
  split: 'train' | 'all';
  loss: 'mse' | 'kl';
  probes: number;
  /** Accuracy cutoff fraction for k* (seed 002: 99.5 %). */
  cutoff: number;
  /** Which split's accuracy the cutoff is judged on. */
  cutoffSplit: 'train' | 'test';
  /** k follows the model's default plan (core/spectrum/plan.ts) until the user sets it. */
  kAuto: boolean;
  /** A Lanczos run stops after this many minutes and keeps what converged (0: no limit). */
  timeLimitMin: number;
}

/** Where the spectrum shown came from: the badge above it says so. */
export interface SpectrumSource {
  kind: 'precomputed' | 'computed' | 'partial';
  /** ISO date of the computation. */
  date: string;
  method: 'dense' | 'lanczos';
  /** Eigenpairs asked for. */
  k: number;
  backend: string;
  seconds: number;
  by?: string;
  stoppedShort?: StoppedShort;
  /** The precomputed sidecar (sync blocks, Fourier summary, the model's fingerprint). */
  analysis?: AnalysisFile;
}

export interface ResultsSlice {
  forward: ForwardResult | null;
  setForward(r: ForwardResult | null): void;
  spectrum: SpectrumResult | null;
  /** The model name the spectrum belongs to (so a stale spectrum is labelled). */
  spectrumOf: string | null;
  spectrumSettings: SpectrumSettings;
  setSpectrum(r: SpectrumResult | null, of: string | null, source?: SpectrumSource | null): void;
  spectrumSource: SpectrumSource | null;
  /** What a running spectrum job has streamed so far (null when none runs). */
  spectrumLive: SpectrumPartial | null;
  /** The link set ε: the first spectrum keeps it instead of the default-ε rule. */
  epsPinned: boolean;
  internals: InternalsResult | null;
  internalsOf: string | null;
  setInternals(r: InternalsResult | null, of: string | null): void;
  setSpectrumSettings(s: Partial<SpectrumSettings>): void;
}

export interface TrainingRun {
  /** The job training it (null for a run reopened from storage). */
  jobId: number | null;
  /** Its id in browser storage, once saved. */
  runId?: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  /** The model the run started from (its name and config). */
  baseName: string;
  opts: TrainOptions;
  history: Metrics[];
  /** θ snapshots by step, in step order; θ is absent for a reopened run until it is loaded from storage. */
  checkpoints: { step: number; theta?: Float32Array }[];
  error?: string;
}

export interface TrainingSlice {
  /** The training form, per architecture (switching architecture brings its recipe back). */
  trainOpts: TrainOptions;
  run: TrainingRun | null;
  /** Selected checkpoint step in the scrubber (null: the latest). */
  selectedCheckpoint: number | null;
  setTrainOpts(o: Partial<TrainOptions>): void;
  resetTrainOpts(): void;
  setRun(r: TrainingRun | null): void;
  updateRun(f: (r: TrainingRun) => TrainingRun): void;
  selectCheckpoint(step: number | null): void;
}

export interface SavedSlice {
  savedModels: StoredModelMeta[];
  savedRuns: StoredRunMeta[];
  storageError: string | null;
  setSaved(s: Partial<Pick<SavedSlice, 'savedModels' | 'savedRuns' | 'storageError'>>): void;
}

export interface LlcSlice {
  landscape: LandscapeResult | null;
  sgld: SgldResult | null;
  /** Traces streaming in while an estimate runs (per chain: the L(w_t) seen so far). */
  sgldLive: { chains: number[][]; initLoss: number; nBeta: number; runningLlc: number[] } | null;
  sgldOf: string | null;
  llcCurve: LlcCurvePoint[];
  llcGrid: CalibrationCell[];
  llcCheckpoints: LlcCheckpointPoint[];
  llcSweep: { points: LlcSweepPoint[]; fits: LlcSweepResult['fits'] | null };
  /** The teaching landscape shown (LLC view; the tour sets it). */
  llcLandscape: string;
  /** The guided tour's current step (null: closed). */
  tourStep: number | null;
  setLlc(v: Partial<Pick<LlcSlice, 'llcLandscape' | 'tourStep' | 'landscape' | 'sgld' | 'sgldLive' | 'sgldOf' | 'llcCurve' | 'llcGrid' | 'llcCheckpoints' | 'llcSweep'>>): void;
}

export type AppState = LlcSlice & SavedSlice & ModelSlice & DataSlice & JobsSlice & ViewSlice & BackendSlice & NoticeSlice & ResultsSlice & TrainingSlice;

type Slice<T> = StateCreator<AppState, [], [], T>;

const modelSlice: Slice<ModelSlice> = (set) => ({
  arch: DEFAULT_SHAREABLE.arch,
  p: DEFAULT_SHAREABLE.p,
  e: DEFAULT_SHAREABLE.e,
  h: DEFAULT_SHAREABLE.h,
  hidden: DEFAULT_SHAREABLE.hidden,
  widths: DEFAULT_SHAREABLE.widths,
  seed: DEFAULT_SHAREABLE.seed,
  model: null,
  setArch: (arch) => set((s) => {
    // Switching architecture resets its sizes to that architecture's defaults.
    const d = DEFAULT_CONFIGS[arch];
    const trainOpts = arch === s.arch ? s.trainOpts : recipeFor(arch);
    if (d.arch === 'modadd' || d.arch === 'modadd-gelu') return { arch, p: d.p, e: d.e, h: d.h, trainOpts };
    return { arch, p: s.p, e: s.e, h: s.h, trainOpts };
  }),
  setSizes: (sz) => set(sz),
  setModel: (model) => set({ model, forward: null }),
  adoptModel: (model) => set((s) => {
    const c = model.config;
    const sizes: Partial<AppState> =
      c.arch === 'modadd' || c.arch === 'modadd-gelu' ? { p: c.p, e: c.e, h: c.h }
        : c.arch === 'mnist-mlp' ? { hidden: [...c.hidden] }
          : { widths: [...c.widths] };
    const d = model.data;
    const data: Partial<AppState> =
      d.kind === 'modadd' ? { dataSeed: d.seed, trainFraction: d.trainFraction, op: d.op }
        : d.kind === 'matfac' ? { dataSeed: d.seed } : {};
    const trainOpts = c.arch === s.arch ? s.trainOpts : recipeFor(c.arch);
    return { model, forward: null, arch: c.arch, ...sizes, ...data, trainOpts };
  }),
});

const dataSlice: Slice<DataSlice> = (set) => ({
  userMnist: null,
  setUserMnist: (userMnist) => set((s) => {
    // Going back to the built-in digits also moves an MNIST model that used the user's files.
    const m = s.model;
    if (!userMnist && m && m.data.kind === 'mnist' && m.data.source === 'idx') return { userMnist, model: { ...m, data: { kind: 'mnist', source: 'builtin' } } };
    return { userMnist };
  }),
  dataSeed: DEFAULT_SHAREABLE.dataSeed,
  trainFraction: DEFAULT_SHAREABLE.trainFraction,
  op: DEFAULT_SHAREABLE.op,
  setData: (d) => set(d),
});

const jobsSlice: Slice<JobsSlice> = (set) => ({
  jobs: [],
  upsertJob: (u) => set((s) => {
    const i = s.jobs.findIndex((j) => j.id === u.id);
    const jobs = i >= 0 ? s.jobs.map((j, k) => (k === i ? u : j)) : [u, ...s.jobs];
    return { jobs: jobs.slice(0, 30) };
  }),
  clearFinished: () => set((s) => ({ jobs: s.jobs.filter((j) => j.status === 'queued' || j.status === 'running') })),
});

const viewSlice: Slice<ViewSlice> = (set) => ({
  view: DEFAULT_SHAREABLE.view,
  eps: DEFAULT_SHAREABLE.eps,
  neuron: DEFAULT_SHAREABLE.neuron,
  eigen: DEFAULT_SHAREABLE.eigen,
  band: DEFAULT_SHAREABLE.band,
  setView: (view) => set({ view }),
  setEps: (eps) => set({ eps: Number.isFinite(eps) && eps > 0 ? eps : DEFAULT_SHAREABLE.eps }),
  selectNeuron: (neuron) => set({ neuron: neuron && Number.isInteger(neuron.unit) && neuron.unit >= 0 ? { layer: neuron.layer, unit: neuron.unit } : null }),
  selectEigen: (eigen) => set({ eigen: eigen !== null && Number.isInteger(eigen) && eigen >= 1 ? eigen : null }),
  setBand: (b) => set({ band: b && b[0] > 0 && Number.isFinite(b[1]) && b[0] !== b[1] ? [Math.min(b[0], b[1]), Math.max(b[0], b[1])] : null }),
});

const backendSlice: Slice<BackendSlice> = (set) => ({
  backend: DEFAULT_SHAREABLE.backend,
  backendStatus: 'starting',
  backendInfo: null,
  setBackendPref: (backend) => set({ backend }),
  setBackendState: (backendStatus, backendInfo, backendMessage) => set({ backendStatus, backendInfo, backendMessage }),
});

let noticeId = 1;
const noticeSlice: Slice<NoticeSlice> = (set) => ({
  notices: [],
  pushNotice: (kind, message) => set((s) => ({ notices: [...s.notices.slice(-9), { id: noticeId++, kind, message, at: Date.now() }] })),
  dismissNotice: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
});

const resultsSlice: Slice<ResultsSlice> = (set) => ({
  forward: null,
  setForward: (forward) => set({ forward }),
  spectrum: null,
  spectrumOf: null,
  spectrumSettings: { method: 'auto', k: 1100, split: 'train', loss: 'mse', probes: 8, cutoff: 0.995, cutoffSplit: 'train', kAuto: true, timeLimitMin: 10 },
  setSpectrum: (spectrum, spectrumOf, source = null) => set({ spectrum, spectrumOf, spectrumSource: source }),
  spectrumSource: null,
  spectrumLive: null,
  epsPinned: false,
  internals: null,
  internalsOf: null,
  setInternals: (internals, internalsOf) => set({ internals, internalsOf }),
  setSpectrumSettings: (v) => set((s) => ({ spectrumSettings: { ...s.spectrumSettings, ...v } })),
});

function recipeFor(arch: ArchId): TrainOptions {
  const { note: _note, ...opts } = DEFAULT_RECIPES[arch];
  return opts;
}

const trainingSlice: Slice<TrainingSlice> = (set) => ({
  trainOpts: recipeFor(DEFAULT_SHAREABLE.arch),
  run: null,
  selectedCheckpoint: null,
  setTrainOpts: (o) => set((s) => ({ trainOpts: { ...s.trainOpts, ...o } })),
  resetTrainOpts: () => set((s) => ({ trainOpts: recipeFor(s.arch) })),
  setRun: (run) => set({ run, selectedCheckpoint: null }),
  updateRun: (f) => set((s) => (s.run ? { run: f(s.run) } : {})),
  selectCheckpoint: (selectedCheckpoint) => set({ selectedCheckpoint }),
});

const llcSlice: Slice<LlcSlice> = (set) => ({
  landscape: null,
  sgld: null,
  sgldLive: null,
  sgldOf: null,
  llcCurve: [],
  llcGrid: [],
  llcCheckpoints: [],
  llcSweep: { points: [], fits: null },
  llcLandscape: 'w1w2',
  tourStep: null,
  setLlc: (v) => set(v),
});

const savedSlice: Slice<SavedSlice> = (set) => ({
  savedModels: [],
  savedRuns: [],
  storageError: null,
  setSaved: (v) => set(v),
});

export function createAppStore() {
  return create<AppState>()((...a) => ({
    ...modelSlice(...a),
    ...dataSlice(...a),
    ...jobsSlice(...a),
    ...viewSlice(...a),
    ...backendSlice(...a),
    ...noticeSlice(...a),
    ...resultsSlice(...a),
    ...trainingSlice(...a),
    ...savedSlice(...a),
    ...llcSlice(...a),
  }));
}

export const useStore = createAppStore();

/** The model configuration the settings describe. */
export function configOf(s: Pick<AppState, 'arch' | 'p' | 'e' | 'h' | 'hidden' | 'widths'>): ModelConfig {
  switch (s.arch) {
    case 'modadd':
    case 'modadd-gelu':
      return { arch: s.arch, p: s.p, e: s.e, h: s.h };
    case 'mnist-mlp':
      return { arch: 'mnist-mlp', hidden: [...s.hidden] };
    case 'matfac':
      return { arch: 'matfac', widths: [...s.widths] };
  }
}

/** The data the settings describe for a configuration. */
export function dataSpecOf(s: Pick<AppState, 'dataSeed' | 'trainFraction' | 'op' | 'userMnist'>, config: ModelConfig): DataSpec {
  switch (config.arch) {
    case 'modadd':
    case 'modadd-gelu':
      return { kind: 'modadd', p: config.p, trainFraction: s.trainFraction, seed: s.dataSeed, op: s.op };
    case 'mnist-mlp':
      return s.userMnist ? { kind: 'mnist', source: 'idx', key: s.userMnist.key } : { kind: 'mnist', source: 'builtin' };
    case 'matfac':
      return { kind: 'matfac', inDim: config.widths[0], outDim: config.widths[config.widths.length - 1], nTrain: config.widths[0], seed: s.dataSeed };
  }
}

export function shareableOf(s: AppState): Shareable {
  return {
    arch: s.arch, p: s.p, e: s.e, h: s.h, hidden: s.hidden, widths: s.widths, seed: s.seed,
    dataSeed: s.dataSeed, trainFraction: s.trainFraction, op: s.op, eps: s.eps, view: s.view, backend: s.backend,
    neuron: s.neuron, eigen: s.eigen, band: s.band,
  };
}

/**
 * The defaults a link is written against: sizes depend on the architecture (modadd-gelu's
 * defaults are p=53, e=12, h=48), so a link naming only `arch` opens that model's default size.
 */
export function shareableDefaults(arch: ArchId): Shareable {
  const d = DEFAULT_CONFIGS[arch];
  return d.arch === 'modadd' || d.arch === 'modadd-gelu' ? { ...DEFAULT_SHAREABLE, arch, p: d.p, e: d.e, h: d.h } : { ...DEFAULT_SHAREABLE, arch };
}

/** Applies parsed URL values to the store (at start-up and on back/forward navigation). */
export function applyShareable(v: Partial<Shareable>, store = useStore): void {
  const arch = v.arch ?? store.getState().arch;
  const d = shareableDefaults(arch);
  store.setState({ p: d.p, e: d.e, h: d.h, ...v } as Partial<AppState>);
  if (v.arch) store.getState().resetTrainOpts();
}
