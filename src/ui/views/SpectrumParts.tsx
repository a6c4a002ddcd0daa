/**
 * Pieces of the Spectrum view added for issue 13: where the spectrum shown came from (with a
 * one-click Recompute), the live view of a running Lanczos job, the stopped-short note with the
 * cost of going on, the seed 002 comparison table and the marks under the ε slider.
 */
import { useMemo } from 'react';
import { computeSpectrum } from '../../state/compute';
import type { SpectrumSource } from '../../state/store';
import type { StoppedShort } from '../../core/io/analysis';
import type { SpectrumPartial, SpectrumResult } from '../../core/tasks/spectrum';
import { SEED002, type Seed002Id } from '../../core/spectrum/plan';
import { llcBounds } from '../../core/spectrum/counts';
import { LineChart, type Series } from '../charts/LineChart';
import { Term } from '../components/Term';
import { fmt, int } from '../format';

const duration = (s: number): string => (s < 120 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : s < 7200 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);
const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(2)} %`);

/** "Precomputed 2026-12-06 · Lanczos top 1,100 · tfjs wasm · 14 min — Recompute". */
export function SpectrumSourceBadge({ source, running, disabled }: { source: SpectrumSource; running: boolean; disabled: boolean }) {
  const when = new Date(source.date);
  const date = Number.isNaN(when.getTime()) ? source.date : when.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const what = source.kind === 'precomputed' ? 'Precomputed' : source.kind === 'partial' ? 'Partial (cancelled)' : 'Computed in this tab';
  return (
    <div className={`source-badge source-${source.kind}`} data-testid="spectrum-source" data-kind={source.kind}>
      <span><strong>{what}</strong> {date} · {source.method === 'dense' ? 'dense, all d eigenvalues (exact)' : `Lanczos top ${int(source.k)}`} · {source.backend} · {duration(source.seconds)}{source.kind === 'precomputed' ? ' · shipped with the app (npm run models)' : ''}</span>
      <button type="button" onClick={() => void computeSpectrum()} disabled={disabled || running} data-testid="spectrum-recompute">
        {running ? 'Recomputing…' : 'Recompute'}
      </button>
    </div>
  );
}

/** What a running Lanczos job has streamed: converged eigenvalues, the projection curve so far, the moving k* estimate. */
export function LiveSpectrum({ live }: { live: SpectrumPartial }) {
  const conv = live.eigenvalues.length;
  const secs = live.elapsedMs / 1000;
  const rate = live.matvecs / Math.max(secs, 1e-3);
  const eig: Series[] = useMemo(() => [
    { name: 'converged', color: '#2458c6', points: Array.from(live.eigenvalues, (v, i) => [i + 1, v] as [number, number]) },
    { name: 'Ritz (not yet)', color: '#9aa5b8', points: Array.from(live.ritz, (v, i) => [i + 1, v] as [number, number]).slice(conv) },
  ], [live, conv]);
  const proj: Series[] = useMemo(() => {
    const c = live.projection;
    if (!c) return [];
    const acc = c.metric === 'accuracy';
    return [
      { name: acc ? 'train acc' : 'train MSE', color: '#2458c6', points: c.points.map((p) => [p.k, acc ? p.trainAcc ?? NaN : p.trainLoss] as [number, number]) },
      { name: acc ? 'test acc' : 'test MSE', color: '#c2410c', points: c.points.map((p) => [p.k, acc ? p.testAcc ?? NaN : p.testLoss] as [number, number]) },
    ];
  }, [live]);
  return (
    <section className="live-spectrum" data-testid="live-spectrum" data-converged={conv}>
      <p>
        <strong>Computing:</strong> <span data-testid="live-converged">{int(conv)} of {int(live.k)} eigenpairs converged</span> after {duration(secs)} ({int(live.iterations)} Lanczos steps, {rate.toFixed(1)} products H·v per second).{' '}
        <span data-testid="live-kstar" data-kstar={live.kStar ?? ''}>{live.kStar !== null ? <>k* estimate: <strong>{int(live.kStar)}</strong> (on the converged directions so far)</> : conv > 0 ? <>k* &gt; {int(conv)} so far (the {int(conv)} converged directions keep less than the cutoff)</> : <>waiting for the first converged eigenpair</>}</span>.
        {' '}Cancel keeps what has converged.
      </p>
      <div className="chart-grid">
        <LineChart series={eig} dots logY title="Eigenvalues so far (converged in blue)" xLabel="rank k" yLabel="eigenvalue h_k" testid="chart-live-eigenvalues" height={220} />
        {proj.length > 0 && <LineChart series={proj} logY={live.projection?.metric === 'mse'} yDomain={live.projection?.metric === 'accuracy' ? [0, 1] : undefined} title="Accuracy keeping the top k converged directions" xLabel="k, top eigenvectors kept" yLabel={live.projection?.metric === 'accuracy' ? 'accuracy' : 'MSE'} testid="chart-live-projection" height={220} />}
      </div>
    </section>
  );
}

/** How far a stopped run got and what going on would cost. */
export function StoppedShortNote({ s }: { s: StoppedShort }) {
  return (
    <p className="notice notice-info" data-testid="stopped-short">
      Stopped at {int(s.converged)} of {int(s.requested)} eigenpairs ({s.reason}) after {duration(s.seconds)}, {s.matvecsPerSecond.toFixed(1)} products H·v per second.
      {s.estimate && <> Going on to k = {int(s.estimate.k)} would take ≈ {duration(s.estimate.seconds)} and ≈ {(s.estimate.bytes / 1e6).toFixed(0)} MB of memory ({s.estimate.note}).</>}
    </p>
  );
}

/** Seed 002's answer beside ours: d, k*, d − k*, the bounds at d1 = k*, accuracy at k*. */
export function Seed002Table({ arch, r, kStar }: { arch: string; r: SpectrumResult; kStar: number | null }) {
  if (!(arch in SEED002)) return null;
  const s = SEED002[arch as Seed002Id];
  const curve = r.projection;
  const atK = kStar !== null ? curve?.points.find((p) => p.k === kStar) : undefined;
  const acc = curve?.metric === 'accuracy';
  const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  const b = (d: number, k: number | null) => (k === null ? '—' : (() => { const x = llcBounds(d, k); return `${n(x.lower)} ≤ λ ≤ ${n(x.upper)}`; })());
  const ours = kStar !== null ? int(kStar) : `not reached by k = ${int(r.eigenvalues.length)}`;
  return (
    <table className="seed002" data-testid="seed002-table">
      <caption>Seed 002 vs this model (seed 002's numbers are for its own trained model)</caption>
      <thead><tr><th /><th><Term id="d">d</Term></th><th><Term id="kStar">k*</Term></th><th><Term id="zeroCountKStar">d − k*</Term></th><th><Term id="llcBounds">bounds at d₁ = k*</Term></th><th>{acc ? 'train / test accuracy at k*' : 'train / test MSE at k*'}</th></tr></thead>
      <tbody>
        <tr><th scope="row">seed 002</th><td>{int(s.d)}</td><td>{s.kStar !== null ? int(s.kStar) : s.note}</td><td>{s.kStar !== null ? int(s.d - s.kStar) : '—'}</td><td>{b(s.d, s.kStar)}</td><td>{s.kStar !== null ? (acc ? '≥ 99.5 % of the original (the cutoff)' : 'flat after k = 400') : '—'}</td></tr>
        <tr data-testid="seed002-ours"><th scope="row">this model</th><td>{int(r.d)}</td><td>{ours}</td><td>{kStar !== null ? int(r.d - kStar) : '—'}</td><td>{b(r.d, kStar)}</td>
          <td>{(() => {
            // Not reached: the accuracy at the largest k computed says how far from the cutoff it is.
            const q = atK ?? curve?.points[curve.points.length - 1];
            if (!q) return '—';
            const v = acc ? `${pct(q.trainAcc)} / ${pct(q.testAcc)}` : `${fmt(q.trainLoss)} / ${Number.isFinite(q.testLoss) ? fmt(q.testLoss) : '—'}`;
            return atK ? v : `${v} at k = ${int(q.k)}`;
          })()}</td></tr>
      </tbody>
    </table>
  );
}

/** Ticks under the ε slider at the floor, the widest gaps and ε* (click one to move ε there). */
export function EpsRuler({ lo, hi, marks, onPick, testid = 'eps-ruler' }: { lo: number; hi: number; marks: { value: number; label: string; color: string; kind: string }[]; onPick: (v: number) => void; testid?: string }) {
  return (
    <div className="eps-ruler" data-testid={testid}>
      {marks.map((m, i) => {
        const f = (Math.log10(m.value) - lo) / (hi - lo);
        if (!(f >= 0 && f <= 1)) return null;
        return (
          <button type="button" key={`${m.kind}-${i}`} className="eps-tick" data-mark={m.kind} data-value={m.value} style={{ left: `${(f * 100).toFixed(2)}%`, borderColor: m.color, color: m.color, top: `${(i % 3) * 1.25}rem`, ...(f > 0.6 ? { transform: 'translateX(-100%)', borderLeft: 'none', borderRight: `2px solid ${m.color}`, padding: '0 4px 0 0' } : {}) }}
            onClick={() => onPick(m.kind === 'epsStar' ? m.value * (1 - 1e-9) : m.value)} title={`set ε = ${m.value.toExponential(3)}`}>
            {m.label}
          </button>
        );
      })}
    </div>
  );
}
