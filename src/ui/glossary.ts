/**
 * One definition per quantity the explorer shows: what `<Term id="…">` puts in its tooltip and
 * what `termTitle(id)` gives to an SVG <title>. Each entry says what the app actually computes
 * (read from src/core), the defining equation in KaTeX TeX, and where it comes from. Where the app
 * departs from a paper, the definition says so.
 *
 * Sources: "docs/science.md §n" is the project's digest of the math and its conventions (in this
 * repository); "degeneracy paper"
 * is seed 000 (Bushnaq et al. 2024); "seed 002" the Hessian-rank / accuracy-cutoff report;
 * "seed 003" the modular-addition SGLD post. Plain file paths point at the code that computes it.
 */
import type { GlossaryEntry, TermId } from './terms/types';
import { MODEL_TERMS } from './terms/model';
import { SPECTRUM_TERMS } from './terms/spectrum';
import { LLC_TERMS } from './terms/llc';
import { INTERNALS_TERMS } from './terms/internals';

export type { GlossaryEntry, TermId } from './terms/types';

/** Every term, from the topic files in ./terms (the type makes sure none is missing). */
export const GLOSSARY: Record<TermId, GlossaryEntry> = { ...MODEL_TERMS, ...SPECTRUM_TERMS, ...LLC_TERMS, ...INTERNALS_TERMS };

export const TERM_IDS = Object.keys(GLOSSARY) as TermId[];

export function isTermId(id: string): id is TermId {
  return Object.prototype.hasOwnProperty.call(GLOSSARY, id);
}

/** Plain text "definition — source", for an SVG <title> or a native title attribute. */
export function termTitle(id: TermId): string {
  const g = GLOSSARY[id];
  return `${g.definition} — ${g.source}`;
}
