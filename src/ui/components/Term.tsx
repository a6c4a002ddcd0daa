import { useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { GLOSSARY, termTitle, type TermId } from '../glossary';
import { TeX } from './TeX';

export { termTitle };
export type { TermId };

/**
 * A quantity's label with its definition on demand: dotted underline, focusable, and a tooltip
 * (definition, defining equation, source) on hover or keyboard focus; Escape, blur or leaving
 * with the pointer hides it. The tooltip stays open while the pointer is over it (WCAG 1.4.13).
 *
 * The tooltip is only in the DOM while open, so the textContent of the surrounding element (which
 * tests and exports read) is just the label; aria-describedby points at it while it is shown.
 * Everything is a <span>, so a Term is valid inside <dt>, <th>, <label> and running text.
 */
export function Term({ id, children }: { id: TermId; children?: ReactNode }) {
  const entry = GLOSSARY[id];
  const tipId = useId();
  const tipRef = useRef<HTMLSpanElement>(null);
  const [hover, setHover] = useState(false);
  const [focus, setFocus] = useState(false);
  const [dismissed, setDismissed] = useState(false);
  const open = (hover || focus) && !dismissed;

  // Escape hides it even when it was opened by the pointer (focus elsewhere).
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') setDismissed(true); };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open]);

  // Below the term, left-aligned; right-aligned instead when that would leave the viewport.
  useLayoutEffect(() => {
    const el = tipRef.current;
    if (!open || !el || typeof window === 'undefined') return;
    const r = el.getBoundingClientRect();
    el.classList.toggle('term-tip-right', r.right > window.innerWidth - 8);
  }, [open]);

  return (
    <span className="term-wrap" onMouseEnter={() => { setHover(true); setDismissed(false); }} onMouseLeave={() => setHover(false)}>
      <span
        className="term"
        tabIndex={0}
        aria-describedby={open ? tipId : undefined}
        data-term={id}
        onFocus={() => { setFocus(true); setDismissed(false); }}
        onBlur={() => setFocus(false)}
      >
        {children ?? entry.label}
      </span>
      {open && (
        <span className="term-tip" role="tooltip" id={tipId} data-testid="term-tooltip" ref={tipRef}>
          <span className="term-tip-label">{entry.label}</span>
          <span className="term-tip-def">{entry.definition}</span>
          <span className="term-tip-tex"><TeX tex={entry.tex} /></span>
          <span className="term-tip-source">{entry.source}</span>
        </span>
      )}
    </span>
  );
}
