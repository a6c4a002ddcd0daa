/**
 * Model configurations: sizes, tensor layouts in PyTorch state_dict naming, and parameter
 * counts, answered by the architecture registry (src/core/arch). No tfjs here, so the UI can
 * show parameter counts without loading the compute core.
 */
import { makeLayout, type ParamLayout, type TensorSpec } from '../params';
import { archIds, getArchSpec, hasArch } from '../arch/registry';
import type { ArchConfig } from '../arch/types';
import '../arch/specs';
import { modaddSpec, type ModAddConfig } from '../arch/modadd/spec';
import { modaddGeluSpec, type ModAddGeluConfig } from '../arch/modadd-gelu/spec';
import { mnistMlpSpec, type MnistMlpConfig } from '../arch/mnist-mlp/spec';
import { matfacSpec, type MatfacConfig } from '../arch/matfac/spec';

export type { ModAddConfig, ModAddGeluConfig, MnistMlpConfig, MatfacConfig };
export { MNIST_INPUT, MNIST_CLASSES } from '../arch/mnist-mlp/spec';

/** The built-in architectures (the ones the page offers). Others may be registered (arch/registry). */
export type ArchId = 'modadd' | 'modadd-gelu' | 'mnist-mlp' | 'matfac';

export const ARCH_IDS: readonly ArchId[] = ['modadd', 'modadd-gelu', 'mnist-mlp', 'matfac'];

export type ModelConfig = ModAddConfig | ModAddGeluConfig | MnistMlpConfig | MatfacConfig;

/** A built-in configuration or one of any registered architecture (what the registry-backed functions take). */
export type AnyModelConfig = ModelConfig | ArchConfig;

const BUILTIN = { modadd: modaddSpec, 'modadd-gelu': modaddGeluSpec, 'mnist-mlp': mnistMlpSpec, matfac: matfacSpec };

export const DEFAULT_CONFIGS: { [K in ArchId]: Extract<ModelConfig, { arch: K }> } = {
  modadd: BUILTIN.modadd.defaultConfig,
  'modadd-gelu': BUILTIN['modadd-gelu'].defaultConfig,
  'mnist-mlp': BUILTIN['mnist-mlp'].defaultConfig,
  matfac: BUILTIN.matfac.defaultConfig,
};

export const ARCH_LABELS: Record<ArchId, string> = {
  modadd: BUILTIN.modadd.label,
  'modadd-gelu': BUILTIN['modadd-gelu'].label,
  'mnist-mlp': BUILTIN['mnist-mlp'].label,
  matfac: BUILTIN.matfac.label,
};

/** Largest parameter count the explorer accepts (a browser tab holds a few such vectors). */
export const MAX_PARAMS = 5_000_000;

/** Whether the model is a classifier (cross-entropy) or a regressor (MSE). */
export function isClassifier(c: AnyModelConfig): boolean {
  return getArchSpec(c.arch).classifier;
}

export function inputDim(c: AnyModelConfig): number {
  return getArchSpec(c.arch).inputDim(c);
}

export function outputDim(c: AnyModelConfig): number {
  return getArchSpec(c.arch).outputDim(c);
}

export function tensorSpecs(c: AnyModelConfig): TensorSpec[] {
  return getArchSpec(c.arch).tensorSpecs(c);
}

export function layoutFor(c: AnyModelConfig): ParamLayout {
  return makeLayout(tensorSpecs(c));
}

export function paramCount(c: AnyModelConfig): number {
  return layoutFor(c).size;
}

/**
 * Problems with a configuration, in words a user can act on; empty when it is valid.
 * Sizes are bounded so an absurd request (a 10M-parameter model) is refused before allocation.
 */
export function validateConfig(c: AnyModelConfig): string[] {
  const arch = (c as { arch: unknown }).arch;
  if (typeof arch !== 'string' || !hasArch(arch)) return [`Unknown architecture "${String(arch)}" (known: ${archIds().join(', ')})`];
  const out = getArchSpec(arch).validate(c).filter((e): e is string => e !== null);
  if (out.length === 0) {
    const d = paramCount(c);
    if (d > MAX_PARAMS) out.push(`${d.toLocaleString('en-US')} parameters is more than this explorer handles (limit ${MAX_PARAMS.toLocaleString('en-US')})`);
  }
  return out;
}

/**
 * A configuration of a registered architecture as a ModelConfig (what bundles, tasks and files
 * carry). The built-ins are the union's members; an architecture registered beyond them (a test
 * fixture, an experiment) travels under the same type: the core never narrows on its id, it asks
 * the registry. Throws for an unregistered id.
 */
export function asModelConfig(c: ArchConfig): ModelConfig {
  if (!hasArch(c.arch)) throw new Error(`Unknown architecture "${c.arch}" (known: ${archIds().join(', ')})`);
  return c as ModelConfig;
}

/** Short human description, e.g. "modadd p=53 e=128 h=256". */
export function describeConfig(c: AnyModelConfig): string {
  return getArchSpec(c.arch).describe(c);
}
