/** modadd's tfjs forward pass and its Gauss–Newton passes (hessian/pairs.ts with a ReLU and a hidden bias). */
import * as tf from '@tensorflow/tfjs';
import type { ArchDef } from '../types';
import { slot } from '../../params';
import { pairsEngine } from '../../hessian/pairs';
import { linear, tokenColumns } from '../layers';
import { pairsPasses, type PairsPassSpec } from '../passes';
import { modaddSpec, type ModAddConfig } from './spec';

const pairs = (c: ModAddConfig): PairsPassSpec => ({
  p: c.p, e: c.e, h: c.h, embed: 'embed.weight', first: { joined: 'hidden.weight' }, hiddenBias: 'hidden.bias', out: 'out.weight', outBias: 'out.bias', activation: 'relu',
});

export const modaddArch: ArchDef<ModAddConfig> = {
  ...modaddSpec,
  forwardTrace(_c, P, x) {
    const [a, b] = tokenColumns(x);
    const emb = tf.concat([tf.gather(P['embed.weight'], a), tf.gather(P['embed.weight'], b)], 1) as tf.Tensor2D;
    const pre = linear(emb, P['hidden.weight'], P['hidden.bias']);
    return { out: linear(tf.relu(pre), P['out.weight'], P['out.bias']), pre: [pre] };
  },
  gnEngine(c, layout, theta, dataset, rows, chunkSize) {
    const { e } = c;
    const o = slot(layout, 'hidden.weight').offset;
    return pairsEngine({
      p: c.p, e, h: c.h, activation: 'relu',
      offE: slot(layout, 'embed.weight').offset,
      offW2: slot(layout, 'out.weight').offset,
      offB2: slot(layout, 'out.bias').offset,
      offB1: slot(layout, 'hidden.bias').offset,
      // hidden.weight = [W_L | W_R] acting on [E[a] | E[b]].
      wAt: (s, i, k) => o + i * 2 * e + s * e + k,
    }, theta, dataset, rows, chunkSize);
  },
  gradPasses(c, layout) {
    return pairsPasses(pairs(c), layout);
  },
  pairsSpec: pairs,
};
