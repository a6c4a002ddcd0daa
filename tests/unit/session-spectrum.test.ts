// A session's spectrum info is file data: core/io/session.ts `sessionSpectrumResult` checks every
// field (integers, finite numbers, enumerations, strings, shapes) and names the first wrong one.
import { expect, test } from 'vitest';
import { decodeSession, encodeSession, sessionSpectrumResult, SessionFileError, type SessionSpectrum } from '../../src/core/io/session';

const info = {
  d: 12, n: 100, method: 'lanczos', loss: 'mse', split: 'train', aboveFloor: 2, trace: { mean: 5, stderr: 0.1 },
  projection: { metric: 'mse', original: { k: 12, trainLoss: 0.1, testLoss: 0.2 }, points: [{ k: 1, trainLoss: 0.5, testLoss: null }] },
  storage: null, timings: { lanczos: 12.5 }, matvecs: 40, backend: 'cpu', of: 'm',
};
const spectrum = (over: Record<string, unknown> = {}, arrays: Partial<SessionSpectrum> = {}): SessionSpectrum => ({
  info: { ...info, ...over }, eigenvalues: Float64Array.of(3, 2, 1), residuals: Float64Array.of(0, 0, NaN), ...arrays,
});
const message = (s: SessionSpectrum): string => {
  try {
    sessionSpectrumResult(s, null);
  } catch (e) {
    expect(e).toBeInstanceOf(SessionFileError);
    return (e as Error).message;
  }
  return 'accepted';
};

test('a well-formed spectrum round-trips through a session file into a result', () => {
  const back = decodeSession(encodeSession({ settings: {}, model: null, run: null, spectrum: spectrum() }));
  const { result, of } = sessionSpectrumResult(back.spectrum!, 'fallback');
  expect(of).toBe('m');
  expect(result).toMatchObject({ d: 12, n: 100, method: 'lanczos', loss: 'mse', split: 'train', aboveFloor: 2, matvecs: 40, backend: 'cpu', timings: { lanczos: 12.5 }, trace: { mean: 5, stderr: 0.1 } });
  expect(result.storage).toBeUndefined();
  expect(Array.from(result.eigenvalues)).toEqual([3, 2, 1]);
  // JSON has no NaN: a null loss reads back as NaN.
  expect(Number.isNaN(result.projection!.points[0].testLoss)).toBe(true);
  expect(sessionSpectrumResult(spectrum({ of: undefined }), 'fallback').of).toBe('fallback');
});

test('each malformed field is refused by name', () => {
  expect(message(spectrum({ d: 12.5 }))).toBe('The session spectrum\'s info.d must be an integer ≥ 1 (got 12.5)');
  expect(message(spectrum({ n: undefined }))).toBe('The session spectrum\'s info.n must be an integer ≥ 0 (got nothing)');
  expect(message(spectrum({ method: 'qr' }))).toMatch(/^The session spectrum's info.method must be one of dense, lanczos \(got "qr"\)/);
  expect(message(spectrum({ loss: 3 }))).toMatch(/info.loss must be one of mse, kl/);
  expect(message(spectrum({ split: 'test' }))).toMatch(/info.split must be one of train, all/);
  expect(message(spectrum({ backend: 7 }))).toMatch(/info.backend must be a string/);
  expect(message(spectrum({ storage: 1 }))).toMatch(/info.storage must be a string/);
  expect(message(spectrum({ timings: { lanczos: 'fast' } }))).toMatch(/info.timings must map phases to finite milliseconds/);
  expect(message(spectrum({ trace: { mean: 'x', stderr: 1 } }))).toMatch(/info.trace must be \{ mean, stderr \}/);
  expect(message(spectrum({ projection: { metric: 'mse', original: { k: 99, trainLoss: 0, testLoss: 0 }, points: [] } }))).toMatch(/info.projection original must have an integer k in 0..12/);
  expect(message(spectrum({ projection: { ...info.projection, points: [{ k: 1, trainLoss: 'a', testLoss: 0 }] } }))).toMatch(/info.projection points\[0\].trainLoss must be a finite number/);
  expect(message(spectrum({ aboveFloor: 4 }))).toMatch(/info.aboveFloor exceeds the 3 eigenvalues/);
  expect(message(spectrum({ d: 2, projection: null }))).toMatch(/info.d is smaller than the 3 eigenvalues/);
  expect(message(spectrum({}, { residuals: Float64Array.of(0, 0) }))).toBe('The session holds 3 eigenvalues but 2 residuals');
  expect(message(spectrum({}, { slq: { nodes: [Float64Array.of(1, 2)], weights: [Float64Array.of(1)] } }))).toBe('The session\'s SLQ probe 0 has 2 nodes but 1 weights');
  expect(message(spectrum())).toBe('accepted');
});
