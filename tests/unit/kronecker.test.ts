import { beforeAll, describe, expect, test } from 'vitest';
import { kroneckerSpectrum } from '../../src/core/spectrum/kronecker';
import { runInitModel } from '../../src/core/tasks/model';
import { runSpectrum } from '../../src/core/tasks/spectrum';
import { createJobContext } from '../../src/core/jobs';
import { loadDataset } from '../../src/core/data/index';
import { nodeAssetReader } from '../../src/node/assets';
import { gaussNewtonOperator } from '../../src/core/hessian/gn';
import { eighSync } from '../../src/core/linalg/eigh';
import { symmetricFromMatvec } from '../../src/core/linalg/operator';
import { layoutFor } from '../../src/core/models/config';
import { useWasm } from './helpers/tf';

beforeAll(useWasm);
const env = { readAsset: nodeAssetReader() };

function sortedDesc(a: ArrayLike<number>): number[] {
  return Array.from(a).sort((x, y) => y - x);
}

describe('Kronecker (G ⊗ K) approximation of the Hessian', () => {
  test('is exact for a single linear layer (H = 2·I ⊗ G)', async () => {
    const model = await runInitModel({ config: { arch: 'matfac', widths: [4, 3] }, seed: 2 }, createJobContext());
    const ds = await loadDataset(model.data, env.readAsset);
    const kr = await kroneckerSpectrum(model, ds, ds.trainIdx);
    const exact = await runSpectrum({ model, method: 'dense', projection: false }, createJobContext(), env);
    expect(kr.covered).toBe(12);
    const a = sortedDesc(kr.eigenvalues), b = sortedDesc(exact.eigenvalues);
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4 * b[0]));
  });

  test('modadd: the output-layer block is exact and the hidden factors match a direct computation', async () => {
    const p = 5, e = 3, h = 4;
    const model = await runInitModel({ config: { arch: 'modadd', p, e, h }, seed: 4, data: { kind: 'modadd', p, trainFraction: 0.8, seed: 1, op: 'sum' } }, createJobContext());
    const ds = await loadDataset(model.data, env.readAsset);
    const rows = ds.trainIdx;
    const kr = await kroneckerSpectrum(model, ds, rows);
    expect(kr.uncovered).toBe(p * e); // the embedding
    const L = layoutFor(model.config);
    const T = (name: string) => { const t = L.tensors.find((x) => x.name === name)!; return model.theta.subarray(t.offset, t.offset + t.size); };
    const E = T('embed.weight'), W = T('hidden.weight'), B = T('hidden.bias'), Wo = T('out.weight');
    // Exact block of H for (out.weight, out.bias) from the dense matrix.
    const op = await gaussNewtonOperator(model, ds, rows);
    const H = await symmetricFromMatvec(op);
    op.dispose();
    const d = L.size;
    const idx = [...Array(p * h).keys()].map((i) => L.tensors[3].offset + i).concat([...Array(p).keys()].map((i) => L.tensors[4].offset + i));
    const block = new Float64Array(idx.length ** 2);
    idx.forEach((r, i) => idx.forEach((c, j) => { block[i * idx.length + j] = H[r * d + c]; }));
    const exactOut = sortedDesc(eighSync(block, idx.length, { vectors: false }).values);
    const out = kr.layers.find((l) => l.name === 'out.weight')!;
    const approxOut = sortedDesc(Array.from(out.kEigen).flatMap((k) => Array.from(out.gEigen, (g) => 2 * k * g)));
    approxOut.forEach((v, i) => expect(Math.abs(v - exactOut[i])).toBeLessThan(1e-4 * exactOut[0]));
    // Hidden layer: G (inputs + 1) and K (Jacobian of the logits wrt the hidden pre-activation)
    // straight from their definitions, in Float64.
    const n = rows.length;
    const G = new Float64Array((2 * e + 1) ** 2), K = new Float64Array(h * h);
    for (const r of rows) {
      const a = ds.x[2 * r], b = ds.x[2 * r + 1];
      const f = [...E.subarray(a * e, a * e + e), ...E.subarray(b * e, b * e + e), 1];
      f.forEach((u, i) => f.forEach((v, j) => { G[i * f.length + j] += (u * v) / n; }));
      const on = Array.from({ length: h }, (_, i) => { let z = B[i]; for (let j = 0; j < 2 * e; j++) z += W[i * 2 * e + j] * f[j]; return z > 0 ? 1 : 0; });
      for (let i = 0; i < h; i++) for (let j = 0; j < h; j++) {
        let s = 0;
        for (let k = 0; k < p; k++) s += Wo[k * h + i] * on[i] * Wo[k * h + j] * on[j];
        K[i * h + j] += s / n;
      }
    }
    const hid = kr.layers.find((l) => l.name === 'hidden.weight')!;
    const gRef = sortedDesc(eighSync(G, 2 * e + 1, { vectors: false }).values);
    const kRef = sortedDesc(eighSync(K, h, { vectors: false }).values);
    sortedDesc(hid.gEigen).forEach((v, i) => expect(v).toBeCloseTo(gRef[i], 4));
    sortedDesc(hid.kEigen).forEach((v, i) => expect(v).toBeCloseTo(kRef[i], 4));
  });

  test('covers every parameter but embeddings, for every architecture', async () => {
    for (const config of [
      { arch: 'modadd-gelu' as const, p: 5, e: 2, h: 3 },
      { arch: 'mnist-mlp' as const, hidden: [4, 3] },
      { arch: 'matfac' as const, widths: [3, 4, 2] },
    ]) {
      const model = await runInitModel({ config, seed: 1 }, createJobContext());
      const ds = await loadDataset(model.data, env.readAsset);
      const kr = await kroneckerSpectrum(model, ds, ds.trainIdx.subarray(0, 64));
      const embed = config.arch === 'modadd-gelu' ? config.p * config.e : 0;
      expect(kr.uncovered).toBe(embed);
      expect(kr.eigenvalues.length).toBe(kr.covered);
      expect(kr.eigenvalues[kr.eigenvalues.length - 1]).toBeGreaterThan(-1e-6 * kr.eigenvalues[0]);
    }
  });
});
