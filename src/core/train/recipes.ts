/**
 * Training recipes that reach the source documents' results on the default sizes and the default
 * data (defaultDataSpec, seed 0). Found by experiment on tfjs wasm in Node (1 thread, a shared
 * 2-core machine); each note records what the recipe reached there and how long it took, from
 * initParams(config, 0). The pretrain script (scripts/pretrain.ts) trains the shipped models
 * with exactly these. Each architecture keeps its recipe and target in its ArchSpec.training
 * (src/core/arch/<id>/spec.ts); this module collects the built-ins' for the page and the CLI.
 */
import { ARCH_IDS, type ArchId } from '../models/config';
import { getArchSpec } from '../arch/registry';
import type { ArchSpec } from '../arch/types';
import type { Metrics, TrainOptions } from './trainer';

export type Recipe = TrainOptions & { note: string };

function training(arch: string): NonNullable<ArchSpec['training']> {
  const t = getArchSpec(arch).training;
  if (!t) throw new Error(`${arch} has no training recipe`);
  return t;
}

export const DEFAULT_RECIPES = Object.fromEntries(ARCH_IDS.map((id) => [id, training(id).recipe])) as Record<ArchId, Recipe>;

/** What each recipe must reach (the source documents' results), in words for logs and the UI. */
export const RECIPE_TARGETS = Object.fromEntries(ARCH_IDS.map((id) => [id, training(id).target])) as Record<ArchId, string>;

/** Why final metrics miss the architecture's target, or null when they reach it (or it has no recipe). */
export function missedTarget(arch: string, m: Metrics): string | null {
  return getArchSpec(arch).training?.missed(m) ?? null;
}
