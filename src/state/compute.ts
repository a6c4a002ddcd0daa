/**
 * Wires the compute worker client to the store: backend state, job updates and notices flow
 * in; UI actions (build model, run forward pass, cancel, switch backend) flow out as jobs.
 * The UI never computes: everything numerical is a job in the worker.
 */
import type { BackendPreference } from '../core/backend';
import { isCancelled } from '../core/jobs';
import { describeConfig, validateConfig, type ArchId } from '../core/models/config';
import type { Split } from '../core/data/types';
import type { IdxFiles, IdxRole } from '../core/data/idx';
import type { ModelBundle } from '../core/models/bundle';
import type { CalibrationOptions, SgldOptions } from '../core/llc/sgld';
import type { LandscapeSamplerOptions, LandscapeSpec } from '../core/llc/landscapes';
import type { LlcSweepParams } from '../core/tasks/llc';
import { ComputeClient, DeviceLostError, type WorkerLike } from '../worker/client';
import { applyShareable, configOf, dataSpecOf, DEFAULT_SHAREABLE, shareableOf, useStore, type TrainingRun } from './store';
import { FIELDS, type Shareable } from './url';
import { fileSizeProblem, type FileLike } from './files';
import type { Session } from '../core/io/session';
import type { SpectrumResult } from '../core/tasks/spectrum';
import type { FourierCheckpointsResult } from '../core/tasks/internals';
import type { BrowserBenchResult } from '../bench/browserBench';
import { finishRun, loadCheckpointTheta, recordCheckpoint, recordRun } from './persist';
import { describeRecipe } from '../core/train/describe';
import { defaultSpectrumPlan } from '../core/spectrum/plan';
import type { StoppedShort } from '../core/io/analysis';
import { applyDefaultEps, isShippedConfig, loadShippedAnalysis, pretrainedName, resultOfPartial } from './analysis';
import type { SpectrumSource } from './store';

function makeWorker(): WorkerLike {
  return new Worker(new URL('../worker/compute.worker.ts', import.meta.url), { type: 'module', name: 'slt-compute' }) as unknown as WorkerLike;
}

let client: ComputeClient | null = null;

export function getClient(): ComputeClient {
  if (!client) {
    const st = useStore.getState;
    client = new ComputeClient(makeWorker, {
      onBackend: (status, info, message) => {
        st().setBackendState(status, info, message);
        if (status === 'ready') replayUserData();
      },
      onJob: (u) => st().upsertJob(u),
      onNotice: (kind, message) => st().pushNotice(kind, message),
    });
  }
  return client;
}

export function startCompute(): void {
  getClient().start(useStore.getState().backend);
}

export function switchBackend(pref: BackendPreference): void {
  useStore.getState().setBackendPref(pref);
  getClient().start(pref);
}

function reportFailure(what: string, e: unknown): void {
  // A lost GPU device: the client's own notice already names every job it stopped.
  if (isCancelled(e) || e instanceof DeviceLostError) return;
  const msg = e instanceof Error ? e.message : String(e);
  useStore.getState().pushNotice('error', `${what} failed: ${msg}`);
}

/** Builds a freshly initialised model from the current settings; the old model stays until it succeeds. */
export async function buildModel(): Promise<void> {
  const s = useStore.getState();
  const config = configOf(s);
  const errs = validateConfig(config);
  if (errs.length) {
    s.pushNotice('error', `Cannot build ${describeConfig(config)}: ${errs.join('; ')}`);
    return;
  }
  const job = getClient().run('init-model', { config, seed: s.seed, data: dataSpecOf(s, config) }, { label: `Build ${describeConfig(config)}`, latestKey: 'model' });
  try {
    const model = await job.promise;
    useStore.getState().setModel(model);
  } catch (e) {
    reportFailure('Building the model', e);
  }
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
  const job = getClient().run('load-model-file', { bytes, name }, { label: `Load ${name}`, latestKey: 'model' });
  try {
    const model = await job.promise;
    useStore.getState().adoptModel(model);
    return true;
  } catch (e) {
    reportFailure(`Loading ${name}`, e);
    return false;
  }
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
  const job = getClient().run('export-model-file', { model: exported }, { label: 'Export model file' });
  try {
    const bytes = await job.promise;
    const fileName = `${model.name.replace(/[^\w.-]+/g, '_').replace(/_+$/, '')}.safetensors`;
    return { bytes, fileName };
  } catch (e) {
    reportFailure('Exporting the model', e);
    return null;
  }
}

