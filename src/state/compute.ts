/**
 * The UI's actions: each one reads the store, starts a job (jobs.ts `runJob`: progress, latest
 * wins, failure notices) and puts the result back. Training lives in training.ts, sessions in
 * session.ts, file checks in files.ts; they are re-exported here, the one module views import.
 * The UI never computes: everything numerical is a job in the worker.
 */
import { isCancelled } from '../core/jobs';
import { describeConfig, validateConfig, type ArchId } from '../core/models/config';
import type { Split } from '../core/data/types';
import type { IdxFiles } from '../core/data/idx';
import type { CalibrationOptions, SgldOptions } from '../core/llc/sgld';
import type { LandscapeSamplerOptions, LandscapeSpec } from '../core/llc/landscapes';
import type { LlcSweepParams } from '../core/tasks/llc';
import type { FourierCheckpointsResult } from '../core/tasks/internals';
import type { BrowserBenchResult } from '../core/bench/browserBench';
import { defaultSpectrumPlan } from '../core/spectrum/plan';
import type { StoppedShort } from '../core/io/analysis';
import { configOf, dataSpecOf, useStore, type SpectrumSource } from './store';
import { fileSizeProblem, idxFileRoles, type FileLike } from './files';
import { getClient, onWorkerReady, requireModel, runJob } from './jobs';
import { applyDefaultEps, isShippedConfig, loadShippedAnalysis, pretrainedName, resultOfPartial } from './analysis';

export { cancelJob, crashWorkerForTest, getClient, loseDeviceForTest, startCompute, switchBackend } from './jobs';
export { adoptCheckpoint, controlTraining, startTraining } from './training';
export { exportSession, importSession, sessionSettings } from './session';
export { classifyIdxFiles } from './files';

/** Builds a freshly initialised model from the current settings; the old model stays until it succeeds. */
export async function buildModel(): Promise<void> {
  const s = useStore.getState();
  const config = configOf(s);
  const errs = validateConfig(config);
  if (errs.length) {
    s.pushNotice('error', `Cannot build ${describeConfig(config)}: ${errs.join('; ')}`);
    return;
  }
  const model = await runJob('init-model', { config, seed: s.seed, data: dataSpecOf(s, config) }, { label: `Build ${describeConfig(config)}`, latestKey: 'model', failure: 'Building the model' }).result;
  if (model) useStore.getState().setModel(model);
}

/** Pretrained defaults shipped under public/models/ (made by scripts/pretrain.ts). */
export function pretrainedPath(arch: string): string {
  return `models/${arch}.safetensors`;
}

/**
 * Replaces the current model by one decoded from safetensors bytes. Decoding and validation run
 * in the worker; on any problem the current model stays and the error says what is wrong.
 */
export async function loadModelBytes(bytes: Uint8Array, name: string): Promise<boolean> {
  const model = await runJob('load-model-file', { bytes, name }, { label: `Load ${name}`, latestKey: 'model', failure: `Loading ${name}` }).result;
  if (!model) return false;
  useStore.getState().adoptModel(model);
  return true;
}

/** Opens a model file the user chose; one over the size limit is refused unread (state/files.ts). */
export async function loadModelFile(file: FileLike): Promise<boolean> {
  const tooLarge = fileSizeProblem(file, 'model');
  if (tooLarge) {
    useStore.getState().pushNotice('error', tooLarge);
    return false;
  }
  return loadModelBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}

/** Loads the shipped pretrained model of an architecture; false if none is shipped. */
export async function loadPretrained(arch: string): Promise<boolean> {
  const base = import.meta.env.BASE_URL ?? '/';
  // Its precomputed analysis (plain JSON, main thread) is shown while the worker decodes the model.
  const st = useStore.getState();
  if (isShippedConfig() && !(st.spectrumSource?.kind === 'precomputed' && st.spectrumOf === pretrainedName(arch))) void loadShippedAnalysis(arch as ArchId);
  try {
    const res = await fetch(`${base}${pretrainedPath(arch)}`);
    if (!res.ok) return false;
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('text/html')) return false; // an SPA fallback page, not the file
    return await loadModelBytes(new Uint8Array(await res.arrayBuffer()), `${arch} (pretrained)`);
  } catch {
    return false;
  }
}

