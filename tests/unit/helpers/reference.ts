/** Test references written independently of src/core/models/forward.ts (plain JS, Float64). */
import { layoutFor, type ModelConfig } from '../../../src/core/models/config';
import { view } from '../../../src/core/params';

/** erf in Float64: Maclaurin series for |x| < 3, the Laplace continued fraction of erfc beyond. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let s = 0, term = x;
    for (let k = 0; k < 200; k++) {
      const add = term / (2 * k + 1);
      s += add;
      if (Math.abs(add) < 1e-18 * Math.abs(s)) break;
      term *= (-x * x) / (k + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * s;
  }
  // erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + (k / 2) / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}

/** Independent plain-JS forward pass in Float64 from the PyTorch-layout views (θ in Float32 or Float64). */
export function referenceForward(c: ModelConfig, theta: Float32Array | Float64Array, xs: number[][]): number[][] {
  const L = layoutFor(c);
  const W = (name: string) => ({ v: view(L, theta, name), shape: L.tensors.find((t) => t.name === name)!.shape });
  const lin = (x: number[], w: string, b?: string) => {
    const { v, shape: [o, i] } = W(w);
    const bias = b ? W(b).v : null;
    return Array.from({ length: o }, (_, r) => {
      let s = bias ? bias[r] : 0;
      for (let k = 0; k < i; k++) s += v[r * i + k] * x[k];
      return s;
    });
  };
  const relu = (x: number[]) => x.map((z) => Math.max(0, z));
  return xs.map((x) => {
    switch (c.arch) {
      case 'modadd': {
        const E = W('embed.weight');
        const row = (t: number) => Array.from(E.v.subarray(t * c.e, (t + 1) * c.e));
        return lin(relu(lin([...row(x[0]), ...row(x[1])], 'hidden.weight', 'hidden.bias')), 'out.weight', 'out.bias');
      }
      case 'modadd-gelu': {
        const E = W('embed.weight');
        const row = (t: number) => Array.from(E.v.subarray(t * c.e, (t + 1) * c.e));
        const l = lin(row(x[0]), 'left.weight');
        const r = lin(row(x[1]), 'right.weight');
        // GELU through the erf series (independent of tfjs's erf approximation)
        const g = l.map((z, i) => { const u = z + r[i]; return 0.5 * u * (1 + erf64(u / Math.SQRT2)); });
        return lin(g, 'out.weight', 'out.bias');
      }
      case 'mnist-mlp': {
        let h = x;
        const n = c.hidden.length + 1;
        for (let i = 1; i <= n; i++) { h = lin(h, `fc${i}.weight`, `fc${i}.bias`); if (i < n) h = relu(h); }
        return h;
      }
      case 'matfac': {
        let h = x;
        for (let i = 0; i + 1 < c.widths.length; i++) h = lin(h, `layers.${i}.weight`);
        return h;
      }
    }
  });
}

