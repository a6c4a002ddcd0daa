import { BackendBadge } from './components/BackendBadge';
import { ErrorArea } from './components/ErrorArea';
import { JobsPanel } from './components/JobsPanel';
import { ModelPicker } from './components/ModelPicker';
import { SavedPanel } from './components/SavedPanel';
import { ViewArea } from './views/ViewArea';
import { Tour, openTour } from './components/Tour';
import { savedTourStep } from './tour';
import { useStore } from '../state/store';

export function App() {
  const tourStep = useStore((s) => s.tourStep);
  return (
    <div className="app">
      <header className="app-header">
        <h1>SLT degeneracy explorer</h1>
        <span className="tagline">How many directions of parameter space does this model really use?</span>
        <button type="button" className="tour-button" onClick={() => openTour(savedTourStep() ?? 0)} data-testid="tour-start">
          {tourStep === null && savedTourStep() !== null ? 'Resume the tour' : 'Guided tour'}
        </button>
        <BackendBadge />
      </header>
      <ErrorArea />
      <div className="app-body">
        <aside className="sidebar">
          <ModelPicker />
          <JobsPanel />
          <SavedPanel />
        </aside>
        <main className="main">
          <Tour />
          <ViewArea />
        </main>
      </div>
    </div>
  );
}
