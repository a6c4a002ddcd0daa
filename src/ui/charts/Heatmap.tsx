import { useEffect, useRef } from 'react';
import { CanvasExportMenu } from './ExportMenu';
import { rampPixel } from './ramp';

/**
 * A nonnegative matrix as a canvas heatmap (log-scaled intensity), rows × cols. `markRow` /
 * `markCol` outline one row / column (the shared selected neuron when it is one of them).
 */
export function Heatmap(props: { values: ArrayLike<number>; rows: number; cols: number; title: string; testid?: string; height?: number; markRow?: number | null; markCol?: number | null; rowLabel?: string; colLabel?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { values, rows, cols, markRow = null, markCol = null } = props;
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g || rows === 0 || cols === 0) return;
    canvas.width = cols;
    canvas.height = rows;
    let max = 0;
    for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]);
    const img = g.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      // log scale over 4 decades below the max
      const t = max > 0 && values[i] > 0 ? Math.max(0, 1 + Math.log10(values[i] / max) / 4) : 0;
      rampPixel(img.data, i, t, [36, 88, 198]);
    }
    g.putImageData(img, 0, 0);
  }, [values, rows, cols]);
  const rowOk = markRow !== null && markRow >= 0 && markRow < rows;
  const colOk = markCol !== null && markCol >= 0 && markCol < cols;
  const rl = props.rowLabel ?? 'row', cl = props.colLabel ?? 'col';
  return (
    <figure className="chart heatmap">
      <figcaption>{props.title} <CanvasExportMenu title={props.title} canvases={() => (ref.current ? [ref.current] : [])}
        data={() => ({ columns: [rl, cl, 'value'], rows: Array.from({ length: rows * cols }, (_, i) => [Math.floor(i / cols), i % cols, values[i]]) })} /></figcaption>
      <div className="heatmap-wrap" style={{ height: props.height ?? 220 }}>
        <canvas ref={ref} className="heatmap-canvas" data-testid={props.testid} role="img" aria-label={props.title} />
        {rowOk && <div className="heatmap-mark row" data-testid={props.testid ? `${props.testid}-mark-row` : undefined} style={{ top: `${(markRow / rows) * 100}%`, height: `max(2px, ${100 / rows}%)` }} />}
        {colOk && <div className="heatmap-mark col" data-testid={props.testid ? `${props.testid}-mark-col` : undefined} style={{ left: `${(markCol / cols) * 100}%`, width: `max(2px, ${100 / cols}%)` }} />}
      </div>
    </figure>
  );
}
