import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` with one of the extensions. */
function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

const SOURCES = ['src', 'tests', 'bench', 'scripts'].flatMap((d) => files(d, ['.ts', '.tsx', '.mjs', '.py']));
const science = readFileSync('docs/science.md', 'utf8');
const platform = readFileSync('docs/platform.md', 'utf8');

/** Section numbers a document defines: "## §3" → 3, "### §4.2" → 4.2. */
function sections(doc: string): Set<string> {
  return new Set([...doc.matchAll(/^#{2,3} §(\d+(?:\.\d+)?)/gm)].map((m) => m[1]));
}

describe('citations of docs/science.md and docs/platform.md resolve', () => {
  test('every "docs/science.md §n" names a section and every (Sn) an equation of docs/science.md', () => {
    const secs = sections(science);
    const eqs = new Set([...science.matchAll(/\((S\d+)\)\s*$/gm)].map((m) => m[1]));
    expect(eqs.size).toBeGreaterThan(20);
    const bad: string[] = [];
    let cited = 0;
    for (const f of SOURCES) {
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        if (!line.includes('docs/science.md')) continue;
        for (const m of line.matchAll(/docs\/science\.md(?:'s)? §(\d+(?:\.\d+)?)/g)) { cited++; if (!secs.has(m[1])) bad.push(`${f}: §${m[1]}`); }
        for (const m of line.matchAll(/\((S\d+)\)/g)) { cited++; if (!eqs.has(m[1])) bad.push(`${f}: (${m[1]})`); }
      }
    }
    expect(cited).toBeGreaterThan(40);
    expect(bad).toEqual([]);
  });

  test('every "docs/platform.md §n.m" names a section and a numbered item in it', () => {
    const bad: string[] = [];
    let cited = 0;
    for (const f of SOURCES) {
      for (const m of readFileSync(f, 'utf8').matchAll(/docs\/platform\.md(?:'s)? §(\d+)(?:\.(\d+))?/g)) {
        cited++;
        const start = platform.search(new RegExp(`^## §${m[1]} `, 'm'));
        if (start < 0) { bad.push(`${f}: §${m[1]}`); continue; }
        const next = platform.slice(start + 3).search(/^## §/m);
        const body = platform.slice(start, next < 0 ? undefined : start + 3 + next);
        if (m[2] && !new RegExp(`^${m[2]}\\. `, 'm').test(body)) bad.push(`${f}: §${m[1]}.${m[2]}`);
      }
    }
    expect(cited).toBeGreaterThan(5);
    expect(bad).toEqual([]);
  });
});
