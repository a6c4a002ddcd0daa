/**
 * Registers the built-in architectures, compute parts included (tfjs). The tfjs consumers
 * (models/forward.ts, hessian/gn.ts) import this; the page's pure modules import ./specs only.
 * Same order as ./specs.
 */
import { registerArch } from './registry';
import { modaddArch } from './modadd/compute';
import { modaddGeluArch } from './modadd-gelu/compute';
import { mnistMlpArch } from './mnist-mlp/compute';
import { matfacArch } from './matfac/compute';

registerArch(modaddArch);
registerArch(modaddGeluArch);
registerArch(mnistMlpArch);
registerArch(matfacArch);
