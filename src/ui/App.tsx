import { BackendBadge } from './components/BackendBadge';
import { ErrorArea } from './components/ErrorArea';
import { JobsPanel } from './components/JobsPanel';
import { ModelPicker } from './components/ModelPicker';
import { SavedPanel } from './components/SavedPanel';
import { ViewArea } from './views/ViewArea';

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>SLT degeneracy explorer</h1>
        <span className="tagline">How many directions of parameter space does this model really use?</span>
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
          <ViewArea />
        </main>
      </div>
    </div>
  );
}
