import { useEffect, useRef } from 'react';
import type { ContourGrid } from '../../core/llc/landscapes';
import { CanvasExportMenu } from './ExportMenu';

/**
 * A 2-D landscape on [−1, 1]²: log K as grey levels, the sublevel set {K < ε} in the accent colour,
 * and SGLD samples as dots (revealed progressively, so the chain moves). 1-D: K(w) as a curve with
 * the sublevel interval shaded.
 */
export function LandscapePlot(props: { grid: ContourGrid; eps: number; samples?: Float64Array | null; dim: 1 | 2; size?: number; testid?: string; title?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { grid, eps, samples, dim, size = 360, title = 'Loss landscape K(w) on [−1, 1]²' } = props;
  useEffect(() => {
    const canvas = ref.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    canvas.width = size;
    canvas.height = size;
    const n = grid.xs.length;
    g.clearRect(0, 0, size, size);
    if (dim === 2) {
      const img = g.createImageData(n, n);
      const top = Math.log10(Math.max(grid.maxValue, 1e-300));
      for (let i2 = 0; i2 < n; i2++) for (let i1 = 0; i1 < n; i1++) {
        const v = grid.values[i2 * n + i1];
        const px = ((n - 1 - i2) * n + i1) * 4;
        if (v < eps) { img.data[px] = 240; img.data[px + 1] = 180; img.data[px + 2] = 0; }
        else {
          const t = Math.max(0, Math.min(1, 1 + (Math.log10(Math.max(v, 1e-300)) - top) / 8));
          const c = Math.round(235 - 150 * t);
          img.data[px] = c; img.data[px + 1] = c; img.data[px + 2] = Math.min(255, c + 20);
        }
        img.data[px + 3] = 255;
      }
      const tmp = document.createElement('canvas');
      tmp.width = n; tmp.height = n;
      tmp.getContext('2d')!.putImageData(img, 0, 0);
      g.imageSmoothingEnabled = false;
      g.drawImage(tmp, 0, 0, size, size);
    } else {
      const ys = grid.values;
      const maxY = grid.maxValue || 1;
      g.fillStyle = '#f4f6fb';
      g.fillRect(0, 0, size, size);
      g.fillStyle = 'rgba(240,180,0,0.5)';
      for (let i = 0; i < n; i++) if (ys[i] < eps) g.fillRect((i / (n - 1)) * size - 1, 0, size / (n - 1) + 2, size);
      g.strokeStyle = '#2458c6'; g.lineWidth = 2; g.beginPath();
      for (let i = 0; i < n; i++) { const x = (i / (n - 1)) * size, y = size - (ys[i] / maxY) * (size - 10) - 5; if (i) g.lineTo(x, y); else g.moveTo(x, y); }
      g.stroke();
      const ye = size - (Math.min(eps, maxY) / maxY) * (size - 10) - 5;
      g.strokeStyle = '#c2410c'; g.setLineDash([6, 3]); g.beginPath(); g.moveTo(0, ye); g.lineTo(size, ye); g.stroke(); g.setLineDash([]);
    }
  }, [grid, eps, dim, size]);
  // Samples animate on their own layer.
  const dots = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = dots.current;
    const g = canvas?.getContext('2d');
    if (!canvas || !g) return;
    canvas.width = size; canvas.height = size;
    g.clearRect(0, 0, size, size);
    if (!samples || samples.length === 0) return;
    const pts = dim === 2 ? samples.length / 2 : samples.length;
    let k = 0, raf = 0;
    const step = Math.max(1, Math.ceil(pts / 120));
    const draw = () => {
      g.fillStyle = 'rgba(217,72,15,0.55)';
      for (let end = Math.min(pts, k + step); k < end; k++) {
        const x = dim === 2 ? samples[2 * k] : samples[k];
        const y = dim === 2 ? samples[2 * k + 1] : 0;
        g.beginPath();
        g.arc(((x + 1) / 2) * size, dim === 2 ? ((1 - y) / 2) * size : size - 8, 2, 0, 2 * Math.PI);
        g.fill();
      }
      if (k < pts) raf = requestAnimationFrame(draw);
    };
    raf = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(raf);
  }, [samples, dim, size]);
  const data = () => {
    const n = grid.xs.length;
    const cells = dim === 2
      ? Array.from({ length: n * n }, (_, i) => ['K', grid.xs[i % n], grid.xs[Math.floor(i / n)], grid.values[i]] as (number | string)[])
      : Array.from({ length: n }, (_, i) => ['K', grid.xs[i], null, grid.values[i]] as (number | string | null)[]);
    const pts = samples ? (dim === 2 ? Array.from({ length: samples.length / 2 }, (_, k) => ['sample', samples[2 * k], samples[2 * k + 1], null]) : Array.from(samples, (x) => ['sample', x, null, null])) : [];
    return { columns: ['kind', 'w1', 'w2', 'K(w)'], rows: [...cells, ...pts] as (string | number | null)[][] };
  };
  return (
    <figure className="chart landscape-figure">
      <figcaption>{title} <CanvasExportMenu title={title} layout="stack" canvases={() => [ref.current, dots.current].filter((c): c is HTMLCanvasElement => !!c)} data={data} /></figcaption>
      <div className="landscape-plot" style={{ width: size, height: size }} data-testid={props.testid} role="img" aria-label={`${title}: log K in grey, the set K < ε in yellow${samples ? ', SGLD samples as red dots' : ''}`}>
        <canvas ref={ref} />
        <canvas ref={dots} className="overlay" />
        <span className="corner tl">w₂ = 1</span><span className="corner bl">−1</span><span className="corner br">w₁ = 1</span>
      </div>
    </figure>
  );
}
