/** modadd-gelu's tfjs forward pass and its Gauss–Newton passes (hessian/pairs.ts with GELU, no hidden bias). */
import * as tf from '@tensorflow/tfjs';
import type { ArchDef } from '../types';
import { slot } from '../../params';
import { pairsEngine } from '../../hessian/pairs';
import { gelu, linear, tokenColumns } from '../layers';
import { pairsPasses, type PairsPassSpec } from '../passes';
import { modaddGeluSpec, type ModAddGeluConfig } from './spec';

const pairs = (c: ModAddGeluConfig): PairsPassSpec => ({
  p: c.p, e: c.e, h: c.h, embed: 'embed.weight', first: { left: 'left.weight', right: 'right.weight' }, hiddenBias: null, out: 'out.weight', outBias: 'out.bias', activation: 'gelu',
});

export const modaddGeluArch: ArchDef<ModAddGeluConfig> = {
  ...modaddGeluSpec,
  forwardTrace(_c, P, x) {
    const [a, b] = tokenColumns(x);
    const ea = tf.gather(P['embed.weight'], a) as tf.Tensor2D;
    const eb = tf.gather(P['embed.weight'], b) as tf.Tensor2D;
    const pre = tf.add(linear(ea, P['left.weight']), linear(eb, P['right.weight'])) as tf.Tensor2D;
    return { out: linear(gelu(pre) as tf.Tensor2D, P['out.weight'], P['out.bias']), pre: [pre] };
  },
  gnEngine(c, layout, theta, dataset, rows, chunkSize) {
    const { e } = c;
    const oL = slot(layout, 'left.weight').offset, oR = slot(layout, 'right.weight').offset;
    return pairsEngine({
      p: c.p, e, h: c.h, activation: 'gelu',
      offE: slot(layout, 'embed.weight').offset,
      offW2: slot(layout, 'out.weight').offset,
      offB2: slot(layout, 'out.bias').offset,
      offB1: -1,
      wAt: (s, i, k) => (s === 0 ? oL : oR) + i * e + k,
    }, theta, dataset, rows, chunkSize);
  },
  gradPasses(c, layout) {
    return pairsPasses(pairs(c), layout);
  },
  pairsSpec: pairs,
};
