/**
 * Sessions on the page: the current model, its training run (with checkpoints), spectrum and
 * settings assembled into one file, and a decoded file restored into the store. Decoding and the
 * checks of file data live in core/io/session.ts; nothing here casts what a file says.
 */
import { sessionSpectrumResult, type Session } from '../core/io/session';
import { fileSizeProblem, type FileLike } from './files';
import { reportFailure, runJob } from './jobs';
import { applyShareable, DEFAULT_SHAREABLE, shareableOf, useStore, type AppState } from './store';
import { FIELDS, type Shareable } from './url';

/** The session of the current state: the spectrum only if it belongs to the current model, checkpoints only those in memory. */
export function sessionOf(s: AppState): Session {
  const run = s.run;
  const spec = s.spectrum && s.spectrumOf === s.model?.name ? s.spectrum : null;
  return {
    settings: { ...shareableOf(s) } as Record<string, unknown>,
    model: s.model,
    run: run ? {
      baseName: run.baseName, opts: { ...run.opts }, history: run.history.map((m) => ({ ...m })),
      checkpoints: run.checkpoints.filter((c): c is { step: number; theta: Float32Array } => !!c.theta),
    } : null,
    spectrum: spec ? {
      info: { d: spec.d, n: spec.n, method: spec.method, loss: spec.loss, split: spec.split, aboveFloor: spec.aboveFloor, trace: spec.trace ?? null, projection: spec.projection ?? null, storage: spec.storage ?? null, timings: spec.timings, matvecs: spec.matvecs, backend: spec.backend, of: s.spectrumOf },
      eigenvalues: spec.eigenvalues, residuals: spec.residuals, slq: spec.slq, loadings: spec.loadings,
    } : null,
  };
}

export async function exportSession(): Promise<{ bytes: Uint8Array; fileName: string } | null> {
  const session = sessionOf(useStore.getState());
  const bytes = await runJob('export-session', { session }, { label: 'Export session', failure: 'Exporting the session' }).result;
  if (!bytes) return null;
  return { bytes, fileName: `slt-session-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.safetensors` };
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
 * Puts a decoded session into the store: settings (those that pass), model, run and spectrum.
 * The spectrum is checked first (it may throw a SessionFileError), so a bad one changes nothing.
 */
export function restoreSession(r: Session): void {
  const spectrum = r.spectrum ? sessionSpectrumResult(r.spectrum, r.model?.name ?? null) : null;
  const st = useStore.getState();
  const settings = sessionSettings(r.settings);
  if (settings.rejected.length) st.pushNotice('warning', `Ignored session settings that could not be used: ${settings.rejected.join(', ')}`);
  applyShareable(settings.values);
  if (r.model) st.adoptModel(r.model);
  // core/io/session.ts checked the recipe with the trainer's validation and every history entry.
  if (r.run) st.setRun({ jobId: null, status: 'done', baseName: r.run.baseName, opts: r.run.opts, history: r.run.history, checkpoints: r.run.checkpoints });
  if (spectrum) st.setSpectrum(spectrum.result, spectrum.of);
}

/**
 * Replaces the model, run, spectrum and settings by a session file's. Decoding and validation
 * (NaN / Inf weights, checkpoints, eigenvalues, …) run in the worker, the spectrum's fields are
 * checked on restore; on any problem nothing changes and the notice says which part and element is wrong.
 */
export async function importSession(file: FileLike): Promise<boolean> {
  const tooLarge = fileSizeProblem(file, 'session');
  if (tooLarge) {
    useStore.getState().pushNotice('error', tooLarge);
    return false;
  }
  const failure = `Importing ${file.name}`;
  const r = await runJob('import-session', { bytes: new Uint8Array(await file.arrayBuffer()) }, { label: `Import ${file.name}`, failure }).result;
  if (!r) return false;
  try {
    restoreSession(r);
  } catch (e) {
    reportFailure(failure, e);
    return false;
  }
  useStore.getState().pushNotice('info', `Imported the session from ${file.name}${r.run ? ` (${r.run.checkpoints.length} checkpoints)` : ''}${r.spectrum ? ', with its spectrum' : ''}.`);
  return true;
}
