/**
 * The four toy models of the source documents (docs/science.md §1): their sizes, their tensor
 * layouts in PyTorch state_dict naming, and parameter counts. No tfjs here, so the UI can show
 * parameter counts without loading the compute core.
 */
import { makeLayout, type ParamLayout, type TensorSpec } from '../params';

export type ArchId = 'modadd' | 'modadd-gelu' | 'mnist-mlp' | 'matfac';

export const ARCH_IDS: readonly ArchId[] = ['modadd', 'modadd-gelu', 'mnist-mlp', 'matfac'];

/** modadd: shared embedding of a and b, concatenated, one ReLU hidden layer, logits. */
export interface ModAddConfig { arch: 'modadd'; p: number; e: number; h: number }
/** modadd-gelu: shared embedding, two bias-free linear maps summed, GELU, logits. */
export interface ModAddGeluConfig { arch: 'modadd-gelu'; p: number; e: number; h: number }
/** mnist-mlp: 784 → hidden widths (ReLU) → 10. */
export interface MnistMlpConfig { arch: 'mnist-mlp'; hidden: number[] }
/** matfac: a bias-free deep linear network, widths = [in, h1, ..., out]. */
export interface MatfacConfig { arch: 'matfac'; widths: number[] }

export type ModelConfig = ModAddConfig | ModAddGeluConfig | MnistMlpConfig | MatfacConfig;

export const MNIST_INPUT = 784;
export const MNIST_CLASSES = 10;

export const DEFAULT_CONFIGS: { [K in ArchId]: Extract<ModelConfig, { arch: K }> } = {
  modadd: { arch: 'modadd', p: 53, e: 128, h: 256 },
  'modadd-gelu': { arch: 'modadd-gelu', p: 53, e: 12, h: 48 },
  'mnist-mlp': { arch: 'mnist-mlp', hidden: [50, 50] },
  matfac: { arch: 'matfac', widths: [20, 20, 20] },
};

export const ARCH_LABELS: Record<ArchId, string> = {
  modadd: 'Modular addition (ReLU MLP)',
  'modadd-gelu': 'Modular addition (GELU, two linear maps)',
  'mnist-mlp': 'MNIST MLP',
  matfac: 'Matrix factorization (deep linear)',
};

/** Largest parameter count the explorer accepts (a browser tab holds a few such vectors). */
export const MAX_PARAMS = 5_000_000;

/** Whether the model is a classifier (cross-entropy) or a regressor (MSE). */
export function isClassifier(c: ModelConfig): boolean {
  return c.arch !== 'matfac';
}

export function inputDim(c: ModelConfig): number {
  switch (c.arch) {
    case 'modadd':
    case 'modadd-gelu': return 2; // (a, b) token pair
    case 'mnist-mlp': return MNIST_INPUT;
    case 'matfac': return c.widths[0];
  }
}

export function outputDim(c: ModelConfig): number {
  switch (c.arch) {
    case 'modadd':
    case 'modadd-gelu': return c.p;
    case 'mnist-mlp': return MNIST_CLASSES;
    case 'matfac': return c.widths[c.widths.length - 1];
  }
}

export function tensorSpecs(c: ModelConfig): TensorSpec[] {
  switch (c.arch) {
    case 'modadd':
      return [
        { name: 'embed.weight', shape: [c.p, c.e] },
        { name: 'hidden.weight', shape: [c.h, 2 * c.e] },
        { name: 'hidden.bias', shape: [c.h] },
        { name: 'out.weight', shape: [c.p, c.h] },
        { name: 'out.bias', shape: [c.p] },
      ];
    case 'modadd-gelu':
      return [
        { name: 'embed.weight', shape: [c.p, c.e] },
        { name: 'left.weight', shape: [c.h, c.e] },
        { name: 'right.weight', shape: [c.h, c.e] },
        { name: 'out.weight', shape: [c.p, c.h] },
        { name: 'out.bias', shape: [c.p] },
      ];
    case 'mnist-mlp': {
      const widths = [MNIST_INPUT, ...c.hidden, MNIST_CLASSES];
      const specs: TensorSpec[] = [];
      for (let i = 0; i + 1 < widths.length; i++) {
        specs.push({ name: `fc${i + 1}.weight`, shape: [widths[i + 1], widths[i]] });
        specs.push({ name: `fc${i + 1}.bias`, shape: [widths[i + 1]] });
      }
      return specs;
    }
    case 'matfac':
      return c.widths.slice(0, -1).map((w, i) => ({ name: `layers.${i}.weight`, shape: [c.widths[i + 1], w] }));
  }
}

export function layoutFor(c: ModelConfig): ParamLayout {
  return makeLayout(tensorSpecs(c));
}

export function paramCount(c: ModelConfig): number {
  return layoutFor(c).size;
}

function checkInt(name: string, v: unknown, min: number, max: number): string | null {
  if (typeof v !== 'number' || !Number.isInteger(v)) return `${name} must be an integer (got ${String(v)})`;
  if (v < min || v > max) return `${name} must be between ${min} and ${max} (got ${v})`;
  return null;
}

/**
 * Problems with a configuration, in words a user can act on; empty when it is valid.
 * Sizes are bounded so an absurd request (a 10M-parameter model) is refused before allocation.
 */
export function validateConfig(c: ModelConfig): string[] {
  const errs: (string | null)[] = [];
  switch (c.arch) {
    case 'modadd':
    case 'modadd-gelu':
      errs.push(checkInt('p', c.p, 2, 1000), checkInt('e', c.e, 1, 4096), checkInt('h', c.h, 1, 8192));
      break;
    case 'mnist-mlp':
      if (!Array.isArray(c.hidden) || c.hidden.length < 1 || c.hidden.length > 8) errs.push('hidden must list 1 to 8 widths');
      else c.hidden.forEach((w, i) => errs.push(checkInt(`hidden[${i}]`, w, 1, 4096)));
      break;
    case 'matfac':
      if (!Array.isArray(c.widths) || c.widths.length < 2 || c.widths.length > 12) errs.push('widths must list 2 to 12 sizes (in, hidden..., out)');
      else c.widths.forEach((w, i) => errs.push(checkInt(`widths[${i}]`, w, 1, 1024)));
      break;
    default:
      return [`Unknown architecture "${(c as { arch: unknown }).arch}" (known: ${ARCH_IDS.join(', ')})`];
  }
  const out = errs.filter((e): e is string => e !== null);
  if (out.length === 0) {
    const d = paramCount(c);
    if (d > MAX_PARAMS) out.push(`${d.toLocaleString('en-US')} parameters is more than this explorer handles (limit ${MAX_PARAMS.toLocaleString('en-US')})`);
  }
  return out;
}

/** Short human description, e.g. "modadd p=53 e=128 h=256". */
export function describeConfig(c: ModelConfig): string {
  switch (c.arch) {
    case 'modadd':
    case 'modadd-gelu': return `${c.arch} p=${c.p} e=${c.e} h=${c.h}`;
    case 'mnist-mlp': return `mnist-mlp 784-${c.hidden.join('-')}-10`;
    case 'matfac': return `matfac ${c.widths.join('-')}`;
  }
}
