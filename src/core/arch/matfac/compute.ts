/** matfac's tfjs forward pass and its Gauss–Newton passes (hessian/stack.ts, linear, no biases). */
import type { ArchDef } from '../types';
import { denseStackEngine } from '../../hessian/stack';
import { linear } from '../layers';
import { stackPasses } from '../passes';
import { matfacSpec, type MatfacConfig } from './spec';
import type { StackPassSpec } from '../passes';

const stack = (c: MatfacConfig): StackPassSpec => ({ widths: c.widths, weight: (l) => `layers.${l}.weight`, bias: () => null, relu: false });

export const matfacArch: ArchDef<MatfacConfig> = {
  ...matfacSpec,
  forwardTrace(c, P, x) {
    let h = x;
    for (let i = 0; i + 1 < c.widths.length; i++) h = linear(h, P[`layers.${i}.weight`]);
    return { out: h, pre: [] };
  },
  gnEngine(c, layout, theta, dataset, rows, chunkSize) {
    return denseStackEngine(stack(c), layout, theta, dataset, rows, chunkSize);
  },
  gradPasses(c, layout) {
    return stackPasses(stack(c), layout);
  },
  denseStack: stack,
};
