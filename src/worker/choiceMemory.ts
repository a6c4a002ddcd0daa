/**
 * The page's memory of "auto" backend calibrations (issue 14 item 1): records keyed by adapter and
 * user agent (core/backendChoice.ts `choiceKey`), kept in localStorage. The worker cannot reach
 * localStorage, so the client sends every record with the init message and saves the new one the
 * worker reports; the core itself stores nothing.
 */
import type { CalibrationRecord } from '../core/backendChoice';

export interface ChoiceMemory {
  load(): Record<string, CalibrationRecord>;
  save(key: string, record: CalibrationRecord): void;
  clear(): void;
}

const STORAGE_KEY = 'slt-backend-calibration-v1';
/** At most this many devices are remembered (the newest kept). */
const MAX_ENTRIES = 8;

type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** A memory over a Storage (localStorage by default); a no-op where there is none or it throws. */
export function storageChoiceMemory(storage: StorageLike | undefined = (globalThis as { localStorage?: StorageLike }).localStorage): ChoiceMemory {
  const read = (): Record<string, CalibrationRecord> => {
    try {
      const raw = storage?.getItem(STORAGE_KEY);
      const v: unknown = raw ? JSON.parse(raw) : {};
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, CalibrationRecord>) : {};
    } catch {
      return {};
    }
  };
  return {
    load: read,
    save(key, record) {
      try {
        const all = read();
        delete all[key];
        all[key] = record;
        const keys = Object.keys(all);
        for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete all[k];
        storage?.setItem(STORAGE_KEY, JSON.stringify(all));
      } catch { /* storage full or blocked: the next start measures again */ }
    },
    clear() {
      try { storage?.removeItem(STORAGE_KEY); } catch { /* nothing to clear */ }
    },
  };
}
