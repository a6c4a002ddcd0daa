/**
 * The precomputed-analysis sidecar (src/core/io/analysis.ts, src/state/analysis.ts): the shipped
 * files pass the validation the app runs on load against their own model; malformed or mismatched
 * files are refused with a message naming the problem, and the state shown before is kept.
 */
import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeModelFile } from '../../src/core/io/modelFile';
import { AnalysisFileError, parseAnalysisFile, spectrumFromAnalysis, thetaFingerprint, type AnalysisFile } from '../../src/core/io/analysis';
import { cutoffK, countAboveFloor } from '../../src/core/spectrum/projection';
import { DEFAULT_CONFIGS, paramCount } from '../../src/core/models/config';
import { useStore } from '../../src/state/store';
import { adoptAnalysisText } from '../../src/state/analysis';

const SHIPPED = ['matfac', 'modadd', 'mnist-mlp', 'modadd-gelu'] as const;
const read = (id: string): string => readFileSync(`public/models/${id}.analysis.json`, 'utf8');
const model = (id: string) => decodeModelFile(new Uint8Array(readFileSync(`public/models/${id}.safetensors`)), { name: id });

describe.each(SHIPPED.filter((id) => existsSync(`public/models/${id}.analysis.json`)))('shipped %s.analysis.json', (id) => {
  test('passes validation against its own model (arch, d, θ* fingerprint) and stays small', () => {
    const text = read(id);
    expect(text.length).toBeLessThan(2e6);
    const m = model(id);
    const a = parseAnalysisFile(text, { arch: m.config.arch, d: m.theta.length, theta: m.theta });
    expect(a.model.d).toBe(paramCount(DEFAULT_CONFIGS[id]));
    expect(a.model.fingerprint).toBe(thetaFingerprint(m.theta));
    expect(a.floor.floor).toBeGreaterThan(0);
    const r = spectrumFromAnalysis(a);
    expect(r.eigenvalues.length).toBe(a.spectrum.eigenvalues.length);
    if (a.computed.method === 'dense') expect(r.eigenvalues.length).toBe(a.model.d);
    // Converged Lanczos pairs: verified residuals within the recorded tolerance.
    if (a.computed.method === 'lanczos') {
      const tol = a.computed.tol ?? 1e-6;
      const top = a.spectrum.eigenvalues[0];
      const ok = a.spectrum.residuals.filter((x) => x !== null && x <= 1.0001 * tol * top).length;
      expect(ok).toBeGreaterThanOrEqual(Math.floor(0.99 * a.spectrum.residuals.length));
    }
  });
});

function matfacFile(): AnalysisFile {
  return JSON.parse(read('matfac')) as AnalysisFile;
}