export async function runForward(split: Split = 'all', repeats = 1): Promise<void> {
  const model = useStore.getState().model;
  if (!model) {
    useStore.getState().pushNotice('warning', 'Build or load a model first.');
    return;
  }
  const job = getClient().run('forward', { model, split, repeats }, {
    label: repeats > 1 ? `Forward pass ×${repeats} (${split})` : `Forward pass (${split})`,
    latestKey: 'forward',
  });
  try {
    useStore.getState().setForward(await job.promise);
  } catch (e) {
    reportFailure('The forward pass', e);
  }
}

export function cancelJob(id: number): void {
  getClient().cancel(id);
}

export function crashWorkerForTest(): void {
  getClient().crashForTest();
}

/** Test hook (`?debug=1`): destroys the worker's GPUDevice; false when the backend is not webgpu. */
export function loseDeviceForTest(): boolean {
  return getClient().debugLoseDevice();
}

/** Trains the current model with the form's options; curves and checkpoints stream in. */
export async function startTraining(): Promise<void> {
  const s = useStore.getState();
  const model = s.model;
  if (!model) {
    s.pushNotice('warning', 'Build or load a model first.');
    return;
  }
  const opts = { ...s.trainOpts };
  // Checkpoints are written to browser storage as they arrive, once the run has an id.
  let runId: Promise<string | undefined> | null = null;
  const job = getClient().run('train', { model, opts }, {
    label: `Train ${model.name} (${opts.steps} steps)`,
    latestKey: 'train',
    pausable: true,
    onPartial: (p) => {
      const st = useStore.getState();
      st.updateRun((r) => (r.jobId !== job.id ? r
        : p.kind === 'metrics' ? { ...r, history: [...r.history, p.metrics] }
          : { ...r, checkpoints: [...r.checkpoints, { step: p.step, theta: p.theta }] }));
      if (p.kind === 'checkpoint' && runId) {
        const metrics = st.run?.history.find((m) => m.step === p.step);
        void runId.then((id) => (id ? recordCheckpoint(id, p.step, p.theta, metrics) : undefined));
      }
    },
  });
  const run: TrainingRun = { jobId: job.id, status: 'running', baseName: model.name, opts, history: [], checkpoints: [] };
  s.setRun(run);
  runId = recordRun(run, `${model.name} · ${describeRecipe(opts)}`).then((id) => {
    useStore.getState().updateRun((r) => (r.jobId === job.id ? { ...r, runId: id } : r));
    return id;
  });
  const settle = (status: TrainingRun['status'], error?: string) => {
    useStore.getState().updateRun((r) => (r.jobId === job.id ? { ...r, status, error } : r));
    const r = useStore.getState().run;
    if (r && r.jobId === job.id) void runId!.then(() => finishRun(useStore.getState().run!));
  };
  try {
    const r = await job.promise;
    settle('done');
    useStore.getState().adoptModel(r.model);
  } catch (e) {
    const cancelled = isCancelled(e);
    settle(cancelled ? 'cancelled' : 'error', cancelled ? undefined : String((e as Error).message ?? e));
    reportFailure('Training', e);
  }
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

/** IDX files the user brought, kept on the page so a replaced worker can register them again. */
const userIdx = new Map<string, IdxFiles>();

/** Sorts dropped IDX files into train/test images/labels by name ("t10k"/"test" = test; "idx3" = images). */
export function classifyIdxFiles(names: string[]): { role: IdxRole | null; name: string }[] {
  return names.map((name) => {
    const n = name.toLowerCase();
    const images = /idx3|images/.test(n);
    const labels = /idx1|labels/.test(n);
    const test = /t10k|test/.test(n);
    if (images === labels) return { role: null, name };
    return { role: test ? (images ? 'testImages' : 'testLabels') : images ? 'trainImages' : 'trainLabels', name };
  });
}

/**
 * Loads MNIST IDX files (raw or .gz) as the data of the current mnist-mlp model. Names, roles and
 * sizes are checked before any file is read; parsing and validation run in the worker; on any
 * problem nothing changes (false).
 */
export async function loadIdxFiles(files: FileLike[]): Promise<boolean> {
  const s = useStore.getState();
  const roles = classifyIdxFiles(files.map((f) => f.name));
  const unknown = roles.filter((r) => r.role === null).map((r) => r.name);
  if (unknown.length) {
    s.pushNotice('error', `Cannot tell what ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'}: IDX file names should contain "images"/"idx3" or "labels"/"idx1" (and "t10k"/"test" for the test set).`);
    return false;
  }
  const names: NonNullable<IdxFiles['names']> = {};
  for (const r of roles) {
    if (names[r.role!]) {
      s.pushNotice('error', `${names[r.role!]} and ${r.name} both look like the ${r.role!.replace(/[A-Z]/, (c) => ` ${c.toLowerCase()}`)} file; drop one of each kind.`);
      return false;
    }
    names[r.role!] = r.name;
  }
  for (const f of files) {
    const tooLarge = fileSizeProblem(f, 'idx');
    if (tooLarge) {
      s.pushNotice('error', tooLarge);
      return false;
    }
  }
  if (!names.trainImages || !names.trainLabels) {
    s.pushNotice('error', 'Drop at least a training images file and a training labels file (e.g. train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz).');
    return false;
  }
  const set: Partial<IdxFiles> = { names };
  for (let i = 0; i < files.length; i++) set[roles[i].role!] = new Uint8Array(await files[i].arrayBuffer());
  const key = `idx-${Date.now().toString(36)}`;
  const idx = set as IdxFiles;
  const job = getClient().run('register-idx', { key, files: idx }, { label: `Load IDX (${files.length} files)` });
  try {
    const r = await job.promise;
    userIdx.set(key, idx);
    const st = useStore.getState();
    st.pushNotice('info', `Loaded ${r.label}: ${r.nTrain.toLocaleString('en-US')} train and ${r.nTest.toLocaleString('en-US')} test digits. Analyses of MNIST models now use them.`);
    st.setUserMnist({ key, label: r.label });
    if (st.model?.config.arch === 'mnist-mlp') st.setModel({ ...st.model, data: { kind: 'mnist', source: 'idx', key } });
    return true;
  } catch (e) {
    reportFailure('Loading the IDX files', e);
    return false;
  }
}

/** Registers the user's IDX data again in a new worker (after a crash or a backend switch). */
export function replayUserData(): void {
  for (const [key, files] of userIdx) getClient().run('register-idx', { key, files }, { label: 'Restore IDX data' });
}

/** The spectrum job whose partials the view shows (a superseded one's late partials are dropped). */
let liveSpectrumJob: number | null = null;

/** Computes the Hessian spectrum of the current model with the Spectrum view's settings. */
export async function computeSpectrum(): Promise<void> {
  const s = useStore.getState();
  const model = s.model;
  if (!model) {
    s.pushNotice('warning', 'Build or load a model first.');
    return;
  }
  const o = s.spectrumSettings;
  // The default plan reaches k* where the memory budget allows (core/spectrum/plan.ts).
  const plan = defaultSpectrumPlan(model.config.arch, model.theta.length);
  const k = o.kAuto ? plan.k : o.k;
  const method = o.kAuto && o.method === 'auto' ? plan.method : o.method;
  useStore.setState({ spectrumLive: null });
  const job = getClient().run('spectrum', {
    model, method, k, split: o.split, loss: o.loss, probes: o.probes,
    timeLimitMs: o.timeLimitMin > 0 ? o.timeLimitMin * 60_000 : undefined,
    streamCutoff: { cutoff: o.cutoff, split: o.cutoffSplit },
  }, {
    label: `Spectrum of ${model.name}`, latestKey: 'spectrum',
    onPartial: (p) => { if (liveSpectrumJob === job.id) useStore.setState({ spectrumLive: p }); },
  });
  liveSpectrumJob = job.id;
  const source = (r: { method: 'dense' | 'lanczos'; backend: string; timings: Record<string, number>; stoppedShort?: StoppedShort }, kind: 'computed' | 'partial'): SpectrumSource => ({
    kind, date: new Date().toISOString(), method: r.method, k: r.method === 'dense' ? model.theta.length : k, backend: r.backend,
    seconds: Object.values(r.timings).reduce((a, b) => a + b, 0) / 1000, by: 'this tab', stoppedShort: r.stoppedShort,
  });
  try {
    const r = await job.promise;
    useStore.getState().setSpectrum(r, model.name, source(r, 'computed'));
    useStore.setState({ spectrumLive: null });
    applyDefaultEps(r);
  } catch (e) {
    // Cancel keeps what converged: the last streamed partial becomes the result.
    // A newer spectrum job superseded this one: its own partials and result take over.
    if (liveSpectrumJob !== job.id) { reportFailure('The spectrum', e); return; }
    const live = useStore.getState().spectrumLive;
    useStore.setState({ spectrumLive: null });
    if (isCancelled(e) && live && live.eigenvalues.length > 0 && useStore.getState().model === model) {
      const { r } = resultOfPartial(live, 'cancelled');
      useStore.getState().setSpectrum(r, model.name, source(r, 'partial'));
      applyDefaultEps(r);
      useStore.getState().pushNotice('info', `Spectrum cancelled: kept the ${live.eigenvalues.length.toLocaleString('en-US')} eigenpairs that had converged (of ${k.toLocaleString('en-US')} asked for).`);
      return;
    }
    reportFailure('The spectrum', e);
  }
}

/** Synchronized neurons, Grams, interaction basis and Fourier circuits of the current model. */
export async function computeInternals(tol: number, measure: 'fraction' | 'eq17'): Promise<void> {
  const s = useStore.getState();
  const model = s.model;
  if (!model) {
    s.pushNotice('warning', 'Build or load a model first.');
    return;
  }
  const job = getClient().run('internals', { model, tol, measure }, { label: `Internals of ${model.name}`, latestKey: 'internals' });
  try {
    useStore.getState().setInternals(await job.promise, model.name);
  } catch (e) {
    reportFailure('The internals analysis', e);
  }
}

// ---- LLC (docs/science.md §4, §5) ----

export async function computeLandscape(spec: LandscapeSpec, sampler: LandscapeSamplerOptions | undefined): Promise<void> {
  const job = getClient().run('landscape', { spec, sampler }, { label: 'Teaching landscape', latestKey: 'landscape' });
  try {
    useStore.getState().setLlc({ landscape: await job.promise });
  } catch (e) {
    reportFailure('The landscape', e);
  }
}

function currentModel(): ModelBundle | null {
  const s = useStore.getState();
  if (!s.model) s.pushNotice('warning', 'Build or load a model first.');
  return s.model;
}

export async function estimateLlcNow(opts: SgldOptions): Promise<void> {
  const model = currentModel();
  if (!model) return;
  const live = { chains: [] as number[][], initLoss: NaN, nBeta: NaN, runningLlc: [] as number[] };
  useStore.getState().setLlc({ sgldLive: { ...live }, sgld: null, sgldOf: model.name });
  let last = 0;
  const job = getClient().run('llc', { model, opts }, {
    label: `SGLD λ̂ of ${model.name}`,
    latestKey: 'llc',
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
  });
  try {
    useStore.getState().setLlc({ sgld: await job.promise, sgldLive: null });
  } catch (e) {
    useStore.getState().setLlc({ sgldLive: null });
    reportFailure('The SGLD estimate', e);
  }
}

export async function llcAlongEps(eps: number[], opts: Omit<SgldOptions, 'nBeta' | 'nBetaMode'>): Promise<void> {
  const model = currentModel();
  if (!model) return;
  useStore.getState().setLlc({ llcCurve: [] });
  const job = getClient().run('llc-curve', { model, eps, opts }, {
    label: `SGLD λ̂ at ${eps.length} loss scales`, latestKey: 'llc-curve',
    onPartial: (pt) => useStore.getState().setLlc({ llcCurve: [...useStore.getState().llcCurve, pt] }),
  });
  try {
    useStore.getState().setLlc({ llcCurve: await job.promise });
  } catch (e) {
    reportFailure('SGLD along ε', e);
  }
}

export async function llcCalibration(opts: CalibrationOptions): Promise<void> {
  const model = currentModel();
  if (!model) return;
  useStore.getState().setLlc({ llcGrid: [] });
  const job = getClient().run('llc-grid', { model, opts }, {
    label: `SGLD calibration ${opts.stepSizes.length}×${opts.nBetas.length}`, latestKey: 'llc-grid',
    onPartial: (c) => useStore.getState().setLlc({ llcGrid: [...useStore.getState().llcGrid, c] }),
  });
  try {
    useStore.getState().setLlc({ llcGrid: (await job.promise).cells });
  } catch (e) {
    reportFailure('The calibration grid', e);
  }
}

/** λ̂ at each checkpoint of the current training run (those still in memory). */
export async function llcOverCheckpoints(opts: SgldOptions): Promise<void> {
  const s = useStore.getState();
  const model = currentModel();
  const cps = (s.run?.checkpoints ?? []).filter((c): c is { step: number; theta: Float32Array } => !!c.theta);
  if (!model) return;
  if (!cps.length) {
    s.pushNotice('warning', 'Train a model with checkpoints first (Train view); checkpoints of a reopened run load one at a time and are not used here.');
    return;
  }
  useStore.getState().setLlc({ llcCheckpoints: [] });
  const job = getClient().run('llc-checkpoints', { model, checkpoints: cps, opts }, {
    label: `LLC over ${cps.length} checkpoints`, latestKey: 'llc-checkpoints',
    onPartial: (pt) => useStore.getState().setLlc({ llcCheckpoints: [...useStore.getState().llcCheckpoints, pt] }),
  });
  try {
    useStore.getState().setLlc({ llcCheckpoints: await job.promise });
  } catch (e) {
    reportFailure('LLC over training', e);
  }
}

export async function llcSweep(p: LlcSweepParams): Promise<void> {
  useStore.getState().setLlc({ llcSweep: { points: [], fits: null } });
  const job = getClient().run('llc-sweep', p, {
    label: `LLC sweep over p = ${p.ps.join(', ')}`, latestKey: 'llc-sweep',
    onPartial: (pt) => useStore.getState().setLlc({ llcSweep: { points: [...useStore.getState().llcSweep.points, pt], fits: null } }),
  });
  try {
    const r = await job.promise;
    useStore.getState().setLlc({ llcSweep: { points: r.points, fits: r.fits } });
  } catch (e) {
    reportFailure('The sweep', e);
  }
}

// ---- Sessions: the current model, its training run (with checkpoints), spectrum and settings in one file ----

export async function exportSession(): Promise<{ bytes: Uint8Array; fileName: string } | null> {
  const s = useStore.getState();
  const run = s.run;
  const spec = s.spectrum && s.spectrumOf === s.model?.name ? s.spectrum : null;
  const session: Session = {
    settings: { ...shareableOf(s) } as Record<string, unknown>,
    model: s.model,
    run: run ? {
      baseName: run.baseName, opts: { ...run.opts } as Record<string, unknown>, history: run.history.map((m) => ({ ...m }) as Record<string, number>),
      checkpoints: run.checkpoints.filter((c): c is { step: number; theta: Float32Array } => !!c.theta),
    } : null,
    spectrum: spec ? {
      info: { d: spec.d, n: spec.n, method: spec.method, loss: spec.loss, split: spec.split, aboveFloor: spec.aboveFloor, trace: spec.trace ?? null, projection: spec.projection ?? null, storage: spec.storage ?? null, timings: spec.timings, matvecs: spec.matvecs, backend: spec.backend, of: s.spectrumOf },
      eigenvalues: spec.eigenvalues, residuals: spec.residuals, slq: spec.slq, loadings: spec.loadings,
    } : null,
  };
  const job = getClient().run('export-session', { session }, { label: 'Export session' });
  try {
    const bytes = await job.promise;
    return { bytes, fileName: `slt-session-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.safetensors` };
  } catch (e) {
    reportFailure('Exporting the session', e);
    return null;
  }
}

/**
 * The session's settings that pass the same checks as a link's (url.ts FIELDS); unknown keys are
 * dropped (a session file must not write arbitrary store fields) and invalid values are listed.
 */
export function sessionSettings(raw: Record<string, unknown>): { values: Partial<Shareable>; rejected: string[] } {
  const values: Record<string, unknown> = {};
  const rejected: string[] = [];
  for (const name of Object.keys(FIELDS) as (keyof Shareable)[]) {
    if (!Object.prototype.hasOwnProperty.call(raw, name)) continue;
    const v = raw[name];
    if (v === null && (DEFAULT_SHAREABLE as unknown as Record<string, unknown>)[name] === null) {
      values[name] = null;
      continue;
    }
    const f = FIELDS[name] as { parse(s: string): unknown; format(v: unknown): string };
    let parsed: unknown;
    try {
      parsed = f.parse(f.format(v));
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) rejected.push(`${name}=${(JSON.stringify(v) ?? String(v)).slice(0, 40)}`);
    else values[name] = parsed;
  }
  return { values: values as Partial<Shareable>, rejected };
}

/**
 * Replaces the model, run, spectrum and settings by a session file's. Decoding and validation
 * (NaN / Inf weights, checkpoints, eigenvalues, …) run in the worker; on any problem nothing
 * changes and the notice says which part and element is wrong.
 */
export async function importSession(file: FileLike): Promise<boolean> {
  const tooLarge = fileSizeProblem(file, 'session');
  if (tooLarge) {
    useStore.getState().pushNotice('error', tooLarge);
    return false;
  }
  const job = getClient().run('import-session', { bytes: new Uint8Array(await file.arrayBuffer()) }, { label: `Import ${file.name}` });
  try {
    const r = await job.promise;
    const st = useStore.getState();
    const settings = sessionSettings(r.settings);
    if (settings.rejected.length) st.pushNotice('warning', `Ignored session settings that could not be used: ${settings.rejected.join(', ')}`);
    applyShareable(settings.values);
    if (r.model) st.adoptModel(r.model);
    if (r.run) st.setRun({ jobId: null, status: 'done', baseName: r.run.baseName, opts: r.run.opts as unknown as TrainingRun['opts'], history: r.run.history as unknown as TrainingRun['history'], checkpoints: r.run.checkpoints });
    if (r.spectrum) {
      const info = r.spectrum.info as unknown as SpectrumResult & { of?: string };
      st.setSpectrum({ ...info, eigenvalues: r.spectrum.eigenvalues, residuals: r.spectrum.residuals, slq: r.spectrum.slq, loadings: r.spectrum.loadings }, info.of ?? r.model?.name ?? null);
    }
    st.pushNotice('info', `Imported the session from ${file.name}${r.run ? ` (${r.run.checkpoints.length} checkpoints)` : ''}${r.spectrum ? ', with its spectrum' : ''}.`);
    return true;
  } catch (e) {
    reportFailure(`Importing ${file.name}`, e);
    return false;
  }
}

/** Fourier norms of the embedding at every in-memory checkpoint of the current run. */
export async function fourierOverCheckpoints(): Promise<FourierCheckpointsResult | null> {
  const s = useStore.getState();
  const cps = (s.run?.checkpoints ?? []).filter((c): c is { step: number; theta: Float32Array } => !!c.theta && c.theta.length === s.model?.theta.length);
  if (!s.model || !cps.length) {
    s.pushNotice('warning', 'Train this model with checkpoints first (Train view).');
    return null;
  }
  const job = getClient().run('fourier-checkpoints', { model: s.model, checkpoints: cps }, { label: `Fourier over ${cps.length} checkpoints`, latestKey: 'fourier-checkpoints' });
  try {
    return await job.promise;
  } catch (e) {
    reportFailure('Fourier over checkpoints', e);
    return null;
  }
}

/** Measures H·v throughput, Lanczos top-k and the matMul rate of the active backend on the current model. */
export async function runBenchmark(k: number): Promise<BrowserBenchResult | null> {
  const model = currentModel();
  if (!model) return null;
  const job = getClient().run('bench', { model, reps: 10, k }, { label: `Benchmark ${model.name}`, latestKey: 'bench' });
  try {
    return await job.promise;
  } catch (e) {
    reportFailure('The benchmark', e);
    return null;
  }
}
