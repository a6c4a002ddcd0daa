import { useEffect } from 'react';
import { TOUR, saveTourStep } from '../tour';
import { computeInternals, computeSpectrum, loadPretrained } from '../../state/compute';
import { useStore } from '../../state/store';
import { TeX } from './TeX';

/** Sets the views up for a tour step: view, model, ε, landscape, and the step's computation. */
async function setUp(i: number): Promise<void> {
  const step = TOUR[i];
  const st = useStore.getState();
  st.setView(step.view);
  if (step.eps) { st.setEps(step.eps); useStore.setState({ epsPinned: true }); }
  if (step.landscape) st.setLlc({ llcLandscape: step.landscape });
  if (step.arch && st.model?.config.arch !== step.arch) {
    st.setArch(step.arch);
    await loadPretrained(step.arch);
  }
  const s = useStore.getState();
  if (step.compute === 'spectrum' && (!s.spectrum || s.spectrumOf !== s.model?.name)) void computeSpectrum();
  if (step.compute === 'internals' && (!s.internals || s.internalsOf !== s.model?.name)) void computeInternals(0, 'fraction');
}

export function openTour(step = 0): void {
  useStore.getState().setLlc({ tourStep: step });
  saveTourStep(step);
  void setUp(step);
}

export function closeTour(): void {
  useStore.getState().setLlc({ tourStep: null });
  saveTourStep(null);
}

/** The tour card: what to look at, the formula, what to try; Back / Next / Skip. Resumable. */
export function Tour() {
  const i = useStore((s) => s.tourStep);
  const step = i === null ? null : TOUR[i];
  // Highlight the element the step is about.
  useEffect(() => {
    if (!step) return;
    let el: Element | null = null;
    const t = setInterval(() => {
      const found = document.querySelector(`[data-testid="${step.target}"]`);
      if (found && found !== el) { el?.classList.remove('tour-target'); el = found; el.classList.add('tour-target'); }
    }, 300);
    return () => { clearInterval(t); el?.classList.remove('tour-target'); };
  }, [step]);
  if (i === null || !step) return null;
  const go = (j: number) => { useStore.getState().setLlc({ tourStep: j }); saveTourStep(j); void setUp(j); };
  return (
    <aside className="tour" role="dialog" aria-label="Guided tour" data-testid="tour" data-step={step.id}>
      <div className="tour-head">
        <strong data-testid="tour-title">{step.title}</strong>
        <span className="muted small">{i + 1} / {TOUR.length}</span>
      </div>
      <p>{step.text}</p>
      <TeX tex={step.tex} block />
      <p className="small"><em>Try it:</em> {step.tryIt}</p>
      <div className="button-row">
        <button type="button" disabled={i === 0} onClick={() => go(i - 1)} data-testid="tour-back">Back</button>
        {i + 1 < TOUR.length
          ? <button type="button" className="primary" onClick={() => go(i + 1)} data-testid="tour-next">Next</button>
          : <button type="button" className="primary" onClick={closeTour} data-testid="tour-finish">Finish</button>}
        <button type="button" className="link-button" onClick={closeTour} data-testid="tour-skip">Skip the tour</button>
      </div>
    </aside>
  );
}
