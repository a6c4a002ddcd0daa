/**
 * Chart export: SVG (with the chart styles inlined so the file stands alone), PNG (the SVG drawn
 * on a canvas at 2×), and the data as CSV or JSON. Everything stays on the user's machine.
 */
import { downloadBytes } from './download';

const STYLE = `
  text { font-family: system-ui, sans-serif; font-size: 11px; fill: #1b2233; }
  .axis-label { fill: #5b6478; }
  .bars rect { fill: #4f7fdc; }
  .domain, .tick line { stroke: #1b2233; }
`;

export function svgText(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const vb = svg.viewBox.baseVal;
  if (vb && vb.width) { clone.setAttribute('width', String(vb.width)); clone.setAttribute('height', String(vb.height)); }
  const style = document.createElementNS('http://www.w3.org/2000/svg', 'style');
  style.textContent = STYLE;
  clone.insertBefore(style, clone.firstChild);
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%'); bg.setAttribute('height', '100%'); bg.setAttribute('fill', '#ffffff');
  clone.insertBefore(bg, style.nextSibling);
  return new XMLSerializer().serializeToString(clone);
}

const slug = (title: string) => title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'chart';

export function exportSvg(svg: SVGSVGElement, title: string): void {
  downloadBytes(new TextEncoder().encode(svgText(svg)), `${slug(title)}.svg`, 'image/svg+xml');
}

export async function exportPng(svg: SVGSVGElement, title: string, scale = 2): Promise<void> {
  const url = URL.createObjectURL(new Blob([svgText(svg)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => { img.onload = () => resolve(); img.onerror = () => reject(new Error('could not render the SVG')); img.src = url; });
    const vb = svg.viewBox.baseVal;
    const canvas = document.createElement('canvas');
    canvas.width = (vb.width || img.width) * scale;
    canvas.height = (vb.height || img.height) * scale;
    const g = canvas.getContext('2d')!;
    g.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
    if (blob) downloadBytes(new Uint8Array(await blob.arrayBuffer()), `${slug(title)}.png`, 'image/png');
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Rows of named columns as CSV (RFC 4180 quoting). */
export function toCsv(columns: string[], rows: (string | number | null)[][]): string {
  const q = (v: string | number | null) => {
    const s = v === null || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(q).join(','), ...rows.map((r) => r.map(q).join(','))].join('\n') + '\n';
}

export function exportData(title: string, columns: string[], rows: (string | number | null)[][], format: 'csv' | 'json'): void {
  const text = format === 'csv'
    ? toCsv(columns, rows)
    : JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))), null, 1);
  downloadBytes(new TextEncoder().encode(text), `${slug(title)}.${format}`, format === 'csv' ? 'text/csv' : 'application/json');
}
