import type { LineCheck } from '../../src/engine/pipeline.js';
import { AMOUNT_FIELDS, WITHHOLDING_TAG } from './fiche.js';
import { type BelcotaxTotals, trailerValues } from './sending.js';

// One expression per tag, made once: building a RegExp per field of every fiche is a cost per field.
const tagPatterns = new Map<string, RegExp>();
const num = (text: string, tag: string): number => {
  let re = tagPatterns.get(tag);
  if (!re) tagPatterns.set(tag, (re = new RegExp(`<${tag}>(-?\\d+)</${tag}>`)));
  return Number(re.exec(text)?.[1] ?? NaN);
};

/** A header or trailer field with a number, alone on its line: v0025_typeenvoi and the r80xx/r90xx. */
const DECLARED = /^<(v0025_typeenvoi|r[89]0\d\d_[a-z]+)>(-?\d+)<\/\1>$/;
const FICHE_START = '<Fiche28118>';
const FICHE_END = '</Fiche28118>';

/**
 * Recomputes Belcotax's arithmetic from a written file and compares it with what the file
 * declares: each fiche's sequence number (1..n) and control total (the sum of its amount
 * fields), its f2028_typetraitement against the sending's v0025_typeenvoi (0 with 0; 1, 2 or 3
 * in a correction), and the trailers (r8010–r8013, r9010–r9014), which count every fiche of the
 * sending, cancellations (3) included. Reads records, not physical lines:
 * a fiche is one line as written (text with line breaks escaped), and a fiche whose text was
 * written over several lines is read whole up to its closing tag. Returns what is wrong, or null.
 */
export function checkBelcotaxFile(): LineCheck {
  const seen: BelcotaxTotals = { fiches: 0, sequenceSum: 0, controlSum: 0, withholding: 0 };
  const declared = new Map<string, number>();
  const problems: string[] = [];
  let open: string | null = null;

  const fiche = (text: string): void => {
    seen.fiches++;
    const seq = num(text, 'f2009_volgnummer');
    if (seq !== seen.fiches) problems.push(`fiche ${seen.fiches} has sequence number ${seq}`);
    const amounts = AMOUNT_FIELDS.map((a) => num(text, a.tag));
    const control = num(text, 'f18_2059_totaalcontrole');
    const sum = amounts.reduce((n, a) => n + a, 0);
    if (control !== sum) problems.push(`fiche ${seq}: control total ${control} ≠ ${amounts.join(' + ')}`);
    const sending = declared.get('v0025_typeenvoi');
    const treatment = num(text, 'f2028_typetraitement');
    const fits = sending === 0 ? treatment === 0 : sending === 1 ? treatment >= 1 && treatment <= 3 : false;
    if (!fits) problems.push(`fiche ${seq}: f2028_typetraitement ${treatment} in a sending whose v0025_typeenvoi is ${sending ?? 'missing'}`);
    seen.sequenceSum += seq;
    seen.controlSum += control;
    seen.withholding += num(text, WITHHOLDING_TAG);
  };

  return {
    line(text) {
      if (open !== null) {
        open += `\n${text}`;
        if (text.includes(FICHE_END)) {
          fiche(open);
          open = null;
        }
        return;
      }
      if (text.startsWith(FICHE_START)) {
        if (text.includes(FICHE_END)) fiche(text);
        else open = text;
        return;
      }
      const m = DECLARED.exec(text);
      if (m) declared.set(m[1]!, Number(m[2]));
    },
    end() {
      if (open !== null) problems.push(`fiche ${seen.fiches + 1} is not closed`);
      const { declaration, sending } = trailerValues(seen);
      for (const [tag, value] of [...declaration, ...sending]) {
        const d = declared.get(tag);
        if (d === undefined) problems.push(`${tag} is missing`);
        else if (d !== value) problems.push(`${tag} declares ${d}, the fiches give ${value}`);
      }
      return problems.length ? problems.slice(0, 5).join('; ') : null;
    },
  };
}
