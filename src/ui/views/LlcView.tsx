import { useEffect, useMemo, useState } from 'react';
import type { LandscapeSpec } from '../../core/llc/landscapes';
import { logGrid } from '../../core/llc/landscapes';
import { boundsBand, quadraticCurve } from '../../core/llc/quadratic';
import { defaultSgldSettings } from '../../core/llc/defaults';
import type { SgldOptions } from '../../core/llc/sgld';
import { computeLandscape, estimateLlcNow, llcAlongEps, llcCalibration, llcOverCheckpoints, llcSweep } from '../../state/compute';
import { useStore } from '../../state/store';
import { LineChart, type Series } from '../charts/LineChart';
import { useEpsMarks } from '../epsMarks';
import { EpsRuler } from './SpectrumParts';
import { LandscapePlot } from '../charts/LandscapePlot';
import { Heatmap } from '../charts/Heatmap';
import { Term, type TermId } from '../components/Term';
import { fmt } from '../format';
import { LlcResultsLoader } from '../components/LlcResultsLoader';
import type { TrainingCurvePoint } from '../../core/io/llcResults';


const LANDSCAPES: { id: string; label: string; spec: (c: number, k1: number, k2: number) => LandscapeSpec; blurb: string }[] = [
  { id: 'w2', label: 'w² (regular)', spec: () => ({ kind: 'w2' }), blurb: 'A regular minimum: the volume of {K < ε} shrinks like ε^½, so λ = ½ at every scale.' },
  { id: 'w4', label: 'w⁴ (degenerate)', spec: () => ({ kind: 'w4' }), blurb: 'Flat to second order: the Hessian is zero, yet the loss is not flat. λ = ¼ < ½: a more degenerate minimum.' },
  { id: 'qq', label: 'c²w² + w⁴', spec: (c) => ({ kind: 'quad-quartic', c }), blurb: 'Looks quadratic at small ε (λ ≈ ½ for ε ≪ c⁴) and quartic at large ε (λ ≈ ¼ for ε ≫ c⁴): the LLC depends on the loss scale.' },
  { id: 'w1w2', label: '(w₁·w₂)² (normal crossing)', spec: () => ({ kind: 'w1w2' }), blurb: 'Two lines of minima crossing: λ(ε) = ½ − 1/(2 − ln ε) creeps toward ½ only logarithmically.' },
  { id: 'crossing', label: '(w₁^k₁ w₂^k₂)²', spec: (_c, k1, k2) => ({ kind: 'crossing', k1, k2 }), blurb: 'Normal crossings with powers: λ → 1/(2·max(k₁, k₂)) as ε → 0.' },
  { id: 'two', label: 'two circuits: min(w₁², 10⁶·w₂⁴)', spec: () => ({ kind: 'two-circuits' }), blurb: 'Two ways to fit: one circuit dominates the volume at small ε, the other at large ε, so λ(ε) switches between them.' },
];

function SgldForm({ value, onChange }: { value: SgldOptions; onChange(v: SgldOptions): void }) {
  const num = (k: keyof SgldOptions, term: TermId, label: string) => (
    <label className="field"><span><Term id={term}>{label}</Term></span>
      <input type="number" step="any" placeholder="auto" title="empty: chosen by the calibration" value={(value[k] as number | undefined) ?? ''} onChange={(e) => { const v = Number(e.target.value); if (e.target.value === '') { const { [k]: _drop, ...rest } = value; onChange(rest); } else if (Number.isFinite(v)) onChange({ ...value, [k]: v }); }} />
    </label>
  );
  return (
    <div className="train-form">
      {num('stepSize', 'stepSize', 'step ε_s')}
      {num('gamma', 'gamma', 'localization γ')}
      {num('chains', 'chains', 'chains')}
      {num('draws', 'draws', 'draws')}
      {num('burnin', 'burnin', 'burn-in')}
      <label className="field"><span><Term id="sgldBatch">batch</Term></span>
        <input type="text" placeholder="auto" title="rows per step, or 'full'; empty: all rows up to 2,048 (exact MALA), else 512" value={value.batchSize === undefined ? '' : String(value.batchSize)} onChange={(e) => { const v = e.target.value.trim(); if (v === '') { const { batchSize: _b, ...rest } = value; onChange(rest); } else if (v === 'full') onChange({ ...value, batchSize: 'full' }); else if (/^\d+$/.test(v)) onChange({ ...value, batchSize: Number(v) }); }} />
      </label>
      <label className="field"><span><Term id="nBeta">nβ</Term></span>
        <select value={value.nBetaMode ?? 'n/log n'} onChange={(e) => onChange({ ...value, nBetaMode: e.target.value as SgldOptions['nBetaMode'] })}>
          <option value="n/log n">n / log n</option>
          <option value="batch/log batch">batch / log batch</option>
        </select>
      </label>
      <label className="field"><span><Term id="sgldLoss">loss</Term></span>
        <select value={value.loss ?? 'nll'} onChange={(e) => onChange({ ...value, loss: e.target.value as 'nll' | 'train' | 'behavioral' })}>
          <option value="nll">negative log-likelihood</option>
          <option value="train">training loss</option>
          <option value="behavioral">behavioral loss</option>
        </select>
      </label>
    </div>
  );
}

