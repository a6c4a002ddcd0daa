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
