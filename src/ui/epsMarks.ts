/**
 * What every ε axis marks (issue 13): the numerical floor of the float32 product, the widest
 * log-gaps above it and ε*, from the spectrum in the store (when it belongs to the current model).
 * `scale` divides them for an axis in other units (the LLC view's ε = 1/(nβ) counts eigenvalues
 * above γε, so the spectrum's scale h sits at ε = h/γ there).
 */
import { useMemo } from 'react';
import { useStore } from '../state/store';
import { epsGuide } from '../core/spectrum/epsilon';
import { fmt, int } from './format';

export interface EpsMark { value: number; label: string; color: string; kind: 'floor' | 'gap' | 'epsStar' }

export function useEpsMarks(scale = 1, suffix = ''): EpsMark[] {
  const r = useStore((s) => s.spectrum);
  const of = useStore((s) => s.spectrumOf);
  const model = useStore((s) => s.model);
  const cutoff = useStore((s) => s.spectrumSettings.cutoff);
  const split = useStore((s) => s.spectrumSettings.cutoffSplit);
  return useMemo(() => {
    // Before the model is decoded the precomputed spectrum is the shipped model's; afterwards it must match.
    if (!r || (model && of !== model.name)) return [];
    const g = epsGuide(r, cutoff, split);
    const m: EpsMark[] = [];
    if (g.floor !== null) m.push({ value: g.floor / scale, label: `float32 floor${suffix}`, color: '#4b5563', kind: 'floor' });
    // Gaps narrower than a factor 3 are not worth a mark (the widest one always is).
    g.gaps.slice(0, 2).filter((gap, i) => i === 0 || gap.width >= Math.log10(3)).forEach((gap, i) => m.push({
      value: gap.middle / scale, label: `${i === 0 ? 'widest gap' : 'gap'}${suffix} (×${fmt(10 ** gap.width, 2)} after k = ${int(gap.index + 1)})`, color: '#7c3aed', kind: 'gap',
    }));
    if (g.epsStar !== null && g.kStar !== null) m.push({ value: g.epsStar / scale, label: `ε*${suffix} (k* = ${int(g.kStar)})`, color: '#15803d', kind: 'epsStar' });
    return m;
  }, [r, of, model, cutoff, split, scale, suffix]);
}
