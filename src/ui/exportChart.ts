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

export interface ChartData { columns: string[]; rows: (string | number | null)[][] }

const TITLE_BAND = 26;

/**
 * Canvas charts as one image: the canvases at their displayed size × scale (pixelated, as on
 * screen), side by side ('row') or layered ('stack', e.g. a landscape and its samples), under a
 * title band so the file stands alone (no band when `title` is null).
 */
export function compositeCanvases(canvases: HTMLCanvasElement[], title: string | null, layout: 'row' | 'stack' = 'row', scale = 2): HTMLCanvasElement {
  const size = (c: HTMLCanvasElement) => [Math.max(1, c.clientWidth || c.width), Math.max(1, c.clientHeight || c.height)];
  const gap = 6;
  const sizes = canvases.map(size);
  const w = layout === 'row' ? sizes.reduce((a, [cw]) => a + cw, 0) + gap * Math.max(0, sizes.length - 1) : Math.max(1, ...sizes.map(([cw]) => cw));
  const h = Math.max(1, ...sizes.map(([, ch]) => ch));
  const band = title === null ? 0 : TITLE_BAND;
  const out = document.createElement('canvas');
  out.width = Math.round(w * scale);
  out.height = Math.round((h + band) * scale);
  const g = out.getContext('2d')!;
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, out.width, out.height);
  if (title !== null) {
    g.fillStyle = '#1b2233';
    g.font = `600 ${13 * scale}px system-ui, sans-serif`;
    g.fillText(title, 4 * scale, 17 * scale, out.width - 8 * scale);
  }
  g.imageSmoothingEnabled = false;
  let x = 0;
  canvases.forEach((c, i) => {
    const [cw, ch] = sizes[i];
    g.drawImage(c, x * scale, band * scale, cw * scale, ch * scale);
    if (layout === 'row') x += cw + gap;
  });
  return out;
}

export async function exportCanvasPng(canvases: HTMLCanvasElement[], title: string, layout: 'row' | 'stack' = 'row'): Promise<void> {
  if (!canvases.length) return;
  const out = compositeCanvases(canvases, title, layout);
  const blob = await new Promise<Blob | null>((r) => out.toBlob(r, 'image/png'));
  if (blob) downloadBytes(new Uint8Array(await blob.arrayBuffer()), `${slug(title)}.png`, 'image/png');
}

/** An SVG file holding the canvas image (a raster inside: these charts are pixel data) and the title as text. */
export async function exportCanvasSvg(canvases: HTMLCanvasElement[], title: string, layout: 'row' | 'stack' = 'row'): Promise<void> {
  if (!canvases.length) return;
  const image = compositeCanvases(canvases, null, layout, 2);
  const w = image.width / 2, h = image.height / 2;
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const text = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h + TITLE_BAND}" viewBox="0 0 ${w} ${h + TITLE_BAND}">`
    + `<title>${esc(title)}</title><rect width="100%" height="100%" fill="#ffffff"/>`
    + `<image x="0" y="${TITLE_BAND}" width="${w}" height="${h}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${image.toDataURL('image/png')}"/>`
    + `<text x="4" y="17" font-family="system-ui, sans-serif" font-size="13" font-weight="600" fill="#1b2233">${esc(title)}</text></svg>`;
  downloadBytes(new TextEncoder().encode(text), `${slug(title)}.svg`, 'image/svg+xml');
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
