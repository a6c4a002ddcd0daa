import { describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const FIX = 'tests/fixtures/safetensors';

async function slt(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(TSX, ['src/cli/slt.ts', ...args], { timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('slt command line', () => {
  test('info on a file written by an independent (PyTorch-layout) writer', async () => {
    const r = await slt('info', `${FIX}/modadd_p5_e3_h4.safetensors`);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.arch).toBe('modadd');
    expect(out.params).toBe(5 * 3 + 4 * 6 + 4 + 5 * 4 + 5);
    expect(out.tensors.map((t: { name: string }) => t.name)).toEqual(['embed.weight', 'hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
    expect(out.tensors[1].shape).toEqual([4, 6]);
  });

  test('eval prints n, loss and accuracy; MSE for matfac', async () => {
    const a = await slt('eval', `${FIX}/modadd_p5_e3_h4.safetensors`, '--split', 'all');
    expect(a.code).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(out.n).toBe(25);
    expect(out.accuracy).toBeGreaterThanOrEqual(0);
    expect(out.loss).toBeGreaterThan(0);
    const m = await slt('eval', `${FIX}/matfac_3_2_3.safetensors`, '--split', 'train');
    expect(m.code).toBe(0);
    expect(JSON.parse(m.stdout)).toHaveProperty('mse');
  });

  test('train writes a model that info and eval read back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slt-'));
    const out = join(dir, 'm.safetensors');
    const r = await slt('train', '--arch', 'matfac', '--widths', '4,4,4', '--steps', '1000', '--lr', '0.01', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.final.step).toBe(1000);
    expect(res.final.trainLoss).toBeLessThan(1e-2);
    const info = JSON.parse((await slt('info', out)).stdout);
    expect(info.config).toEqual({ arch: 'matfac', widths: [4, 4, 4] });
    expect(info.metadata.recipe).toMatch(/adamw lr=0.01/);
    const ev = JSON.parse((await slt('eval', out, '--split', 'train')).stdout);
    expect(ev.mse).toBeCloseTo(res.final.trainLoss, 5);
  });

  test('spectrum, density and project print the same numbers the core computes', async () => {
    const sp = await slt('spectrum', 'public/models/matfac.safetensors');
    expect(sp.code, sp.stderr).toBe(0);
    const s = JSON.parse(sp.stdout);
    expect(s).toMatchObject({ d: 800, n: 20, method: 'dense' });
    expect(s.eigenvalues).toHaveLength(800);
    expect(s.above_noise_floor).toBe(400);
    for (let i = 1; i < s.eigenvalues.length; i++) expect(s.eigenvalues[i]).toBeLessThanOrEqual(s.eigenvalues[i - 1]);
    const pr = await slt('project', 'public/models/matfac.safetensors', '--k', '100,400,800');
    const p = JSON.parse(pr.stdout);
    expect(p.points.map((x: { k: number }) => x.k)).toEqual([100, 400, 800]);
    expect(p.points[2].train_mse).toBeLessThan(1e-8); // all 800 eigenvectors: θ itself
    expect(p.points[0].train_mse).toBeGreaterThan(p.points[1].train_mse);
    const de = await slt('density', `${FIX}/modadd_p5_e3_h4.safetensors`, '--k', '5', '--probes', '4', '--steps', '20');
    expect(de.code, de.stderr).toBe(0);
    const d = JSON.parse(de.stdout);
    expect(d.d1_curve.length).toBe(121);
    expect(d.d1_curve[0].d1).toBeGreaterThanOrEqual(d.d1_curve[120].d1);
    expect(d.d1_curve[120].d1).toBe(0);
  }, 120_000);

  test('sync, grams and fourier', async () => {
    const sy = JSON.parse((await slt('sync', 'public/models/mnist-mlp.safetensors')).stdout);
    expect(sy.layers.map((l: { name: string }) => l.name)).toEqual(['fc1', 'fc2']);
    for (const l of sy.layers) {
      expect(l.blocks.flat().sort((a: number, b: number) => a - b)).toEqual([...Array(l.width).keys()]);
      expect(l.free_directions).toBe(l.block_ranks.reduce((s: number, r: number) => s + r * r, 0));
    }
    const gr = JSON.parse((await slt('grams', 'public/models/matfac.safetensors', '--eps', '1e-3')).stdout);
    expect(gr.predicted.dedup_total).toBe(400); // docs/science.md §9: d² zero directions of the deep linear net
    const fo = JSON.parse((await slt('fourier', 'public/models/modadd.safetensors')).stdout);
    expect(fo.frequencies).toHaveLength(26);
    expect(fo.key_frequencies.length).toBeGreaterThan(0);
    const bad = await slt('fourier', 'public/models/matfac.safetensors');
    expect(bad.code).toBe(2);
  }, 120_000);

  test('llc prints the estimate, per-chain traces and diagnostics', async () => {
    const r = await slt('llc', 'public/models/matfac.safetensors', '--chains', '2', '--draws', '30', '--burnin', '30', '--nbeta', '200', '--batch', 'full', '--gamma', '100', '--step', '1e-4');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.chains).toHaveLength(2);
    expect(o.chains[0].trace).toHaveLength(60);
    expect(o.llc_mean).toBeCloseTo((o.chains[0].llc + o.chains[1].llc) / 2, 8);
    expect(o.settings.nBeta).toBe(200);
    expect(o.settings.loss).toBe('nll');
    expect(o.loss_label).toMatch(/negative log-likelihood/);
    expect(o.diagnostics.mean_acceptance).toBeGreaterThan(0);
    expect(['ok', 'doubtful', 'failed']).toContain(o.health.verdict);
    expect(Array.isArray(o.health.reasons)).toBe(true);
    expect(o.calibration).toBeNull(); // γ, ε_s, burn-in and draws all given
    const bad = await slt('llc', 'public/models/matfac.safetensors', '--loss', 'nope');
    expect(bad.code).toBe(2);
  }, 120_000);

  test('a document larger than a pipe buffer arrives whole through a shell pipe, as a user runs it', async () => {
    // `npm run slt -- … | consumer`: before the fix the process exited with exactly 64 KiB written.
    const cmd = 'npm run -s slt -- llc public/models/matfac.safetensors --chains 2 --draws 3000 --burnin 100 --nbeta 200 --batch full --gamma 100 --step 1e-4 --no-mala 2>/dev/null | cat';
    const r = await run('sh', ['-c', cmd], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    expect(r.stdout.length).toBeGreaterThan(2 * 65_536);
    const o = JSON.parse(r.stdout);
    expect(o.chains[1].trace).toHaveLength(3100);
  }, 120_000);

  test('bad input exits non-zero with a clear message and nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slt-'));
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, readFileSync(`${FIX}/modadd_p5_e3_h4.safetensors`).subarray(0, 100));
    const r = await slt('info', bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/truncated|bytes/i);
    const u = await slt('train', '--arch', 'resnet', '--out', 'x');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--arch must be one of/);
    const n = await slt('frobnicate');
    expect(n.code).toBe(2);
  });
});
