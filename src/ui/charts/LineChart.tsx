import { useEffect, useRef } from 'react';
import * as d3 from 'd3';
import { ChartFrame } from './ChartFrame';

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
  /** Draw this series as markers, not a line (a scatter beside fitted lines), whatever `dots` says. */
  markers?: boolean;
}

/** A labelled reference line: vertical at x, or horizontal at y (e.g. the floor, a gap, ε* on an ε axis). */
export interface ChartMark {
  x?: number;
  y?: number;
  label: string;
  color: string;
  /** SVG dash pattern (default: dotted). */
  dash?: string;
}

export interface LineChartProps {
  series: Series[];
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  yDomain?: [number, number];
  /** A vertical marker (e.g. the selected checkpoint). */
  markerX?: number | null;
  /** A horizontal marker (e.g. ε on an eigenvalue axis). */
  markerY?: number | null;
  logX?: boolean;
  /** Draw points instead of lines (for many-valued series such as eigenvalues by rank). */
  dots?: boolean;
  onClickX?: (x: number) => void;
  /** Dragging across the plot reports an x interval (data units, ordered); the chart keeps no brush of its own. */
  onBrushX?: (range: [number, number]) => void;
  /** A shaded vertical band (x interval, data units): the shared brushed band. */
  bandX?: [number, number] | null;
  /** A shaded horizontal band (y interval, data units). */
  bandY?: [number, number] | null;
  /** A ringed point (the shared selection, e.g. eigenvector k). */
  ring?: [number, number] | null;
  /** Labelled reference lines (drawn when inside the axis). */
  marks?: ChartMark[];
  width?: number;
  height?: number;
  testid?: string;
}

const M = { top: 12, right: 110, bottom: 42, left: 60 };

