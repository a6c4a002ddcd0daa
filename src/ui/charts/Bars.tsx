import { useEffect, useRef } from 'react';
import * as d3 from 'd3';
import { ChartFrame } from './ChartFrame';

const M = { top: 12, right: 16, bottom: 42, left: 56 };

/** Bars by category (e.g. norm per Fourier frequency), highlighted ones in the accent colour; click selects. */
export function Bars(props: { labels: number[]; values: ArrayLike<number>; highlight: Set<number>; selected?: number | null; onSelect?(label: number): void; title: string; xLabel: string; yLabel: string; testid?: string; width?: number; height?: number }) {
  const ref = useRef<SVGSVGElement>(null);
  const { labels, values, highlight, selected, onSelect, width = 640, height = 230 } = props;
  useEffect(() => {
    const svg = d3.select(ref.current);
    const data = labels.map((l, i) => ({ l, v: values[i] }));
    const x = d3.scaleBand<number>().domain(labels).range([M.left, width - M.right]).padding(0.15);
    const y = d3.scaleLinear().domain([0, d3.max(data, (d) => d.v) ?? 1]).nice().range([height - M.bottom, M.top]);
    const bars = svg.select<SVGGElement>('g.bars').selectAll<SVGRectElement, { l: number; v: number }>('rect').data(data, (d) => d.l).join('rect')
      .attr('x', (d) => x(d.l)!).attr('width', x.bandwidth())
      .attr('y', (d) => y(d.v)).attr('height', (d) => y(0) - y(d.v))
      .style('fill', (d) => (d.l === selected ? '#f0b400' : highlight.has(d.l) ? '#c2410c' : '#9db4e6'))
      .style('cursor', onSelect ? 'pointer' : 'default');
    if (onSelect) bars.on('click', (_ev: MouseEvent, d) => onSelect(d.l));
    else bars.on('click', null);
    const every = Math.max(1, Math.ceil(labels.length / 20));
    svg.select<SVGGElement>('g.x-axis').attr('transform', `translate(0,${height - M.bottom})`).call(d3.axisBottom(x).tickValues(labels.filter((_, i) => i % every === 0)));
    svg.select<SVGGElement>('g.y-axis').attr('transform', `translate(${M.left},0)`).call(d3.axisLeft(y).ticks(5, y.domain()[1] < 1 ? '~g' : '~s'));
  }, [labels, values, highlight, selected, onSelect, width, height]);
  return (
    <ChartFrame svg={ref} title={props.title} xLabel={props.xLabel} yLabel={props.yLabel} width={width} height={height} margins={M} testid={props.testid}
      data={() => ({ columns: [props.xLabel, props.yLabel, 'highlighted'], rows: labels.map((l, i) => [l, values[i], highlight.has(l) ? 1 : 0]) })}>
      <g className="bars" />
    </ChartFrame>
  );
}
