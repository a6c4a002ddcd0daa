import { useEffect, useRef, useState } from 'react';

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
  height?: number;
  testid?: string;
}

const ON = [36, 88, 198];
const ON_ALT = [217, 72, 15];
const OFF = [244, 246, 251];

/**
 * Firing raster on a canvas (one pixel per data point and neuron, scaled): neurons as rows sorted
 * into blocks (alternating colours per block), data points as columns in the chosen order.
 */
export function Raster(props: RasterProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<number | null>(null);
  const { patterns, width, n, rowOrder, colOrder, blockOf, height = Math.min(520, Math.max(120, width * 2)) } = props;
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
  return (
    <div className="raster-wrap">
      <canvas
        ref={ref}
        className="raster"
        style={{ height }}
        data-testid={props.testid}
        aria-label={`Firing raster: ${width} neurons by ${n} data points`}
        onMouseMove={(e) => {
          const rect = e.currentTarget.getBoundingClientRect();
          const r = Math.floor(((e.clientY - rect.top) / rect.height) * width);
          const neuron = r >= 0 && r < width ? rowOrder[r] : null;
          if (neuron !== hover) { setHover(neuron); props.onHover?.(neuron); }
        }}
        onMouseLeave={() => { setHover(null); props.onHover?.(null); }}
      />
    </div>
  );
}
