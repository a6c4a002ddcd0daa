import type { ReactNode, RefObject } from 'react';
import { ExportMenu } from './ExportMenu';

export interface Margins { top: number; right: number; bottom: number; left: number }

/**
 * The frame every d3 chart shares: a figure with its title and export links, a React-owned <svg>
 * whose groups (`children`) d3 fills, the axis groups, and the axis labels.
 */
export function ChartFrame({ svg, title, xLabel, yLabel, width, height, margins: M, data, testid, className, children }: {
  svg: RefObject<SVGSVGElement | null>;
  title: string;
  xLabel: string;
  yLabel: string;
  width: number;
  height: number;
  margins: Margins;
  data: () => { columns: string[]; rows: (string | number | null)[][] };
  testid?: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <figure className="chart">
      <figcaption>{title} <ExportMenu svg={svg} title={title} data={data} /></figcaption>
      <svg ref={svg} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} data-testid={testid} className={className}>
        {children}
        <g className="x-axis" />
        <g className="y-axis" />
        <text className="axis-label" x={(M.left + width - M.right) / 2} y={height - 6} textAnchor="middle">{xLabel}</text>
        <text className="axis-label" transform={`translate(14,${(height - M.bottom + M.top) / 2}) rotate(-90)`} textAnchor="middle">{yLabel}</text>
      </svg>
    </figure>
  );
}
