import { useEffect, useRef, type KeyboardEvent } from 'react';
import { CanvasExportMenu } from './ExportMenu';
import { rampPixel } from './ramp';

export interface RasterProps {
  /** One byte per entry, neuron-major [width × n]. */
  patterns: Uint8Array;
  width: number;
  n: number;
  /** Neuron display order (rows) and data display order (columns, positions 0..n−1). */
  rowOrder: ArrayLike<number>;
  colOrder: ArrayLike<number>;
  /** Block index of each neuron (for alternating block shading and boundaries). */
  blockOf: ArrayLike<number>;
  onHover?(neuron: number | null): void;
  /** The shared selected neuron (outlined) and how to change it (click, or ↑/↓ with the raster focused). */
  selected?: number | null;
  onSelect?(neuron: number | null): void;
  /** A value per neuron (e.g. the selected eigenvector's share on it), drawn as a strip beside the rows. */
  strip?: ArrayLike<number> | null;
  stripLabel?: string;
  title: string;
  height?: number;
  testid?: string;
}

const ON = [36, 88, 198];
const ON_ALT = [194, 65, 12];
const OFF = [244, 246, 251];
const STRIP = [217, 72, 15] as const;

/**
 * Firing raster on a canvas (one pixel per data point and neuron, scaled): neurons as rows sorted
 * into blocks (alternating colours per block), data points as columns in the chosen order. The
 * selected neuron is outlined; an optional strip on the left shows one value per neuron.
 */
export function Raster(props: RasterProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const stripRef = useRef<HTMLCanvasElement>(null);
  const hover = useRef<number | null>(null);
  const { patterns, width, n, rowOrder, colOrder, blockOf, selected = null, strip = null, height = Math.min(520, Math.max(120, width * 2)) } = props;
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    canvas.width = n;
    canvas.height = width;
    const img = g.createImageData(n, width);
    let prevBlock = -1, alt = false;
    for (let r = 0; r < width; r++) {
      const neuron = rowOrder[r];
      if (blockOf[neuron] !== prevBlock) { alt = !alt; prevBlock = blockOf[neuron]; }
      const on = alt ? ON : ON_ALT;
      const base = neuron * n;
      for (let c = 0; c < n; c++) {
        const v = patterns[base + colOrder[c]];
        const px = (r * n + c) * 4;
        const col = v ? on : OFF;
        img.data[px] = col[0]; img.data[px + 1] = col[1]; img.data[px + 2] = col[2]; img.data[px + 3] = 255;
      }
    }
    g.putImageData(img, 0, 0);
  }, [patterns, width, n, rowOrder, colOrder, blockOf]);
  useEffect(() => {
    const canvas = stripRef.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g || !strip) return;
    canvas.width = 1;
    canvas.height = width;
    let max = 0;
    for (let i = 0; i < width; i++) max = Math.max(max, strip[i] ?? 0);
    const img = g.createImageData(1, width);
    for (let r = 0; r < width; r++) {
      const t = max > 0 ? Math.max(0, strip[rowOrder[r]] ?? 0) / max : 0;
      rampPixel(img.data, r, t, STRIP);
    }
    g.putImageData(img, 0, 0);
  }, [strip, width, rowOrder]);

  const rowOf = (neuron: number): number => { for (let r = 0; r < width; r++) if (rowOrder[r] === neuron) return r; return -1; };
  const selRow = selected !== null && selected >= 0 && selected < width ? rowOf(selected) : -1;
  const neuronAt = (e: { clientY: number; currentTarget: Element }) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const r = Math.floor(((e.clientY - rect.top) / rect.height) * width);
    return r >= 0 && r < width ? rowOrder[r] : null;
  };
  const onKey = (e: KeyboardEvent) => {
    if (!props.onSelect) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const r = selRow < 0 ? 0 : Math.max(0, Math.min(width - 1, selRow + (e.key === 'ArrowDown' ? 1 : -1)));
      props.onSelect(rowOrder[r]);
    } else if (e.key === 'Escape') props.onSelect(null);
  };
  return (
    <figure className="chart raster-chart">
      <figcaption>{props.title} <CanvasExportMenu title={props.title} canvases={() => [stripRef.current, ref.current].filter((c): c is HTMLCanvasElement => !!c && (c !== stripRef.current || !!strip))}
        data={() => ({ columns: ['row', 'neuron', 'block', ...(strip ? [props.stripLabel ?? 'strip'] : []), 'fires_on (data positions, display order)'],
          rows: Array.from({ length: width }, (_, r) => { const nr = rowOrder[r]; let on = ''; for (let c = 0; c < n; c++) if (patterns[nr * n + colOrder[c]]) on += (on ? ' ' : '') + c; return [r, nr, blockOf[nr], ...(strip ? [strip[nr] ?? null] : []), on]; }) })} /></figcaption>
      <div className="raster-wrap" style={{ height }}>
        {strip && <canvas ref={stripRef} className="raster-strip" aria-label={props.stripLabel ?? 'value per neuron'} title={props.stripLabel} data-testid={props.testid ? `${props.testid}-strip` : undefined} />}
        <div className="raster-main">
          <canvas
            ref={ref}
            className="raster"
            data-testid={props.testid}
            tabIndex={props.onSelect ? 0 : undefined}
            role="img"
            aria-label={`Firing raster: ${width} neurons by ${n} data points${selected !== null ? `; neuron ${selected} selected` : ''}${props.onSelect ? '. Click a row or use the up and down arrow keys to select a neuron.' : ''}`}
            onKeyDown={onKey}
            onClick={(e) => { const nr = neuronAt(e); if (nr !== null) props.onSelect?.(nr === selected ? null : nr); }}
            onMouseMove={(e) => {
              const nr = neuronAt(e);
              if (nr !== hover.current) { hover.current = nr; props.onHover?.(nr); }
            }}
            onMouseLeave={() => { hover.current = null; props.onHover?.(null); }}
          />
          {selRow >= 0 && <div className="raster-sel" data-testid={props.testid ? `${props.testid}-selected` : undefined} data-neuron={selected ?? undefined}
            style={{ top: `${(selRow / width) * 100}%`, height: `max(2px, ${100 / width}%)` }} />}
        </div>
      </div>
    </figure>
  );
}
