/** Number formats the views share: `digits` significant digits, exponential outside [1e-2, 1e4). */
export const fmt = (v: number, digits = 3): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(digits - 1) : v.toPrecision(digits));

/** A count, rounded, with thousands separators. */
export const int = (v: number): string => Math.round(v).toLocaleString('en-US');
