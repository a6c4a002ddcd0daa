import type { BackendPreference } from '../../core/backend';
import { switchBackend } from '../../state/compute';
import { useStore } from '../../state/store';

const PREFS: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'auto (webgpu → wasm → cpu)' },
  { value: 'webgpu', label: 'webgpu' },
  { value: 'wasm', label: 'wasm' },
  { value: 'cpu', label: 'cpu (slow)' },
];

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
      </span>
      <label className="visually-hidden" htmlFor="backend-select">Compute backend</label>
      <select id="backend-select" value={pref} onChange={(e) => switchBackend(e.target.value as BackendPreference)} data-testid="backend-select">
        {PREFS.map((p) => <option key={p.value} value={p.value}>{p.label}</option>)}
      </select>
    </div>
  );
}
