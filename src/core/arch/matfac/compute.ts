/** matfac's tfjs forward pass and its Gauss–Newton passes (hessian/stack.ts, linear, no biases). */
import type { ArchDef } from '../types';
import { denseStackEngine } from '../../hessian/stack';
import { linear } from '../layers';
import { stackPasses } from '../passes';
import { matfacSpec, type MatfacConfig } from './spec';

export const matfacArch: ArchDef<MatfacConfig> = {
  ...matfacSpec,
  forwardTrace(c, P, x) {
    let h = x;
    for (let i = 0; i + 1 < c.widths.length; i++) h = linear(h, P[`layers.${i}.weight`]);
    return { out: h, pre: [] };
  },
  gnEngine(c, layout, theta, dataset, rows, chunkSize) {
    return denseStackEngine({
      widths: c.widths,
      weight: (l) => `layers.${l}.weight`,
      bias: () => null,
      relu: false,
    }, layout, theta, dataset, rows, chunkSize);
  },
  gradPasses(c, layout) {
    return stackPasses({ widths: c.widths, weight: (l) => `layers.${l}.weight`, bias: () => null, relu: false }, layout);
  },
};
