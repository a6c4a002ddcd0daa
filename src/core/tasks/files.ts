/** Model files in the worker: decoding validates everything before the app's model is replaced. */
import type { JobContext } from '../jobs';
import type { ModelBundle } from '../models/bundle';
import { decodeModelFile, encodeModelFile } from '../io/modelFile';
import { decodeSession, encodeSession, type Session } from '../io/session';

export interface LoadModelFileParams {
  bytes: Uint8Array;
  /** The file name, used as the model's name when the file has none. */
  name?: string;
}

export async function runLoadModelFile(p: LoadModelFileParams, ctx: JobContext): Promise<ModelBundle> {
  ctx.progress(0, 'reading file');
  const bundle = decodeModelFile(p.bytes, { name: p.name?.replace(/\.safetensors$/i, '') });
  ctx.progress(1, 'done');
  return bundle;
}

export interface ExportModelFileParams {
  model: ModelBundle;
}

export async function runExportModelFile(p: ExportModelFileParams, ctx: JobContext): Promise<Uint8Array> {
  ctx.progress(0, 'writing safetensors');
  const bytes = encodeModelFile(p.model);
  ctx.progress(1, 'done');
  return bytes;
}

export async function runExportSession(p: { session: Session }, ctx: JobContext): Promise<Uint8Array> {
  ctx.progress(0, 'writing the session');
  return encodeSession(p.session);
}

export async function runImportSession(p: { bytes: Uint8Array }, ctx: JobContext): Promise<Session> {
  ctx.progress(0, 'reading the session');
  return decodeSession(p.bytes);
}