/** Start-up: the pretrained default of the chosen architecture if shipped, else a fresh init. */
export async function loadInitialModel(): Promise<void> {
  const s = useStore.getState();
  const config = configOf(s);
  const { DEFAULT_CONFIGS, describeConfig: dc } = await import('../core/models/config');
  const isDefaultSize = dc(config) === dc(DEFAULT_CONFIGS[s.arch]);
  if (isDefaultSize && (await loadPretrained(s.arch))) return;
  await buildModel();
}

/** Encodes the current model as safetensors (PyTorch state_dict names) in the worker. */
export async function exportModel(): Promise<{ bytes: Uint8Array; fileName: string } | null> {
  const model = useStore.getState().model;
  if (!model) return null;
  // A file cannot carry the user's IDX data: record it by name and fall back to the built-in digits.
  const exported = model.data.kind === 'mnist' && model.data.source === 'idx'
    ? { ...model, data: { kind: 'mnist' as const, source: 'builtin' as const }, metadata: { ...model.metadata, data_note: `trained/analysed on user IDX files (${useStore.getState().userMnist?.label ?? model.data.key})` } }
    : model;
  const bytes = await runJob('export-model-file', { model: exported }, { label: 'Export model file', failure: 'Exporting the model' }).result;
  if (!bytes) return null;
  const fileName = `${model.name.replace(/[^\w.-]+/g, '_').replace(/_+$/, '')}.safetensors`;
  return { bytes, fileName };
}

export async function runForward(split: Split = 'all', repeats = 1): Promise<void> {
  const model = requireModel();
  if (!model) return;
  const r = await runJob('forward', { model, split, repeats }, {
    label: repeats > 1 ? `Forward pass ×${repeats} (${split})` : `Forward pass (${split})`,
    latestKey: 'forward',
    failure: 'The forward pass',
  }).result;
  if (r) useStore.getState().setForward(r);
}

// ---- The user's MNIST IDX files ----

/** IDX files the user brought, kept on the page so a replaced worker can register them again. */
const userIdx = new Map<string, IdxFiles>();

/**
 * Loads MNIST IDX files (raw or .gz) as the data of the current mnist-mlp model. Names, roles and
 * sizes are checked before any file is read (files.ts `idxFileRoles`); parsing and validation run
 * in the worker; on any problem nothing changes (false).
 */
export async function loadIdxFiles(files: FileLike[]): Promise<boolean> {
  const sorted = idxFileRoles(files);
  if ('problem' in sorted) {
    useStore.getState().pushNotice('error', sorted.problem);
    return false;
  }
  const idx: IdxFiles = { names: sorted.names } as IdxFiles;
  for (let i = 0; i < files.length; i++) idx[sorted.roles[i]] = new Uint8Array(await files[i].arrayBuffer());
  const key = `idx-${Date.now().toString(36)}`;
  const r = await runJob('register-idx', { key, files: idx }, { label: `Load IDX (${files.length} files)`, failure: 'Loading the IDX files' }).result;
  if (!r) return false;
  userIdx.set(key, idx);
  const st = useStore.getState();
  st.pushNotice('info', `Loaded ${r.label}: ${r.nTrain.toLocaleString('en-US')} train and ${r.nTest.toLocaleString('en-US')} test digits. Analyses of MNIST models now use them.`);
  st.setUserMnist({ key, label: r.label });
  if (st.model?.config.arch === 'mnist-mlp') st.setModel({ ...st.model, data: { kind: 'mnist', source: 'idx', key } });
  return true;
}

/** Registers the user's IDX data again in a new worker (after a crash or a backend switch). */
export function replayUserData(): void {
  for (const [key, files] of userIdx) getClient().run('register-idx', { key, files }, { label: 'Restore IDX data' });
}
onWorkerReady(replayUserData);

// ---- Spectrum and internals ----

/** The spectrum job whose partials the view shows (a superseded one's late partials are dropped). */
let liveSpectrumJob: number | null = null;

