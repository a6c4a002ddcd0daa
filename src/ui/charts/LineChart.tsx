import { useEffect, useRef } from 'react';
import * as d3 from 'd3';
import { ChartFrame } from './ChartFrame';

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
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
  width?: number;
  height?: number;
  testid?: string;
}

const M = { top: 12, right: 110, bottom: 42, left: 60 };

/** Lines over a shared x axis; React owns the <svg>, d3 the scales, axes and the path join. */
export function LineChart(props: LineChartProps) {
  const ref = useRef<SVGSVGElement>(null);
  const { series, logY = false, logX = false, yDomain, markerX, markerY, onClickX, dots = false, width = 640, height = 260 } = props;
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
      .attr('d', (s) => (dots ? null : line(s.points)));
    const ok = ([px, py]: [number, number]) => Number.isFinite(px) && Number.isFinite(py) && (!logY || py > 0) && (!logX || px > 0);
    svg.select<SVGGElement>('g.dots')
      .selectAll<SVGGElement, Series>('g')
      .data(dots ? series : [], (s) => s.name)
      .join('g')
      .attr('fill', (s) => s.color)
      .selectAll('circle')
      .data((s) => s.points.filter(ok))
      .join('circle')
      .attr('r', 1.6)
      .attr('cx', (p) => x(p[0]))
      .attr('cy', (p) => y(p[1]));
    svg.select<SVGGElement>('g.legend')
      .selectAll<SVGTextElement, Series>('text')
      .data(series, (s) => s.name)
      .join('text')
      .attr('x', width - M.right + 8)
      .attr('y', (_, i) => M.top + 12 + i * 16)
      .attr('fill', (s) => s.color)
      .attr('font-size', 12)
      .text((s) => s.name);
    svg.select<SVGGElement>('g.x-axis').attr('transform', `translate(0,${height - M.bottom})`).call(logX ? d3.axisBottom(x).ticks(8, '~s') : d3.axisBottom(x).ticks(8, '~s'));
    const yIn = markerY != null && (!logY || markerY > 0);
    svg.select<SVGLineElement>('line.marker-y')
      .attr('x1', M.left).attr('x2', width - M.right)
      .attr('y1', yIn ? y(markerY!) : -10).attr('y2', yIn ? y(markerY!) : -10)
      .attr('visibility', yIn ? 'visible' : 'hidden');
    svg.select<SVGGElement>('g.y-axis').attr('transform', `translate(${M.left},0)`).call(logY ? d3.axisLeft(y).ticks(5, '.0e') : d3.axisLeft(y).ticks(5));
    svg.select<SVGLineElement>('line.marker')
      .attr('x1', markerX != null ? x(markerX) : -10).attr('x2', markerX != null ? x(markerX) : -10)
      .attr('y1', M.top).attr('y2', height - M.bottom)
      .attr('visibility', markerX != null ? 'visible' : 'hidden');
    if (onClickX) svg.on('click', (ev: MouseEvent) => onClickX(x.invert(d3.pointer(ev)[0])));
    else svg.on('click', null);
  }, [series, logY, logX, dots, yDomain, markerX, markerY, onClickX, width, height]);
  return (
    <ChartFrame svg={ref} title={props.title} xLabel={props.xLabel} yLabel={props.yLabel} width={width} height={height} margins={M} testid={props.testid} className={onClickX ? 'clickable' : undefined}
      data={() => ({ columns: ['series', props.xLabel, props.yLabel], rows: series.flatMap((s) => s.points.map(([x, y]) => [s.name, x, y])) })}>
      <g className="lines" />
      <g className="legend" />
      <g className="dots" />
      <line className="marker" stroke="#f0b400" strokeWidth={2} />
      <line className="marker-y" stroke="#f0b400" strokeWidth={2} strokeDasharray="6 3" />
    </ChartFrame>
  );
}
