/**
 * What one architecture is, as the rest of the core sees it (the registry idea of tfjs's
 * `registerKernel({kernelName, backendName, kernelFunc})`): a pure part, the `ArchSpec` (sizes,
 * tensor layout, validation, data and file conventions: no tfjs, so the page can count parameters
 * without loading the compute core), and a compute part, `ArchCompute` (the tfjs forward pass and
 * the hand-written Gauss–Newton passes). `ArchDef` is both. Consumers look an architecture up by
 * its id (./registry) instead of branching on it.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DataSpec } from '../data/spec';
import type { Dataset } from '../data/types';
import type { Engine } from '../hessian/engine';
import type { LayerChain } from '../internals/grams';
import type { SgldDefaults } from '../llc/defaults';
import type { ParamLayout, TensorSpec } from '../params';
import type { GradPasses, PairsPassSpec, StackPassSpec } from './passes';
import type { Metrics, TrainOptions } from '../train/trainer';

/** Every model configuration carries its architecture id; the rest are the architecture's sizes. */
export interface ArchConfig {
  arch: string;
}

/** What a model file's tensors and `__metadata__` offer when reading a configuration back. */
export interface FileConfigReader {
  /** `__metadata__` (all values strings). */
  meta: Record<string, string>;
  /** Weight tensor names (wrapper prefixes already stripped). */
  names: ReadonlySet<string>;
  /** Axis `axis` of the 2-D tensor `name`; throws a ModelFileError naming `size` when it is absent. */
  dim(name: string, axis: number, size: string): number;
  /** A positive integer metadata value, or a ModelFileError. */
  size(key: string): number;
  /** A comma-separated list of positive integers, or a ModelFileError. */
  sizeList(key: string): number[];
  /** Highest k captured by `re` (one group) among the tensor names, or −1. */
  maxIndex(re: RegExp): number;
  /** A ModelFileError with this message. */
  fail(message: string): Error;
}

/** The tfjs-free part of an architecture. Methods (not function properties), so an ArchSpec of a narrower config is an ArchSpec<ArchConfig>. */
/** One hidden layer's units for the loadings: names as in the internals views ("hidden", "fc1", "layers.0"). */
export interface HiddenUnitLayer {
  name: string;
  width: number;
  /** Tensors whose row j (of a [width, in] matrix) or entry j (a bias) belongs to unit j. */
  rows: string[];
  /** Tensors whose column j (of an [out, width] matrix) belongs to unit j. */
  cols: string[];
}

export interface ArchSpec<C extends ArchConfig = ArchConfig> {
  /** The id models, files, URLs and messages use ("modadd"). */
  readonly id: string;
  /** A label for pickers ("Modular addition (ReLU MLP)"). */
  readonly label: string;
  /** The default sizes (the source documents' models). */
  readonly defaultConfig: C;
  /** Cross-entropy on integer labels (true) or MSE on float targets (false). */
  readonly classifier: boolean;
  /**
   * Token-pair models: inputs are int32 (a, b) pairs looked up in `embed`, a [vocab, embedDim]
   * tensor. Absent for models on float feature rows.
   */
  readonly tokens?: {
    embed: string;
    vocab(c: C): number;
    embedDim(c: C): number;
  };
  /** The kind of data this architecture is trained on (DataSpec['kind']); model files check it. */
  readonly dataKind: DataSpec['kind'];
  /** The training recipe that reaches the source documents' results at the default sizes, and that target. */
  readonly training?: {
    recipe: TrainOptions & { note: string };
    /** The target in words ("≥ 95 % test accuracy"). */
    target: string;
    /** Why final metrics miss the target, or null when they reach it. */
    missed(m: Metrics): string | null;
  };
  /** Default SGLD step size and localization (llc/defaults.ts). */
  readonly sgld: SgldDefaults;
  /** Why sync analysis has nothing to show, for architectures without ReLU layers. */
  readonly noReluNote?: string;

