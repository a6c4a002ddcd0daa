import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { applyShareable, shareableDefaults, shareableOf, useStore } from '../state/store';
import { formatShareable, parseShareable } from '../state/url';
import { loadInitialModel, loseDeviceForTest, startCompute } from '../state/compute';
import { watchAnalysisModel } from '../state/analysis';
import './styles.css';

// Shareable settings come from the URL first, then the store writes them back as they change.
const parsed = parseShareable(window.location.search);
applyShareable(parsed.values);
if (parsed.rejected.length) {
  useStore.getState().pushNotice('warning', `Ignored link settings that could not be used: ${parsed.rejected.join(', ')}`);
}
let lastQuery = formatShareable(shareableOf(useStore.getState()), shareableDefaults(useStore.getState().arch));
useStore.subscribe((s) => {
  const q = formatShareable(shareableOf(s), shareableDefaults(s.arch));
  if (q !== lastQuery) {
    lastQuery = q;
    window.history.replaceState(null, '', `${window.location.pathname}${q}${window.location.hash}`);
  }
});

// A link's ε is kept; otherwise the first spectrum sets the default ε (ε*, else the largest gap).
if (parsed.values.eps !== undefined) useStore.setState({ epsPinned: true });
watchAnalysisModel();
startCompute();
void loadInitialModel();

// `?debug=1` only: hooks the e2e tests use to provoke failures (a real lost GPU device).
if (new URLSearchParams(window.location.search).get('debug') === '1') {
  (window as unknown as { __slt?: unknown }).__slt = { loseDevice: loseDeviceForTest };
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
