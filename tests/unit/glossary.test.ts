import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import katex from 'katex';
import { describe, expect, it } from 'vitest';
import { GLOSSARY, TERM_IDS, isTermId, termTitle } from '../../src/ui/glossary';

const UI = join(__dirname, '..', '..', 'src', 'ui');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(tsx?|jsx?)$/.test(name)) out.push(p);
  }
  return out;
}

/**
 * Every glossary id the UI refers to, with where: <Term id="x">, <Term id={… ? 'x' : 'y'}> (string
 * literals the expression can evaluate to), term="x" props that are passed on to a Term, and termTitle('x').
 */
function usedIds(): { id: string; where: string }[] {
  const uses: { id: string; where: string }[] = [];
  // glossary.ts itself only mentions the syntax in comments.
  for (const file of sourceFiles(UI).filter((f) => !f.endsWith('glossary.ts'))) {
    const text = readFileSync(file, 'utf8');
    const where = relative(UI, file);
    for (const m of text.matchAll(/<Term\s+id="([^"]*)"/g)) uses.push({ id: m[1], where });
    for (const m of text.matchAll(/<Term\s+id=\{([^}]*)\}/g)) {
      // The results of the expression: a lone string literal or the branches of a conditional
      // (id={arch === 'matfac' ? 'mse' : 'crossEntropy'} uses "mse" and "crossEntropy", not "matfac").
      for (const q of m[1].trim().matchAll(/(?:^|[?:]\s*)(?:'([^']*)'|"([^"]*)")/g)) uses.push({ id: q[1] ?? q[2], where });
    }
    for (const m of text.matchAll(/\bterm="([^"]*)"/g)) uses.push({ id: m[1], where });
    for (const m of text.matchAll(/termTitle\(\s*['"]([^'"]*)['"]\s*\)/g)) uses.push({ id: m[1], where });
  }
  return uses;
}

describe('glossary', () => {
  it('has a label, a 1–3 sentence definition and a source for every term', () => {
    expect(TERM_IDS.length).toBeGreaterThan(50);
    for (const id of TERM_IDS) {
      const g = GLOSSARY[id];
      expect(g.label.trim(), id).not.toBe('');
      expect(g.definition.trim(), id).not.toBe('');
      expect(g.source.trim(), id).not.toBe('');
      expect(g.tex.trim(), id).not.toBe('');
      // Sentences end in ". " (a full stop followed by a capital or the end); 1 to 3 of them.
      const sentences = g.definition.trim().split(/(?<=[.!?])\s+(?=[A-Z"(])/);
      expect(sentences.length, `${id}: ${g.definition}`).toBeLessThanOrEqual(3);
    }
  });

  it('renders every equation with KaTeX (throwOnError)', () => {
    for (const id of TERM_IDS) {
      const { tex } = GLOSSARY[id];
      let html = '';
      expect(() => { html = katex.renderToString(tex, { throwOnError: true, output: 'html' }); }, `${id}: ${tex}`).not.toThrow();
      expect(html, id).toContain('katex');
    }
  });

  it('termTitle gives "definition — source" as plain text', () => {
    expect(termTitle('d1')).toBe(`${GLOSSARY.d1.definition} — ${GLOSSARY.d1.source}`);
    expect(isTermId('d1')).toBe(true);
    expect(isTermId('no-such-term')).toBe(false);
  });

  it('knows every term id the UI uses', () => {
    const uses = usedIds();
    expect(uses.length).toBeGreaterThan(10);
    const unknown = uses.filter((u) => !isTermId(u.id)).map((u) => `${u.where}: "${u.id}"`);
    expect(unknown).toEqual([]);
  });

  it('covers the quantities named in docs/science.md and the views', () => {
    const required = [
      'd', 'n', 'behavioralLoss', 'hessian', 'hk', 'eps', 'd1', 'dFree', 'llcBounds', 'llcEps', 'llcHat', 'stepSize', 'gamma',
      'nBeta', 'chains', 'draws', 'burnin', 'mala', 'traceH', 'slqDensity', 'residual', 'projection', 'kStar', 'epsStar',
      'kronecker', 'gramG', 'gramK', 'syncBlock', 'blockRank', 'syncN', 'syncDedup', 'eq17', 'deadNeuron', 'alwaysOnNeuron',
      'fanOut', 'fanIn', 'interactionBasis', 'gini', 'top10Share', 'keyFrequency', 'circularity', 'trainAccuracy',
      'testAccuracy', 'mse', 'crossEntropy', 'learningRate', 'weightDecay', 'eigLoading',
    ];
    expect(required.filter((id) => !isTermId(id))).toEqual([]);
  });
});
