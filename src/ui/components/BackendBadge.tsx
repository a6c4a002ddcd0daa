import type { BackendPreference, CalibrationInfo } from '../../core/backend';
import type { BackendMeasurement } from '../../core/backendChoice';
import { getClient, switchBackend } from '../../state/compute';
import { useStore } from '../../state/store';

const PREFS: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'auto (the faster, measured)' },
  { value: 'webgpu', label: 'webgpu' },
  { value: 'wasm', label: 'wasm' },
  { value: 'cpu', label: 'cpu (slow)' },
];

const ms = (m: BackendMeasurement): string => (m.timedOut ? `> ${m.totalMs.toFixed(0)} ms` : `${m.totalMs.toFixed(1)} ms`);

/** "auto": each backend's calibration time, and why the active one was chosen. */
function Calibration({ c }: { c: CalibrationInfo }) {
  const ms0 = c.record.measurements;
  const soft = c.adapter && /software/.test(c.record.reason);
  const why = c.fromMemory
    ? `remembered for this device (measured ${c.record.at.slice(0, 10)})`
    : ms0.length > 1 ? `${c.record.choice} measured faster` : `only ${c.record.choice} available`;
  const title = `${c.record.reason}\n(calibration: a 1024×256·256×256 matMul and one small training step — on webgpu the WGSL whole step where it opens — medians of 3 after a warm-up, each read back)`;
  return (
    <span className="backend-calibration" data-testid="backend-calibration" data-choice={c.record.choice} data-from-memory={c.fromMemory ? 'true' : 'false'} title={title}>
      {' '}auto:{' '}
      {ms0.map((m, i) => (
        <span key={m.name} data-testid={`backend-timing-${m.name}`} data-ms={m.totalMs} data-timed-out={m.timedOut ? 'true' : 'false'} data-step={m.step ?? 'tfjs'}>
          {i > 0 ? ' vs ' : ''}{m.name} {ms(m)}{m.name === 'webgpu' && soft ? ' (software adapter)' : ''}
        </span>
      ))}
      {' — '}<span data-testid="backend-why-chosen">{why}</span>
    </span>
  );
}

function remeasure(): void {
  getClient().forgetCalibrations();
  switchBackend('auto');
}

/** Which tfjs backend the worker runs on, why, and a switch. */
export function BackendBadge() {
  const status = useStore((s) => s.backendStatus);
  const info = useStore((s) => s.backendInfo);
  const message = useStore((s) => s.backendMessage);
  const pref = useStore((s) => s.backend);
  const label = status === 'ready' && info ? info.active : status === 'starting' ? 'starting…' : 'failed';
  const title = info
    ? info.attempts.map((a) => `${a.name}: ${a.ok ? 'active' : 'not used'} — ${a.reason}`).join('\n')
    : message ?? 'The compute worker is starting';
  return (
    <div className={`backend-badge backend-${status}`} data-testid="backend-badge" data-backend={info?.active ?? ''} data-status={status}>
      <span className="backend-dot" aria-hidden="true" />
      <span title={title}>
        Backend: <strong data-testid="backend-name">{label}</strong>
        {info && info.attempts.some((a) => !a.ok) && <span className="backend-why"> ({info.attempts.filter((a) => !a.ok).map((a) => a.reason).join('; ')})</span>}
        {info?.calibration && <Calibration c={info.calibration} />}
        {info && (
          <span
            className="backend-threads" data-testid="backend-threads" data-threads={info.kernelThreads ?? 1}
            title={(info.kernelThreads ?? 1) > 1
              ? 'Our own wasm kernels (the Lanczos Gram–Schmidt sweeps, large products) split their work over this many threads; tfjs itself runs on one.'
              : 'Our own wasm kernels run on one thread: this page is not cross-origin isolated (no COOP/COEP headers), or the device has one core.'}
          >
            {' '}· {info.kernelThreads ?? 1} {(info.kernelThreads ?? 1) === 1 ? 'thread' : 'threads'}
          </span>
        )}
      </span>
      {info?.calibration && (
        <button type="button" className="backend-remeasure" onClick={remeasure} data-testid="backend-remeasure" title="Forget the remembered choice for this device and measure again">
          re-measure
        </button>
      )}
      <label className="visually-hidden" htmlFor="backend-select">Compute backend</label>
      <select id="backend-select" value={pref} onChange={(e) => switchBackend(e.target.value as BackendPreference)} data-testid="backend-select">
        {PREFS.map((p) => <option key={p.value} value={p.value}>{p.label}</option>)}
      </select>
    </div>
  );
}
