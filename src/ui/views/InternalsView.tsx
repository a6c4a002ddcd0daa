import { useMemo, useState } from 'react';
import { computeInternals, fourierOverCheckpoints } from '../../state/compute';
import type { FourierCheckpointsResult } from '../../core/tasks/internals';
import { useStore } from '../../state/store';
import { regroup, type SyncMeasure } from '../../core/internals/syncGroups';
import { predictedZeroCount } from '../../core/internals/zeros';
import { d1At } from '../../core/spectrum/counts';
import { Raster } from '../charts/Raster';
import { Heatmap } from '../charts/Heatmap';
import { Bars } from '../charts/Bars';
import { LineChart } from '../charts/LineChart';
import { useEpsMarks } from '../epsMarks';
import { EpsRuler } from './SpectrumParts';
import { unitLoadings, unitProfile } from '../../core/spectrum/loadings';
import { topEntries } from '../linked';
import { Term } from '../components/Term';
import { fmt, int } from '../format';


/** Synchronized ReLU neurons, Gram spectra and predicted zero counts, the interaction basis, Fourier circuits. */
export function InternalsView() {
  const model = useStore((s) => s.model);
  const result = useStore((s) => s.internals);
  const of = useStore((s) => s.internalsOf);
  const eps = useStore((s) => s.eps);
  const setEps = useStore((s) => s.setEps);
  const spectrum = useStore((s) => s.spectrum);
  const spectrumOf = useStore((s) => s.spectrumOf);
  const running = useStore((s) => s.jobs.some((j) => j.task === 'internals' && (j.status === 'running' || j.status === 'queued')));
  const [tol, setTol] = useState(0);
  const [measure, setMeasure] = useState<SyncMeasure>('fraction');
  const [layerIdx, setLayerIdx] = useState(0);
  const [order, setOrder] = useState('sum');
  const [hover, setHover] = useState<number | null>(null);
  const [edgeIdx, setEdgeIdx] = useState(0);
  const [freq, setFreq] = useState<number | null>(null);
  const [overTraining, setOverTraining] = useState<FourierCheckpointsResult | null>(null);
  const hasRun = useStore((s) => !!s.run?.checkpoints.some((c) => c.theta));
  const neuron = useStore((s) => s.neuron);
  const selectNeuron = useStore((s) => s.selectNeuron);
  const eigen = useStore((s) => s.eigen);
  const selectEigen = useStore((s) => s.selectEigen);
  // A neuron selected elsewhere (e.g. from an eigenvector's loadings) brings its layer up here.
  const [seenNeuron, setSeenNeuron] = useState(neuron);
  if (neuron !== seenNeuron) {
    setSeenNeuron(neuron);
    const i = neuron && result ? result.sync.layers.findIndex((l) => l.name === neuron.layer) : -1;
    if (i >= 0) setLayerIdx(i);
  }

  // Re-grouping at another tolerance is a cheap pure function of the stored pair counts.
  const sync = useMemo(() => (result ? (tol === result.sync.tol && measure === result.sync.measure ? result.sync : regroup(result.sync, tol, measure)) : null), [result, tol, measure]);
  const layer = sync?.layers[Math.min(layerIdx, Math.max(0, (sync?.layers.length ?? 1) - 1))];
  const orders = sync ? Object.keys(sync.pointOrders) : [];
  // The chosen data order, or the first this model offers (MNIST has no "sum" order).
  const effOrder = orders.includes(order) ? order : orders[0] ?? order;
  const colOrder = sync && layer ? (sync.pointOrders[effOrder] ?? Int32Array.from({ length: sync.n }, (_, i) => i)) : null;
  const prediction = useMemo(() => (result && sync ? predictedZeroCount(result.grams, sync, eps) : null), [result, sync, eps]);
  const measured = spectrum && model && spectrumOf === model.name ? d1At(spectrum, eps) : null;
  const edges = result?.interaction.edges[Math.min(edgeIdx, Math.max(0, (result?.interaction.edges.length ?? 1) - 1))];
  const fourier = result?.fourier ?? null;
  const circle = fourier ? fourier.circles.find((c) => c.k === (freq ?? fourier.keyFrequencies[0])) ?? null : null;
  const hoverBlock = layer && hover !== null ? layer.blocks[layer.blockOf[hover]] : null;
  const range = { lo: -10, hi: 4 };
  const epsMarks = useEpsMarks();
  // The spectrum's eigenvector loadings, when they belong to this model.
  const loadings = spectrum && model && spectrumOf === model.name ? spectrum.loadings ?? null : null;
  const selUnit = layer && neuron && neuron.layer === layer.name && neuron.unit < layer.width ? neuron.unit : null;
  const strip = useMemo(() => (loadings && layer && eigen !== null ? unitLoadings(loadings, eigen - 1, layer.name) : null), [loadings, layer, eigen]);
  const selProfile = useMemo(() => (loadings && layer && selUnit !== null ? unitProfile(loadings, layer.name, selUnit) : null), [loadings, layer, selUnit]);
  const selBlock = layer && selUnit !== null ? layer.blocks[layer.blockOf[selUnit]] : null;

  return (
    <div className="internals-view">
      <div className="controls">
        <button type="button" className="primary" disabled={!model} onClick={() => void computeInternals(tol, measure)} data-testid="internals-run">
          {running ? 'Analysing… (run again to replace)' : 'Analyse internals'}
        </button>
        <span className="muted small">on the training split, in the compute worker</span>
      </div>
      <p className="caption">
        Degeneracy you can read off the network itself (degeneracy paper §3–4): ReLU neurons that fire on exactly the same
        inputs can trade weights freely (synchronized blocks, N = Σ s<sub>a</sub>²), directions the activations never use
        (zeros of the Gram G) free all their outgoing weights, directions the output ignores (zeros of K) free all their
        incoming weights.
      </p>
      {!result && <p className="muted">{model ? 'Run the analysis on the current model.' : 'Load a model first.'}</p>}
      {result && sync && (
        <div data-testid="internals-result">
          {of && model && of !== model.name && <p className="notice notice-warning">These results belong to “{of}”, not the current model.</p>}
          <h3><Term id="syncBlock">Synchronized ReLU neurons</Term></h3>
          {sync.layers.length === 0 ? <p className="muted" data-testid="sync-note">{sync.note}</p> : (
            <>
              <div className="controls">
                <label className="field inline"><span>Layer</span>
                  <select value={layerIdx} onChange={(e) => setLayerIdx(Number(e.target.value))}>
                    {sync.layers.map((l, i) => <option key={l.name} value={i}>{l.name} ({l.width})</option>)}
                  </select>
                </label>
                <label className="field inline"><span><Term id={measure === 'eq17' ? 'eq17' : 'syncFraction'}>Measure</Term></span>
                  <select value={measure} onChange={(e) => setMeasure(e.target.value as SyncMeasure)}>
                    <option value="fraction">patterns differ on ≤ tol of points</option>
                    <option value="eq17">eq. 17 measure ≤ tol</option>
                  </select>
                </label>
                <label className="field inline wide"><span><Term id="syncTol">Tolerance</Term> {tol.toFixed(3)}</span>
                  <input type="range" min={0} max={0.2} step={0.001} value={tol} onChange={(e) => setTol(Number(e.target.value))} data-testid="sync-tol" />
                </label>
                <label className="field inline"><span>Data order</span>
                  <select value={effOrder} onChange={(e) => setOrder(e.target.value)}>
                    {orders.map((o) => <option key={o} value={o}>{o === 'sum' ? '(a + b) mod p' : o}</option>)}
                  </select>
                </label>
              </div>
              {layer && colOrder && (
                <>
                  <dl className="stats">
                    <div><dt><Term id="layerWidth">neurons</Term></dt><dd>{layer.width}</dd></div>
                    <div><dt><Term id="syncBlock">blocks</Term></dt><dd data-testid="sync-blocks">{layer.blocks.length}</dd></div>
                    <div><dt><Term id="largestBlock">largest block</Term></dt><dd>{Math.max(...layer.blocks.map((b) => b.length))}</dd></div>
                    <div><dt><Term id="syncN">free directions N</Term></dt><dd data-testid="sync-N">{int(layer.freeDirections)}</dd></div>
                    <div><dt><Term id="deadNeuron">dead</Term></dt><dd>{layer.dead.length}</dd></div>
                    <div><dt><Term id="alwaysOnNeuron">always on</Term></dt><dd>{layer.alwaysOn.length}</dd></div>
                  </dl>
                  <Raster patterns={layer.patterns} width={layer.width} n={sync.n} rowOrder={layer.neuronOrder} colOrder={colOrder} blockOf={layer.blockOf} onHover={setHover} testid="raster"
                    title={`Firing raster of ${layer.name}: ${layer.width} neurons × ${int(sync.n)} training points`}
                    selected={selUnit} onSelect={(u) => selectNeuron(u === null ? null : { layer: layer.name, unit: u })}
                    strip={strip} stripLabel={eigen !== null ? `share of eigenvector ${eigen} on each neuron` : undefined} />
                  <p className="caption small">
                    Rows: neurons sorted into blocks (colours alternate per block). Columns: the {int(sync.n)} training points
                    ordered by {effOrder === 'sum' ? '(a + b) mod p' : effOrder}. Click a row (or focus the raster and use ↑/↓) to select a neuron in every view.
                    {strip && <> The strip on the left is eigenvector k = {eigen}'s share on each neuron (darker: more), from the Spectrum view.</>}
                    {' '}{hover !== null && hoverBlock ? <>Neuron {hover}: fires on {(layer.firingFraction[hover] * 100).toFixed(1)} % of points; block of {hoverBlock.length} (s = {layer.blockRanks[layer.blockOf[hover]]}).</> : 'Hover a row for its neuron.'}
                  </p>
                  {selUnit !== null && selBlock && (
                    <p className="selection-detail small" data-testid="neuron-detail">
                      <strong>Selected: {layer.name} #{selUnit}</strong> fires on {(layer.firingFraction[selUnit] * 100).toFixed(1)} % of points
                      {layer.dead.includes(selUnit) ? ' (dead)' : layer.alwaysOn.includes(selUnit) ? ' (always on)' : ''}; its block has {selBlock.length} neuron{selBlock.length === 1 ? '' : 's'}
                      {selBlock.length > 1 ? ` (${selBlock.filter((u) => u !== selUnit).slice(0, 12).join(', ')}${selBlock.length > 13 ? ', …' : ''})` : ''}, rank s = {layer.blockRanks[layer.blockOf[selUnit]]}.
                      {selProfile ? <> Eigenvectors that move it most: {topEntries(selProfile, 3).map(([k, v], j) => (
                        <span key={k}>{j ? ', ' : ''}<button type="button" className="link-button" onClick={() => selectEigen(k + 1)}>k = {k + 1}</button> ({(v * 100).toFixed(1)} %)</span>
                      ))}.</> : <> Compute the spectrum of this model to see which eigenvectors move it.</>}
                    </p>
                  )}
                </>
              )}
            </>
          )}

          <h3><Term id="gramG">Gram spectra</Term> and <Term id="predictedZeros">predicted Hessian zeros</Term> at ε</h3>
          <label className="field">
            <span><Term id="eps">Loss scale ε</Term> = <strong>{fmt(eps)}</strong> (shared with the Spectrum view)</span>
            <input type="range" min={range.lo} max={range.hi} step={0.01} value={Math.min(range.hi, Math.max(range.lo, Math.log10(eps)))} onChange={(e) => setEps(10 ** Number(e.target.value))} aria-label="loss scale epsilon (log10)" />
          </label>
          <EpsRuler lo={range.lo} hi={range.hi} marks={epsMarks} onPick={setEps} testid="internals-eps-ruler" />
          {prediction && (
            <table className="table" data-testid="zero-table">
              <thead>
                <tr><th>block</th><th><Term id="blockParams">params</Term></th><th><Term id="gZeros">G zeros</Term></th><th><Term id="kZeros">K zeros</Term></th><th><Term id="fanOut">fan-out</Term></th><th><Term id="fanIn">fan-in</Term></th><th><Term id="overlap">overlap</Term></th><th><Term id="syncN">sync N</Term></th><th><Term id="syncDedup">sync de-dup.</Term></th><th><Term id="predictedZeros">predicted</Term></th></tr>
              </thead>
              <tbody>
                {prediction.rows.map((r) => (
                  <tr key={r.name} title={r.notes}>
                    <td>{r.name}</td><td>{int(r.params)}</td><td>{r.gZeros}</td><td>{r.kZeros}</td><td>{int(r.fanOut)}</td><td>{int(r.fanIn)}</td><td>{int(r.overlap)}</td><td>{r.sync === null ? '—' : int(r.sync)}</td><td>{r.syncDedup === null ? '—' : int(r.syncDedup)}</td><td>{int(r.dedup)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr><td>total</td><td>{int(prediction.covered)}</td><td colSpan={7}>{prediction.uncovered ? `${int(prediction.uncovered)} embedding parameters not covered` : ''}</td><td data-testid="zero-predicted">{int(prediction.dedupTotal)}</td></tr>
                <tr><td colSpan={9}>measured <Term id="dFree">d − d₁(ε)</Term> from the Spectrum view</td><td data-testid="zero-measured">{measured ? `${int(spectrum!.d - measured.value)}${measured.source === 'slq' ? ' (SLQ)' : ''}` : 'compute the spectrum of this model'}</td></tr>
              </tfoot>
            </table>
          )}
          {prediction && <p className="caption small">{prediction.notes}</p>}

          <h3><Term id="interactionBasis">Interaction basis</Term></h3>
          <table className="table" data-testid="interaction-table">
            <thead><tr><th>layer</th><th><Term id="layerWidth">width</Term></th><th><Term id="rankG">rank G</Term></th><th><Term id="basisSize">basis size</Term></th></tr></thead>
            <tbody>
              {result.interaction.layers.map((l) => <tr key={l.name}><td>{l.name}</td><td>{l.width}{l.bias ? ' + 1' : ''}</td><td>{l.rankG}</td><td>{l.basisSize}</td></tr>)}
            </tbody>
          </table>
          {edges && (
            <>
              <div className="controls">
                <label className="field inline"><span>Edges</span>
                  <select value={edgeIdx} onChange={(e) => setEdgeIdx(Number(e.target.value))}>
                    {result.interaction.edges.map((e, i) => <option key={`${e.from}-${e.to}`} value={i}>{e.from} → {e.to}</option>)}
                  </select>
                </label>
                <span className="small">Sparsity (<Term id="gini">Gini</Term>; <Term id="top10Share">share of weight in the top 10 % of edges</Term>): neuron basis {edges.neuron.gini.toFixed(2)}; {(edges.neuron.top10 * 100).toFixed(0)} % · interaction basis <strong>{edges.interaction.gini.toFixed(2)}</strong>; {(edges.interaction.top10 * 100).toFixed(0)} %</span>
              </div>
              <div className="chart-grid">
                <Heatmap values={edges.neuron.strength} rows={edges.neuron.rows} cols={edges.neuron.cols} title={`Neuron basis: ${edges.neuron.rows} × ${edges.neuron.cols} (rows: ${edges.to}, columns: ${edges.from})`} testid="edges-neuron"
                  rowLabel={`${edges.to} neuron`} colLabel={`${edges.from} node`} markRow={neuron?.layer === edges.to ? neuron.unit : null} markCol={neuron?.layer === edges.from ? neuron.unit : null} />
                <Heatmap values={edges.interaction.strength} rows={edges.interaction.rows} cols={edges.interaction.cols} title={`Interaction basis: ${edges.interaction.rows} × ${edges.interaction.cols}`} testid="edges-interaction" rowLabel="basis direction (layer l+1)" colLabel="basis direction (layer l)" />
              </div>
            </>
          )}

          {fourier && (
            <>
              <h3>Fourier circuits of the embedding</h3>
              <p className="caption small">
                <Term id="keyFrequency">Key frequencies</Term>: <strong data-testid="fourier-keys">{fourier.keyFrequencies.join(', ') || 'none'}</strong> ({(fourier.keyEnergyFraction * 100).toFixed(0)} % of the embedding's <Term id="keyEnergyFraction">non-constant energy</Term>);
                learned <Term id="fourierCircuit">circuits</Term> (projections that are circles): <strong>{fourier.circuits.length}</strong>. Click a bar to see its 2-D projection.
              </p>
              <div className="chart-grid">
                <Bars labels={Array.from(fourier.frequencies)} values={fourier.norms} highlight={new Set(fourier.keyFrequencies)} selected={circle?.k ?? null} onSelect={setFreq} title="Norm of the embedding per frequency k" xLabel="frequency k" yLabel="norm" testid="fourier-bars" />
                {circle ? (
                  <LineChart dots series={[{ name: `k = ${circle.k}`, color: '#c2410c', points: Array.from(circle.x, (x, i) => [x, circle.y[i]] as [number, number]) }]}
                    title={`Tokens projected on frequency ${circle.k} (circularity ${circle.circularity.toFixed(2)})`} xLabel="cos component" yLabel="sin component" testid="fourier-circle" />
                ) : <p className="muted">Pick a frequency with a circle projection (the key ones).</p>}
              </div>
              <button type="button" disabled={!hasRun} onClick={() => void fourierOverCheckpoints().then(setOverTraining)} data-testid="fourier-checkpoints-run">Fourier norms over the training checkpoints</button>
              {overTraining && (
                <Heatmap values={overTraining.norms} rows={overTraining.steps.length} cols={overTraining.frequencies.length} height={Math.max(120, overTraining.steps.length * 14)} rowLabel="checkpoint (in step order)" colLabel="frequency k − 1"
                  title={`Norm per frequency (columns k = 1…${overTraining.frequencies.length}) at steps ${overTraining.steps[0]}…${overTraining.steps[overTraining.steps.length - 1]} (rows, top = first); key frequencies at the end: ${overTraining.keys[overTraining.keys.length - 1].join(', ') || 'none'}`} testid="fourier-checkpoints" />
              )}
            </>
          )}
          <p className="muted small">Timings: {Object.entries(result.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`).join(', ')}.</p>
        </div>
      )}
    </div>
  );
}
