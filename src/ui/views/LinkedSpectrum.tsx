import { useCallback, useMemo, type ReactNode } from 'react';
import { useStore } from '../../state/store';
import type { SpectrumResult } from '../../core/tasks/spectrum';
import { unitLoadings, unitProfile } from '../../core/spectrum/loadings';
import { justBelow, topEntries } from '../linked';
import { Bars } from '../charts/Bars';
import { LineChart } from '../charts/LineChart';
import { Term } from '../components/Term';
import { fmt } from '../format';

const pct = (v: number) => `${(v * 100).toFixed(v < 0.01 ? 2 : 1)} %`;

/**
 * The Spectrum view's side of the linked selection: where the selected eigenvector lives (its
 * share per tensor and per neuron; click a neuron to select it) and which eigenvectors move the
 * selected neuron (its share in each; click to select one).
 */
export function LinkedSpectrum({ r }: { r: SpectrumResult }) {
  const eigen = useStore((s) => s.eigen);
  const neuron = useStore((s) => s.neuron);
  const selectEigen = useStore((s) => s.selectEigen);
  const selectNeuron = useStore((s) => s.selectNeuron);
  const setEps = useStore((s) => s.setEps);
  const L = r.loadings;
  const i = eigen !== null && eigen <= r.eigenvalues.length ? eigen - 1 : null;
  const h = i !== null ? r.eigenvalues[i] : null;
  const profile = useMemo(() => (L && neuron ? unitProfile(L, neuron.layer, neuron.unit) : null), [L, neuron]);
  const profileSeries = useMemo(() => (profile ? [{ name: 'share', color: '#6a3fb5', points: Array.from(profile, (v, k) => [k + 1, v] as [number, number]) }] : []), [profile]);
  const onPickK = useCallback((k: number) => { const kk = Math.round(k); if (kk >= 1 && kk <= (L?.k ?? 0)) selectEigen(kk); }, [L, selectEigen]);
  const neuronKnown = !!(L && neuron && profile);

  if (i === null && !neuron) {
    return <p className="muted small" data-testid="linked-hint">Click an eigenvalue to select its eigenvector and see which neurons it moves; drag across a chart to brush a band of eigenvalues (highlighted in every view). Select a neuron in the Internals view to see which eigenvectors move it.</p>;
  }
  return (
    <section className="linked" data-testid="linked-spectrum">
      {i !== null && h !== null && (
        <div data-testid="eigen-panel">
          <h3>Eigenvector k = {eigen}: h = {fmt(h)}</h3>
          <div className="controls">
            {h > 0 && <button type="button" onClick={() => setEps(justBelow(h))} data-testid="eps-to-eigen">set ε just below h<sub>k</sub> (d₁(ε) = k)</button>}
            <span className="small muted"><Term id="residual">residual ‖Hv − hv‖</Term> = {Number.isFinite(r.residuals[i]) ? fmt(r.residuals[i]) : 'not computed'}</span>
          </div>
          {!L || i >= L.k ? (
            <p className="muted small">{L ? `Loadings are kept for the top ${L.k.toLocaleString('en-US')} eigenvectors only.` : 'This spectrum has no eigenvector loadings (it was computed without eigenvectors, or by an older version): recompute it to link eigenvectors to neurons.'}</p>
          ) : (
            <>
              <table className="table compact" data-testid="eigen-tensors">
                <thead><tr><th>tensor</th><th><Term id="eigLoading">share of ‖v<sub>k</sub>‖²</Term></th></tr></thead>
                <tbody>{L.tensors.map((t, ti) => <tr key={t}><td>{t}</td><td>{pct(L.perTensor[i * L.tensors.length + ti])}</td></tr>)}</tbody>
              </table>
              <div className="chart-grid">
                {L.layers.map((ly) => {
                  const vals = unitLoadings(L, i, ly.name)!;
                  const top = new Set(topEntries(vals, Math.min(5, ly.width)).map(([u]) => u));
                  return (
                    <Bars key={ly.name} labels={Array.from({ length: ly.width }, (_, u) => u)} values={vals} highlight={top}
                      selected={neuron?.layer === ly.name ? neuron.unit : null} onSelect={(u) => selectNeuron({ layer: ly.name, unit: u })}
                      title={`Share of eigenvector ${eigen} on each ${ly.name} neuron (click one to select it)`} xLabel={`${ly.name} neuron`} yLabel="share of ‖v‖²" testid={`eigen-units-${ly.name}`} />
                  );
                })}
              </div>
            </>
          )}
        </div>
      )}
      {neuron && (
        <div data-testid="neuron-panel">
          <h3>Neuron {neuron.layer} #{neuron.unit}</h3>
          {!neuronKnown ? (
            <p className="muted small">{L ? `This model has no neuron ${neuron.layer} #${neuron.unit}.` : 'Recompute the spectrum to see which eigenvectors move this neuron.'}</p>
          ) : (
            <>
              <p className="small">
                Eigenvectors carrying most of their <Term id="eigLoading">mass</Term> on this neuron's parameters (incoming weights and bias, outgoing weights):{' '}
                {topEntries(profile!, 5).map(([k, v]) => (
                  <button key={k} type="button" className="link-button" onClick={() => selectEigen(k + 1)}>k = {k + 1} ({pct(v)})</button>
                )).reduce<ReactNode[]>((acc, el, j) => (j ? [...acc, ', ', el] : [el]), [])}
              </p>
              <LineChart dots series={profileSeries} ring={i !== null && i < profile!.length ? [i + 1, profile![i]] : null} onClickX={onPickK}
                title={`Share of each eigenvector on neuron ${neuron.layer} #${neuron.unit} (click to select an eigenvector)`} xLabel="rank k" yLabel="share of ‖v_k‖²" testid="neuron-profile" />
            </>
          )}
        </div>
      )}
    </section>
  );
}
