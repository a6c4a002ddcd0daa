/** mnist-mlp's tfjs forward pass and its Gauss–Newton passes (hessian/stack.ts, ReLU with biases). */
import * as tf from '@tensorflow/tfjs';
import type { ArchDef } from '../types';
import { denseStackEngine } from '../../hessian/stack';
import { linear } from '../layers';
import { stackPasses } from '../passes';
import { MNIST_CLASSES, MNIST_INPUT, mnistMlpSpec, type MnistMlpConfig } from './spec';
import type { StackPassSpec } from '../passes';

const stack = (c: MnistMlpConfig): StackPassSpec => ({
  widths: [MNIST_INPUT, ...c.hidden, MNIST_CLASSES],
  weight: (l) => `fc${l + 1}.weight`,
  bias: (l) => `fc${l + 1}.bias`,
  relu: true,
});

export const mnistMlpArch: ArchDef<MnistMlpConfig> = {
  ...mnistMlpSpec,
  forwardTrace(c, P, x) {
    const pre: tf.Tensor2D[] = [];
    let h = x;
    const nLayers = c.hidden.length + 1;
    for (let i = 1; i <= nLayers; i++) {
      const z = linear(h, P[`fc${i}.weight`], P[`fc${i}.bias`]);
      if (i === nLayers) return { out: z, pre };
      pre.push(z);
      h = tf.relu(z);
    }
    throw new Error('unreachable');
  },
  gnEngine(c, layout, theta, dataset, rows, chunkSize) {
    return denseStackEngine(stack(c), layout, theta, dataset, rows, chunkSize);
  },
  gradPasses(c, layout) {
    return stackPasses(stack(c), layout);
  },
  denseStack: stack,
};
