/**
 * Seeded initialisation following PyTorch's defaults, so a fresh model here is distributed
 * like `nn.Module()` there: nn.Linear weight and bias ~ U(−1/√fan_in, 1/√fan_in),
 * nn.Embedding ~ N(0, 1).
 */
import { makeRng } from '../rng';
import { view } from '../params';
import { layoutFor, type ModelConfig } from './config';

export function initParams(c: ModelConfig, seed: number): Float32Array {
  const layout = layoutFor(c);
  const theta = new Float32Array(layout.size);
  const rng = makeRng(seed);
  for (const t of layout.tensors) {
    const v = view(layout, theta, t.name);
    if (t.name === 'embed.weight') {
      for (let i = 0; i < v.length; i++) v[i] = rng.normal();
      continue;
    }
    // weight [out, in] → fan_in = in; bias [out] takes the fan_in of its weight.
    const weight = t.name.endsWith('.bias') ? layout.tensors.find((w) => w.name === t.name.replace(/\.bias$/, '.weight')) : t;
    const fanIn = weight && weight.shape.length === 2 ? weight.shape[1] : t.shape[0];
    const bound = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < v.length; i++) v[i] = (2 * rng.next() - 1) * bound;
  }
  return theta;
}
