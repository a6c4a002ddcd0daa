/** The bench's comparison rows and their plain-text (and Markdown) table. */

export interface Row {
  what: string;
  ours: string;
  peer: string;
  /** Our time divided by the peer's (for rates: the peer's rate over ours). Lower is better for us. */
  oursOverPeer: number;
  /** The peer's time divided by ours (for rates: ours over the peer's). > 1: we are faster. */
  speedup: number;
  note: string;
}

const fmt = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)}×` : '—');

function cells(r: Row): string[] {
  return [r.what, r.ours, r.peer, fmt(r.oursOverPeer), fmt(r.speedup)];
}

const HEADER = ['quantity', 'ours (wasm)', 'peer (PyTorch/SciPy)', 'ours÷peer (time)', 'speedup (peer÷ours)'];

/** Fixed-width columns for the terminal, notes on an indented line below each row. */
export function formatTable(rows: Row[]): string {
  const all = [HEADER, ...rows.map(cells)];
  const w = HEADER.map((_, j) => Math.max(...all.map((r) => [...r[j]].length)));
  const line = (r: string[]): string => r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  ');
  const out = [line(HEADER), w.map((n) => '─'.repeat(n)).join('  ')];
  for (const r of rows) {
    out.push(line(cells(r)));
    if (r.note) out.push(`    ${r.note}`);
  }
  return out.join('\n');
}

/** The same rows as a Markdown table (for BENCHMARKS.md). */
export function markdownTable(rows: Row[]): string {
  const out = [`| ${[...HEADER, 'notes'].join(' | ')} |`, `| ${[...HEADER, 'notes'].map((_, j) => (j === 0 || j === HEADER.length ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) out.push(`| ${[...cells(r), r.note].map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
  return out.join('\n');
}
