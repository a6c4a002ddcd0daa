import { describe, expect, test } from 'vitest';
import { formatShareable, parseShareable, type Shareable } from '../../src/state/url';
import { DEFAULT_SHAREABLE } from '../../src/state/store';

describe('shareable settings in the URL', () => {
  test('defaults give an empty query', () => {
    expect(formatShareable(DEFAULT_SHAREABLE, DEFAULT_SHAREABLE)).toBe('');
  });

  test('every field round-trips', () => {
    const s: Shareable = {
      arch: 'matfac', p: 31, e: 7, h: 9, hidden: [30, 20, 10], widths: [5, 4, 5], seed: 12345, dataSeed: 7,
      trainFraction: 0.35, op: 'random', eps: 3.5e-4, view: 'llc', backend: 'wasm',
      neuron: { layer: 'layers.0', unit: 17 }, eigen: 12, band: [2.5e-6, 0.125],
    };
    const q = formatShareable(s, DEFAULT_SHAREABLE);
    const back = parseShareable(q);
    expect(back.rejected).toEqual([]);
    expect({ ...DEFAULT_SHAREABLE, ...back.values }).toEqual(s);
    // Each field is present exactly once.
    expect(new URLSearchParams(q).size).toBe(Object.keys(s).length);
  });

  test('malformed values are dropped and reported, valid ones kept', () => {
    const r = parseShareable('?arch=resnet&p=abc&h=64&eps=-1&frac=1.5&widths=3,x&view=forward&backend=webgl&seed=2');
    expect(r.values).toEqual({ h: 64, view: 'forward', seed: 2 });
    expect(r.rejected.sort()).toEqual(['arch=resnet', 'backend=webgl', 'eps=-1', 'frac=1.5', 'p=abc', 'widths=3,x'].sort());
  });

  test('selections: malformed neuron, eigenvector and band values are dropped and reported', () => {
    const r = parseShareable('?neuron=fc1&eig=0&band=1e-3,1e-5');
    expect(r.values).toEqual({});
    expect(r.rejected.sort()).toEqual(['band=1e-3,1e-5', 'eig=0', 'neuron=fc1'].sort());
    expect(parseShareable('?neuron=fc2:3&eig=1&band=1e-5,1e-3').values).toEqual({ neuron: { layer: 'fc2', unit: 3 }, eigen: 1, band: [1e-5, 1e-3] });
  });

  test('eps keeps its value through formatting', () => {
    for (const eps of [1.5e-3, 2.5e-7, 0.01, 123.25, 1 / 3, 7e12]) {
      const q = formatShareable({ ...DEFAULT_SHAREABLE, eps }, DEFAULT_SHAREABLE);
      expect(parseShareable(q).values.eps).toBe(eps);
    }
    expect(formatShareable({ ...DEFAULT_SHAREABLE, eps: 0.01 }, DEFAULT_SHAREABLE)).toBe('?eps=1e-2');
  });
});

describe('links name an architecture with its own default sizes', () => {
  test('arch=modadd-gelu alone opens p=53, e=12, h=48; other sizes are written out', async () => {
    const { applyShareable, createAppStore, shareableDefaults, shareableOf } = await import('../../src/state/store');
    const store = createAppStore();
    applyShareable(parseShareable('?arch=modadd-gelu').values, store);
    expect(store.getState()).toMatchObject({ arch: 'modadd-gelu', p: 53, e: 12, h: 48 });
    expect(formatShareable(shareableOf(store.getState()), shareableDefaults('modadd-gelu'))).toBe('?arch=modadd-gelu');
    store.setState({ e: 128 });
    const q = formatShareable(shareableOf(store.getState()), shareableDefaults('modadd-gelu'));
    const again = createAppStore();
    applyShareable(parseShareable(q).values, again);
    expect(again.getState()).toMatchObject({ arch: 'modadd-gelu', p: 53, e: 128, h: 48 });
  });
});
