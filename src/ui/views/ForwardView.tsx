import { useMemo, useState } from 'react';
import type { Split } from '../../core/data/types';
import { runForward } from '../../state/compute';
import { useStore } from '../../state/store';
import { Histogram, RankBars } from '../charts/Histogram';
import { BenchPanel } from '../components/BenchPanel';
import { Term } from '../components/Term';

const FIRING_DOMAIN: [number, number] = [0, 1];

/** The model's outputs over its data, computed in the worker: loss, accuracy, output histogram, neuron firing. */
export function ForwardView() {
  const model = useStore((s) => s.model);
  const result = useStore((s) => s.forward);
  const running = useStore((s) => s.jobs.some((j) => j.task === 'forward' && (j.status === 'running' || j.status === 'queued')));
  const [split, setSplit] = useState<Split>('all');
  const [repeats, setRepeats] = useState(1);
  const firingStats = useMemo(() => {
    if (!result?.firing) return null;
    let dead = 0, on = 0;
    for (const f of result.firing) { if (f === 0) dead++; else if (f === 1) on++; }
    return { dead, on, n: result.firing.length };
  }, [result]);
  return (
    <div className="forward-view">
      <div className="controls">
        <label className="field inline">
          <span>Data</span>
          <select value={split} onChange={(e) => setSplit(e.target.value as Split)} data-testid="forward-split">
            <option value="all">all rows</option>
            <option value="train">train split</option>
            <option value="test">test split</option>
          </select>
        </label>
        <label className="field inline" title="Repeat the pass to measure throughput (and to have a job long enough to cancel)">
          <span>Repeats</span>
          <input type="number" min={1} max={1000} value={repeats} onChange={(e) => setRepeats(Math.max(1, Math.min(1000, Number(e.target.value) || 1)))} data-testid="forward-repeats" />
        </label>
        <button type="button" className="primary" disabled={!model} onClick={() => void runForward(split, repeats)} data-testid="run-forward">
          {running ? 'Run again (replaces the running pass)' : 'Run forward pass'}
        </button>
      </div>
      <p className="caption">
        The network f<sub>θ</sub> evaluated on every input of its dataset, in the compute worker. Every analysis of
        the loss landscape starts from these outputs: the behavioral loss compares them with the outputs of nearby
        parameters θ.
      </p>
      <BenchPanel />
      {!result && <p className="muted">{model ? 'Run a forward pass to see the outputs.' : 'Building the model…'}</p>}
      {result && (
        <div data-testid="forward-result" data-backend={result.backend}>
          <dl className="stats">
            <div><dt><Term id="rows">rows</Term></dt><dd>{result.n.toLocaleString('en-US')}</dd></div>
            <div><dt>{result.accuracy !== undefined ? <Term id="crossEntropy">cross-entropy</Term> : <Term id="mse">MSE</Term>}</dt><dd data-testid="forward-loss">{result.loss.toPrecision(4)}</dd></div>
            {result.accuracy !== undefined && <div><dt><Term id="accuracy">accuracy</Term></dt><dd data-testid="forward-accuracy">{(result.accuracy * 100).toFixed(2)} %</dd></div>}
            <div><dt>computed on</dt><dd data-testid="forward-backend">{result.backend}</dd></div>
            <div><dt><Term id="throughput">throughput</Term></dt><dd>{Math.round(result.rowsPerSecond).toLocaleString('en-US')} rows/s</dd></div>
          </dl>
          <Histogram values={result.outputs} title={`Distribution of the ${(result.n * result.outDim).toLocaleString('en-US')} output values`} xLabel={result.accuracy !== undefined ? 'logit' : 'output'} yLabel="count" testid="chart-outputs" />
          {result.firing && firingStats && (
            <>
              <RankBars values={result.firing} yDomain={FIRING_DOMAIN} title="First hidden layer: fraction of inputs on which each ReLU neuron fires (sorted)" xLabel="neuron rank" yLabel="firing fraction" testid="chart-firing" />
              <p className="caption">
                {firingStats.dead} of {firingStats.n} neurons never fire (<Term id="deadNeuron">dead</Term>) and {firingStats.on} always fire (<Term id="alwaysOnNeuron">linear on
                this data</Term>). Both are sources of degeneracy: a dead neuron's weights are free directions. (Counted on the rows evaluated here; the Internals view counts on the training split, so the numbers can differ.)
              </p>
            </>
          )}
        </div>
      )}
    </div>
  );
}
