import { useEffect, useRef } from 'react';
import * as d3 from 'd3';
import { ChartFrame } from './ChartFrame';

export interface ChartProps {
  width?: number;
  height?: number;
  xLabel: string;
  yLabel: string;
  testid?: string;
  title: string;
}

const M = { top: 12, right: 16, bottom: 42, left: 56 };

/** Histogram of a set of values: React owns the <svg>, d3 owns scales, axes and the bar join. */
export function Histogram(props: ChartProps & { values: ArrayLike<number>; bins?: number }) {
  const ref = useRef<SVGSVGElement>(null);
  const { values, bins = 60, width = 560, height = 260 } = props;
  useEffect(() => {
    const svg = d3.select(ref.current);
    const finite = Array.from(values).filter(Number.isFinite);
    const [lo, hi] = d3.extent(finite) as [number, number];
    if (lo === undefined) { svg.selectAll('*').remove(); return; }
    const x = d3.scaleLinear().domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi]).nice().range([M.left, width - M.right]);
    const bin = d3.bin().domain(x.domain() as [number, number]).thresholds(x.ticks(bins));
    const data = bin(finite);
    const y = d3.scaleLinear().domain([0, d3.max(data, (b) => b.length) ?? 1]).nice().range([height - M.bottom, M.top]);
    svg.select<SVGGElement>('g.bars')
      .selectAll('rect')
      .data(data)
      .join('rect')
      .attr('x', (b) => x(b.x0!) + 0.5)
      .attr('width', (b) => Math.max(0, x(b.x1!) - x(b.x0!) - 1))
      .attr('y', (b) => y(b.length))
      .attr('height', (b) => y(0) - y(b.length));
    svg.select<SVGGElement>('g.x-axis').attr('transform', `translate(0,${height - M.bottom})`).call(d3.axisBottom(x).ticks(8));
    svg.select<SVGGElement>('g.y-axis').attr('transform', `translate(${M.left},0)`).call(d3.axisLeft(y).ticks(5, '~s'));
  }, [values, bins, width, height]);
  return (
    <ChartFrame svg={ref} title={props.title} xLabel={props.xLabel} yLabel={props.yLabel} width={width} height={height} margins={M} testid={props.testid}
      data={() => ({ columns: [props.xLabel], rows: Array.from(values, (v) => [v]) })}>
      <g className="bars" />
    </ChartFrame>
  );
}

/** Values by rank (sorted descending) as a bar series, e.g. firing fraction per neuron. */
export function RankBars(props: ChartProps & { values: ArrayLike<number>; yDomain?: [number, number] }) {
  const ref = useRef<SVGSVGElement>(null);
  const { values, width = 560, height = 220, yDomain } = props;
  useEffect(() => {
    const svg = d3.select(ref.current);
    const sorted = Array.from(values).sort((a, b) => b - a);
    const x = d3.scaleBand<number>().domain(d3.range(sorted.length)).range([M.left, width - M.right]).paddingInner(sorted.length > 100 ? 0 : 0.1);
    const y = d3.scaleLinear().domain(yDomain ?? [0, d3.max(sorted) ?? 1]).nice().range([height - M.bottom, M.top]);
    svg.select<SVGGElement>('g.bars')
      .selectAll('rect')
      .data(sorted)
      .join('rect')
      .attr('x', (_, i) => x(i)!)
      .attr('width', Math.max(0.5, x.bandwidth()))
      .attr('y', (v) => y(v))
      .attr('height', (v) => y(y.domain()[0]) - y(v));
    const tickEvery = Math.max(1, Math.ceil(sorted.length / 8));
    svg.select<SVGGElement>('g.x-axis').attr('transform', `translate(0,${height - M.bottom})`).call(d3.axisBottom(x).tickValues(d3.range(0, sorted.length, tickEvery)));
    svg.select<SVGGElement>('g.y-axis').attr('transform', `translate(${M.left},0)`).call(d3.axisLeft(y).ticks(5));
  }, [values, width, height, yDomain]);
  return (
    <ChartFrame svg={ref} title={props.title} xLabel={props.xLabel} yLabel={props.yLabel} width={width} height={height} margins={M} testid={props.testid}
      data={() => ({ columns: ['index', props.yLabel], rows: Array.from(values, (v, i) => [i, v]) })}>
      <g className="bars" />
    </ChartFrame>
  );
}
