/**
 * A whole session in one file: the current model, the training run with its checkpoints and
 * curves, the computed spectrum, and the shareable settings. The container is safetensors (so
 * the arrays stay binary and exact): arrays are tensors, everything else is JSON in
 * `__metadata__.session`. Reading validates the structure and refuses anything malformed.
 */
import { readSafetensors, toFloat32, writeSafetensors, type StDtype } from './safetensors';
import type { ModelBundle } from '../models/bundle';
import { decodeModelFile, encodeModelFile } from './modelFile';

export const SESSION_FORMAT = 'slt-explorer-session/1';

export class SessionFileError extends Error {
  override name = 'SessionFileError';
}

export interface SessionRun {
  baseName: string;
  opts: Record<string, unknown>;
  history: Record<string, number>[];
  checkpoints: { step: number; theta: Float32Array }[];
}

export interface SessionSpectrum {
  /** The scalar fields of the spectrum result (d, n, method, loss, …) as JSON. */
  info: Record<string, unknown>;
  eigenvalues: Float64Array;
  residuals: Float64Array;
  slq?: { nodes: Float64Array[]; weights: Float64Array[] };
}

export interface Session {
  settings: Record<string, unknown>;
  model: ModelBundle | null;
  run: SessionRun | null;
  spectrum: SessionSpectrum | null;
}

interface Entry { name: string; dtype: StDtype; shape: number[]; data: ArrayBufferView }

export function encodeSession(s: Session): Uint8Array {
  const tensors: Entry[] = [];
  const meta: Record<string, unknown> = { format: SESSION_FORMAT, settings: s.settings };
  if (s.model) {
    // The model travels as a complete model file inside the session (bytes as U8).
    const bytes = encodeModelFile(s.model);
    tensors.push({ name: 'model.file', dtype: 'U8', shape: [bytes.length], data: bytes });
  }
  if (s.run) {
    meta.run = { baseName: s.run.baseName, opts: s.run.opts, history: s.run.history, steps: s.run.checkpoints.map((c) => c.step) };
    for (const c of s.run.checkpoints) tensors.push({ name: `run.checkpoint.${c.step}`, dtype: 'F32', shape: [c.theta.length], data: c.theta });
  }
  if (s.spectrum) {
    meta.spectrum = { info: s.spectrum.info, probes: s.spectrum.slq?.nodes.length ?? 0 };
    tensors.push({ name: 'spectrum.eigenvalues', dtype: 'F64', shape: [s.spectrum.eigenvalues.length], data: s.spectrum.eigenvalues });
    tensors.push({ name: 'spectrum.residuals', dtype: 'F64', shape: [s.spectrum.residuals.length], data: s.spectrum.residuals });
    s.spectrum.slq?.nodes.forEach((n, p) => {
      tensors.push({ name: `spectrum.slq.nodes.${p}`, dtype: 'F64', shape: [n.length], data: n });
      tensors.push({ name: `spectrum.slq.weights.${p}`, dtype: 'F64', shape: [s.spectrum!.slq!.weights[p].length], data: s.spectrum!.slq!.weights[p] });
    });
  }
  return writeSafetensors(tensors, { session: JSON.stringify(meta) });
}

function f64(t: { dtype: StDtype; data: Uint8Array }, name: string): Float64Array {
  if (t.dtype !== 'F64') throw new SessionFileError(`${name} must be F64 (got ${t.dtype})`);
  const out = new Float64Array(t.data.byteLength / 8);
  new Uint8Array(out.buffer).set(t.data);
  return out;
}

export function decodeSession(bytes: Uint8Array): Session {
  let file;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    throw new SessionFileError(`Not a session file: ${e instanceof Error ? e.message : String(e)}`);
  }
  let meta: { format?: string; settings?: Record<string, unknown>; run?: { baseName: string; opts: Record<string, unknown>; history: Record<string, number>[]; steps: number[] }; spectrum?: { info: Record<string, unknown>; probes: number } };
  try {
    meta = JSON.parse(file.metadata.session ?? 'null');
  } catch {
    throw new SessionFileError('The session metadata is not valid JSON');
  }
  if (!meta || meta.format !== SESSION_FORMAT) throw new SessionFileError(`Not a session file of this explorer (expected format ${SESSION_FORMAT}${meta?.format ? `, got ${meta.format}` : ''}); model files are opened with “Open file…”`);
  const get = (name: string) => {
    const t = file.tensors.get(name);
    if (!t) throw new SessionFileError(`The session is missing ${name}`);
    return t;
  };
  let model: ModelBundle | null = null;
  if (file.tensors.has('model.file')) {
    const t = get('model.file');
    model = decodeModelFile(t.data);
  }
  let run: SessionRun | null = null;
  if (meta.run) {
    if (!Array.isArray(meta.run.steps) || !Array.isArray(meta.run.history)) throw new SessionFileError('The session run is malformed');
    run = {
      baseName: String(meta.run.baseName), opts: meta.run.opts ?? {}, history: meta.run.history,
      checkpoints: meta.run.steps.map((step) => {
        const theta = toFloat32(get(`run.checkpoint.${step}`), `checkpoint ${step}`);
        if (model && theta.length !== model.theta.length) throw new SessionFileError(`Checkpoint ${step} has ${theta.length} parameters, the model ${model.theta.length}`);
        return { step, theta };
      }),
    };
  }
  let spectrum: SessionSpectrum | null = null;
  if (meta.spectrum) {
    const probes = Number(meta.spectrum.probes) || 0;
    spectrum = {
      info: meta.spectrum.info ?? {},
      eigenvalues: f64(get('spectrum.eigenvalues'), 'spectrum.eigenvalues'),
      residuals: f64(get('spectrum.residuals'), 'spectrum.residuals'),
      slq: probes ? {
        nodes: Array.from({ length: probes }, (_, p) => f64(get(`spectrum.slq.nodes.${p}`), 'SLQ nodes')),
        weights: Array.from({ length: probes }, (_, p) => f64(get(`spectrum.slq.weights.${p}`), 'SLQ weights')),
      } : undefined,
    };
  }
  return { settings: meta.settings ?? {}, model, run, spectrum };
}
