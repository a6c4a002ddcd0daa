/**
 * Storage failures in words a user can act on: every error IndexedDB throws becomes a StorageError
 * (storage full with the browser's figures, IndexedDB missing, or "Could not <action>: …").
 */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export const NO_IDB = 'Saved models are unavailable: this browser does not provide IndexedDB';

/** "Browser storage is full (X MB used of Y MB): …", with whatever figures the browser gives. */
export function quotaMessage(usage?: number, quota?: number): string {
  const mb = (b: number): string => (b / 1e6).toFixed(b < 1e7 ? 1 : 0);
  const figures = usage !== undefined && quota !== undefined
    ? ` (${mb(usage)} MB used of ${mb(quota)} MB)`
    : usage !== undefined ? ` (${mb(usage)} MB used)` : '';
  return `Browser storage is full${figures}: delete saved models or checkpoints`;
}

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string'
    ? (err as { name: string }).name
    : '';
}

function isQuotaError(err: unknown): boolean {
  const name = errorName(err);
  // Firefox reported NS_ERROR_DOM_QUOTA_REACHED before it adopted the standard name.
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** Turns whatever IndexedDB threw into a StorageError; `action` completes "Could not …". */
export async function toStorageError(err: unknown, action: string): Promise<StorageError> {
  if (err instanceof StorageError) return err;
  if (isQuotaError(err)) {
    const { usage, quota } = await estimateUsage();
    return new StorageError(quotaMessage(usage, quota), { cause: err });
  }
  if (typeof indexedDB === 'undefined' || indexedDB === null) return new StorageError(NO_IDB, { cause: err });
  const detail = err instanceof Error ? err.message : String(err);
  const name = errorName(err);
  return new StorageError(`Could not ${action}: ${name && !detail.includes(name) ? `${name}: ` : ''}${detail}`, { cause: err });
}

// ---------------------------------------------------------------------------------------------
// Quota

/** Bytes used and available to this origin, where the browser says (navigator.storage.estimate). */
export async function estimateUsage(): Promise<{ usage?: number; quota?: number }> {
  try {
    const nav = (globalThis as { navigator?: { storage?: StorageManager } }).navigator;
    if (!nav?.storage || typeof nav.storage.estimate !== 'function') return {};
    const e = await nav.storage.estimate();
    const out: { usage?: number; quota?: number } = {};
    if (typeof e.usage === 'number') out.usage = e.usage;
    if (typeof e.quota === 'number') out.quota = e.quota;
    return out;
  } catch {
    return {};
  }
}
