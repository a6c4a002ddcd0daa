import { useEffect, useRef } from 'react';
import * as d3 from 'd3';

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
  onClickX?: (x: number) => void;
  width?: number;
  height?: number;
  testid?: string;
}

const M = { top: 12, right: 110, bottom: 42, left: 60 };

/** Lines over a shared x axis; React owns the <svg>, d3 the scales, axes and the path join. */
export function LineChart(props: LineChartProps) {
  const ref = useRef<SVGSVGElement>(null);
  const { series, logY = false, yDomain, markerX, onClickX, width = 640, height = 260 } = props;
  useEffect(() => {
    const svg = d3.select(ref.current);
    const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
    const xExt = d3.extent(all, (p) => p[0]) as [number, number];
    const x = d3.scaleLinear().domain(xExt[0] === undefined ? [0, 1] : xExt[0] === xExt[1] ? [xExt[0], xExt[0] + 1] : xExt).range([M.left, width - M.right]);
    let yExt = yDomain ?? (d3.extent(all, (p) => p[1]) as [number, number]);
    if (yExt[0] === undefined) yExt = logY ? [1e-3, 1] : [0, 1];
    if (yExt[0] === yExt[1]) yExt = logY ? [yExt[0] / 2, yExt[0] * 2] : [yExt[0] - 1, yExt[0] + 1];
    const y = (logY ? d3.scaleLog() : d3.scaleLinear()).domain(yExt).range([height - M.bottom, M.top]);
    if (!logY) (y as d3.ScaleLinear<number, number>).nice();
    const line = d3.line<[number, number]>()
      .defined(([px, py]) => Number.isFinite(px) && Number.isFinite(py) && (!logY || py > 0))
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
      .attr('d', (s) => line(s.points));
    svg.select<SVGGElement>('g.legend')
      .selectAll<SVGTextElement, Series>('text')
      .data(series, (s) => s.name)
      .join('text')
      .attr('x', width - M.right + 8)
      .attr('y', (_, i) => M.top + 12 + i * 16)
      .attr('fill', (s) => s.color)
      .attr('font-size', 12)
      .text((s) => s.name);
    svg.select<SVGGElement>('g.x-axis').attr('transform', `translate(0,${height - M.bottom})`).call(d3.axisBottom(x).ticks(8, '~s'));
    svg.select<SVGGElement>('g.y-axis').attr('transform', `translate(${M.left},0)`).call(logY ? d3.axisLeft(y).ticks(5, '.0e') : d3.axisLeft(y).ticks(5));
    svg.select<SVGLineElement>('line.marker')
      .attr('x1', markerX != null ? x(markerX) : -10).attr('x2', markerX != null ? x(markerX) : -10)
      .attr('y1', M.top).attr('y2', height - M.bottom)
      .attr('visibility', markerX != null ? 'visible' : 'hidden');
    if (onClickX) svg.on('click', (ev: MouseEvent) => onClickX(x.invert(d3.pointer(ev)[0])));
    else svg.on('click', null);
  }, [series, logY, yDomain, markerX, onClickX, width, height]);
  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      <svg ref={ref} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.title} data-testid={props.testid} className={onClickX ? 'clickable' : undefined}>
        <g className="lines" />
        <g className="legend" />
        <g className="x-axis" />
        <g className="y-axis" />
        <line className="marker" stroke="#f0b400" strokeWidth={2} />
        <text className="axis-label" x={(M.left + width - M.right) / 2} y={height - 6} textAnchor="middle">{props.xLabel}</text>
        <text className="axis-label" transform={`translate(14,${(height - M.bottom + M.top) / 2}) rotate(-90)`} textAnchor="middle">{props.yLabel}</text>
      </svg>
    </figure>
  );
}
