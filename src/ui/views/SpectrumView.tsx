import { useCallback, useMemo, useState } from 'react';
import { computeSpectrum } from '../../state/compute';
import { useStore } from '../../state/store';
import { d1At, llcBounds, logDensity } from '../../core/spectrum/counts';
import { countAboveFloor, cutoffK } from '../../core/spectrum/projection';
import { BROWSER_MEMORY_LIMIT, spectrumMemory } from '../../core/spectrum/memory';
import { LineChart, type Series } from '../charts/LineChart';
import { bandOfRanks, justBelow, ranksInBand } from '../linked';
import { LinkedSpectrum } from './LinkedSpectrum';
import { Term } from '../components/Term';
import { fmt, int } from '../format';
import { epsGuide, explainEps } from '../../core/spectrum/epsilon';
import { continueCost, defaultSpectrumPlan } from '../../core/spectrum/plan';
import type { ChartMark } from '../charts/LineChart';
import { SpectrumSourceBadge, LiveSpectrum, Seed002Table, StoppedShortNote, EpsRuler } from './SpectrumParts';
import { FirstVisitStrip } from '../components/FirstVisit';
import { useEpsMarks } from '../epsMarks';


/** Bounds are multiples of ¼: up to two decimals, thousands separated. */
const fmtBound = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 2 });