describe('a malformed or mismatched sidecar is refused with a clear message', () => {
  const m = model('matfac');
  const expectFor = { arch: m.config.arch, d: m.theta.length, theta: m.theta };
  const refuse = (text: string, re: RegExp): void => {
    let err: unknown;
    try { parseAnalysisFile(text, expectFor); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(AnalysisFileError);
    expect((err as Error).message).toMatch(/^Precomputed analysis: /);
    expect((err as Error).message).toMatch(re);
  };
  const edit = (f: (a: AnalysisFile) => void): string => { const a = matfacFile(); f(a); return JSON.stringify(a); };

  test('not JSON, or a NaN literal (JSON has none)', () => {
    refuse('{"format": "slt-analysis", ', /not valid JSON/);
    refuse(read('matfac').replace(/"eigenvalues":\[([^,]+),/, '"eigenvalues":[NaN,'), /not valid JSON/);
  });
  test('wrong format or version', () => {
    refuse(edit((a) => { (a as { format: string }).format = 'session'; }), /"format" is "session"/);
    refuse(edit((a) => { a.version = 2; }), /"version" is 2/);
  });
  test('non-finite or missing numbers', () => {
    refuse(edit((a) => { (a.spectrum.eigenvalues as unknown[])[5] = null; }), /spectrum\.eigenvalues\[5\] is null, not a finite number/);
    refuse(edit((a) => { (a.spectrum.eigenvalues as unknown[])[7] = 'NaN'; }), /spectrum\.eigenvalues\[7\] is string/);
    refuse(edit((a) => { (a.floor as { floor: unknown }).floor = null; }), /floor\.floor/);
  });
  test('wrong shapes', () => {
    refuse(edit((a) => { a.spectrum.residuals.pop(); }), /spectrum\.residuals has 799 entries for 800 eigenvalues/);
    refuse(edit((a) => { a.spectrum.eigenvalues.pop(); a.spectrum.residuals.pop(); }), /a dense spectrum has d = 800/);
    refuse(edit((a) => { [a.spectrum.eigenvalues[3], a.spectrum.eigenvalues[4]] = [a.spectrum.eigenvalues[4], a.spectrum.eigenvalues[3]]; }), /descending/);
    refuse(edit((a) => { a.projection!.points[2].k = a.projection!.points[1].k; }), /projection\.points\[2\]\.k .* not larger/);
    refuse(edit((a) => { a.projection!.points[0].trainLoss = null as unknown as number; }), /projection\.points\[0\]\.trainLoss/);
  });
  test('another model: wrong architecture, wrong d, or another θ*', () => {
    const text = read('matfac');
    expect(() => parseAnalysisFile(text, { arch: 'modadd', d: m.theta.length })).toThrow(/model\.arch is "matfac" but the model shown is "modadd"/);
    expect(() => parseAnalysisFile(text, { arch: 'matfac', d: 801 })).toThrow(/model\.d is 800 but the model shown has d = 801/);
    const other = m.theta.slice();
    other[17] += 1e-3;
    expect(() => parseAnalysisFile(text, { arch: 'matfac', d: 800, theta: other })).toThrow(/belongs to another θ\*/);
  });
  test('oversized files are refused before parsing', () => {
    refuse(' '.repeat(5 * 1024 * 1024), /more than the/);
  });

  test('nothing is lost: the spectrum shown before stays, ε stays', () => {
    useStore.setState({ arch: 'matfac', spectrum: null, spectrumOf: null, spectrumSource: null, epsPinned: false });
    expect(adoptAnalysisText(read('matfac'), 'matfac')).toBeNull();
    const before = useStore.getState();
    expect(before.spectrum?.eigenvalues.length).toBe(800);
    expect(before.spectrumSource?.kind).toBe('precomputed');
    const eps = before.eps;
    const bad = edit((a) => { a.spectrum.residuals.pop(); });
    const msg = adoptAnalysisText(bad, 'matfac');
    expect(msg).toMatch(/residuals has 799 entries/);
    const after = useStore.getState();
    expect(after.spectrum).toBe(before.spectrum);
    expect(after.spectrumSource).toBe(before.spectrumSource);
    expect(after.eps).toBe(eps);
  });

  test('adopting sets the default ε: ε* when the projection curve reaches the cutoff (checked from the file)', () => {
    useStore.setState({ spectrum: null, spectrumOf: null, spectrumSource: null, epsPinned: false, eps: 1e-3 });
    expect(adoptAnalysisText(read('matfac'), 'matfac')).toBeNull();
    const a = matfacFile();
    const ev = a.spectrum.eigenvalues;
    // Independent: MSE metric, reference MSE at the last k above 1e-6·h1, k* the first k within 1/0.995 of it.
    const kRef = ev.filter((h) => h > 1e-6 * ev[0]).length;
    const pts = a.projection!.points;
    const ref = pts.filter((p) => p.k <= kRef).at(-1)!;
    const kStar = pts.find((p) => p.trainLoss <= ref.trainLoss / 0.995)!.k;
    expect(cutoffK(spectrumFromAnalysis(a).projection!, { kRef: countAboveFloor(Float64Array.from(ev)) }).kStar).toBe(kStar);
    const eps = useStore.getState().eps;
    expect(eps).toBeLessThan(ev[kStar - 1]);
    expect(eps).toBeGreaterThan(ev[kStar - 1] * (1 - 1e-6));
    expect(ev.filter((h) => h > eps).length).toBe(kStar);
  });
});