/** The LLC at a loss scale: teaching landscapes, λ(ε) for the model, SGLD with diagnostics, LLC over training, the p-sweep. */
export function LlcView() {
  const model = useStore((s) => s.model);
  const sharedEps = useStore((s) => s.eps);
  const setEps = useStore((s) => s.setEps);
  // The teaching landscapes live on [−1, 1]^m with K ≤ 1: a shared ε outside [10⁻⁶, 1] (the Spectrum
  // view's default for a model can be 137) leaves them at their own default until the slider moves.
  const epsInRange = sharedEps >= 1e-6 && sharedEps <= 1;
  const eps = epsInRange ? sharedEps : 1e-3;
  const sharedBand = useStore((s) => s.band);
  const setBand = useStore((s) => s.setBand);
  const landscape = useStore((s) => s.landscape);
  const sgld = useStore((s) => s.sgld);
  const live = useStore((s) => s.sgldLive);
  const curvePts = useStore((s) => s.llcCurve);
  const grid = useStore((s) => s.llcGrid);
  const cpPts = useStore((s) => s.llcCheckpoints);
  const sweep = useStore((s) => s.llcSweep);
  const spectrum = useStore((s) => s.spectrum);
  const spectrumOf = useStore((s) => s.spectrumOf);
  const run = useStore((s) => s.run);

  // --- teaching landscape ---
  const lid = useStore((s) => s.llcLandscape);
  const setLid = (v: string) => useStore.getState().setLlc({ llcLandscape: v });
  const [c, setC] = useState(0.3);
  const [k1, setK1] = useState(1);
  const [k2, setK2] = useState(2);
  const def = LANDSCAPES.find((l) => l.id === lid) ?? LANDSCAPES[3];
  useEffect(() => {
    const nBeta = Math.min(1e5, 1 / Math.max(eps, 1e-5));
    const t = setTimeout(() => void computeLandscape(def.spec(c, k1, k2), { nBeta, stepSize: Math.min(1e-3, 0.5 / nBeta), steps: 4000, burnin: 1000, chains: 1, seed: 1, thin: 4 }), 150);
    return () => clearTimeout(t);
  }, [def, c, k1, k2, eps]);
  const lamAt = useMemo(() => {
    if (!landscape) return null;
    const { eps: es, llc } = landscape.curve;
    // Interpolate λ(ε) in log ε.
    const x = Math.log(eps);
    for (let i = 1; i < es.length; i++) {
      const a = Math.log(es[i - 1]), b = Math.log(es[i]);
      if (x >= a && x <= b) return llc[i - 1] + ((llc[i] - llc[i - 1]) * (x - a)) / (b - a);
    }
    return x < Math.log(es[0]) ? llc[0] : llc[llc.length - 1];
  }, [landscape, eps]);

  // --- model λ(ε) ---
  // The form starts from the architecture's defaults; what the user edits overrides them.
  const [edits, setEdits] = useState<SgldOptions>({});
  const opts = useMemo<SgldOptions>(() => {
    // γ, ε_s, burn-in, draws and the batch are left to the calibration unless the user sets them.
    return { chains: 4, loss: 'nll', ...edits };
  }, [edits]);
  const setOpts = (o: SgldOptions) => setEdits(o);
  const gamma = opts.gamma ?? sgld?.options.gamma ?? (model ? defaultSgldSettings(model.config).gamma : 100);
  // The spectrum's floor, gaps and ε* on this axis: a direction counts once h ≫ γε, so h sits at ε = h/γ.
  const epsMarks = useEpsMarks(gamma, '/γ');
  const epsMarksChart = useMemo(() => epsMarks.map((m) => ({ x: m.value, label: m.label, color: m.color })), [epsMarks]);
  const spec = spectrum && model && spectrumOf === model.name ? spectrum : null;
  const epsGrid = useMemo(() => logGrid(1e-5, 1, 41), []);
  const quad = useMemo(() => (spec ? (() => { try { return quadraticCurve({ d: spec.d, eigenvalues: spec.eigenvalues, slq: spec.slq }, epsGrid, gamma); } catch { return null; } })() : null), [spec, epsGrid, gamma]);
  const band = useMemo(() => (spec ? boundsBand({ d: spec.d, eigenvalues: spec.eigenvalues, slq: spec.slq }, epsGrid, gamma) : null), [spec, epsGrid, gamma]);
  const lamSeries: Series[] = useMemo(() => {
    const s: Series[] = [];
    if (quad) s.push({ name: 'quadratic (Hessian)', color: '#2458c6', points: Array.from(quad.eps, (e, i) => [e, quad.value[i]] as [number, number]) });
    if (band) {
      s.push({ name: 'bound: d₁(γε)/2', color: '#8fa3cc', dashed: true, points: Array.from(band.eps, (e, i) => [e, band.lower[i]] as [number, number]) });
    }
    const pts = curvePts.filter((p) => p.llc);
    if (pts.length) s.push({ name: 'SGLD λ̂', color: '#c2410c', points: pts.map((p) => [p.eps, p.llc!.mean] as [number, number]) });
    return s;
  }, [quad, band, curvePts]);
  const above = useMemo(() => {
    if (!quad) return [];
    return curvePts.filter((p) => {
      if (!p.llc) return false;
      const i = quad.eps.findIndex((e) => e >= p.eps);
      const q = i >= 0 ? quad.value[i] : quad.value[quad.value.length - 1];
      return p.llc.mean - 2 * p.llc.stderr > q;
    });
  }, [quad, curvePts]);

  const traces: Series[] = useMemo(() => {
    const colors = ['#2458c6', '#c2410c', '#1d7a46', '#6a3fb5', '#8a5a00', '#b3261e'];
    const src = sgld ? sgld.chains.map((ch) => Array.from(ch.lossTrace)) : live?.chains ?? [];
    return src.map((tr, i) => ({ name: `chain ${i + 1}`, color: colors[i % colors.length], points: tr.map((v, t) => [t, v] as [number, number]) }));
  }, [sgld, live]);
  const initLoss = sgld?.initLoss ?? live?.initLoss;

  // --- sweep ---
  const [ps, setPs] = useState('11,17,23,29');
  const [sweepSteps, setSweepSteps] = useState(800);

  // Loss curves of a checkpoint run opened from the command line's JSON (they replace the current run's).
  const [openedTraining, setOpenedTraining] = useState<TrainingCurvePoint[] | null>(null);
  const cpSeries: Series[] = useMemo(() => {
    const s: Series[] = [];
    const curve = openedTraining
      ? openedTraining.map((m) => ({ step: m.step, trainLoss: m.trainLoss ?? NaN, testLoss: m.testLoss ?? NaN }))
      : run?.history;
    if (curve) {
      s.push({ name: 'train loss', color: '#2458c6', points: curve.filter((m) => Number.isFinite(m.trainLoss)).map((m) => [m.step, m.trainLoss] as [number, number]) });
      s.push({ name: 'test loss', color: '#8fa3cc', points: curve.filter((m) => Number.isFinite(m.testLoss)).map((m) => [m.step, m.testLoss] as [number, number]) });
    }
    return s;
  }, [run, openedTraining]);
  const cpLlc: Series[] = useMemo(() => [{ name: 'λ̂', color: '#c2410c', points: cpPts.filter((p) => p.llc).map((p) => [p.step, p.llc!.mean] as [number, number]) }], [cpPts]);
  const sweepSeries: Series[] = useMemo(() => {
    const s: Series[] = [];
    for (const op of ['sum', 'random'] as const) {
      const pts = sweep.points.filter((p) => p.op === op && p.llc).sort((a, b) => a.p - b.p);
      if (!pts.length) continue;
      const color = op === 'sum' ? '#2458c6' : '#c2410c';
      s.push({ name: op === 'sum' ? 'a + b' : 'random op', color, markers: true, points: pts.map((p) => [p.p, p.llc!.mean] as [number, number]) });
      const f = sweep.fits?.[op];
      if (f) {
        const xs = Array.from({ length: 30 }, (_, i) => Math.min(...pts.map((p) => p.p)) + (i / 29) * (Math.max(...pts.map((p) => p.p)) - Math.min(...pts.map((p) => p.p))));
        s.push({ name: `${op === 'sum' ? 'a + b' : 'random'}: linear`, color, dashed: true, points: xs.map((x) => [x, f.linear[0] + f.linear[1] * x] as [number, number]) });
        if (f.quadratic.length) s.push({ name: `${op === 'sum' ? 'a + b' : 'random'}: quadr.`, color: op === 'sum' ? '#8fa3cc' : '#f0a080', dashed: true, points: xs.map((x) => [x, f.quadratic[0] + f.quadratic[1] * x + f.quadratic[2] * x * x] as [number, number]) });
      }
    }
    return s;
  }, [sweep]);

  const gridRows = useMemo(() => {
    if (!grid.length) return null;
    const steps = [...new Set(grid.map((g) => g.stepSize))].sort((a, b) => a - b);
    const nbs = [...new Set(grid.map((g) => g.nBeta))].sort((a, b) => a - b);
    const vals = new Float64Array(steps.length * nbs.length);
    for (const cell of grid) vals[nbs.indexOf(cell.nBeta) * steps.length + steps.indexOf(cell.stepSize)] = Number.isFinite(cell.llc.mean) ? Math.max(0, cell.llc.mean) : 0;
    return { steps, nbs, vals };
  }, [grid]);

  return (
    <div className="llc-view">
      <p className="caption">
        The local learning coefficient λ measures how fast the volume of near-optimal parameters shrinks: V(ε) ∝ ε<sup>λ</sup>
        for {'{'}θ : L(θ) &lt; L(θ*) + ε{'}'}, and λ(ε) = ε d/dε log V(ε). A regular d-parameter minimum has λ = d/2;
        degenerate ones have less. The loss scale ε is shared with the other views.
      </p>
      <label className="field">
        <span><Term id="eps">Loss scale ε</Term> = <strong data-testid="llc-eps">{fmt(eps)}</strong></span>
        <input type="range" min={-6} max={0} step={0.01} value={Math.min(0, Math.max(-6, Math.log10(eps)))} onChange={(e) => setEps(10 ** Number(e.target.value))} aria-label="loss scale epsilon (log10)" data-testid="llc-eps-slider" />
      </label>
      <EpsRuler lo={-6} hi={0} marks={epsMarks} onPick={setEps} testid="llc-eps-ruler" />
      {!epsInRange && <p className="notice notice-info" data-testid="llc-eps-outside">The shared ε = {fmt(sharedEps)} (the Spectrum view's default for this model) is outside the teaching landscapes' range 10⁻⁶ … 1; they are shown at ε = 10⁻³ until you move this slider.</p>}

      <h3>Teaching landscapes</h3>
      <div className="controls">
        <label className="field inline"><span><Term id="landscape">Landscape</Term></span>
          <select value={lid} onChange={(e) => setLid(e.target.value)} data-testid="landscape-select">
            {LANDSCAPES.map((l) => <option key={l.id} value={l.id}>{l.label}</option>)}
          </select>
        </label>
        {lid === 'qq' && <label className="field inline wide"><span><Term id="landscapeC">c</Term> = {c.toFixed(2)}</span><input type="range" min={0} max={1} step={0.01} value={c} onChange={(e) => setC(Number(e.target.value))} /></label>}
        {lid === 'crossing' && <>
          <label className="field inline"><span><Term id="crossingK">k₁</Term></span><input type="number" min={0} max={6} value={k1} onChange={(e) => setK1(Math.max(0, Math.min(6, Math.round(Number(e.target.value)))))} /></label>
          <label className="field inline"><span><Term id="crossingK">k₂</Term></span><input type="number" min={0} max={6} value={k2} onChange={(e) => setK2(Math.max(0, Math.min(6, Math.round(Number(e.target.value)))))} /></label>
        </>}
      </div>
      <p className="caption">{def.blurb}</p>
      {landscape && (
        <div className="landscape-row" data-testid="landscape-result">
          <div>
            <LandscapePlot grid={landscape.contour} eps={eps} dim={landscape.dim} samples={landscape.samples?.chains[0]?.positions ?? null} testid="landscape-plot" />
            <p className="small muted">{landscape.formula}. Yellow: {'{'}K &lt; ε{'}'}. Dots: SGLD at nβ = 1/ε.</p>
          </div>
          <div style={{ flex: 1, minWidth: 360 }}>
            <dl className="stats big">
              <div><dt><Term id="llcEps">λ(ε) exact</Term></dt><dd data-testid="landscape-llc">{lamAt === null ? '—' : lamAt.toFixed(4)}</dd></div>
              <div><dt><Term id="llcLimit">λ as ε → 0</Term></dt><dd>{landscape.limit.llc.toFixed(4)}{landscape.limit.multiplicity > 1 ? <> (<Term id="multiplicity">m</Term> = {landscape.limit.multiplicity})</> : ''}</dd></div>
              {landscape.samples && <div><dt><Term id="llcHatLandscape">SGLD λ̂</Term></dt><dd>{landscape.samples.llc.mean.toFixed(3)}</dd></div>}
            </dl>
            <LineChart logX series={[
              { name: 'λ(ε)', color: '#2458c6', points: Array.from(landscape.curve.eps, (e, i) => [e, landscape.curve.llc[i]] as [number, number]) },
              { name: `limit ${landscape.limit.llc.toFixed(3)}`, color: '#8fa3cc', dashed: true, points: [[landscape.curve.eps[0], landscape.limit.llc], [landscape.curve.eps[landscape.curve.eps.length - 1], landscape.limit.llc]] },
            ]} markerX={eps} yDomain={[0, 1.05]} title="λ(ε) = ε d/dε log V(ε), by numerical integration" xLabel="ε" yLabel="λ(ε)" testid="chart-landscape-llc" />
          </div>
        </div>
      )}

      <div className="section">
        <h3>λ(ε) for the current model</h3>
        <p className="caption">
          Sampling exp(−nβL − (γ/2)‖θ − θ*‖²) near a minimum, a quadratic L would give <Term id="quadraticLlc">λ̂ = Σ ½·nβh/(nβh + γ)</Term> from the Hessian spectrum
          (blue, with the <Term id="rankBoundLlc">rank bound d₁(γε)/2</Term> dashed; loss scale ε = 1/(nβ), and directions count once nβh ≫ γ, i.e. h ≫ γε: the bound counts eigenvalues above γε, not ε as the Spectrum view does). SGLD estimates
          (orange) above the blue line are higher-order degeneracy the Hessian cannot see. {spec ? `Spectrum: ${spec.method}, ${spec.loss === 'kl' ? 'KL (matches a cross-entropy training loss)' : 'behavioral MSE (matches the behavioral loss)'}.` : 'Compute the spectrum of this model in the Spectrum view for the blue curve (KL loss for classifiers trained with cross-entropy).'}
        </p>
        <SgldForm value={opts} onChange={setOpts} />
        <div className="controls">
          <button type="button" className="primary" disabled={!model} onClick={() => void estimateLlcNow(opts)} data-testid="llc-run">Estimate λ̂ (nβ from n)</button>
          <button type="button" disabled={!model} onClick={() => void llcAlongEps([1e-4, 1e-3, 1e-2, 1e-1], { ...opts, chains: Math.min(2, opts.chains ?? 2) })} data-testid="llc-curve-run">SGLD at ε = 10⁻⁴ … 10⁻¹</button>
          <button type="button" disabled={!model} onClick={() => { const s = opts.stepSize ?? 1e-4; void llcCalibration({ ...opts, stepSizes: [s / 10, s / 3, s, 3 * s], nBetas: [30, 100, 300, 1000], chains: 1, draws: 40, burnin: 40 }); }} data-testid="llc-grid-run">Calibration grid</button>
        </div>
        {lamSeries.length > 0 && <LineChart logX series={lamSeries} markerX={epsInRange ? sharedEps : null} marks={epsMarksChart} bandX={sharedBand} onBrushX={setBand} title="λ(ε): quadratic prediction, rank bound and SGLD (drag: brush a band of ε, shared with the Spectrum view)" xLabel="loss scale ε = 1/(nβ)" yLabel="λ" testid="chart-llc-eps" />}
        {above.length > 0 && <p className="notice notice-info">SGLD sits above the quadratic prediction at ε = {above.map((p) => fmt(p.eps)).join(', ')}: structure beyond second order (quartic or interacting directions) that the Hessian misses.</p>}
        {curvePts.some((p) => p.error) && <p className="error-text small">{curvePts.filter((p) => p.error).map((p) => `ε = ${fmt(p.eps)}: ${p.error}`).join(' · ')}</p>}
        {(sgld || live) && (
          <div data-testid="sgld-result">
            {sgld && (
              <dl className="stats big">
                <div><dt><Term id="llcHat">λ̂</Term> (mean ± std over {sgld.chains.length} <Term id="chains">chains</Term>)</dt><dd data-testid="llc-value" data-verdict={sgld.health.verdict}>{sgld.health.verdict === 'failed' ? <s>{fmt(sgld.llc.mean, 4)}</s> : fmt(sgld.llc.mean, 4)} ± {fmt(sgld.llc.std, 2)}{sgld.health.verdict !== 'ok' && <span className="verdict-tag"> — {sgld.health.verdict}, see below</span>}</dd></div>
                <div><dt><Term id="nBeta">nβ</Term> · <Term id="gamma">γ</Term> · <Term id="stepSize">ε_s</Term></dt><dd>{fmt(sgld.options.nBeta)} · {sgld.options.gamma} · {sgld.options.stepSize.toExponential(1)}</dd></div>
                <div><dt><Term id="fractionBelow">draws below L(w*)</Term></dt><dd>{(sgld.fractionBelowInit * 100).toFixed(1)} %</dd></div>
                {sgld.meanAcceptance !== undefined && <div><dt><Term id="mala">MALA acceptance</Term></dt><dd>{sgld.meanAcceptance.toFixed(2)}</dd></div>}
                <div><dt>speed</dt><dd>{Math.round(sgld.stepsPerSecond)} steps/s · {sgld.backend}</dd></div>
              </dl>
            )}
            {sgld && (
              <div className={`notice ${sgld.health.verdict === 'ok' ? 'notice-info' : 'notice-warning'}`} data-testid="llc-health">
                <strong><Term id="llcHealth">Health</Term>: {sgld.health.verdict}</strong>
                {sgld.health.reasons.length > 0 ? <ul className="small">{sgld.health.reasons.map((r) => <li key={r}>{r}</li>)}</ul> : <span className="small"> — every check passed (acceptance, drift, R̂, effective sample size, localization).</span>}
              </div>
            )}
            {sgld?.calibration && (
              <details className="small" data-testid="llc-calibration">
                <summary>How the settings were chosen (<Term id="llcCalibration">calibration</Term>, {(sgld.calibration.ms / 1000).toFixed(0)} s)</summary>
                <ul>
                  <li>{sgld.calibration.reasons.gamma}</li>
                  <li>{sgld.calibration.reasons.stepSize}</li>
                  <li>burn-in {sgld.calibration.reasons.burnin}</li>
                  <li>draws {sgld.calibration.reasons.draws}</li>
                </ul>
                <table className="small"><thead><tr><th>γ</th><th>ε_s</th><th>pilot λ̂</th><th>acceptance</th><th>settled</th></tr></thead>
                  <tbody>{sgld.calibration.rungs.map((r) => <tr key={r.gamma}><td>{r.gamma}</td><td>{r.stepSize.toExponential(1)}</td><td>{fmt(r.llc, 3)} ± {fmt(r.stderr, 2)}</td><td>{r.acceptance === null ? '—' : r.acceptance.toFixed(2)}</td><td>{r.diverged ? 'diverged' : r.settled ? 'yes' : 'no'}</td></tr>)}</tbody>
                </table>
              </details>
            )}
            {!sgld && live && <p className="muted">Sampling… running λ̂ per chain: {live.runningLlc.map((v) => (Number.isFinite(v) ? v.toFixed(1) : 'burn-in')).join(', ')}</p>}
            <LineChart series={[...traces, ...(initLoss !== undefined && Number.isFinite(initLoss) && traces.length ? [{ name: 'L(w*)', color: '#333', dashed: true, points: [[0, initLoss], [Math.max(...traces.map((t) => t.points.length)), initLoss]] as [number, number][] }] : [])]}
              title={`Per-chain ${sgld?.lossLabel ?? 'loss'} traces (burn-in included)`} xLabel="step" yLabel="L(w_t)" testid="chart-sgld-traces" />
            {sgld && <p className="small muted">{sgld.notes.join(' ')}</p>}
          </div>
        )}
        {gridRows && (
          <div className="landscape-row">
            <Heatmap values={gridRows.vals} rows={gridRows.nbs.length} cols={gridRows.steps.length} height={160} title={`Calibration: λ̂ by nβ (rows ${gridRows.nbs.join(', ')}) × ε_s (columns ${gridRows.steps.map((v) => v.toExponential(0)).join(', ')})`} testid="llc-grid" />
            <ul className="small">
              {grid.filter((g) => g.health !== 'ok').map((g) => <li key={`${g.row}-${g.col}`}>nβ {fmt(g.nBeta)}, ε_s {g.stepSize.toExponential(0)}: {g.health}{g.message ? ` — ${g.message}` : ''}</li>)}
            </ul>
          </div>
        )}
      </div>

      <div className="section">
        <h3>LLC over training</h3>
        <p className="caption">λ̂ at each checkpoint of the current training run (Train view), under its loss curves: in the source post it falls when the test loss falls (generalization). The settings are calibrated once, on the last checkpoint, and shared by every point (as in the post); each point has its own verdict.</p>
        <button type="button" disabled={!run || !model} onClick={() => void llcOverCheckpoints({ ...opts, chains: Math.min(2, opts.chains ?? 2) })} data-testid="llc-checkpoints-run">Estimate at every checkpoint</button>
        {cpSeries.length > 0 && <LineChart series={cpSeries} logY title="Loss during training" xLabel="step" yLabel="loss" />}
        {cpPts.length > 0 && <LineChart series={cpLlc} dots title="λ̂ at each checkpoint" xLabel="step" yLabel="λ̂" testid="chart-llc-checkpoints" />}
        <LlcResultsLoader onTraining={setOpenedTraining} />
      </div>

      <div className="section">
        <h3>Generalizing vs memorizing: λ̂ against p</h3>
        <p className="caption">Seed 003: λ̂ grows linearly in p for networks that learn modular addition and roughly quadratically for networks that memorize a random commutative operation. This trains a modadd-gelu network per p and operation, then estimates λ̂ with the calibrated defaults of the form above, full batch (long: about a minute per point on a CPU).</p>
        <div className="controls">
          <label className="field inline"><span><Term id="p">p</Term> values</span><input type="text" value={ps} onChange={(e) => setPs(e.target.value)} /></label>
          <label className="field inline"><span>training <Term id="trainSteps">steps</Term></span><input type="number" value={sweepSteps} onChange={(e) => setSweepSteps(Math.max(10, Number(e.target.value) || 10))} /></label>
          <button type="button" onClick={() => {
            const list = ps.split(',').map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x >= 3);
            void llcSweep({ ps: list, ops: ['sum', 'random'], arch: 'modadd-gelu', e: 12, h: 48, trainFraction: 0.8, steps: sweepSteps, seed: 0, opts: { ...opts, chains: Math.min(2, opts.chains ?? 2), batchSize: opts.batchSize ?? 'full' } });
          }} data-testid="llc-sweep-run">Run the sweep</button>
        </div>
        {sweepSeries.length > 0 && <LineChart series={sweepSeries} dots={false} title="λ̂ against p (a + b generalizes, the random operation memorizes; dashed: fits)" xLabel="p" yLabel="λ̂" testid="chart-llc-sweep" />}
        {sweep.fits && <p className="small">Fits: {(['sum', 'random'] as const).map((op) => sweep.fits![op] ? `${op}: linear ${sweep.fits![op]!.linear.map((v) => v.toFixed(2)).join(' + ')}·p${sweep.fits![op]!.quadratic.length ? `; quadratic ${sweep.fits![op]!.quadratic.map((v) => v.toFixed(3)).join(', ')}` : ''}` : '').filter(Boolean).join(' · ')}</p>}
      </div>
    </div>
  );
}
