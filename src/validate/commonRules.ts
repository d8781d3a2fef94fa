import { companyNumberProblem } from '../domain/companyNumber.js';
import { inssProblem, maskInss } from '../domain/inss.js';
import type { Rule } from './rule.js';

/** `inss-check-digit`: the INSS (or BIS number) must be 11 digits whose check digits match. */
export function inssRule<Row>(inssOf: (row: Row) => string): Rule<Row> {
  return {
    id: 'inss-check-digit',
    check(row) {
      const inss = inssOf(row);
      const problem = inssProblem(inss);
      if (problem === null) return null;
      return problem === 'format'
        ? 'the INSS is not 11 digits; correct it in the dossier'
        : `the check digits of INSS ${maskInss(inss)} do not match (neither the pre-2000 nor the 2000+ rule); correct the INSS in the dossier`;
    },
  };
}

/** A dated span with an optional (open) end, both days inclusive. */
export interface Span {
  start: string;
  end: string | null;
}

/** `period-incoherent`: every period must start on or before its end. */
export function coherentPeriodsRule<Row>(spansOf: (row: Row) => readonly Span[]): Rule<Row> {
  return {
    id: 'period-incoherent',
    check(row) {
      const bad = spansOf(row).find((s) => s.end !== null && s.end < s.start);
      return bad ? `a period ends (${bad.end}) before it starts (${bad.start}); correct the dates in the dossier` : null;
    },
  };
}

/** `company-number-check-digit`: every company number present must pass the KBO/BCE mod-97 check. */
export function companyNumberRule<Row>(numbersOf: (row: Row) => readonly (string | null)[]): Rule<Row> {
  return {
    id: 'company-number-check-digit',
    check(row) {
      const bad = numbersOf(row).find((n) => n !== null && companyNumberProblem(n) !== null);
      return bad ? `company number ${bad} fails the KBO/BCE check (mod 97); correct it in the dossier` : null;
    },
  };
}
