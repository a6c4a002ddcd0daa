import { cancelJob, crashWorkerForTest } from '../../state/compute';
import { useStore } from '../../state/store';

function fmtMs(ms?: number): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Every job with its progress, phase and a cancel button; finished ones stay until cleared. */
/** `?debug` in the URL shows tools for exercising failure paths (used by the e2e tests). */
const DEBUG = typeof window !== 'undefined' && new URLSearchParams(window.location.search).has('debug');

export function JobsPanel() {
  const jobs = useStore((s) => s.jobs);
  const clear = useStore((s) => s.clearFinished);
  return (
    <section className="panel jobs-panel" aria-label="Jobs" data-testid="jobs-panel">
      <div className="panel-title">
        <h2>Jobs</h2>
        {jobs.some((j) => j.status !== 'running' && j.status !== 'queued') && (
          <button type="button" className="link-button" onClick={clear}>clear finished</button>
        )}
      </div>
      {jobs.length === 0 && <p className="muted">No jobs yet.</p>}
      <ul className="jobs">
        {jobs.map((j) => (
          <li key={j.id} className={`job job-${j.status}`} data-testid="job" data-job-id={j.id} data-status={j.status} data-task={j.task}>
            <div className="job-head">
              <span className="job-label">{j.label}</span>
              <span className="job-status">{j.status}{j.status === 'done' && j.backend ? ` · ${j.backend} · ${fmtMs(j.ms)}` : ''}</span>
            </div>
            {(j.status === 'running' || j.status === 'queued') && (
              <div className="job-progress">
                <progress max={1} value={j.fraction} aria-label={`${j.label} progress`} data-testid="job-progress" />
                <span className="job-phase">{j.phase} · {(j.fraction * 100).toFixed(0)} %</span>
                <button type="button" onClick={() => cancelJob(j.id)} data-testid="job-cancel">Cancel</button>
              </div>
            )}
            {j.status === 'cancelled' && <div className="job-phase">{j.phase}</div>}
            {j.status === 'error' && <div className="job-error">{j.error}</div>}
          </li>
        ))}
      </ul>
      {DEBUG && (
        <button type="button" className="link-button" onClick={crashWorkerForTest} data-testid="debug-crash">
          debug: crash the compute worker
        </button>
      )}
    </section>
  );
}