function fmtDuration(s: number): string {
  if (s < 120) return `${s.toFixed(0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Hessian spectrum of the behavioral loss, d1(ε), the LLC bounds and the accuracy cutoff. */
export function SpectrumView() {
  const model = useStore((s) => s.model);
  const r = useStore((s) => s.spectrum);
  const of = useStore((s) => s.spectrumOf);
  const o = useStore((s) => s.spectrumSettings);
  const setO = useStore((s) => s.setSpectrumSettings);
  const eps = useStore((s) => s.eps);
  const setEps = useStore((s) => s.setEps);
  const eigen = useStore((s) => s.eigen);
  const selectEigen = useStore((s) => s.selectEigen);
  const band = useStore((s) => s.band);
  const setBand = useStore((s) => s.setBand);
  const running = useStore((s) => s.jobs.some((j) => j.task === 'spectrum' && (j.status === 'running' || j.status === 'queued')));
  const source = useStore((s) => s.spectrumSource);
  const live = useStore((s) => s.spectrumLive);
  const plan = model ? defaultSpectrumPlan(model.config.arch, model.theta.length) : null;
  const kShown = o.kAuto && plan ? plan.k : o.k;

  // The slider's range: from below the smallest positive eigenvalue (computed or SLQ node) to
  // above the largest, but no lower than 10⁻¹⁰·h₁ (float32 noise lives far above that).
  const range = useMemo(() => {
    if (!r) return { lo: -8, hi: 2 };
    const top = r.eigenvalues[0] > 0 ? r.eigenvalues[0] : 1;
    let smallest = Infinity;
    for (const v of r.eigenvalues) if (v > 0 && v < smallest) smallest = v;
    for (const nodes of r.slq?.nodes ?? []) for (const v of nodes) if (v > 0 && v < smallest) smallest = v;
    if (r.floor && r.floor.floor > 0) smallest = Math.min(smallest, r.floor.floor);
    const bottom = Math.max(Number.isFinite(smallest) ? smallest : top * 1e-8, top * 1e-10);
    return { lo: Math.floor(Math.log10(bottom)) - 1, hi: Math.ceil(Math.log10(top)) + 1 };
  }, [r]);

  const d1 = r ? d1At(r, eps) : null;
  const bounds = r && d1 ? llcBounds(r.d, d1.value) : null;
  // What every ε axis marks: the float32 floor, the widest log-gaps above it, ε*.
  const guide = useMemo(() => (r ? epsGuide(r, o.cutoff, o.cutoffSplit) : null), [r, o.cutoff, o.cutoffSplit]);
  const epsMarks = useEpsMarks();
  const marksY: ChartMark[] = useMemo(() => epsMarks.map((m) => ({ y: m.value, label: m.label, color: m.color })), [epsMarks]);
  const marksLogX: ChartMark[] = useMemo(() => epsMarks.map((m) => ({ x: Math.log10(m.value), label: m.label, color: m.color })), [epsMarks]);
  const why = r && d1 ? explainEps({ d: r.d, d1: d1.value, eps, floor: guide?.floor ?? null, h1: r.eigenvalues[0] }) : null;

  const [showKron, setShowKron] = useState(false);
  const rankSeries: Series[] = useMemo(() => {
    if (!r) return [];
    const s: Series[] = [{ name: 'h_k', color: '#2458c6', points: Array.from(r.eigenvalues, (v, i) => [i + 1, v] as [number, number]) }];
    if (showKron && r.kronecker) {
      // Same ranks as the exact values (up to 4 × as many, so the tail shape shows).
      const kr = r.kronecker.eigenvalues;
      const m = Math.min(kr.length, Math.max(r.eigenvalues.length * 4, 200));
      s.push({ name: 'K ⊗ G', color: '#c2410c', points: Array.from(kr.subarray(0, m), (v, i) => [i + 1, v] as [number, number]) });
    }
    return s;
  }, [r, showKron]);

  const density = useMemo(() => {
    if (!r) return null;
    const grid = Float64Array.from({ length: 240 }, (_, i) => range.lo + ((range.hi - range.lo) * i) / 239);
    const floor = 10 ** range.lo;
    const { density: rho, belowFloor } = logDensity(r, grid, 0.06, floor);
    return { series: [{ name: 'density', color: '#6a3fb5', points: Array.from(grid, (g, i) => [g, rho[i]] as [number, number]) }] as Series[], belowFloor };
  }, [r, range]);

  const curve = r?.projection;
  const cut = useMemo(() => (curve && r ? cutoffK(curve, { cutoff: o.cutoff, split: o.cutoffSplit, kRef: countAboveFloor(r.eigenvalues) }) : null), [curve, r, o.cutoff, o.cutoffSplit]);
  const projSeries: Series[] = useMemo(() => {
    if (!curve) return [];
    const acc = curve.metric === 'accuracy';
    return [
      { name: acc ? 'train acc' : 'train MSE', color: '#2458c6', points: curve.points.map((p) => [p.k, acc ? p.trainAcc ?? NaN : p.trainLoss] as [number, number]) },
      { name: acc ? 'test acc' : 'test MSE', color: '#c2410c', points: curve.points.map((p) => [p.k, acc ? p.testAcc ?? NaN : p.testLoss] as [number, number]) },
    ];
  }, [curve]);
  const kOfEps = d1 ? Math.round(d1.value) : null;
  const epsStar = cut?.kStar && r ? r.eigenvalues[cut.kStar - 1] : null;
  const onClickK = useCallback((k: number) => {
    if (!r) return;
    const i = Math.min(r.eigenvalues.length, Math.max(1, Math.round(k)));
    const h = r.eigenvalues[i - 1];
    if (h > 0) setEps(justBelow(h));
  }, [r, setEps]);

  // Linked selection: click an eigenvalue to select its eigenvector; drag to brush a band.
  const onPickEigen = useCallback((k: number) => {
    if (!r) return;
    selectEigen(Math.min(r.eigenvalues.length, Math.max(1, Math.round(k))));
  }, [r, selectEigen]);
  const onBrushRanks = useCallback(([a, b]: [number, number]) => { if (r) { const bd = bandOfRanks(r.eigenvalues, a, b); if (bd) setBand(bd); } }, [r, setBand]);
  const onBrushLog = useCallback(([a, b]: [number, number]) => setBand([10 ** a, 10 ** b]), [setBand]);
  const bandLog = useMemo<[number, number] | null>(() => (band ? [Math.log10(band[0]), Math.log10(band[1])] : null), [band]);
  const bandRanks = useMemo(() => (band && r ? ranksInBand(r.eigenvalues, band) : null), [band, r]);
  const ring = useMemo<[number, number] | null>(() => (r && eigen !== null && eigen <= r.eigenvalues.length ? [eigen, r.eigenvalues[eigen - 1]] : null), [r, eigen]);

  const logEps = Math.log10(eps);
  const mem = model ? spectrumMemory({ d: model.theta.length, method: o.kAuto && o.method === 'auto' && plan ? plan.method : o.method, k: kShown, probes: o.probes }) : null;
  const tooBig = !!mem && mem.bytes > BROWSER_MEMORY_LIMIT;
  const controls = (
    <>
      <div className="controls">
        <label className="field inline"><span><Term id="spectrumMethod">Method</Term></span>
          <select value={o.method} onChange={(e) => setO({ method: e.target.value as typeof o.method })} data-testid="spectrum-method">
            <option value="auto">auto (dense if d ≤ 2,500)</option>
            <option value="dense">dense (exact, all d)</option>
            <option value="lanczos">Lanczos (top k) + SLQ density</option>
          </select>
        </label>
        <label className="field inline"><span><Term id="lanczosK">k</Term></span>
          <input type="number" min={1} max={5000} value={kShown} onChange={(e) => setO({ kAuto: false, k: Math.max(1, Math.min(5000, Math.round(Number(e.target.value) || 1))) })} data-testid="spectrum-k" />
        </label>
        <label className="field inline"><span>stop (min)</span>
          <input type="number" min={0} max={600} step={1} value={o.timeLimitMin} onChange={(e) => setO({ timeLimitMin: Math.max(0, Math.min(600, Number(e.target.value) || 0)) })} data-testid="spectrum-time-limit" title="A Lanczos run stops after this long and keeps the eigenpairs that converged (0: no limit)" />
        </label>
        <label className="field inline"><span>Data</span>
          <select value={o.split} onChange={(e) => setO({ split: e.target.value as 'train' | 'all' })}>
            <option value="train">train split</option>
            <option value="all">all rows</option>
          </select>
        </label>
        <label className="field inline"><span><Term id={o.loss === 'kl' ? 'klBehavioralLoss' : 'behavioralLoss'}>Loss</Term></span>
          <select value={o.loss} onChange={(e) => setO({ loss: e.target.value as 'mse' | 'kl' })}>
            <option value="mse">behavioral (MSE)</option>
            <option value="kl">behavioral (KL)</option>
          </select>
        </label>
        <button type="button" className="primary" disabled={!model || tooBig} onClick={() => void computeSpectrum()} data-testid="spectrum-run">
          {running ? 'Computing… (run again to replace)' : 'Compute spectrum'}
        </button>
      </div>
      {mem && (
        <p className={tooBig ? 'error-text small' : 'muted small'} data-testid="spectrum-memory">
          {o.kAuto && plan ? <>Default for this model: {plan.method === 'dense' ? 'the exact dense spectrum' : `Lanczos ${plan.why}`}. </> : null}
          Needs about {(mem.bytes / 1e6).toFixed(0)} MB ({mem.detail}).
          {tooBig && ' That is more than a browser tab reliably has: lower k, or use the command line.'}
        </p>
      )}
    </>
  );
  return (
    <div className="spectrum-view">
      <FirstVisitStrip />
      {!r && controls}
      {live && running && <LiveSpectrum live={live} />}
      {!r && !live && <p className="muted">{model ? 'Compute the spectrum of the current model.' : 'Loading the model and its precomputed analysis…'}</p>}
      {r && d1 && bounds && (
        <div data-testid="spectrum-result" data-method={r.method} data-source={source?.kind ?? 'computed'}>
          {source && <SpectrumSourceBadge source={source} running={running} disabled={!model || tooBig} />}
          {of && model && of !== model.name && <p className="notice notice-warning">This spectrum belongs to “{of}”, not the current model.</p>}
          <div className="eps-control">
            <label className="field">
              <span><Term id="eps">Loss scale ε</Term> (log scale; arrow keys move it) — <Term id="defaultEps">default</Term>: {guide?.source === 'eps-star' ? 'ε*, from the accuracy cutoff' : guide?.source === 'largest-gap' ? 'the middle of the widest gap above the floor' : 'none (no gap above the floor)'}</span>
              <input type="range" min={range.lo} max={range.hi} step={0.01} value={Math.min(range.hi, Math.max(range.lo, logEps))}
                onChange={(e) => setEps(10 ** Number(e.target.value))} aria-label="loss scale epsilon (log10)" data-testid="eps-slider" />
            </label>
            <EpsRuler lo={range.lo} hi={range.hi} marks={epsMarks} onPick={(v) => setEps(v)} />
            <dl className="stats huge">
              <div><dt><Term id="eps">ε</Term></dt><dd data-testid="eps-value" data-eps={eps}>{fmt(eps)}</dd></div>
              <div><dt><Term id="d1">d₁(ε) = #{'{'}h &gt; ε{'}'}</Term></dt>
                <dd data-testid="d1-value" data-value={d1.value}>{int(d1.value)}{d1.source === 'slq' ? <small> ±{int((d1.hi - d1.lo) / 2)} (SLQ)</small> : d1.source === 'lower-bound' ? <small> (at least)</small> : ''}</dd></div>
              <div><dt><Term id="dFree">d − d₁(ε) (free directions)</Term></dt><dd data-testid="d0-value">{int(r.d - d1.value)}</dd></div>
              <div><dt><Term id="llcBounds">LLC bounds  d₁/2 ≤ λ ≤ d₁/2 + (d − d₁)/4</Term></dt>
                <dd data-testid="llc-bounds" data-lower={bounds.lower} data-upper={bounds.upper}>{fmtBound(bounds.lower)} ≤ λ ≤ {fmtBound(bounds.upper)}</dd></div>
              <div><dt><Term id="kStar">k* (99.5 % accuracy)</Term></dt><dd data-testid="kstar-big">{cut ? (cut.kStar !== null ? int(cut.kStar) : <>&gt; {int(r.eigenvalues.length)}</>) : '—'}</dd></div>
            </dl>
            {why && <p className="notice notice-warning" data-testid="eps-explain">{why}</p>}
          </div>
          <div className="chart-grid">
            <LineChart series={rankSeries} dots logY markerY={eps} marks={marksY} bandY={band} ring={ring} onBrushX={onBrushRanks} title="Eigenvalues by rank (ε dashed; click: select eigenvector, drag: brush a band)" xLabel="rank k (1 = largest eigenvalue)" yLabel="eigenvalue h_k (behavioral-loss curvature)" testid="chart-eigenvalues" onClickX={onPickEigen} />
            {density && (
              <LineChart series={density.series} markerX={logEps} marks={marksLogX} bandX={bandLog} onBrushX={onBrushLog} title={`How many eigenvalues at each size (${r.method === 'dense' ? 'exact eigenvalues' : 'SLQ estimate of all d'})`} xLabel="eigenvalue h, log₁₀ (ε dashed)" yLabel="eigenvalues per decade of h" testid="chart-density" />
            )}
          </div>
          <dl className="stats small-stats">
            <div><dt><Term id="d">parameters d</Term></dt><dd data-testid="spectrum-d">{int(r.d)}</dd></div>
            <div><dt><Term id="n">data points n</Term></dt><dd>{int(r.n)}</dd></div>
            <div><dt><Term id="spectrumMethod">method</Term></dt><dd>{r.method === 'dense' ? 'dense (exact)' : `Lanczos top ${r.eigenvalues.length}`}</dd></div>
            <div><dt><Term id="h1">h₁</Term></dt><dd>{fmt(r.eigenvalues[0])}</dd></div>
            {r.trace && <div><dt><Term id="traceH">trace H</Term></dt><dd>{fmt(r.trace.mean)}{r.trace.stderr > 0 ? ` ± ${fmt(r.trace.stderr, 2)}` : ''}</dd></div>}
            <div><dt>time</dt><dd>{(Object.values(r.timings).reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s · {r.backend}</dd></div>
          </dl>
          <p className="caption">
            H = (2/n) Σ<sub>x</sub> J<sub>x</sub>ᵀJ<sub>x</sub> is the Hessian of the behavioral loss at θ*: how fast the
            network's outputs change along each direction of parameter space. Directions with eigenvalue h above the
            loss scale ε are ones the model really uses; the rest are (nearly) free. Move ε to see how many there are.
          </p>
          {r.kronecker && (
            <label className="field inline small">
              <input type="checkbox" checked={showKron} onChange={(e) => setShowKron(e.target.checked)} data-testid="kron-toggle" />
              overlay the per-layer <Term id="kronecker">Kronecker approximation</Term> (covers {int(r.kronecker.covered)} of {int(r.d)} parameters{r.kronecker.uncovered ? '; embeddings not included' : ''})
            </label>
          )}
          {r.stoppedShort && <StoppedShortNote s={r.stoppedShort} />}
          <LinkedSpectrum r={r} />
          {density && density.belowFloor > 0.5 && <p className="caption">{int(density.belowFloor)} eigenvalues are at or below 10<sup>{range.lo}</sup> (the left end of the axis; zero or negative to float32 precision) and are not drawn.</p>}
          {curve && cut && (
            <>
              <div className="controls">
                <label className="field inline"><span><Term id="accuracyCutoff">Accuracy cutoff</Term></span>
                  <input type="number" min={0.5} max={1} step={0.001} value={o.cutoff} onChange={(e) => { const v = Number(e.target.value); if (v > 0 && v <= 1) setO({ cutoff: v }); }} data-testid="cutoff" />
                </label>
                <label className="field inline"><span>on</span>
                  <select value={o.cutoffSplit} onChange={(e) => setO({ cutoffSplit: e.target.value as 'train' | 'test' })}>
                    <option value="train">train</option>
                    <option value="test">test</option>
                  </select>
                </label>
                <span data-testid="kstar" data-kstar={cut.kStar ?? ''}>{cut.kStar !== null ? <><Term id="kStar">k*</Term> = <strong>{int(cut.kStar)}</strong>, <Term id="epsStar">ε* = h<sub>k*</sub></Term> = <strong>{fmt(epsStar!)}</strong> → <Term id="zeroCountKStar">zero count d − k*</Term> = {int(r.d - cut.kStar)}{cut.kBelow !== null && cut.kStar - cut.kBelow > 1 ? <span className="muted"> (only some k were evaluated: the smallest lies in {int(cut.kBelow + 1)}…{int(cut.kStar)}; k* is exact at 99.5 %)</span> : null}</> : <>k* not reached within the {int(r.eigenvalues.length)} computed eigenvectors</>}</span>
                {epsStar && <button type="button" onClick={() => setEps(justBelow(epsStar))}>set ε = ε*</button>}
              </div>
              <LineChart series={projSeries} logY={curve.metric === 'mse'} yDomain={curve.metric === 'accuracy' ? [0, 1] : undefined} markerX={kOfEps} onClickX={onClickK} bandX={bandRanks} onBrushX={onBrushRanks}
                title={`Keep only the top k directions: ${curve.metric === 'accuracy' ? 'accuracy' : 'MSE'} of θ_k = V_k V_kᵀ θ* (marker: k = d₁(ε); click to set ε = h_k)`} xLabel="k, number of top eigenvectors kept" yLabel={curve.metric === 'accuracy' ? 'accuracy (fraction correct)' : 'mean squared error'} testid="chart-projection" />
              {model && <Seed002Table arch={model.config.arch} r={r} kStar={cut.kStar} />}
              <p className="caption">
                Keeping only the top-k eigendirections of θ* and measuring the model shows how many directions its behavior
                needs. The original model: {curve.metric === 'accuracy'
                  ? `train ${((curve.original.trainAcc ?? 0) * 100).toFixed(2)} %, test ${Number.isFinite(curve.original.testAcc ?? NaN) ? ((curve.original.testAcc ?? 0) * 100).toFixed(2) + ' %' : '—'}`
                  : `train MSE ${fmt(curve.original.trainLoss)}`}.
                Seed 002 reports k* = 1,032 for its modadd model, no cutoff by k = 8,000 for MNIST, and a flat MSE after k = 400 for matfac.
              </p>
              {cut.kStar === null && r.method === 'lanczos' && !r.stoppedShort && (
                <p className="notice notice-info" data-testid="kstar-cost">{(() => { const c = continueCost(r.d, r.eigenvalues.length, (r.timings.lanczos ?? 0) / 1000, Math.min(r.d, 2 * r.eigenvalues.length)); return `k* is not reached within the ${int(r.eigenvalues.length)} eigenpairs computed. Going on to k = ${int(c.k)} would take ≈ ${fmtDuration(c.seconds)} and ≈ ${(c.bytes / 1e6).toFixed(0)} MB (${c.note}).`; })()}</p>
              )}
            </>
          )}
          <details className="small">
            <summary>Residuals and details</summary>
            <p>Largest <Term id="residual">residual ‖Hv − hv‖</Term> among the top {Math.min(10, r.residuals.length)}: {fmt(Math.max(...Array.from(r.residuals.slice(0, 10)).filter(Number.isFinite)))} (relative to h₁ = {fmt(r.eigenvalues[0])}).
              {r.storage && <> Lanczos basis: {r.storage}.</>} Eigenvalues above the <Term id="noiseFloor">float32 noise floor</Term> (10⁻⁶·h₁): {int(r.aboveFloor)}. <Term id="hvp">Products H·v</Term>: {int(r.matvecs)}.
              Timings: {Object.entries(r.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`).join(', ')}.</p>
            {r.floor && <p><Term id="floorF32">Numerical floor</Term> of the float32 product: {fmt(r.floor.floor)} ({r.floor.method}).</p>}
            {source?.analysis?.sync && source.analysis.sync.layers.length > 0 && (
              <p data-testid="precomputed-sync">Precomputed <Term id="syncBlock">synchronized blocks</Term>: {source.analysis.sync.layers.map((l) => `${l.name}: ${int(l.blocks)} blocks of ${int(l.width)} neurons, N = ${int(l.freeDirections)} free directions, ${int(l.dead)} dead, ${int(l.alwaysOn)} always on`).join('; ')} (the Internals view recomputes them with a tolerance slider).</p>
            )}
            {source?.analysis?.fourier && (
              <p data-testid="precomputed-fourier">Precomputed <Term id="keyFrequency">key frequencies</Term> of the embedding: {source.analysis.fourier.keyFrequencies.join(', ')} ({(source.analysis.fourier.keyEnergyFraction * 100).toFixed(1)} % of the non-constant energy).</p>
            )}
            {source?.kind === 'precomputed' && <p>The precomputed analysis keeps no eigenvectors: selecting an eigenvector (its share per tensor and neuron) needs a Recompute.</p>}
          </details>
        </div>
      )}
      {r && (
        <section className="recompute-settings" aria-label="Compute the spectrum again">
          <h3>Compute again, with other settings</h3>
          {controls}
        </section>
      )}
    </div>
  );
}