  /** Tensors in PyTorch state_dict naming and order; the flat θ follows this order. */
  tensorSpecs(c: C): TensorSpec[];
  /** Columns of one input row (2 for token pairs). */
  inputDim(c: C): number;
  /** Logits or regression outputs per row. */
  outputDim(c: C): number;
  /** Problems with the sizes, in words (null entries are dropped); the parameter limit is checked by the caller. */
  validate(c: C): (string | null)[];
  /** Short description, e.g. "modadd p=53 e=128 h=256". */
  describe(c: C): string;
  /** The data this architecture is analysed on when nothing else is said. */
  defaultData(c: C, seed: number): DataSpec;
  /**
   * The hidden units eigenvector loadings are reported for (spectrum/loadings.ts), layer by layer:
   * the tensors whose row j (or entry j, a bias) is unit j's incoming parameters, and those whose
   * column j is its outgoing ones. Absent: loadings per tensor only.
   */
  hiddenUnits?(c: C): HiddenUnitLayer[];
  /** ReLU layers (name, width) in the order forwardTrace returns their pre-activations. */
  reluLayers(c: C): { name: string; width: number }[];
  /** Size entries of a model file's `__metadata__` ({ p: "53", … }). */
  fileSizes(c: C): Record<string, string>;
  /** The tensor names that identify it, for messages ("embed.weight + hidden.weight"). */
  readonly tensorNamesHint: string;
  /** Whether a bare state_dict with these tensor names is this architecture (files without metadata). */
  matchesTensorNames(names: ReadonlySet<string>): boolean;
  /** The configuration of a model file: from `__metadata__` where given, else from tensor shapes. */
  configFromFile(r: FileConfigReader): C;
  /** The activation/Jacobian chain for internals/grams.ts; `T(name)` is a tensor of θ. Absent: no Gram view. */
  layerChain?(c: C, T: (name: string) => Float32Array): LayerChain;
}

/** f_θ(x) with the pre-activations of every hidden nonlinear layer (in reluLayers order for ReLU models). */
export interface ForwardTrace {
  /** Outputs f_θ(x): logits for classifiers, predictions for regressors. [n, out] */
  out: tf.Tensor2D;
  /** Pre-activations of each hidden nonlinear layer, in order. [n, width] each */
  pre: tf.Tensor2D[];
}

/** The tfjs part of an architecture. */
export interface ArchCompute<C extends ArchConfig = ArchConfig> {
  /**
   * f_θ(x) from the named tensors of θ (`P`, PyTorch shapes, slices of one flat tensor so that
   * tf.grad with respect to θ is the flat gradient). x: int32 [n, 2] token pairs or float32
   * [n, in]. Called inside tf.tidy.
   */
  forwardTrace(c: C, P: Record<string, tf.Tensor>, x: tf.Tensor2D): ForwardTrace;
  /**
   * The hand-written Gauss–Newton passes at θ* over `rows` of `dataset` (hessian/engine.ts):
   * everything that depends only on θ* and the data precomputed, J v and Jᵀ δ per chunk. Called
   * inside tf.tidy; the engine's constants and outputs are kept. Inputs are already checked.
   */
  gnEngine(c: C, layout: ParamLayout, theta: Float32Array, dataset: Dataset, rows: Int32Array, chunkSize?: number): Engine;
  /**
   * Hand-written forward and backward passes for gradients (./passes.ts), used by the training
   * and SGLD steps. Absent: those steps differentiate forwardTrace with tfjs autodiff.
   */
  gradPasses?(c: C, layout: ParamLayout): GradPasses;
  /**
   * The architecture as a plain dense stack (widths, weight and bias names, ReLU or linear), when
   * it is one: training then runs whole steps in train/stackEngine.ts on wasm and cpu.
   */
  denseStack?(c: C): StackPassSpec;
  /** The architecture as a token-pair model, when it is one: whole steps in train/pairsEngine.ts. */
  pairsSpec?(c: C): PairsPassSpec;
}

/** A whole architecture: what registerArch takes. */
export interface ArchDef<C extends ArchConfig = ArchConfig> extends ArchSpec<C>, ArchCompute<C> {}
