/**
 * The precomputed analysis of the shipped models (issue 13): fetched at start-up on the main
 * thread (plain JSON, validated by core/io/analysis.ts — no tfjs, no worker job), shown by the
 * Spectrum view at once, checked against the model's θ* once the worker has decoded it, and the
 * default-ε rule applied to every new spectrum.
 */
import { DEFAULT_CONFIGS, describeConfig, paramCount, type ArchId } from '../core/models/config';
import { AnalysisFileError, parseAnalysisFile, spectrumFromAnalysis, thetaFingerprint, type AnalysisFile, type StoppedShort } from '../core/io/analysis';
import { epsGuide } from '../core/spectrum/epsilon';
import { continueCost } from '../core/spectrum/plan';
import { countAboveFloor } from '../core/spectrum/projection';
import type { SpectrumPartial, SpectrumResult } from '../core/tasks/spectrum';
import { configOf, useStore, type SpectrumSource } from './store';

/** Where the sidecar of a shipped model lives (beside its safetensors file). */
export function analysisPath(arch: string): string {
  return `models/${arch}.analysis.json`;
}

/** The name a shipped model gets once loaded (compute.ts's loadPretrained). */
export const pretrainedName = (arch: string): string => `${arch} (pretrained)`;

/** Whether the settings describe a shipped model's configuration (so its analysis applies). */
export function isShippedConfig(): boolean {
  const s = useStore.getState();
  const c = configOf(s);
  return describeConfig(c) === describeConfig(DEFAULT_CONFIGS[s.arch]) && s.seed === 0 && s.dataSeed === 0 && s.op === 'sum';
}

export function sourceOfAnalysis(a: AnalysisFile): SpectrumSource {
  return {
    kind: 'precomputed', date: a.computed.date, method: a.computed.method, k: a.computed.k, backend: a.computed.backend,
    seconds: a.computed.seconds, by: a.computed.by, stoppedShort: a.computed.stoppedShort, analysis: a,
  };
}

/**
 * Shows a validated sidecar as the current spectrum (and applies the default ε). Returns the
 * error message when the file is refused; the current state is then untouched.
 */
export function adoptAnalysisText(text: string, arch: ArchId): string | null {
  let a: AnalysisFile;
  try {
    const st = useStore.getState();
    const theta = st.model && st.model.name === pretrainedName(arch) ? st.model.theta : undefined;
    a = parseAnalysisFile(text, { arch, d: paramCount(DEFAULT_CONFIGS[arch]), theta });
  } catch (e) {
    return e instanceof AnalysisFileError ? e.message : `Precomputed analysis: ${(e as Error).message}`;
  }
  const r = spectrumFromAnalysis(a) as SpectrumResult;
  useStore.getState().setSpectrum(r, pretrainedName(arch), sourceOfAnalysis(a));
  applyDefaultEps(r);
  return null;
}

/**
 * Start-up (and switching to a shipped model): fetch and show its precomputed analysis. False
 * when there is none or it was refused (the user is told why; a spectrum can still be computed).
 */
export async function loadShippedAnalysis(arch: ArchId): Promise<boolean> {
  const base = import.meta.env.BASE_URL ?? '/';
  let text: string;
  try {
    const res = await fetch(`${base}${analysisPath(arch)}`);
    if (!res.ok) return false;
    if ((res.headers.get('content-type') ?? '').includes('text/html')) return false;
    text = await res.text();
  } catch {
    return false;
  }
  // The user may have moved on to another model while the file was on its way.
  if (useStore.getState().arch !== arch || !isShippedConfig()) return false;
  const problem = adoptAnalysisText(text, arch);
  if (problem) {
    useStore.getState().pushNotice('warning', `${problem} It was not shown; compute the spectrum instead.`);
    return false;
  }
  return true;
}

/**
 * Once the worker has decoded the shipped model, its θ* must be the one the analysis was made
 * from; otherwise the precomputed spectrum is withdrawn with a notice.
 */
export function watchAnalysisModel(): () => void {
  return useStore.subscribe((s, prev) => {
    if (s.model === prev.model || !s.model) return;
    const src = s.spectrumSource;
    if (src?.kind !== 'precomputed' || !src.analysis || s.spectrumOf !== s.model.name) return;
    const fp = thetaFingerprint(s.model.theta);
    if (fp !== src.analysis.model.fingerprint) {
      s.setSpectrum(null, null, null);
      s.pushNotice('warning', `The precomputed analysis of ${s.model.name} was made from other parameters (fingerprint ${src.analysis.model.fingerprint}, model ${fp}); it is no longer shown. Recompute the spectrum.`);
    }
  });
}

/** The default ε for a spectrum (ε* when known, else the largest log-gap above the floor), unless a link pinned ε. */
export function applyDefaultEps(r: SpectrumResult): void {
  const st = useStore.getState();
  if (st.epsPinned) {
    useStore.setState({ epsPinned: false });
    return;
  }
  const g = epsGuide(r, st.spectrumSettings.cutoff, st.spectrumSettings.cutoffSplit);
  if (Number.isFinite(g.defaultEps) && g.defaultEps > 0) st.setEps(g.defaultEps);
}

/** A cancelled or stopped run's last partial as a result: the converged eigenpairs it had. */
export function resultOfPartial(p: SpectrumPartial, why: string): { r: SpectrumResult; stopped: StoppedShort } {
  const seconds = p.elapsedMs / 1000;
  const stopped: StoppedShort = {
    reason: why, requested: p.k, converged: p.eigenvalues.length, seconds: Number(seconds.toFixed(1)),
    matvecsPerSecond: Number((p.matvecs / Math.max(seconds, 1e-3)).toFixed(2)),
    estimate: continueCost(p.d, Math.max(1, p.eigenvalues.length), seconds, p.k),
  };
  const r: SpectrumResult = {
    d: p.d, n: p.n, method: 'lanczos', loss: p.loss, split: p.split, eigenvalues: p.eigenvalues, residuals: p.residuals,
    projection: p.projection, aboveFloor: countAboveFloor(p.eigenvalues), stoppedShort: stopped,
    storage: `${p.eigenvalues.length}/${p.k} converged when ${why} (residuals are the recurrence's estimates, not verified)`,
    timings: { lanczos: p.elapsedMs }, matvecs: p.matvecs, backend: p.backend,
  };
  return { r, stopped };
}
