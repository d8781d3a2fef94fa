import { companyNumberProblem } from '../domain/companyNumber.js';
import { inssProblem, maskInss } from '../domain/inss.js';
import type { Rule } from './rule.js';

// The record rules more than one flow applies: one id and one message each. A flow composes them
// with an accessor that says where the value is in its row (and returns null or [] for rows the
// rule does not concern).

/** Why an INSS fails `inss-check-digit`, the INSS masked. */
export function inssMessage(inss: string, problem: 'format' | 'check-digit'): string {
  return problem === 'format'
    ? 'the INSS is not 11 digits; correct it in the dossier'
    : `the check digits of INSS ${maskInss(inss)} do not match (neither the pre-2000 nor the 2000+ rule); correct the INSS in the dossier`;
}

/**
 * `inss-check-digit` as a rule, for a value not typed at the border; the pipelines' rows check
 * their INSS as they are parsed (`inssField`, src/validate/fields.ts), under the same id and message.
 */
export function inssRule<Row>(inssOf: (row: Row) => string | null): Rule<Row> {
  return {
    id: 'inss-check-digit',
    check(row) {
      const inss = inssOf(row);
      if (inss === null) return null;
      const problem = inssProblem(inss);
      return problem === null ? null : inssMessage(inss, problem);
    },
  };
}

/** A dated span with an optional (open) end, both days inclusive. */
export interface Span {
  start: string;
  end: string | null;
  /** What the span is, for the message, when not an activity period (`the mutual insurer affiliation of D06 (insurer 300)`). */
  what?: string;
}

/** `period-incoherent`: every period must start on or before its end. */
export function coherentPeriodsRule<Row>(spansOf: (row: Row) => readonly Span[]): Rule<Row> {
  return {
    id: 'period-incoherent',
    check(row) {
      const bad = spansOf(row).find((s) => s.end !== null && s.end < s.start);
      return bad ? `${bad.what ?? 'a period'} ends (${bad.end}) before it starts (${bad.start}); correct the dates in the dossier` : null;
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

/** `activity-without-category`: every activity period must have its category (main, complementary…). */
export function activityCategoryRule<Row>(activitiesOf: (row: Row) => readonly { category: string | null }[]): Rule<Row> {
  return {
    id: 'activity-without-category',
    check: (row) => (activitiesOf(row).some((a) => a.category === null) ? 'an activity period has no category (main, complementary…); complete it in the dossier' : null),
  };
}
