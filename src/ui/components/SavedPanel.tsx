import { useEffect, useRef, useState } from 'react';
import { exportSession, importSession } from '../../state/compute';
import { downloadBytes } from '../download';
import { deleteSavedModel, deleteSavedRun, openSavedModel, openSavedRun, refreshSaved, saveCurrentModel } from '../../state/persist';
import { useStore } from '../../state/store';

/** Models and training runs saved in this browser (IndexedDB); they survive reloads. */
export function SavedPanel() {
  const models = useStore((s) => s.savedModels);
  const runs = useStore((s) => s.savedRuns);
  const error = useStore((s) => s.storageError);
  const model = useStore((s) => s.model);
  const [name, setName] = useState('');
  const sessionInput = useRef<HTMLInputElement>(null);
  useEffect(() => { void refreshSaved(); }, []);
  return (
    <section className="panel" aria-label="Saved in this browser" data-testid="saved-panel">
      <h2>Saved in this browser</h2>
      {error && <p className="error-text small">{error}</p>}
      <div className="button-row">
        <input type="text" placeholder={model?.name ?? 'name'} value={name} onChange={(e) => setName(e.target.value)} aria-label="Name to save the model under" />
        <button type="button" disabled={!model} onClick={() => void saveCurrentModel(name.trim() || undefined).then(() => setName(''))} data-testid="save-model">Save model</button>
      </div>
      <div className="button-row" title="The current model, its training run with checkpoints, its spectrum and the settings, in one file">
        <button type="button" onClick={() => void exportSession().then((r) => r && downloadBytes(r.bytes, r.fileName))} data-testid="session-export">Export session</button>
        <button type="button" onClick={() => sessionInput.current?.click()} data-testid="session-import">Import session…</button>
        <input ref={sessionInput} type="file" hidden onChange={(e) => { const f = e.target.files?.[0]; if (f) void importSession(f); e.target.value = ''; }} data-testid="session-input" />
      </div>
      {models.length === 0 && runs.length === 0 && !error && <p className="muted small">Nothing saved yet. Training runs and their checkpoints are saved automatically.</p>}
      {models.length > 0 && (
        <ul className="saved-list" data-testid="saved-models">
          {models.map((m) => (
            <li key={m.id}>
              <button type="button" className="link-button" onClick={() => void openSavedModel(m.id)} title={`${m.paramCount.toLocaleString('en-US')} parameters, saved ${new Date(m.savedAt).toLocaleString()}`}>{m.name}</button>
              <button type="button" className="icon-button" aria-label={`Delete ${m.name}`} onClick={() => void deleteSavedModel(m.id)}>×</button>
            </li>
          ))}
        </ul>
      )}
      {runs.length > 0 && (
        <>
          <h3 className="small">Training runs</h3>
          <ul className="saved-list" data-testid="saved-runs">
            {runs.map((r) => (
              <li key={r.runId}>
                <button type="button" className="link-button" onClick={() => void openSavedRun(r.runId)} title={new Date(r.createdAt).toLocaleString()}>{r.name}</button>
                <button type="button" className="icon-button" aria-label={`Delete run ${r.name}`} onClick={() => void deleteSavedRun(r.runId)}>×</button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
