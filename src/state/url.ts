/**
 * The shareable settings and their one typed table for the URL query string (playground's
 * approach): model choice and sizes, seeds, ε, the active view and the backend. Parsing never
 * throws: unknown or malformed values are dropped (and reported) so a bad link still opens.
 */
import { ARCH_IDS, type ArchId } from '../core/models/config';
import type { BackendPreference } from '../core/backend';

export const VIEW_IDS = ['train', 'forward', 'spectrum', 'llc', 'internals'] as const;
export type ViewId = (typeof VIEW_IDS)[number];

export interface Shareable {
  arch: ArchId;
  p: number;
  e: number;
  h: number;
  hidden: number[];
  widths: number[];
  seed: number;
  dataSeed: number;
  trainFraction: number;
  op: 'sum' | 'random';
  eps: number;
  view: ViewId;
  backend: BackendPreference;
  /** The selected hidden unit (shared by the Internals and Spectrum views). */
  neuron: NeuronRef | null;
  /** The selected eigenvector, by rank k (1 = largest eigenvalue). */
  eigen: number | null;
  /** A brushed interval of eigenvalues / loss scales [lo, hi], highlighted in every view with that axis. */
  band: [number, number] | null;
}

export interface NeuronRef {
  /** Node layer name as the internals views use it: "hidden", "fc1", "layers.0". */
  layer: string;
  unit: number;
}

type Field<K extends keyof Shareable> = {
  key: string;
  parse(s: string): Shareable[K] | undefined;
  format(v: Shareable[K]): string;
};

const int = (min: number, max: number) => (s: string): number | undefined => {
  if (!/^-?\d+$/.test(s)) return undefined;
  const v = Number(s);
  return v >= min && v <= max ? v : undefined;
};
const list = (min: number, max: number) => (s: string): number[] | undefined => {
  const parts = s.split(',').map(int(min, max));
  return parts.length > 0 && parts.every((x) => x !== undefined) ? (parts as number[]) : undefined;
};
const positive = (s: string): number | undefined => {
  const v = Number(s);
  return s.trim() !== '' && Number.isFinite(v) && v > 0 ? v : undefined;
};
const oneOf = <T extends string>(values: readonly T[]) => (s: string): T | undefined => (values as readonly string[]).includes(s) ? (s as T) : undefined;
const str = (v: unknown): string => String(v);
/** The shorter of plain and exponential notation; both round-trip exactly. */
const shortestNumber = (v: number): string => {
  const plain = String(v);
  const exp = v.toExponential().replace('e+', 'e');
  return exp.length <= plain.length ? exp : plain;
};

const neuronRef = (s: string): NeuronRef | undefined => {
  const m = /^([A-Za-z][A-Za-z0-9_.]*):(\d{1,5})$/.exec(s);
  return m ? { layer: m[1], unit: Number(m[2]) } : undefined;
};
const band = (s: string): [number, number] | undefined => {
  const parts = s.split(',').map(positive);
  if (parts.length !== 2 || parts[0] === undefined || parts[1] === undefined) return undefined;
  return parts[0] < parts[1] ? [parts[0], parts[1]] : undefined;
};

export const FIELDS: { [K in keyof Shareable]: Field<K> } = {
  arch: { key: 'arch', parse: oneOf(ARCH_IDS), format: str },
  p: { key: 'p', parse: int(2, 1000), format: str },
  e: { key: 'e', parse: int(1, 4096), format: str },
  h: { key: 'h', parse: int(1, 8192), format: str },
  hidden: { key: 'hidden', parse: list(1, 4096), format: (v) => v.join(',') },
  widths: { key: 'widths', parse: list(1, 1024), format: (v) => v.join(',') },
  seed: { key: 'seed', parse: int(0, 2 ** 31 - 1), format: str },
  dataSeed: { key: 'dseed', parse: int(0, 2 ** 31 - 1), format: str },
  trainFraction: { key: 'frac', parse: (s) => { const v = positive(s); return v !== undefined && v <= 1 ? v : undefined; }, format: str },
  op: { key: 'op', parse: oneOf(['sum', 'random'] as const), format: str },
  eps: { key: 'eps', parse: positive, format: shortestNumber },
  view: { key: 'view', parse: oneOf(VIEW_IDS), format: str },
  backend: { key: 'backend', parse: oneOf(['auto', 'webgpu', 'wasm', 'cpu'] as const), format: str },
  neuron: { key: 'neuron', parse: neuronRef, format: (v) => (v ? `${v.layer}:${v.unit}` : '') },
  eigen: { key: 'eig', parse: int(1, 1e7), format: (v) => (v === null ? '' : String(v)) },
  band: { key: 'band', parse: band, format: (v) => (v ? `${shortestNumber(v[0])},${shortestNumber(v[1])}` : '') },
};

export interface ParsedUrl {
  values: Partial<Shareable>;
  /** Query keys whose values could not be used, with the raw value. */
  rejected: string[];
}

export function parseShareable(search: string): ParsedUrl {
  const q = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const values: Partial<Shareable> = {};
  const rejected: string[] = [];
  for (const name of Object.keys(FIELDS) as (keyof Shareable)[]) {
    const f = FIELDS[name] as Field<typeof name>;
    const raw = q.get(f.key);
    if (raw === null) continue;
    const v = f.parse(raw);
    if (v === undefined) rejected.push(`${f.key}=${raw}`);
    else (values as Record<string, unknown>)[name] = v;
  }
  return { values, rejected };
}

/** Only the fields that differ from the defaults (but always the architecture), so default links stay short. */
export function formatShareable(s: Shareable, defaults: Shareable): string {
  const q = new URLSearchParams();
  for (const name of Object.keys(FIELDS) as (keyof Shareable)[]) {
    const f = FIELDS[name] as Field<typeof name>;
    const v = f.format(s[name]);
    if (v !== f.format(defaults[name]) || (name === 'arch' && v !== 'modadd')) q.set(f.key, v);
  }
  const out = q.toString();
  return out ? `?${out}` : '';
}
