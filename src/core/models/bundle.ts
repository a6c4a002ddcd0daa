import type { DataSpec } from '../data/spec';
import type { ModelConfig } from './config';

/**
 * A model as the app passes it around: architecture and sizes, the flat Float32 parameter
 * vector θ (layout from layoutFor(config)), and the data it belongs to. Jobs carry the bundle
 * (θ is a few hundred KB), so the worker holds no state that a crash could lose.
 */
export interface ModelBundle {
  name: string;
  config: ModelConfig;
  theta: Float32Array;
  data: DataSpec;
  /** Training-pair indices carried by a model file (`data.train_idx`), overriding the spec's split. */
  trainIdx?: Int32Array;
  /** Matfac inputs/targets carried by a model file (`data.x`, `data.y`, row-major [n, in] / [n, out]). */
  dataX?: Float32Array;
  dataY?: Float32Array;
  /** Free-form provenance (training recipe, source file) kept in exported files. */
  metadata?: Record<string, string>;
}
