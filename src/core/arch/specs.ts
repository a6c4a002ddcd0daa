/**
 * Registers the pure part of the built-in architectures (no tfjs: models/config.ts imports this,
 * and the page imports models/config.ts). Their compute parts are registered by ./builtin.
 * Order matters for model files without metadata: the first whose tensor names match wins.
 */
import { registerArchSpec } from './registry';
import { modaddSpec } from './modadd/spec';
import { modaddGeluSpec } from './modadd-gelu/spec';
import { mnistMlpSpec } from './mnist-mlp/spec';
import { matfacSpec } from './matfac/spec';

registerArchSpec(modaddSpec);
registerArchSpec(modaddGeluSpec);
registerArchSpec(mnistMlpSpec);
registerArchSpec(matfacSpec);
