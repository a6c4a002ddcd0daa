import type { RefObject } from 'react';
import { exportCanvasPng, exportCanvasSvg, exportData, exportPng, exportSvg, type ChartData } from '../exportChart';

function DataLinks({ title, data }: { title: string; data: () => ChartData }) {
  return (
    <>
      <button type="button" className="link-button" onClick={() => { const d = data(); exportData(title, d.columns, d.rows, 'csv'); }} data-testid="export-csv">CSV</button>
      <button type="button" className="link-button" onClick={() => { const d = data(); exportData(title, d.columns, d.rows, 'json'); }} data-testid="export-json">JSON</button>
    </>
  );
}

/** SVG · PNG · CSV · JSON links for a chart. `data` is called only when the user exports. */
export function ExportMenu(props: { svg: RefObject<SVGSVGElement | null>; title: string; data: () => ChartData }) {
  const { svg, title, data } = props;
  return (
    <span className="export-menu" role="group" aria-label={`Export ${title}`}>
      <button type="button" className="link-button" onClick={() => svg.current && exportSvg(svg.current, title)} data-testid="export-svg">SVG</button>
      <button type="button" className="link-button" onClick={() => svg.current && void exportPng(svg.current, title)} data-testid="export-png">PNG</button>
      <DataLinks title={title} data={data} />
    </span>
  );
}

/** The same links for a canvas chart: PNG of the canvases side by side, SVG wrapping that image with the title, and the data. */
export function CanvasExportMenu(props: { canvases: () => HTMLCanvasElement[]; title: string; data: () => ChartData; layout?: 'row' | 'stack' }) {
  const { canvases, title, data, layout = 'row' } = props;
  return (
    <span className="export-menu" role="group" aria-label={`Export ${title}`}>
      <button type="button" className="link-button" onClick={() => void exportCanvasSvg(canvases(), title, layout)} data-testid="export-svg">SVG</button>
      <button type="button" className="link-button" onClick={() => void exportCanvasPng(canvases(), title, layout)} data-testid="export-png">PNG</button>
      <DataLinks title={title} data={data} />
    </span>
  );
}