/** Computes the Hessian spectrum of the current model with the Spectrum view's settings. */
export async function computeSpectrum(): Promise<void> {
  const model = requireModel();
  if (!model) return;
  const o = useStore.getState().spectrumSettings;
  // The default plan reaches k* where the memory budget allows (core/spectrum/plan.ts).
  const plan = defaultSpectrumPlan(model.config.arch, model.theta.length);
  const k = o.kAuto ? plan.k : o.k;
  const method = o.kAuto && o.method === 'auto' ? plan.method : o.method;
  const source = (r: { method: 'dense' | 'lanczos'; backend: string; timings: Record<string, number>; stoppedShort?: StoppedShort }, kind: 'computed' | 'partial'): SpectrumSource => ({
    kind, date: new Date().toISOString(), method: r.method, k: r.method === 'dense' ? model.theta.length : k, backend: r.backend,
    seconds: Object.values(r.timings).reduce((a, b) => a + b, 0) / 1000, by: 'this tab', stoppedShort: r.stoppedShort,
  });
  /** Cancel keeps what converged: the last streamed partial becomes the result (true: handled, no failure notice). */
  const keepPartial = (e: unknown): boolean => {
    // A newer spectrum job superseded this one: its own partials and result take over.
    if (liveSpectrumJob !== job.id) return false;
    const live = useStore.getState().spectrumLive;
    useStore.setState({ spectrumLive: null });
    if (!(isCancelled(e) && live && live.eigenvalues.length > 0 && useStore.getState().model === model)) return false;
    const { r } = resultOfPartial(live, 'cancelled');
    useStore.getState().setSpectrum(r, model.name, source(r, 'partial'));
    applyDefaultEps(r);
    useStore.getState().pushNotice('info', `Spectrum cancelled: kept the ${live.eigenvalues.length.toLocaleString('en-US')} eigenpairs that had converged (of ${k.toLocaleString('en-US')} asked for).`);
    return true;
  };
  useStore.setState({ spectrumLive: null });
  const job = runJob('spectrum', {
    model, method, k, split: o.split, loss: o.loss, probes: o.probes,
    timeLimitMs: o.timeLimitMin > 0 ? o.timeLimitMin * 60_000 : undefined,
    streamCutoff: { cutoff: o.cutoff, split: o.cutoffSplit },
  }, {
    label: `Spectrum of ${model.name}`, latestKey: 'spectrum', failure: 'The spectrum',
    onPartial: (p) => { if (liveSpectrumJob === job.id) useStore.setState({ spectrumLive: p }); },
    onError: keepPartial,
  });
  liveSpectrumJob = job.id;
  const r = await job.result;
  if (!r) return;
  useStore.getState().setSpectrum(r, model.name, source(r, 'computed'));
  useStore.setState({ spectrumLive: null });
  applyDefaultEps(r);
}

/** Synchronized neurons, Grams, interaction basis and Fourier circuits of the current model. */
export async function computeInternals(tol: number, measure: 'fraction' | 'eq17'): Promise<void> {
  const model = requireModel();
  if (!model) return;
  const r = await runJob('internals', { model, tol, measure }, { label: `Internals of ${model.name}`, latestKey: 'internals', failure: 'The internals analysis' }).result;
  if (r) useStore.getState().setInternals(r, model.name);
}

/** Fourier norms of the embedding at every in-memory checkpoint of the current run. */
export async function fourierOverCheckpoints(): Promise<FourierCheckpointsResult | null> {
  const s = useStore.getState();
  const cps = (s.run?.checkpoints ?? []).filter((c): c is { step: number; theta: Float32Array } => !!c.theta && c.theta.length === s.model?.theta.length);
  if (!s.model || !cps.length) {
    s.pushNotice('warning', 'Train this model with checkpoints first (Train view).');
    return null;
  }
  return runJob('fourier-checkpoints', { model: s.model, checkpoints: cps }, { label: `Fourier over ${cps.length} checkpoints`, latestKey: 'fourier-checkpoints', failure: 'Fourier over checkpoints' }).result;
}

// ---- LLC (docs/science.md §4, §5) ----

export async function computeLandscape(spec: LandscapeSpec, sampler: LandscapeSamplerOptions | undefined): Promise<void> {
  const landscape = await runJob('landscape', { spec, sampler }, { label: 'Teaching landscape', latestKey: 'landscape', failure: 'The landscape' }).result;
  if (landscape) useStore.getState().setLlc({ landscape });
}

