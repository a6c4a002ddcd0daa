import { useState } from 'react';
import { Term } from './Term';
import { openTour } from './Tour';
import { useStore } from '../../state/store';

const KEY = 'slt-first-visit-dismissed';

function dismissed(): boolean {
  try {
    return localStorage.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

/**
 * "What am I looking at": three sentences on the opening view, each linked to its glossary entry,
 * and the guided tour offered (never opened by itself). Dismissed once, remembered in the browser.
 */
export function FirstVisitStrip() {
  const [hidden, setHidden] = useState(dismissed);
  const touring = useStore((s) => s.tourStep !== null);
  if (hidden || touring) return null;
  const close = () => {
    try { localStorage.setItem(KEY, '1'); } catch { /* private mode: it comes back next time */ }
    setHidden(true);
  };
  return (
    <section className="first-visit" data-testid="first-visit" aria-label="What am I looking at">
      <p>
        Each dot is an eigenvalue of the <Term id="hessian">Hessian of the behavioral loss</Term>: how strongly the
        network's outputs change along one direction of its parameters.{' '}
        Directions with eigenvalue above the <Term id="eps">loss scale ε</Term> are the ones the model really uses; their
        count <Term id="d1">d₁(ε)</Term> bounds the learning coefficient, and the rest are (nearly) free.{' '}
        The <Term id="defaultEps">default ε</Term> is <Term id="epsStar">ε*</Term>, where keeping only the top k* directions
        still keeps 99.5 % of the accuracy (the projection chart below, seed 002's test), or, when k* lies beyond the
        eigenvalues computed, the middle of the widest gap in the spectrum.{' '}
        <span className="first-visit-actions">
          <button type="button" className="primary" onClick={() => { close(); openTour(0); }} data-testid="first-visit-tour">Take the guided tour (8 steps)</button>
          <button type="button" onClick={close} data-testid="first-visit-close">Got it</button>
        </span>
      </p>
    </section>
  );
}
