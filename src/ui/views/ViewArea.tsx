import { useStore } from '../../state/store';
import type { ViewId } from '../../state/url';
import { ForwardView } from './ForwardView';
import { TrainView } from './TrainView';
import { SpectrumView } from './SpectrumView';
import { InternalsView } from './InternalsView';
import { LlcView } from './LlcView';
import { SelectionBar } from '../components/SelectionBar';

const VIEWS: { id: ViewId; label: string; ready: boolean; blurb: string }[] = [
  { id: 'train', label: 'Train', ready: true, blurb: '' },
  { id: 'forward', label: 'Outputs', ready: true, blurb: '' },
  { id: 'spectrum', label: 'Spectrum', ready: true, blurb: '' },
  { id: 'llc', label: 'LLC at ε', ready: true, blurb: '' },
  { id: 'internals', label: 'Internals', ready: true, blurb: '' },
];

export function ViewArea() {
  const view = useStore((s) => s.view);
  const setView = useStore((s) => s.setView);
  const current = VIEWS.find((v) => v.id === view) ?? VIEWS[0];
  return (
    <div className="view-area">
      <nav className="tabs" role="tablist" aria-label="Views">
        {VIEWS.map((v) => (
          <button key={v.id} type="button" role="tab" aria-selected={v.id === current.id} className={v.id === current.id ? 'tab active' : 'tab'} onClick={() => setView(v.id)} data-testid={`tab-${v.id}`}>
            {v.label}{!v.ready && <span className="soon"> (not built yet)</span>}
          </button>
        ))}
      </nav>
      <SelectionBar />
      <div className="view" role="tabpanel">
        {current.id === 'forward' ? (
          <ForwardView />
        ) : current.id === 'train' ? (
          <TrainView />
        ) : current.id === 'spectrum' ? (
          <SpectrumView />
        ) : current.id === 'internals' ? (
          <InternalsView />
        ) : current.id === 'llc' ? (
          <LlcView />
        ) : (
          <div className="placeholder" data-testid="view-not-built">
            <h2>{current.label}</h2>
            <p>{current.blurb}</p>
            <p className="muted">This view is not built yet: it arrives with a later issue. Nothing here is computed or faked.</p>
          </div>
        )}
      </div>
    </div>
  );
}
