import { useEffect, useRef } from 'react';

/** A nonnegative matrix as a canvas heatmap (log-scaled intensity), rows × cols. */
export function Heatmap(props: { values: ArrayLike<number>; rows: number; cols: number; title: string; testid?: string; height?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { values, rows, cols } = props;
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
      img.data[4 * i] = Math.round(255 - 219 * t);
      img.data[4 * i + 1] = Math.round(255 - 167 * t);
      img.data[4 * i + 2] = Math.round(255 - 57 * t);
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
  }, [values, rows, cols]);
  return (
    <figure className="chart heatmap">
      <figcaption>{props.title}</figcaption>
      <canvas ref={ref} className="heatmap-canvas" style={{ height: props.height ?? 220 }} data-testid={props.testid} aria-label={props.title} />
    </figure>
  );
}