/** Lines over a shared x axis; React owns the <svg>, d3 the scales, axes and the path join. */
export function LineChart(props: LineChartProps) {
  const ref = useRef<SVGSVGElement>(null);
  const { series, logY = false, logX = false, yDomain, markerX, markerY, onClickX, onBrushX, bandX, bandY, ring, marks, dots = false, width = 640, height = 260 } = props;
  useEffect(() => {
    const svg = d3.select(ref.current);
    const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0) && (!logX || x > 0));
    const xExt = d3.extent(all, (p) => p[0]) as [number, number];
    const xDom: [number, number] = xExt[0] === undefined ? [1, 10] : xExt[0] === xExt[1] ? [xExt[0], xExt[0] * 2 + 1] : xExt;
    const x = (logX ? d3.scaleLog() : d3.scaleLinear()).domain(xDom).range([M.left, width - M.right]);
    let yExt = yDomain ?? (d3.extent(all, (p) => p[1]) as [number, number]);
    if (yExt[0] === undefined) yExt = logY ? [1e-3, 1] : [0, 1];
    if (yExt[0] === yExt[1]) yExt = logY ? [yExt[0] / 2, yExt[0] * 2] : [yExt[0] - 1, yExt[0] + 1];
    const y = (logY ? d3.scaleLog() : d3.scaleLinear()).domain(yExt).range([height - M.bottom, M.top]);
    if (!logY) (y as d3.ScaleLinear<number, number>).nice();
    const line = d3.line<[number, number]>()
      .defined(([px, py]) => Number.isFinite(px) && Number.isFinite(py) && (!logY || py > 0) && (!logX || px > 0))
      .x((p) => x(p[0]))
      .y((p) => y(p[1]));
    svg.select<SVGGElement>('g.lines')
      .selectAll<SVGPathElement, Series>('path')
      .data(series, (s) => s.name)
      .join('path')
      .attr('fill', 'none')
      .attr('stroke', (s) => s.color)
      .attr('stroke-width', 2)
      .attr('stroke-dasharray', (s) => (s.dashed ? '5 3' : null))
      .attr('d', (s) => (dots || s.markers ? null : line(s.points)));
    const ok = ([px, py]: [number, number]) => Number.isFinite(px) && Number.isFinite(py) && (!logY || py > 0) && (!logX || px > 0);
    svg.select<SVGGElement>('g.dots')
      .selectAll<SVGGElement, Series>('g')
      .data(series.filter((s) => dots || s.markers), (s) => s.name)
      .join('g')
      .attr('fill', (s) => s.color)
      .selectAll('circle')
      .data((s) => s.points.filter(ok).map((pt) => ({ pt, r: s.markers ? 3.2 : 1.6 })))
      .join('circle')
      .attr('r', (c) => c.r)
      .attr('cx', (c) => x(c.pt[0]))
      .attr('cy', (c) => y(c.pt[1]));
    // Legend: a swatch in the series colour and the name in ink (readable whatever the colour).
    const items = svg.select<SVGGElement>('g.legend')
      .selectAll<SVGGElement, Series>('g')
      .data(series, (s) => s.name)
      .join((enter) => { const g = enter.append('g'); g.append('line'); g.append('text'); return g; })
      .attr('transform', (_, i) => `translate(${width - M.right + 8},${M.top + 12 + i * 16})`);
    items.select('line').attr('x1', 0).attr('x2', 14).attr('y1', -4).attr('y2', -4)
      .attr('stroke', (s) => s.color).attr('stroke-width', 3).attr('stroke-dasharray', (s) => (s.dashed ? '4 2' : null));
    items.select('text').attr('x', 18).attr('fill', '#1b2233').attr('font-size', 12).text((s) => s.name);
    svg.select<SVGGElement>('g.x-axis').attr('transform', `translate(0,${height - M.bottom})`).call(logX ? d3.axisBottom(x).ticks(8, '~s') : d3.axisBottom(x).ticks(8, '~s'));
    const yIn = markerY != null && (!logY || markerY > 0);
    svg.select<SVGLineElement>('line.marker-y')
      .attr('x1', M.left).attr('x2', width - M.right)
      .attr('y1', yIn ? y(markerY!) : -10).attr('y2', yIn ? y(markerY!) : -10)
      .attr('visibility', yIn ? 'visible' : 'hidden');
    svg.select<SVGGElement>('g.y-axis').attr('transform', `translate(${M.left},0)`).call(logY ? d3.axisLeft(y).ticks(5, '.0e') : d3.axisLeft(y).ticks(5, '~g'));
    svg.select<SVGLineElement>('line.marker')
      .attr('x1', markerX != null ? x(markerX) : -10).attr('x2', markerX != null ? x(markerX) : -10)
      .attr('y1', M.top).attr('y2', height - M.bottom)
      .attr('visibility', markerX != null ? 'visible' : 'hidden');
    if (onClickX) svg.on('click', (ev: MouseEvent) => onClickX(x.invert(d3.pointer(ev)[0])));
    else svg.on('click', null);
    // The shared band: clipped to the plot; hidden when it lies outside the axis.
    const [x0, x1] = x.range(), [y1, y0] = y.range();
    const clampX = (v: number) => Math.max(x0, Math.min(x1, v));
    const clampY = (v: number) => Math.max(y0, Math.min(y1, v));
    const okX = bandX && (!logX || bandX[1] > 0);
    const bx = okX ? [clampX(x(logX ? Math.max(bandX![0], 1e-300) : bandX![0])), clampX(x(bandX![1]))] : [0, 0];
    svg.select('rect.band-x').attr('x', bx[0]).attr('width', Math.max(0, bx[1] - bx[0])).attr('y', y0).attr('height', y1 - y0).attr('visibility', okX && bx[1] > bx[0] ? 'visible' : 'hidden');
    const okY = bandY && (!logY || bandY[1] > 0);
    const by = okY ? [clampY(y(bandY![1])), clampY(y(logY ? Math.max(bandY![0], 1e-300) : bandY![0]))] : [0, 0];
    svg.select('rect.band-y').attr('y', by[0]).attr('height', Math.max(0, by[1] - by[0])).attr('x', x0).attr('width', x1 - x0).attr('visibility', okY && by[1] > by[0] ? 'visible' : 'hidden');
    // Reference marks: vertical (x) labels stacked at the top, horizontal (y) labels at the left.
    const [mx0, mx1] = x.range(), [my1, my0] = y.range();
    const inX = (v: number) => Number.isFinite(v) && (!logX || v > 0) && x(v) >= mx0 - 0.5 && x(v) <= mx1 + 0.5;
    const inY = (v: number) => Number.isFinite(v) && (!logY || v > 0) && y(v) >= my0 - 0.5 && y(v) <= my1 + 0.5;
    const shown = (marks ?? []).filter((m) => (m.x !== undefined ? inX(m.x) : m.y !== undefined && inY(m.y)));
    const mg = svg.select<SVGGElement>('g.marks')
      .selectAll<SVGGElement, ChartMark>('g')
      .data(shown)
      .join((enter) => { const g = enter.append('g'); g.append('line'); g.append('text'); return g; })
      .attr('class', 'mark');
    mg.select('line')
      .attr('stroke', (m) => m.color).attr('stroke-width', 1.5).attr('stroke-dasharray', (m) => m.dash ?? '2 3')
      .attr('x1', (m) => (m.x !== undefined ? x(m.x) : mx0)).attr('x2', (m) => (m.x !== undefined ? x(m.x) : mx1))
      .attr('y1', (m) => (m.x !== undefined ? my0 : y(m.y!))).attr('y2', (m) => (m.x !== undefined ? my1 : y(m.y!)));
    let vi = 0;
    mg.select('text')
      .attr('fill', '#1b2233').attr('font-size', 11)
      .attr('text-anchor', (m) => (m.x !== undefined && x(m.x) > (mx0 + mx1) / 2 ? 'end' : 'start'))
      .attr('x', (m) => (m.x !== undefined ? x(m.x) + (x(m.x) > (mx0 + mx1) / 2 ? -3 : 3) : mx0 + 4))
      .attr('y', (m) => (m.x !== undefined ? my0 + 11 + 12 * (vi++ % 4) : y(m.y!) - 3))
      .text((m) => m.label);
    const ringOk = ring && ok(ring);
    svg.select('circle.ring').attr('cx', ringOk ? x(ring![0]) : -20).attr('cy', ringOk ? y(ring![1]) : -20).attr('visibility', ringOk ? 'visible' : 'hidden');
    const brushG = svg.select<SVGGElement>('g.brush');
    if (onBrushX) {
      const brush = d3.brushX().extent([[x0, y0], [x1, y1]]);
      brush.on('end', (ev: d3.D3BrushEvent<unknown>) => {
        if (!ev.sourceEvent || !ev.selection) return;
        const [a, b] = ev.selection as [number, number];
        brushG.call(brush.move, null);
        if (b - a >= 3) onBrushX([x.invert(a), x.invert(b)]);
      });
      brushG.call(brush);
    } else {
      brushG.on('.brush', null).selectAll('*').remove();
    }
  }, [series, logY, logX, dots, yDomain, markerX, markerY, onClickX, onBrushX, bandX, bandY, ring, marks, width, height]);
  return (
    <ChartFrame svg={ref} title={props.title} xLabel={props.xLabel} yLabel={props.yLabel} width={width} height={height} margins={M} testid={props.testid} className={onClickX || onBrushX ? 'clickable' : undefined}
      data={() => ({ columns: ['series', props.xLabel, props.yLabel], rows: series.flatMap((s) => s.points.map(([x, y]) => [s.name, x, y])) })}>
      <rect className="band-x" visibility="hidden" fill="#f0b400" fillOpacity={0.22} pointerEvents="none" data-testid={props.testid ? `${props.testid}-band` : undefined} />
      <rect className="band-y" visibility="hidden" fill="#f0b400" fillOpacity={0.22} pointerEvents="none" />
      <g className="lines" />
      <g className="legend" />
      <g className="dots" />
      <g className="marks" pointerEvents="none" data-testid={props.testid ? `${props.testid}-marks` : undefined} />
      <line className="marker" stroke="#f0b400" strokeWidth={2} />
      <line className="marker-y" stroke="#f0b400" strokeWidth={2} strokeDasharray="6 3" />
      <circle className="ring" r={6} pointerEvents="none" fill="none" stroke="#c2410c" strokeWidth={2} visibility="hidden" />
      <g className="brush" />
    </ChartFrame>
  );
}