export async function estimateLlcNow(opts: SgldOptions): Promise<void> {
  const model = requireModel();
  if (!model) return;
  const live = { chains: [] as number[][], initLoss: NaN, nBeta: NaN, runningLlc: [] as number[] };
  useStore.getState().setLlc({ sgldLive: { ...live }, sgld: null, sgldOf: model.name });
  let last = 0;
  const sgld = await runJob('llc', { model, opts }, {
    label: `SGLD λ̂ of ${model.name}`,
    latestKey: 'llc',
    failure: 'The SGLD estimate',
    onPartial: (p) => {
      (live.chains[p.chain] ??= []).push(...Array.from(p.loss));
      live.initLoss = p.initLoss;
      live.nBeta = p.nBeta;
      live.runningLlc[p.chain] = p.runningLlc;
      // Render rate ≠ compute rate: at most ~5 store updates a second.
      const t = performance.now();
      if (t - last > 200) {
        last = t;
        useStore.getState().setLlc({ sgldLive: { chains: live.chains.map((c) => c.slice()), initLoss: live.initLoss, nBeta: live.nBeta, runningLlc: [...live.runningLlc] } });
      }
    },
    onError: () => useStore.getState().setLlc({ sgldLive: null }),
  }).result;
  if (sgld) useStore.getState().setLlc({ sgld, sgldLive: null });
}

export async function llcAlongEps(eps: number[], opts: Omit<SgldOptions, 'nBeta' | 'nBetaMode'>): Promise<void> {
  const model = requireModel();
  if (!model) return;
  useStore.getState().setLlc({ llcCurve: [] });
  const llcCurve = await runJob('llc-curve', { model, eps, opts }, {
    label: `SGLD λ̂ at ${eps.length} loss scales`, latestKey: 'llc-curve', failure: 'SGLD along ε',
    onPartial: (pt) => useStore.getState().setLlc({ llcCurve: [...useStore.getState().llcCurve, pt] }),
  }).result;
  if (llcCurve) useStore.getState().setLlc({ llcCurve });
}

export async function llcCalibration(opts: CalibrationOptions): Promise<void> {
  const model = requireModel();
  if (!model) return;
  useStore.getState().setLlc({ llcGrid: [] });
  const grid = await runJob('llc-grid', { model, opts }, {
    label: `SGLD calibration ${opts.stepSizes.length}×${opts.nBetas.length}`, latestKey: 'llc-grid', failure: 'The calibration grid',
    onPartial: (c) => useStore.getState().setLlc({ llcGrid: [...useStore.getState().llcGrid, c] }),
  }).result;
  if (grid) useStore.getState().setLlc({ llcGrid: grid.cells });
}

/** λ̂ at each checkpoint of the current training run (those still in memory). */
export async function llcOverCheckpoints(opts: SgldOptions): Promise<void> {
  const s = useStore.getState();
  const model = requireModel();
  const cps = (s.run?.checkpoints ?? []).filter((c): c is { step: number; theta: Float32Array } => !!c.theta);
  if (!model) return;
  if (!cps.length) {
    s.pushNotice('warning', 'Train a model with checkpoints first (Train view); checkpoints of a reopened run load one at a time and are not used here.');
    return;
  }
  useStore.getState().setLlc({ llcCheckpoints: [] });
  const llcCheckpoints = await runJob('llc-checkpoints', { model, checkpoints: cps, opts }, {
    label: `LLC over ${cps.length} checkpoints`, latestKey: 'llc-checkpoints', failure: 'LLC over training',
    onPartial: (pt) => useStore.getState().setLlc({ llcCheckpoints: [...useStore.getState().llcCheckpoints, pt] }),
  }).result;
  if (llcCheckpoints) useStore.getState().setLlc({ llcCheckpoints });
}

export async function llcSweep(p: LlcSweepParams): Promise<void> {
  useStore.getState().setLlc({ llcSweep: { points: [], fits: null } });
  const r = await runJob('llc-sweep', p, {
    label: `LLC sweep over p = ${p.ps.join(', ')}`, latestKey: 'llc-sweep', failure: 'The sweep',
    onPartial: (pt) => useStore.getState().setLlc({ llcSweep: { points: [...useStore.getState().llcSweep.points, pt], fits: null } }),
  }).result;
  if (r) useStore.getState().setLlc({ llcSweep: { points: r.points, fits: r.fits } });
}

/** Measures H·v throughput, Lanczos top-k and the matMul rate of the active backend on the current model. */
export async function runBenchmark(k: number): Promise<BrowserBenchResult | null> {
  const model = requireModel();
  if (!model) return null;
  return runJob('bench', { model, reps: 10, k }, { label: `Benchmark ${model.name}`, latestKey: 'bench', failure: 'The benchmark' }).result;
}
