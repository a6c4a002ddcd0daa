import { useStore } from '../../state/store';

/** Errors and warnings, newest last; each dismissable. Nothing here ever replaces the app. */
export function ErrorArea() {
  const notices = useStore((s) => s.notices);
  const dismiss = useStore((s) => s.dismissNotice);
  if (!notices.length) return null;
  return (
    <section className="notices" aria-live="polite" data-testid="notices">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'} data-testid={`notice-${n.kind}`}>
          <span>{n.message}</span>
          <button type="button" onClick={() => dismiss(n.id)} aria-label="Dismiss">×</button>
        </div>
      ))}
    </section>
  );
}
