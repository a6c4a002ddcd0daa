/**
 * Opens the JSON that `slt llc-sweep` or `slt llc-checkpoints` printed and draws it in the LLC view's
 * own charts (so a full-size run made in a terminal becomes the app's figure, exportable like any
 * chart). A malformed file is refused with the reason; what is drawn stays as it was.
 */
import { useRef, useState } from 'react';
import { parseLlcResults, type TrainingCurvePoint } from '../../core/io/llcResults';
import { useStore } from '../../state/store';

export function LlcResultsLoader({ onTraining }: { onTraining(t: TrainingCurvePoint[] | null): void }) {
  const input = useRef<HTMLInputElement>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const open = async (f: File): Promise<void> => {
    try {
      const r = parseLlcResults(await f.text());
      if (r.kind === 'sweep') {
        useStore.getState().setLlc({ llcSweep: { points: r.result.points, fits: r.result.fits } });
        setNote(`${f.name}: a p-sweep of ${r.result.points.length} models, drawn below.`);
      } else {
        useStore.getState().setLlc({ llcCheckpoints: r.points });
        onTraining(r.training);
        setNote(`${f.name}: λ̂ at ${r.points.length} checkpoints${r.source ? ` (${r.source})` : ''}, drawn above${r.training ? ' with the loss curves of that run' : ''}.`);
      }
      setError(null);
    } catch (e) {
      setError(`${f.name}: ${(e as Error).message}`);
    }
  };
  return (
    <div className="controls">
      <button type="button" onClick={() => input.current?.click()} data-testid="llc-results-open">Open results from the command line (JSON of slt llc-sweep / llc-checkpoints)</button>
      <input ref={input} type="file" accept=".json,application/json" hidden data-testid="llc-results-input" onChange={(e) => { const f = e.target.files?.[0]; if (f) void open(f); e.target.value = ''; }} />
      {note && <span className="small" data-testid="llc-results-note">{note}</span>}
      {error && <p className="error-text small" role="alert" data-testid="llc-results-error">{error}</p>}
    </div>
  );
}
