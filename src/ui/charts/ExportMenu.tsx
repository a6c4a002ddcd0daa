import type { RefObject } from 'react';
import { exportData, exportPng, exportSvg } from '../exportChart';

/** SVG · PNG · CSV · JSON links for a chart. `data` is called only when the user exports. */
export function ExportMenu(props: { svg: RefObject<SVGSVGElement | null>; title: string; data: () => { columns: string[]; rows: (string | number | null)[][] } }) {
  const { svg, title, data } = props;
  return (
    <span className="export-menu" aria-label={`Export ${title}`}>
      <button type="button" className="link-button" onClick={() => svg.current && exportSvg(svg.current, title)}>SVG</button>
      <button type="button" className="link-button" onClick={() => svg.current && void exportPng(svg.current, title)}>PNG</button>
      <button type="button" className="link-button" onClick={() => { const d = data(); exportData(title, d.columns, d.rows, 'csv'); }} data-testid="export-csv">CSV</button>
      <button type="button" className="link-button" onClick={() => { const d = data(); exportData(title, d.columns, d.rows, 'json'); }}>JSON</button>
    </span>
  );
}
