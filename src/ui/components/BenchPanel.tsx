import { useState } from 'react';
import type { BrowserBenchResult } from '../../core/bench/browserBench';
import { runBenchmark } from '../../state/compute';
import { useStore } from '../../state/store';
import { Term } from './Term';

/** The benchmark on this device's active backend (BENCHMARKS.md has the CPU numbers against PyTorch). */
export function BenchPanel() {
  const model = useStore((s) => s.model);
  const [r, setR] = useState<BrowserBenchResult | null>(null);
  const [k, setK] = useState(20);
  return (
    <details className="bench-panel">
      <summary>Benchmark this device</summary>
      <p className="small muted">Times Gauss–Newton products H·v, Lanczos top-k and a 1024³ matMul on the active backend, with the current model, and one Lanczos reorthogonalization sweep (1,000 vectors) on the GPU against the CPU; on webgpu also the WGSL H·v and training steps against the tfjs ops. On a GPU this shows absolute times; BENCHMARKS.md compares the CPU (wasm) numbers with a PyTorch peer.</p>
      <div className="controls">
        <label className="field inline"><span><Term id="lanczosK">Lanczos k</Term></span><input type="number" min={0} max={500} value={k} onChange={(e) => setK(Math.max(0, Math.min(500, Math.round(Number(e.target.value) || 0))))} /></label>
        <button type="button" disabled={!model} onClick={() => void runBenchmark(k).then(setR)} data-testid="bench-run">Run the benchmark</button>
      </div>
      {r && (
        <table className="table" data-testid="bench-result">
          <tbody>
            <tr><td>backend</td><td>{r.backend}; our kernels on {r.kernelThreads ?? 1} {(r.kernelThreads ?? 1) === 1 ? 'thread' : 'threads'}</td></tr>
            <tr><td>model</td><td>{r.arch}, <Term id="d">d</Term> = {r.d.toLocaleString('en-US')}, <Term id="n">n</Term> = {r.n.toLocaleString('en-US')}</td></tr>
            <tr><td><Term id="hvp">H·v</Term> (median of {r.gn.reps})</td><td>{r.gn.medianMs.toFixed(2)} ms · {r.gn.productsPerSecond.toFixed(1)}/s · {r.gn.gflops.toFixed(1)} GFLOP/s</td></tr>
            {r.gnWgsl && <tr><td>H·v: WGSL kernels vs tfjs ops</td><td>{'skipped' in r.gnWgsl ? `skipped: ${r.gnWgsl.skipped}` : `WGSL ${r.gnWgsl.wgsl.medianMs.toFixed(2)} ms, tfjs ${r.gnWgsl.tfjs.medianMs.toFixed(2)} ms · ${r.gnWgsl.speedup.toFixed(2)}× · agree to ${r.gnWgsl.maxRelDiff.toExponential(0)}`}</td></tr>}
            {r.trainWgsl && <tr><td>training steps: WGSL engine vs tfjs ops</td><td data-testid="bench-train-wgsl">{'skipped' in r.trainWgsl ? `skipped: ${r.trainWgsl.skipped}` : `WGSL ${r.trainWgsl.wgslStepsPerSec.toFixed(1)} steps/s, tfjs ${r.trainWgsl.tfjsStepsPerSec.toFixed(1)} steps/s · ${r.trainWgsl.speedup.toFixed(2)}× · θ agrees to ${r.trainWgsl.maxRelDiff.toExponential(0)} after ${r.trainWgsl.steps} steps`}</td></tr>}
            {r.matMul && <tr><td>matMul {r.matMul.n}³</td><td>{r.matMul.gflops.toFixed(1)} GFLOP/s{r.gnFractionOfMatMul !== undefined ? ` (H·v reaches ${(r.gnFractionOfMatMul * 100).toFixed(0)} % of it)` : ''}</td></tr>}
            {r.lanczos && <tr><td>Lanczos top {r.lanczos.k}</td><td>{(r.lanczos.medianMs / 1000).toFixed(2)} s · {r.lanczos.matvecs} products · max <Term id="residual">residual</Term> {r.lanczos.maxResidualOverH1.toExponential(1)}·h₁</td></tr>}
            {r.sweep && <tr><td>reorthogonalization sweep</td><td>{'skipped' in r.sweep ? `skipped: ${r.sweep.skipped}` : `${r.sweep.vectors.toLocaleString('en-US')} × ${r.sweep.d.toLocaleString('en-US')}: GPU basis ${r.sweep.gpuMs.toFixed(1)} ms, CPU basis ${r.sweep.cpuMs.toFixed(1)} ms (${r.sweep.cpu}) · ${r.sweep.ratio.toFixed(2)}× · agree to ${r.sweep.maxRelDiff.toExponential(0)}`}</td></tr>}
            <tr><td>total</td><td>{(r.totalMs / 1000).toFixed(1)} s</td></tr>
          </tbody>
        </table>
      )}
    </details>
  );
}
