/**
 * The architecture registry: each architecture is registered once by its id, and every consumer
 * (layouts and validation, init, forward, the Gauss–Newton product, training, SGLD targets,
 * internals, model files) asks here instead of branching on the id.
 *
 * Two levels, because the page must not load tfjs: `registerArchSpec` records the pure part
 * (./types ArchSpec; the built-ins in ./specs, imported by models/config.ts), `registerArch` the
 * whole definition (the built-ins in ./builtin, imported by the tfjs consumers). A new
 * architecture needs only `registerArch(def)`, which records both.
 */
import type { ArchConfig, ArchDef, ArchSpec } from './types';

const specs = new Map<string, ArchSpec>();
const defs = new Map<string, ArchDef>();

function checkId(id: string): void {
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`architecture id must be lower-case letters, digits and dashes (got ${JSON.stringify(id)})`);
}

/** Records the pure part of an architecture. Registering the same id again replaces it. */
export function registerArchSpec<C extends ArchConfig>(spec: ArchSpec<C>): void {
  checkId(spec.id);
  if (spec.defaultConfig.arch !== spec.id) throw new Error(`architecture ${spec.id}: its default config says arch "${spec.defaultConfig.arch}"`);
  specs.set(spec.id, spec);
}

/** Records a whole architecture (pure part and compute part) under its id. */
export function registerArch<C extends ArchConfig>(def: ArchDef<C>): void {
  registerArchSpec(def);
  defs.set(def.id, def);
}

/** Whether an architecture with this id is registered (at least its pure part). */
export function hasArch(id: string): boolean {
  return specs.has(id);
}

/** Ids of the registered architectures, in registration order. */
export function archIds(): string[] {
  return [...specs.keys()];
}

/** The pure part of an architecture; throws for an unknown id. */
export function getArchSpec(id: string): ArchSpec {
  const s = specs.get(id);
  if (!s) throw new Error(`Unknown architecture "${id}" (known: ${archIds().join(', ')})`);
  return s;
}

/** The whole architecture; throws for an unknown id, or when only its pure part is registered. */
export function getArch(id: string): ArchDef {
  const d = defs.get(id);
  if (d) return d;
  getArchSpec(id);
  throw new Error(`architecture "${id}" has no compute part registered (import src/core/arch/builtin, or registerArch it)`);
}

/** Every registered pure part, in registration order. */
export function archSpecs(): ArchSpec[] {
  return [...specs.values()];
}
